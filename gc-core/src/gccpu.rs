//! GC CPU accounting (Go: `gcController.assistTime`, `dedicatedMarkTime`,
//! `fractionalMarkTime`, `idleMarkTime`, `work.cpuStats` and
//! `memstats.gc_cpu_fraction`; mgcpacer.go, mstats.go, mgc.go).
//!
//! Every piece of marking reports its wall time here under one of four
//! kinds ([`MarkWork`]): mutator assists, dedicated workers, fractional
//! workers and idle workers. Stops of the world are counted separately as
//! pause CPU, wall time × GOMAXPROCS, because nothing else can run while
//! the world is stopped (Go's `accumulateGCPauseTime`). Times are wall
//! clock (`Instant`), as Go's `nanotime` figures are: an overestimate of
//! the CPU actually used when the kernel deschedules a marker.
//!
//! Two ways to report time:
//! * [`add_mark`]: after the fact, for spans known to be short (well under
//!   the limiter's 10 ms update period). Time reported late lands in the
//!   limiter window it is reported in, and a window never counts more GC
//!   time than it holds, so a long span reported at its end is partly lost
//!   to the limiter (not to the totals).
//! * [`Timer`]: a span that may be long (a thread-mode mark worker's whole
//!   drain, an assist: one that owes all the remaining scan work can run for
//!   a whole cycle). It holds one of [`SLOTS`] in-flight stamps that the CPU
//!   limiter consumes at each update (Go: `p.limiterEvent`), so the time
//!   reaches the limiter in the window in which it was spent rather than
//!   when the span ends.
//!
//! Per-cycle figures are differences of the cumulative counters taken at
//! [`cycle_start`] (sweep termination, world stopped) and [`mark_done`]
//! (after mark termination); [`mark_done`] also computes Go's
//! `GCCPUFraction` and the mark-worker fraction of the cycle.
//!
//! Invariants:
//! * Cumulative counters only grow; each nanosecond a [`Timer`] covers is
//!   added exactly once, whether by a limiter update consuming its stamp or
//!   by the timer's drop (the stamp moves by compare-and-swap, see
//!   [`consume_in_flight`]).
//! * Lock-free: reporting is an atomic add (a timer: one slot CAS at start
//!   and one swap at the end).
//! * Stopped-world marking (the restart fallback, `gcstoptheworld`) is not
//!   reported as mark work: it is already pause time.

use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What kind of marking some CPU time was spent on (Go's
/// `gcMarkWorkerMode`, plus assists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkWork {
    /// A mutator paying its allocation debt (Go: `gcAssistAlloc`).
    Assist,
    /// A worker that owns its processor for the mark phase (Go:
    /// `gcMarkWorkerDedicatedMode`); without the runtime, every mark thread.
    Dedicated,
    /// A worker that holds its processor's share of the 25 % budget (Go:
    /// `gcMarkWorkerFractionalMode`).
    Fractional,
    /// A worker on a processor with nothing else to run (Go:
    /// `gcMarkWorkerIdleMode`); "free", so excluded from the GC CPU fraction
    /// and from the limiter.
    Idle,
}

impl MarkWork {
    const ALL: [MarkWork; 4] = [MarkWork::Assist, MarkWork::Dedicated, MarkWork::Fractional, MarkWork::Idle];

    fn index(self) -> usize {
        self as usize
    }
}

/// Cumulative ns per [`MarkWork`] kind, since the process started.
static MARK_NS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Cumulative pause CPU: each stop's wall time × GOMAXPROCS.
static PAUSE_NS: AtomicU64 = AtomicU64::new(0);
/// `MARK_NS` and `PAUSE_NS` at the running cycle's sweep termination.
static CYCLE_BASE: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
/// `GCCPUFraction` and the mark-worker fraction of the last completed
/// cycle, as `f64` bits.
static GC_CPU_FRACTION: AtomicU64 = AtomicU64::new(0);
static MARK_WORKER_FRACTION: AtomicU64 = AtomicU64::new(0);

/// Adds `ns` of CPU time spent marking in `kind` (any thread, lock-free).
#[inline]
pub(crate) fn add_mark(kind: MarkWork, ns: u64) {
    MARK_NS[kind.index()].fetch_add(ns, Ordering::Relaxed);
}

/// Cumulative ns spent in `kind` so far, counting in-flight timers up to
/// their last consumption.
pub(crate) fn mark_ns(kind: MarkWork) -> u64 {
    MARK_NS[kind.index()].load(Ordering::Relaxed)
}

/// Cumulative pause CPU ns so far.
pub(crate) fn pause_ns() -> u64 {
    PAUSE_NS.load(Ordering::Relaxed)
}

/// The process's first use of the collector (the environment being read),
/// the origin of [`now_ns`] and of the total CPU time GC time is compared
/// with.
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds of `t` since [`epoch`] (0 for earlier instants).
pub(crate) fn ns_since_epoch(t: Instant) -> u64 {
    t.saturating_duration_since(epoch()).as_nanos() as u64
}

/// Nanoseconds since [`epoch`].
pub(crate) fn now_ns() -> u64 {
    ns_since_epoch(Instant::now())
}

/// GOMAXPROCS, the processors total CPU time is counted on.
pub(crate) fn procs() -> u64 {
    crate::sched::procs() as u64
}

/// Total CPU time available since [`epoch`]: elapsed × GOMAXPROCS (Go:
/// `cpuStats.TotalTime`).
pub(crate) fn total_ns() -> u64 {
    now_ns().saturating_mul(procs())
}

// ---- in-flight timers (Go: limiterEvent) ----

/// In-flight timer slots. More concurrent timers than this fall back to
/// reporting at their end.
pub(crate) const SLOTS: usize = 64;
/// Bits of a slot's stamp that hold the kind (+1; 0 = free); the rest is
/// the ns since [`epoch`] up to which the span was accounted.
const KIND_SHIFT: u32 = 61;
const TIME_MASK: u64 = (1 << KIND_SHIFT) - 1;
static IN_FLIGHT: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];

fn stamp(kind: MarkWork, ns: u64) -> u64 {
    ((kind.index() as u64 + 1) << KIND_SHIFT) | (ns & TIME_MASK)
}

/// Times a span of marking of one kind until dropped; while it runs, each
/// limiter update accounts the part spent so far.
pub(crate) struct Timer {
    kind: MarkWork,
    /// The slot holding our stamp, or `None` (no slot free: account at drop).
    slot: Option<usize>,
    start_ns: u64,
}

impl Timer {
    /// Starts timing `kind` now.
    pub(crate) fn start(kind: MarkWork) -> Timer {
        Timer::start_at(kind, Instant::now())
    }

    /// Starts timing `kind` from `t` (an instant the caller just read).
    pub(crate) fn start_at(kind: MarkWork, t: Instant) -> Timer {
        let start_ns = ns_since_epoch(t);
        let s = stamp(kind, start_ns);
        let slot = IN_FLIGHT.iter().position(|a| {
            a.load(Ordering::Relaxed) == 0 && a.compare_exchange(0, s, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        });
        Timer { kind, slot, start_ns }
    }

    /// Stops timing at `t` (an instant the caller just read).
    pub(crate) fn finish_at(mut self, t: Instant) {
        self.finish(ns_since_epoch(t));
        core::mem::forget(self);
    }

    fn finish(&mut self, now: u64) {
        let from = match self.slot {
            // What a limiter update has not consumed yet.
            Some(i) => IN_FLIGHT[i].swap(0, Ordering::AcqRel) & TIME_MASK,
            None => self.start_ns,
        };
        add_mark(self.kind, now.saturating_sub(from));
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.finish(now_ns());
    }
}

/// Accounts every in-flight timer up to `now` (ns since [`epoch`]) into the
/// cumulative counters (Go: `limiterEvent.consume` from `updateLocked`).
pub(crate) fn consume_in_flight(now: u64) {
    for a in &IN_FLIGHT {
        let mut old = a.load(Ordering::Acquire);
        while old != 0 {
            let kind = MarkWork::ALL[((old >> KIND_SHIFT) - 1) as usize];
            let from = old & TIME_MASK;
            if now <= from {
                break;
            }
            match a.compare_exchange_weak(old, stamp(kind, now), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    add_mark(kind, now - from);
                    break;
                }
                Err(cur) => old = cur,
            }
        }
    }
}

// ---- pauses and cycles ----

/// Counts a stop of the world from `start` to `end` as pause CPU (wall ×
/// GOMAXPROCS) and tells the limiter.
pub(crate) fn add_pause(start: Instant, end: Instant) {
    let wall = end.saturating_duration_since(start).as_nanos() as u64;
    PAUSE_NS.fetch_add(wall.saturating_mul(procs()), Ordering::Relaxed);
    crate::limiter::stop(ns_since_epoch(start), ns_since_epoch(end));
}

/// One cycle's CPU time by kind, in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CycleCpu {
    pub assist: u64,
    pub dedicated: u64,
    pub fractional: u64,
    pub idle: u64,
    /// Pause CPU of the cycle's stops (wall × GOMAXPROCS).
    pub pause: u64,
    /// Wall time of the concurrent mark.
    pub concurrent: Duration,
    /// `GCCPUFraction` right after this cycle.
    pub gc_cpu_fraction: f64,
    /// Dedicated + fractional worker CPU over concurrent wall × GOMAXPROCS.
    pub mark_worker_fraction: f64,
}

fn snapshot() -> [u64; 5] {
    [
        mark_ns(MarkWork::Assist),
        mark_ns(MarkWork::Dedicated),
        mark_ns(MarkWork::Fractional),
        mark_ns(MarkWork::Idle),
        pause_ns(),
    ]
}

/// Sweep termination (world stopped, called by `pacer::start_cycle`): the
/// running cycle's figures start here (Go resets `assistTime` and the
/// worker times in `startCycle`).
pub(crate) fn cycle_start() {
    consume_in_flight(now_ns());
    for (b, v) in CYCLE_BASE.iter().zip(snapshot()) {
        b.store(v, Ordering::Relaxed);
    }
    crate::sysmon::mark_started();
}

/// After mark termination (its stop already recorded): closes the cycle's
/// figures, `concurrent` being the concurrent mark's wall time, and
/// computes Go's `GCCPUFraction` (GC CPU without idle marking over total
/// CPU since [`epoch`]). Returns the cycle's figures.
pub(crate) fn mark_done(concurrent: Duration) -> CycleCpu {
    let now_ns = now_ns();
    consume_in_flight(now_ns);
    crate::sysmon::mark_ended(now_ns);
    let now = snapshot();
    let d: Vec<u64> = now.iter().zip(&CYCLE_BASE).map(|(n, b)| n.saturating_sub(b.load(Ordering::Relaxed))).collect();
    let gc_cpu_fraction = fraction(gc_ns_excluding_idle(), total_ns());
    let wall = (concurrent.as_nanos() as u64).saturating_mul(procs());
    let mark_worker_fraction = fraction(d[1] + d[2], wall);
    GC_CPU_FRACTION.store(gc_cpu_fraction.to_bits(), Ordering::Relaxed);
    MARK_WORKER_FRACTION.store(mark_worker_fraction.to_bits(), Ordering::Relaxed);
    CycleCpu {
        assist: d[0],
        dedicated: d[1],
        fractional: d[2],
        idle: d[3],
        pause: d[4],
        concurrent,
        gc_cpu_fraction,
        mark_worker_fraction,
    }
}

fn fraction(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// All GC CPU so far except idle marking (Go's `GCTotalTime − GCIdleTime`).
pub(crate) fn gc_ns_excluding_idle() -> u64 {
    pause_ns() + mark_ns(MarkWork::Assist) + mark_ns(MarkWork::Dedicated) + mark_ns(MarkWork::Fractional)
}

/// Go's `GCCPUFraction` as of the last mark termination.
pub(crate) fn gc_cpu_fraction() -> f64 {
    f64::from_bits(GC_CPU_FRACTION.load(Ordering::Relaxed))
}

/// Worker CPU over the last completed cycle's concurrent mark, as a
/// fraction of GOMAXPROCS.
pub(crate) fn mark_worker_fraction() -> f64 {
    f64::from_bits(MARK_WORKER_FRACTION.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timer's time is counted once, however many consumptions split it.
    #[test]
    fn timer_counts_each_ns_once() {
        let before = mark_ns(MarkWork::Fractional);
        let t = Timer::start(MarkWork::Fractional);
        assert!(t.slot.is_some());
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(2));
            consume_in_flight(now_ns());
        }
        let mid = mark_ns(MarkWork::Fractional) - before;
        assert!(mid >= 8_000_000, "consumed {mid} ns of a 10 ms span");
        let start = t.start_ns;
        drop(t);
        let end = now_ns();
        let total = mark_ns(MarkWork::Fractional) - before;
        // Other tests do not time fractional work, so the counter holds
        // exactly this timer's span.
        assert!(total <= end - start && total + 1_000_000 >= end - start, "{total} of {}", end - start);
    }

    #[test]
    fn stamps_round_trip() {
        for k in MarkWork::ALL {
            let s = stamp(k, 123_456_789);
            assert_eq!(MarkWork::ALL[((s >> KIND_SHIFT) - 1) as usize], k);
            assert_eq!(s & TIME_MASK, 123_456_789);
        }
    }
}
