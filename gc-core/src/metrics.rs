//! Go's `runtime/metrics` for the quantities this collector has, under
//! Go's names and units, so a dashboard or a test written for Go reads them
//! unchanged.
//!
//! ```
//! use gc_core::metrics::{self, Sample, Value};
//! gc_core::collect();
//! let mut s = [Sample::new("/gc/cycles/total:gc-cycles"), Sample::new("/gc/pauses:seconds")];
//! metrics::read(&mut s);
//! assert!(matches!(s[0].value, Value::Uint64(n) if n >= 1));
//! let Value::Float64Histogram(h) = &s[1].value else { panic!() };
//! assert!(h.counts.iter().sum::<u64>() >= 2); // two stops per cycle
//! ```
//!
//! Invariants: every name in [`all`] is one of Go's (`go doc runtime/metrics`
//! for Go 1.23) with Go's unit and kind; a name Go has but this collector
//! cannot measure is absent from [`all`] and reads as [`Value::Bad`], as an
//! unknown name does in Go (`KindBad`). Reading costs one `mem_stats()`:
//! a brief stop of the world, as `runtime.ReadMemStats` (Go's `metrics.Read`
//! avoids it; here the per-thread counters must be folded).
//!
//! The `/cpu/classes` figures are wall-clock estimates, as Go's are, read
//! live (Go's are as of the last mark termination), so each only grows.

use crate::stats::{TimeHistogram, PAUSE_HIST, TIME_HIST_BUCKETS, TTSP_HIST};

/// What kind of value a metric has (Go: `metrics.ValueKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An unsigned integer (`KindUint64`).
    Uint64,
    /// A float (`KindFloat64`).
    Float64,
    /// A histogram of floats (`KindFloat64Histogram`).
    Float64Histogram,
}

/// A metric's description (Go: `metrics.Description`).
#[derive(Clone, Debug)]
pub struct Description {
    /// The metric's name, Go's `/path:unit` form.
    pub name: &'static str,
    /// What it measures.
    pub description: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// True if it only grows (a counter).
    pub cumulative: bool,
}

/// A histogram (Go: `metrics.Float64Histogram`): `counts[i]` samples fell in
/// `[buckets[i], buckets[i+1])`, so `buckets` has one more entry than
/// `counts`; the last bound may be `f64::INFINITY`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Float64Histogram {
    /// Samples per bucket.
    pub counts: Vec<u64>,
    /// Bucket boundaries, ascending.
    pub buckets: Vec<f64>,
}

impl Float64Histogram {
    /// The smallest bucket bound below which at least `q` (0..=1) of the
    /// samples fall: an upper estimate of the `q` quantile. `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Some(self.buckets[i + 1]);
            }
        }
        self.buckets.last().copied()
    }
}

/// A metric's value (Go: `metrics.Value`).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// Not a metric this collector has (Go: `KindBad`).
    #[default]
    Bad,
    /// An integer value.
    Uint64(u64),
    /// A float value.
    Float64(f64),
    /// A histogram.
    Float64Histogram(Float64Histogram),
}

/// A name to read and the value read (Go: `metrics.Sample`).
#[derive(Clone, Debug)]
pub struct Sample {
    /// The metric's name.
    pub name: &'static str,
    /// Its value after [`read`].
    pub value: Value,
}

impl Sample {
    /// A sample of `name`, not yet read.
    pub fn new(name: &'static str) -> Sample {
        Sample { name, value: Value::Bad }
    }
}

const fn d(name: &'static str, description: &'static str, kind: Kind, cumulative: bool) -> Description {
    Description { name, description, kind, cumulative }
}

static ALL: &[Description] = &[
    d("/cpu/classes/gc/mark/assist:cpu-seconds", "Estimated total CPU time mutators spent assisting the GC (wall time of scanning assists).", Kind::Float64, true),
    d("/cpu/classes/gc/mark/dedicated:cpu-seconds", "Estimated total CPU time of dedicated and fractional mark workers (without the runtime: the mark threads in concurrent rounds).", Kind::Float64, true),
    d("/cpu/classes/gc/mark/idle:cpu-seconds", "Estimated total CPU time of idle mark workers, on processors that had nothing else to run.", Kind::Float64, true),
    d("/cpu/classes/gc/pause:cpu-seconds", "Estimated total CPU time the application was paused by the GC: each stop's length times GOMAXPROCS.", Kind::Float64, true),
    d("/cpu/classes/gc/total:cpu-seconds", "Estimated total CPU time spent performing GC tasks: the sum of the /cpu/classes/gc metrics.", Kind::Float64, true),
    d("/cpu/classes/total:cpu-seconds", "Estimated total available CPU time: GOMAXPROCS integrated over the time since the collector's first use.", Kind::Float64, true),
    d("/gc/cycles/automatic:gc-cycles", "Count of completed GC cycles generated by the GC.", Kind::Uint64, true),
    d("/gc/cycles/forced:gc-cycles", "Count of completed GC cycles forced by the application (collect()).", Kind::Uint64, true),
    d("/gc/cycles/total:gc-cycles", "Count of all completed GC cycles.", Kind::Uint64, true),
    d("/gc/gogc:percent", "Heap size target percentage configured by GOGC or set_gc_percent (0 while collection is off).", Kind::Uint64, false),
    d("/gc/gomemlimit:bytes", "Go runtime memory limit configured by GOMEMLIMIT or set_memory_limit.", Kind::Uint64, false),
    d("/gc/heap/allocs:bytes", "Cumulative sum of memory allocated to the heap.", Kind::Uint64, true),
    d("/gc/heap/allocs:objects", "Cumulative count of heap allocations.", Kind::Uint64, true),
    d("/gc/heap/frees:bytes", "Cumulative sum of heap memory freed by the garbage collector.", Kind::Uint64, true),
    d("/gc/heap/frees:objects", "Cumulative count of heap allocations whose storage was freed.", Kind::Uint64, true),
    d("/gc/heap/goal:bytes", "Heap size target for the end of the GC cycle.", Kind::Uint64, false),
    d("/gc/heap/live:bytes", "Heap memory occupied by live objects that were marked by the previous GC.", Kind::Uint64, false),
    d("/gc/heap/objects:objects", "Number of objects, live or unswept, occupying heap memory.", Kind::Uint64, false),
    d("/gc/limiter/last-enabled:gc-cycle", "GC cycle the last time the GC CPU limiter was enabled (0: never).", Kind::Uint64, false),
    d("/gc/pauses:seconds", "Deprecated in Go 1.22 (use /sched/pauses/total/gc:seconds); the same distribution.", Kind::Float64Histogram, true),
    d("/memory/classes/heap/free:bytes", "Memory that is completely free and eligible to be returned to the OS.", Kind::Uint64, false),
    d("/memory/classes/heap/objects:bytes", "Memory occupied by live objects and dead objects not yet freed.", Kind::Uint64, false),
    d("/memory/classes/heap/released:bytes", "Memory that is completely free and has been returned to the OS.", Kind::Uint64, false),
    d("/memory/classes/heap/unused:bytes", "Memory reserved for heap objects but not in use (span slack).", Kind::Uint64, false),
    d("/memory/classes/total:bytes", "All memory mapped for the heap (this collector's share of Go's total).", Kind::Uint64, false),
    d("/sched/gomaxprocs:threads", "The current GOMAXPROCS setting.", Kind::Uint64, false),
    d("/sched/pauses/stopping/gc:seconds", "Distribution of individual GC-related stop-the-world stopping latencies (time to safepoint).", Kind::Float64Histogram, true),
    d("/sched/pauses/total/gc:seconds", "Distribution of individual GC-related stop-the-world pause latencies.", Kind::Float64Histogram, true),
];

/// Every metric this collector supports (Go: `metrics.All`).
pub fn all() -> &'static [Description] {
    ALL
}

fn histogram(h: &TimeHistogram) -> Float64Histogram {
    let counts = h.counts();
    let mut buckets: Vec<f64> = (0..TIME_HIST_BUCKETS).map(|i| TimeHistogram::lower_bound(i) as f64 / 1e9).collect();
    buckets.push(f64::INFINITY);
    Float64Histogram { counts, buckets }
}

/// Reads each sample's metric into its `value` (Go: `metrics.Read`); an
/// unknown name reads as [`Value::Bad`].
pub fn read(samples: &mut [Sample]) {
    let s = crate::mem_stats();
    use crate::gccpu::{self, MarkWork};
    gccpu::consume_in_flight(gccpu::now_ns());
    let secs = |ns: u64| Value::Float64(ns as f64 / 1e9);
    let (assist, dedicated, idle, pause) = (
        gccpu::mark_ns(MarkWork::Assist),
        gccpu::mark_ns(MarkWork::Dedicated) + gccpu::mark_ns(MarkWork::Fractional),
        gccpu::mark_ns(MarkWork::Idle),
        gccpu::pause_ns(),
    );
    for sample in samples.iter_mut() {
        sample.value = match sample.name {
            "/cpu/classes/gc/mark/assist:cpu-seconds" => secs(assist),
            "/cpu/classes/gc/mark/dedicated:cpu-seconds" => secs(dedicated),
            "/cpu/classes/gc/mark/idle:cpu-seconds" => secs(idle),
            "/cpu/classes/gc/pause:cpu-seconds" => secs(pause),
            "/cpu/classes/gc/total:cpu-seconds" => secs(assist + dedicated + idle + pause),
            "/cpu/classes/total:cpu-seconds" => secs(gccpu::total_ns()),
            "/gc/limiter/last-enabled:gc-cycle" => Value::Uint64(crate::limiter::last_enabled_cycle()),
            "/gc/cycles/automatic:gc-cycles" => Value::Uint64(s.num_gc - s.num_forced_gc),
            "/gc/cycles/forced:gc-cycles" => Value::Uint64(s.num_forced_gc),
            "/gc/cycles/total:gc-cycles" => Value::Uint64(s.num_gc),
            "/gc/gogc:percent" => Value::Uint64(crate::pacer::gc_percent().max(0) as u64),
            "/gc/gomemlimit:bytes" => Value::Uint64(crate::pacer::memory_limit()),
            "/gc/heap/allocs:bytes" => Value::Uint64(s.total_alloc),
            "/gc/heap/allocs:objects" => Value::Uint64(s.mallocs),
            "/gc/heap/frees:bytes" => Value::Uint64(s.total_alloc.saturating_sub(s.heap_alloc)),
            "/gc/heap/frees:objects" => Value::Uint64(s.frees),
            "/gc/heap/goal:bytes" => Value::Uint64(s.next_gc),
            "/gc/heap/live:bytes" => Value::Uint64(s.heap_marked),
            "/gc/heap/objects:objects" => Value::Uint64(s.heap_objects),
            "/gc/pauses:seconds" | "/sched/pauses/total/gc:seconds" => Value::Float64Histogram(histogram(&PAUSE_HIST)),
            "/sched/pauses/stopping/gc:seconds" => Value::Float64Histogram(histogram(&TTSP_HIST)),
            "/memory/classes/heap/free:bytes" => Value::Uint64(s.heap_idle.saturating_sub(s.heap_released)),
            "/memory/classes/heap/objects:bytes" => Value::Uint64(s.heap_alloc),
            "/memory/classes/heap/released:bytes" => Value::Uint64(s.heap_released),
            "/memory/classes/heap/unused:bytes" => Value::Uint64(s.heap_inuse.saturating_sub(s.heap_alloc)),
            "/memory/classes/total:bytes" => Value::Uint64(s.heap_sys),
            "/sched/gomaxprocs:threads" => Value::Uint64(crate::sched::procs() as u64),
            _ => Value::Bad,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_description_reads_its_kind() {
        crate::collect();
        let mut s: Vec<Sample> = all().iter().map(|d| Sample::new(d.name)).collect();
        read(&mut s);
        for (d, s) in all().iter().zip(&s) {
            let ok = matches!(
                (d.kind, &s.value),
                (Kind::Uint64, Value::Uint64(_))
                    | (Kind::Float64, Value::Float64(_))
                    | (Kind::Float64Histogram, Value::Float64Histogram(_))
            );
            assert!(ok, "{} read as {:?}", d.name, s.value);
        }
        let mut bad = [Sample::new("/no/such:metric")];
        read(&mut bad);
        assert_eq!(bad[0].value, Value::Bad);
    }

    #[test]
    fn quantile_of_a_known_histogram() {
        let h = Float64Histogram { counts: vec![1, 0, 98, 1], buckets: vec![0.0, 1.0, 2.0, 3.0, f64::INFINITY] };
        assert_eq!(h.quantile(0.5), Some(3.0));
        assert_eq!(h.quantile(0.0), Some(1.0));
        assert_eq!(h.quantile(0.99), Some(3.0));
        assert_eq!(h.quantile(1.0), Some(f64::INFINITY));
        assert_eq!(Float64Histogram::default().quantile(0.5), None);
    }
}
