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
static RAGGED_FLUSHES: AtomicU64 = AtomicU64::new(0);
static TERMINATION_RESTARTS: AtomicU64 = AtomicU64::new(0);
static MARKED_IN_STOP: AtomicU64 = AtomicU64::new(0);

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
    /// Ragged barriers run so far (Go: `forEachP` in `gcMarkDone`): walks
    /// that flushed every mutator's buffer without stopping the world. Each
    /// cycle runs at least one; one that found grey objects goes back to
    /// concurrent marking.
    pub ragged_flushes: u64,
    /// Mark-termination stops that still found grey objects (barrier work
    /// buffered after the ragged barrier, Go's golang/go#27993 case) and
    /// restarted the world to mark on.
    pub mark_termination_restarts: u64,
    /// Cycles whose last grey objects were marked inside the stop, after
    /// eight such restarts (the
    /// fallback that bounds a cycle; should stay 0).
    pub marked_in_stop: u64,
    /// Recent stops of the world, oldest first, at most 256, one per stop
    /// (Go's `/sched/pauses/total/gc:seconds`; Go's `PauseNs` sums a
    /// cycle's stops instead).
    pub pauses: Vec<Duration>,
    /// Unix time of the last cycle's end, in ns (Go: `LastGC`).
    pub last_gc_unix_ns: u64,
    /// Fraction of the available CPU time (GOMAXPROCS × the time since the
    /// collector's first use) spent in the collector: pauses (wall ×
    /// GOMAXPROCS), assists and dedicated and fractional mark workers, idle
    /// marking excluded; updated at each mark termination (Go:
    /// `GCCPUFraction`).
    pub gc_cpu_fraction: f64,
    /// Over the last completed cycle's concurrent mark: dedicated plus
    /// fractional mark-worker CPU time divided by the mark's wall time ×
    /// GOMAXPROCS (Go plans 0.25). Without the runtime the mark threads are
    /// dedicated workers; at GOMAXPROCS=2 one of them takes a processor,
    /// 0.5.
    pub mark_worker_fraction: f64,
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
/// least two: sweep termination and mark termination), from `start` (the
/// stop flag set) to `end` (the world restarted), of which the first `ttsp`
/// waited for mutators to reach a safepoint. Pauses are kept per stop, as
/// Go's `/sched/pauses/total/gc:seconds` metric and gctrace report them, and
/// the execution trace gets the same interval as a slice named `name`.
pub fn record_stop(name: &'static str, start: std::time::Instant, end: std::time::Instant, ttsp: Duration) -> Duration {
    let pause = end.saturating_duration_since(start);
    if crate::exectrace::on() {
        crate::exectrace::slice("stw", name, start, end);
        crate::exectrace::slice("stw", "time to safepoint", start, start + ttsp.min(pause));
    }
    let ns = pause.as_nanos() as u64;
    PAUSE_HIST.record(ns);
    TTSP_HIST.record(ttsp.as_nanos() as u64);
    PAUSE_TOTAL_NS.fetch_add(ns, Ordering::Relaxed);
    PAUSE_MAX_NS.fetch_max(ns, Ordering::Relaxed);
    TTSP_MAX_NS.fetch_max(ttsp.as_nanos() as u64, Ordering::Relaxed);
    record_pause_ns(ns);
    crate::gccpu::add_pause(start, end);
    pause
}

fn record_pause_ns(ns: u64) {
    let mut p = PAUSES.lock();
    if p.len() == 256 {
        p.pop_front();
    }
    p.push_back(ns);
}

/// Sub-buckets per power of two of a [`TimeHistogram`] (Go:
/// `timeHistSubBucketBits` = 2).
const SUB_BITS: u32 = 2;
/// The smallest power of two with buckets of its own (Go:
/// `timeHistMinBucketBits` = 9, 512 ns); below it one bucket per sub-step.
const MIN_BITS: u32 = 9;
/// The largest (Go: `timeHistMaxBucketBits` = 48, about 78 hours).
const MAX_BITS: u32 = 48;
/// Buckets: one run of `2^SUB_BITS` below `2^MIN_BITS`, one per power of
/// two up to `2^MAX_BITS`, and one for everything above.
pub(crate) const TIME_HIST_BUCKETS: usize = ((MAX_BITS - MIN_BITS + 2) << SUB_BITS) as usize + 1;

/// A histogram of durations in nanoseconds with Go's exponential buckets
/// (`runtime/histogram.go`, `timeHistogram`): each power of two from 512 ns
/// to 2^48 ns split in four, so a bucket's width is at most a quarter of
/// its lower bound. Lock-free: one relaxed add per sample.
pub(crate) struct TimeHistogram {
    counts: [AtomicU64; TIME_HIST_BUCKETS],
}

impl TimeHistogram {
    const fn new() -> TimeHistogram {
        TimeHistogram { counts: [const { AtomicU64::new(0) }; TIME_HIST_BUCKETS] }
    }

    /// The bucket of `ns`.
    pub(crate) fn bucket(ns: u64) -> usize {
        if ns < 1 << MIN_BITS {
            // The first run: 512 ns in four buckets of 128 ns.
            return (ns >> (MIN_BITS - SUB_BITS)) as usize;
        }
        let bits = 63 - ns.leading_zeros(); // ns in [2^bits, 2^(bits+1))
        if bits > MAX_BITS {
            return TIME_HIST_BUCKETS - 1;
        }
        let sub = (ns >> (bits - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        (((bits - MIN_BITS + 1) << SUB_BITS) as u64 + sub) as usize
    }

    /// The lower bound of bucket `i` in nanoseconds.
    pub(crate) fn lower_bound(i: usize) -> u64 {
        let i = i as u64;
        let run = i >> SUB_BITS;
        let sub = i & ((1 << SUB_BITS) - 1);
        if run == 0 {
            return sub << (MIN_BITS - SUB_BITS);
        }
        if i as usize == TIME_HIST_BUCKETS - 1 {
            return 1 << (MAX_BITS + 1);
        }
        let bits = run as u32 + MIN_BITS - 1;
        (1u64 << bits) + (sub << (bits - SUB_BITS))
    }

    fn record(&self, ns: u64) {
        self.counts[Self::bucket(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts, bucket by bucket.
    pub(crate) fn counts(&self) -> Vec<u64> {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }
}

/// Every collector stop's length (Go: `/sched/pauses/total/gc:seconds`).
pub(crate) static PAUSE_HIST: TimeHistogram = TimeHistogram::new();
/// Every collector stop's time to safepoint (Go:
/// `/sched/pauses/stopping/gc:seconds`).
pub(crate) static TTSP_HIST: TimeHistogram = TimeHistogram::new();

/// Records how long a stop waited for pins to end.
pub fn record_pin_wait(wait: Duration) {
    let ns = wait.as_nanos() as u64;
    PIN_WAIT_TOTAL_NS.fetch_add(ns, Ordering::Relaxed);
    PIN_WAIT_MAX_NS.fetch_max(ns, Ordering::Relaxed);
}

/// What ended one pass of the mark-termination loop (`cycle.rs`).
pub(crate) enum MarkDone {
    /// A ragged barrier ran.
    Ragged,
    /// A mark-termination stop found work and restarted the world.
    Restart,
    /// The fallback: marking finished inside the stop.
    MarkedInStop,
}

/// Counts one [`MarkDone`] event.
pub(crate) fn record_mark_done(e: MarkDone) {
    let c = match e {
        MarkDone::Ragged => &RAGGED_FLUSHES,
        MarkDone::Restart => &TERMINATION_RESTARTS,
        MarkDone::MarkedInStop => &MARKED_IN_STOP,
    };
    c.fetch_add(1, Ordering::Relaxed);
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
    s.ragged_flushes = RAGGED_FLUSHES.load(Ordering::Relaxed);
    s.mark_termination_restarts = TERMINATION_RESTARTS.load(Ordering::Relaxed);
    s.marked_in_stop = MARKED_IN_STOP.load(Ordering::Relaxed);
    s.pauses = PAUSES.lock().iter().map(|&n| Duration::from_nanos(n)).collect();
    s.last_gc_unix_ns = LAST_GC_UNIX_NS.load(Ordering::Relaxed);
    s.gc_cpu_fraction = crate::gccpu::gc_cpu_fraction();
    s.mark_worker_fraction = crate::gccpu::mark_worker_fraction();
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

    /// Every sample lands in the bucket whose bounds hold it, and the
    /// buckets are ordered and at most a quarter of their bound wide.
    #[test]
    fn time_histogram_buckets() {
        for i in 1..TIME_HIST_BUCKETS {
            assert!(TimeHistogram::lower_bound(i) > TimeHistogram::lower_bound(i - 1), "bucket {i}");
        }
        for i in 1..TIME_HIST_BUCKETS - 1 {
            let (lo, hi) = (TimeHistogram::lower_bound(i), TimeHistogram::lower_bound(i + 1));
            assert!(i < 4 || hi - lo <= lo / 4 + 1, "bucket {i}: {lo}..{hi}");
        }
        let mut x = 1u64;
        while x < 1 << 50 {
            for ns in [x - 1, x, x + 1, x + x / 3] {
                let b = TimeHistogram::bucket(ns);
                assert!(TimeHistogram::lower_bound(b) <= ns, "{ns} in bucket {b}");
                if b + 1 < TIME_HIST_BUCKETS {
                    assert!(ns < TimeHistogram::lower_bound(b + 1), "{ns} in bucket {b}");
                }
            }
            x = x * 3 / 2 + 1;
        }
    }

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
