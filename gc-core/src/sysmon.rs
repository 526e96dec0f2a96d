//! The collector's monitor thread: the two duties of Go's `sysmon` that
//! concern the collector when no scheduler runs one (proc.go: `sysmon`'s
//! `gcTrigger{kind: gcTriggerTime}` test and `forcegchelper`; its
//! `gcCPULimiter.update` call).
//!
//! * **Forced periodic cycles** (Go: `forcegcperiod`, 2 minutes): when no
//!   cycle has ended for [`FORCEGC_PERIOD`], the thread starts one with
//!   trigger `Time` ("cycle start: time" in the execution trace), so that a
//!   program that stops allocating still returns its garbage (and its
//!   finalizers and cleanups run). Not with collection off (`GOGC=off`),
//!   as in Go's `gcTrigger.test`.
//! * **Limiter updates** every 10 ms while marking (Go:
//!   `gcCPULimiterUpdatePeriod`): while the GC CPU limiter is on no assist
//!   runs, and assists are otherwise what updates it between stops.
//!
//! Why a thread: gc-core without the runtime has no scheduler loop to hook,
//! and the existing threads wait for work that may never come (the
//! background mark thread for a cycle, the sweeper for a sweep). One thread,
//! started with the first cycle (a periodic cycle is due only after one
//! ended, as in Go), that sleeps on a timed condition-variable wait: until
//! the forced-cycle deadline outside marking, 10 ms ticks during marking.
//! It never polls when idle: outside marking it wakes once per period.
//!
//! Invariants: `MARKING` changes only under `LOCK` and is followed by a
//! notification, so the thread never sleeps through a change of mode; the
//! thread starts at most one cycle per period (the deadline moves with
//! every cycle's end).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use parking_lot::{Condvar, Mutex};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Go's `forcegcperiod`: 2 minutes.
pub(crate) const FORCEGC_PERIOD: Duration = Duration::from_secs(120);

static PERIOD_NS: AtomicU64 = AtomicU64::new(FORCEGC_PERIOD.as_nanos() as u64);
/// When the last cycle's mark ended, in ns since `gccpu::epoch` (0: none
/// yet; Go: `memstats.last_gc_nanotime`).
static LAST_GC_NS: AtomicU64 = AtomicU64::new(0);
static MARKING: AtomicBool = AtomicBool::new(false);
static LOCK: Mutex<()> = Mutex::new(());
static WAKE: Condvar = Condvar::new();
static STARTED: Once = Once::new();

/// Starts the thread if it is not running. Called before a cycle's first
/// stop (spawning inside a stop would lengthen it).
pub(crate) fn start() {
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("tricolor-gc-sysmon".into())
            .spawn(run)
            .expect("tricolor-gc: cannot start the monitor thread");
    });
}

/// Marking began (sweep termination): switch to limiter ticks.
pub(crate) fn mark_started() {
    set_marking(true);
}

/// Marking ended at `now_ns` (after mark termination): the forced-cycle
/// period restarts from here.
pub(crate) fn mark_ended(now_ns: u64) {
    LAST_GC_NS.store(now_ns.max(1), Ordering::Relaxed);
    set_marking(false);
}

fn set_marking(on: bool) {
    let _g = LOCK.lock();
    MARKING.store(on, Ordering::Relaxed);
    WAKE.notify_all();
}

/// Sets the forced-cycle period (test-only, through
/// `gc_core::testing::set_forcegc_period`).
pub(crate) fn set_period(period: Duration) {
    let _g = LOCK.lock();
    PERIOD_NS.store(period.as_nanos().clamp(1, u64::MAX as u128) as u64, Ordering::Relaxed);
    WAKE.notify_all();
}

/// Go's `gcTrigger{kind: gcTriggerTime}.test`: collection is on, a cycle
/// has ended, and the last one ended more than a period ago.
pub(crate) fn time_trigger_due() -> bool {
    let last = LAST_GC_NS.load(Ordering::Relaxed);
    crate::pacer::gc_percent() >= 0
        && last != 0
        && crate::gccpu::now_ns().saturating_sub(last) > PERIOD_NS.load(Ordering::Relaxed)
}

fn run() {
    loop {
        let mut g = LOCK.lock();
        if MARKING.load(Ordering::Relaxed) {
            WAKE.wait_for(&mut g, Duration::from_nanos(crate::limiter::UPDATE_PERIOD_NS));
            drop(g);
            crate::limiter::update(crate::gccpu::now_ns());
            continue;
        }
        let last = LAST_GC_NS.load(Ordering::Relaxed);
        let period = PERIOD_NS.load(Ordering::Relaxed);
        let now = crate::gccpu::now_ns();
        if last == 0 || now.saturating_sub(last) <= period || crate::pacer::gc_percent() < 0 {
            // Sleep to the deadline (with collection off or no cycle yet,
            // one period: GOGC may be turned on meanwhile).
            let wait = if last == 0 || crate::pacer::gc_percent() < 0 { period } else { last + period + 1 - now };
            let deadline = Instant::now().checked_add(Duration::from_nanos(wait));
            match deadline {
                Some(d) => {
                    WAKE.wait_until(&mut g, d);
                }
                None => WAKE.wait(&mut g),
            }
            continue;
        }
        drop(g);
        crate::cycle::run(crate::cycle::Trigger::Time);
        // `run` returns once marking started (or at once if a cycle was
        // already running); either way the loop sees the new mode, and
        // if the cycle did not start, the next wait is one more period at
        // most, since `time_trigger_due` is rechecked under the cycle lock.
        if !MARKING.load(Ordering::Relaxed) && time_trigger_due() {
            // Not started (a pin, or a race with another cycle's end):
            // try again shortly rather than spin.
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
