//! Go's GC CPU limiter (mgclimit.go, `gcCPULimiterState`; design 48409,
//! "death spirals").
//!
//! A leaky bucket of capacity GOMAXPROCS × 1 s that fills with GC CPU time
//! and drains with mutator time, both counted in nanoseconds of processor
//! time. While the bucket is full the limiter is *limiting*: mutator assists
//! stop (`mark/assist.rs` returns without paying), so allocation proceeds
//! at the price of the heap growing past its goal. Because the bucket fills
//! and drains with time unweighted, the limit works out at about 50 % GC CPU
//! over a window of about 2 s per processor. The bucket never goes below
//! zero, so a long quiet spell buys no credit for a later spiral.
//!
//! **What counts.** An update window of `Δt` wall time is `Δt × GOMAXPROCS`
//! of processor time. Its GC share is the assist, dedicated and fractional
//! mark time reported to `gccpu` during the window (timed workers' spans
//! are consumed up to the update, see `gccpu::consume_in_flight`); idle mark
//! time is subtracted from the total, as Go subtracts idle Ps and idle
//! workers. The rest is mutator time. A stop of the world counts all of its
//! `wall × GOMAXPROCS` as GC time (Go's `finishGCTransition`).
//!
//! One deliberate difference: Go charges the background workers as a flat
//! 25 % of the window while the GC runs (`gcBackgroundUtilization`), since
//! its scheduler holds them to that. Here the measured worker time is used,
//! because without the runtime the mark threads are not held to any budget
//! (at GOMAXPROCS=2 the one background marker takes a whole processor,
//! 50 %); with mark workers as Gs the two agree.
//!
//! **When it updates.** At every stop of the world (`gccpu::add_pause`), at
//! the end of an assist if 10 ms passed since the last update (Go's
//! `gcCPULimiterUpdatePeriod`), and every 10 ms while marking from the
//! `sysmon` thread (Go updates from sysmon as well): while the limiter is
//! limiting no assist runs, so something else must notice that the bucket
//! drained. Between cycles nobody updates; the next update's window spans the
//! gap, which drains the bucket as it would have drained step by step.
//!
//! Invariants: `0 <= fill <= capacity`; `limiting()` is true exactly while
//! the last update left the bucket full; no nanosecond of a window is
//! counted twice (`last_update` only moves forward, and a stop counts only
//! the part of it after `last_update`).

use crate::gccpu::{self, MarkWork};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use parking_lot::Mutex;

/// Go's `capacityPerProc`: 1 s of CPU per processor.
pub(crate) const CAPACITY_PER_PROC: u64 = 1_000_000_000;
/// Go's `gcCPULimiterUpdatePeriod`: 10 ms.
pub(crate) const UPDATE_PERIOD_NS: u64 = 10_000_000;

/// The bucket, updated under `STATE`'s lock (taken with `try_lock` by
/// updates, as Go's `tryLock`: a concurrent update is dropped, the next
/// one covers its window).
struct Bucket {
    fill: u64,
    /// GC time that did not fit (Go: `overflow`).
    overflow: u64,
    /// Cumulative assist + dedicated + fractional and idle mark ns at the
    /// last update.
    seen_gc: u64,
    seen_idle: u64,
}

static STATE: Mutex<Bucket> = Mutex::new(Bucket { fill: 0, overflow: 0, seen_gc: 0, seen_idle: 0 });
static ENABLED: AtomicBool = AtomicBool::new(false);
/// Ns since `gccpu::epoch` of the last update; read without the lock.
static LAST_UPDATE: AtomicU64 = AtomicU64::new(0);
/// The cycle (1-based) during which the limiter last turned on; 0 = never
/// (Go: `lastEnabledCycle`, `/gc/limiter/last-enabled:gc-cycle`).
static LAST_ENABLED_CYCLE: AtomicU64 = AtomicU64::new(0);

/// True while the bucket is full: assists must not run (Go: `limiting`).
#[inline]
pub(crate) fn limiting() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The cycle in which the limiter last turned on (0: never).
pub(crate) fn last_enabled_cycle() -> u64 {
    LAST_ENABLED_CYCLE.load(Ordering::Relaxed)
}

fn capacity() -> u64 {
    gccpu::procs() * CAPACITY_PER_PROC
}

/// The bucket's fill and capacity in ns, and the GC time that overflowed.
pub(crate) fn fill() -> (u64, u64, u64) {
    let b = STATE.lock();
    (b.fill, capacity(), b.overflow)
}

/// True if the last update is more than [`UPDATE_PERIOD_NS`] before `now`
/// (ns since the epoch; Go: `needUpdate`).
#[inline]
pub(crate) fn need_update(now: u64) -> bool {
    now.saturating_sub(LAST_UPDATE.load(Ordering::Relaxed)) > UPDATE_PERIOD_NS
}

/// Updates the bucket up to `now` (ns since the epoch) unless another
/// update is running (Go: `update`).
pub(crate) fn update(now: u64) {
    if let Some(mut b) = STATE.try_lock() {
        update_locked(&mut b, now);
    }
}

/// Updates if the last update is older than the period.
#[inline]
pub(crate) fn update_if_due(now: u64) {
    if need_update(now) {
        update(now);
    }
}

fn update_locked(b: &mut Bucket, now: u64) {
    let last = LAST_UPDATE.load(Ordering::Relaxed);
    if now <= last {
        return;
    }
    gccpu::consume_in_flight(now);
    LAST_UPDATE.store(now, Ordering::Relaxed);
    let gc_now =
        gccpu::mark_ns(MarkWork::Assist) + gccpu::mark_ns(MarkWork::Dedicated) + gccpu::mark_ns(MarkWork::Fractional);
    let idle_now = gccpu::mark_ns(MarkWork::Idle);
    let gc = gc_now.saturating_sub(b.seen_gc);
    let idle = idle_now.saturating_sub(b.seen_idle);
    b.seen_gc = gc_now;
    b.seen_idle = idle_now;
    let total = ((now - last) * gccpu::procs()).saturating_sub(idle);
    // Time reported late (an assist that began before `last`) can exceed
    // the window; it cannot be more GC than the window holds.
    let gc = gc.min(total);
    accumulate(b, total - gc, gc);
}

/// Adds `gc` and removes `mutator` ns from the bucket (Go: `accumulate`).
fn accumulate(b: &mut Bucket, mutator: u64, gc: u64) {
    let cap = capacity();
    b.fill = b.fill.min(cap); // GOMAXPROCS does not change, but stay in bounds
    let was = b.fill == cap;
    if gc > mutator {
        let change = gc - mutator;
        let headroom = cap - b.fill;
        if change >= headroom {
            b.overflow += change - headroom;
            b.fill = cap;
            if !was {
                ENABLED.store(true, Ordering::Relaxed);
                LAST_ENABLED_CYCLE.store(crate::stats::num_gc() + 1, Ordering::Relaxed);
                if crate::exectrace::on() {
                    crate::exectrace::instant("cycle", "gc cpu limiter on", "fill_ns", cap);
                }
            }
            return;
        }
        b.fill += change;
    } else {
        b.fill = b.fill.saturating_sub(mutator - gc);
    }
    if was && gc != mutator {
        ENABLED.store(false, Ordering::Relaxed);
        if crate::exectrace::on() {
            crate::exectrace::instant("cycle", "gc cpu limiter off", "fill_ns", b.fill);
        }
    }
}

/// A stop of the world from `start` to `end` (ns since the epoch): the
/// window up to `start` is updated normally, then the stop's part after the
/// last update counts as GC time on every processor (Go:
/// `startGCTransition` + `finishGCTransition`).
pub(crate) fn stop(start: u64, end: u64) {
    let mut b = STATE.lock();
    update_locked(&mut b, start);
    let last = LAST_UPDATE.load(Ordering::Relaxed);
    if end > last {
        accumulate(&mut b, 0, (end - last.max(start)) * gccpu::procs());
        LAST_UPDATE.store(end, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucket in isolation: fills with GC time, drains with mutator
    /// time, is limiting exactly while full and never leaves [0, capacity].
    #[test]
    fn bucket_fills_and_drains() {
        // A private bucket; the ENABLED flag is shared with the process, so
        // the test only reads it right after its own accumulate calls and
        // the lib's other tests never fill a bucket of GOMAXPROCS seconds.
        let _g = STATE.lock(); // keep the real limiter's updates out meanwhile
        let cap = capacity();
        let mut b = Bucket { fill: 0, overflow: 0, seen_gc: 0, seen_idle: 0 };
        accumulate(&mut b, 10, 0);
        assert_eq!(b.fill, 0, "never below zero");
        accumulate(&mut b, 0, cap / 2);
        assert_eq!(b.fill, cap / 2);
        assert!(!limiting());
        accumulate(&mut b, 100, cap);
        assert_eq!(b.fill, cap);
        assert_eq!(b.overflow, cap / 2 - 100);
        assert!(limiting());
        // Equal GC and mutator time leave a full bucket full.
        accumulate(&mut b, 5, 5);
        assert!(limiting());
        accumulate(&mut b, 2, 1);
        assert_eq!(b.fill, cap - 1);
        assert!(!limiting());
    }
}
