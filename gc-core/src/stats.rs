//! Statistics (Go: `runtime.MemStats`, `ReadMemStats`, gctrace).
//!
//! Counters that every allocation would touch (mallocs, bytes allocated) are
//! kept per mutator cache and folded in at each stop, as Go folds per-P
//! stats; [`mem_stats`](crate::mem_stats) stops the world briefly to fold them too, exactly as
//! `ReadMemStats` does. The rest are global atomics written by the collector.
//!
//! Invariants: `frees <= mallocs`; `pauses` holds the most recent stops of
//! the world, one entry per stop (not per cycle), newest last, at most 256.

use core::sync::atomic::{AtomicU64, Ordering};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::time::Duration;

static MALLOCS: AtomicU64 = AtomicU64::new(0);
static TOTAL_ALLOC: AtomicU64 = AtomicU64::new(0);
static NUM_GC: AtomicU64 = AtomicU64::new(0);
static NUM_FORCED_GC: AtomicU64 = AtomicU64::new(0);
static PAUSE_TOTAL_NS: AtomicU64 = AtomicU64::new(0);
static PAUSE_MAX_NS: AtomicU64 = AtomicU64::new(0);
static LAST_GC_UNIX_NS: AtomicU64 = AtomicU64::new(0);
static CYCLE_MARKED_BYTES: AtomicU64 = AtomicU64::new(0);
static CYCLE_MARKED_OBJECTS: AtomicU64 = AtomicU64::new(0);
static PAUSES: Mutex<VecDeque<u64>> = Mutex::new(VecDeque::new());
static TTSP_MAX_NS: AtomicU64 = AtomicU64::new(0);
static PIN_WAIT_TOTAL_NS: AtomicU64 = AtomicU64::new(0);
static PIN_WAIT_MAX_NS: AtomicU64 = AtomicU64::new(0);

/// Heap statistics, Go's `runtime.MemStats` subset with the same meanings.
#[derive(Clone, Debug, Default)]
pub struct MemStats {
    /// Bytes of allocated heap objects, live or not yet swept (Go: `HeapAlloc`).
    pub heap_alloc: u64,
    /// Bytes of heap memory obtained from the OS (Go: `HeapSys`).
    pub heap_sys: u64,
    /// Bytes in in-use spans (Go: `HeapInuse`).
    pub heap_inuse: u64,
    /// Bytes in free spans (Go: `HeapIdle`).
    pub heap_idle: u64,
    /// Bytes returned to the OS (Go: `HeapReleased`).
    pub heap_released: u64,
    /// Cumulative bytes allocated (Go: `TotalAlloc`).
    pub total_alloc: u64,
    /// Cumulative objects allocated (Go: `Mallocs`).
    pub mallocs: u64,
    /// Cumulative objects freed (Go: `Frees`).
    pub frees: u64,
    /// Allocated objects (Go: `HeapObjects` = Mallocs − Frees).
    pub heap_objects: u64,
    /// Live bytes found by the last mark.
    pub heap_marked: u64,
    /// Heap goal of the next cycle (Go: `NextGC`).
    pub next_gc: u64,
    /// Completed cycles (Go: `NumGC`).
    pub num_gc: u64,
    /// Cycles forced by `collect()` (Go: `NumForcedGC`).
    pub num_forced_gc: u64,
    /// Total stop-the-world time (Go: `PauseTotalNs`).
    pub pause_total: Duration,
    /// Longest single stop of the world so far.
    pub pause_max: Duration,
    /// Longest time mutators took to reach a safepoint for a stop.
    pub time_to_safepoint_max: Duration,
    /// Total time stops waited for pinned threads (`pin`) before pausing:
    /// not a pause (short sections keep running), but a delay of the
    /// collector and of new pins.
    pub pin_wait_total: Duration,
    /// Longest single such wait.
    pub pin_wait_max: Duration,
    /// Recent stops of the world, oldest first, at most 256, one per stop
    /// (Go's `/sched/pauses/total/gc:seconds`; Go's `PauseNs` sums a
    /// cycle's stops instead).
    pub pauses: Vec<Duration>,
    /// Unix time of the last cycle's end, in ns (Go: `LastGC`).
    pub last_gc_unix_ns: u64,
    /// Root slots in use across all threads.
    pub roots: u64,
    /// True if the critical-section handshake uses `membarrier` (mutator side
    /// is a compiler fence); false if both sides pay a full fence.
    pub asymmetric_fence: bool,
}

/// Folds a cache's counters into the global ones (world stopped or owner).
pub fn add_allocs(mallocs: u64, bytes: u64) {
    MALLOCS.fetch_add(mallocs, Ordering::Relaxed);
    TOTAL_ALLOC.fetch_add(bytes, Ordering::Relaxed);
}

/// Adds marking done outside a `Marker` the collector owns (barrier
/// flushes, black allocation) to the cycle's totals.
pub fn add_marked(bytes: u64, objects: u64) {
    CYCLE_MARKED_BYTES.fetch_add(bytes, Ordering::Relaxed);
    CYCLE_MARKED_OBJECTS.fetch_add(objects, Ordering::Relaxed);
}

/// Takes the cycle's extra marked totals.
pub fn take_marked() -> (u64, u64) {
    (CYCLE_MARKED_BYTES.swap(0, Ordering::AcqRel), CYCLE_MARKED_OBJECTS.swap(0, Ordering::AcqRel))
}

/// Records one stop of the world made by the collector (each cycle makes at
/// least two: sweep termination and mark termination). Pauses are kept per
/// stop, as Go's `/sched/pauses/total/gc:seconds` metric and gctrace report
/// them.
pub fn record_stop(pause: Duration, ttsp: Duration) {
    let ns = pause.as_nanos() as u64;
    PAUSE_TOTAL_NS.fetch_add(ns, Ordering::Relaxed);
    PAUSE_MAX_NS.fetch_max(ns, Ordering::Relaxed);
    TTSP_MAX_NS.fetch_max(ttsp.as_nanos() as u64, Ordering::Relaxed);
    let mut p = PAUSES.lock();
    if p.len() == 256 {
        p.pop_front();
    }
    p.push_back(ns);
}

/// Records how long a stop waited for pins to end.
pub fn record_pin_wait(wait: Duration) {
    let ns = wait.as_nanos() as u64;
    PIN_WAIT_TOTAL_NS.fetch_add(ns, Ordering::Relaxed);
    PIN_WAIT_MAX_NS.fetch_max(ns, Ordering::Relaxed);
}

/// Records a finished cycle.
pub fn record_cycle(forced: bool) {
    NUM_GC.fetch_add(1, Ordering::AcqRel);
    if forced {
        NUM_FORCED_GC.fetch_add(1, Ordering::Relaxed);
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    LAST_GC_UNIX_NS.store(now.as_nanos() as u64, Ordering::Relaxed);
}

/// Completed cycles.
pub fn num_gc() -> u64 {
    NUM_GC.load(Ordering::Acquire)
}

/// Fills the global part of a `MemStats`.
pub(crate) fn fill(s: &mut MemStats) {
    s.mallocs = MALLOCS.load(Ordering::Relaxed);
    s.total_alloc = TOTAL_ALLOC.load(Ordering::Relaxed);
    s.num_gc = NUM_GC.load(Ordering::Relaxed);
    s.num_forced_gc = NUM_FORCED_GC.load(Ordering::Relaxed);
    s.pause_total = Duration::from_nanos(PAUSE_TOTAL_NS.load(Ordering::Relaxed));
    s.pause_max = Duration::from_nanos(PAUSE_MAX_NS.load(Ordering::Relaxed));
    s.time_to_safepoint_max = Duration::from_nanos(TTSP_MAX_NS.load(Ordering::Relaxed));
    s.pin_wait_total = Duration::from_nanos(PIN_WAIT_TOTAL_NS.load(Ordering::Relaxed));
    s.pin_wait_max = Duration::from_nanos(PIN_WAIT_MAX_NS.load(Ordering::Relaxed));
    s.pauses = PAUSES.lock().iter().map(|&n| Duration::from_nanos(n)).collect();
    s.last_gc_unix_ns = LAST_GC_UNIX_NS.load(Ordering::Relaxed);
}

/// Formats a duration as Go's gctrace does (`fmtNSAsMS`): whole ms from 10 ms
/// on, else two significant digits with at most 3 decimals.
pub fn fmt_ms(d: Duration) -> String {
    let ns = d.as_nanos() as u64;
    if ns >= 10_000_000 {
        return (ns / 1_000_000).to_string();
    }
    let mut x = ns / 1000;
    if x == 0 {
        return "0".into();
    }
    let mut dec = 3;
    while x >= 100 {
        x /= 10;
        dec -= 1;
    }
    let s = format!("{x:0>width$}", width = dec + 1);
    let (a, b) = s.split_at(s.len() - dec);
    if dec == 0 {
        a.to_string()
    } else {
        format!("{a}.{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(12_345_678, "12")]
    #[case(1_234_567, "1.2")]
    #[case(500, "0")]
    #[case(123_456, "0.12")]
    #[case(12_345, "0.012")]
    #[case(1_000, "0.001")]
    fn gctrace_ms_format(#[case] ns: u64, #[case] s: &str) {
        assert_eq!(fmt_ms(Duration::from_nanos(ns)), s);
    }
}
