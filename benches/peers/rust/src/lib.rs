//! Shared helpers for the Rust peers of the tricolor-gc cross-system
//! benchmarks: argument parsing, the common RESULT line, pause statistics and
//! the workload dispatcher. Each `src/systems/<system>.rs` implements
//! [`Workloads`] for one memory-management system.

use std::time::Instant;

/// Each peer binary is invoked as `<bin> <workload> [args...]`.
pub trait Workloads {
    /// binary-trees, Benchmarks Game rules: `binarytrees [depth=21]`.
    fn binarytrees(depth: usize);
    /// GCBench: `gcbench [depth=16]`.
    fn gcbench(depth: usize);
    /// Pause probe: `pauseprobe [live_depth=20] [iters=500000]`.
    fn pauseprobe(live_depth: usize, iters: usize);
    /// Four-thread churn: `churn4 [iters=200000]`.
    fn churn4(iters: usize);
    /// Alloc micro: `allocmicro [n=10000000]`.
    fn allocmicro(n: usize);
}

fn arg(args: &[String], i: usize, def: usize) -> usize {
    args.get(i).map_or(def, |s| {
        s.parse().unwrap_or_else(|e| {
            eprintln!("bad argument {s:?}: {e}");
            std::process::exit(2)
        })
    })
}

/// Parses argv and runs the requested workload of `W`.
pub fn main_for<W: Workloads>() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map(String::as_str).unwrap_or("");
    match workload {
        "binarytrees" => W::binarytrees(arg(&args, 2, 21)),
        "gcbench" => W::gcbench(arg(&args, 2, 16)),
        "pauseprobe" => W::pauseprobe(arg(&args, 2, 20), arg(&args, 3, 500_000)),
        "churn4" => W::churn4(arg(&args, 2, 200_000)),
        "allocmicro" => W::allocmicro(arg(&args, 2, 10_000_000)),
        _ => {
            eprintln!(
                "usage: {} binarytrees|gcbench|pauseprobe|churn4|allocmicro [args]",
                args[0]
            );
            std::process::exit(2)
        }
    }
}

/// (max, p99) in microseconds of durations given in ns; `None` if empty.
pub fn stats_us(v: &mut [u64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let idx = ((0.99 * v.len() as f64).ceil() as usize).max(1) - 1;
    Some((v[v.len() - 1] as f64 / 1e3, v[idx] as f64 / 1e3))
}

pub fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.3}"))
}

/// Prints the common RESULT line. `pauses`: GC pause durations in ns if the
/// system can report them (`None` prints n/a). `extra`: " key=value ..." or "".
pub fn result(system: &str, workload: &str, start: Instant, pauses: Option<&mut [u64]>, extra: &str) {
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let pause = match pauses {
        None => "max_pause_us=n/a p99_pause_us=n/a".to_string(),
        Some(p) => {
            let n = p.len();
            let (mx, p99) = stats_us(p).unwrap_or((0.0, 0.0));
            format!("max_pause_us={mx:.3} p99_pause_us={p99:.3} gc_pauses={n}")
        }
    };
    println!("RESULT system={system} workload={workload} wall_ms={wall_ms:.3} {pause}{extra}");
}

/// Gap statistics for the pause probe, as " max_gap_us=.. p99_gap_us=..".
pub fn gap_fields(gaps: &mut [u64]) -> String {
    let (mx, p99) = stats_us(gaps).unwrap_or((f64::NAN, f64::NAN));
    format!(" max_gap_us={mx:.3} p99_gap_us={p99:.3}")
}

/// (min_depth, max_depth, stretch_depth) for binary-trees.
pub fn bt_depths(n: usize) -> (usize, usize, usize) {
    let min = 4;
    let max = n.max(min + 2);
    (min, max, max + 1)
}

pub fn tree_size(d: usize) -> usize {
    (1 << (d + 1)) - 1
}

/// Prints GCBench's header lines.
pub fn gcbench_header(stretch: usize, long_lived: usize, array: usize) {
    println!("Garbage Collector Test");
    println!(" Stretching memory with a binary tree of depth {stretch}");
    println!(" Creating a long-lived binary tree of depth {long_lived}");
    println!(" Creating a long-lived array of {array} doubles");
}

pub const GCB_MIN_DEPTH: usize = 4;
pub const GCB_ARRAY_SIZE: usize = 500_000;
pub const CHURN_DEPTH: usize = 6;
pub const THREADS: usize = 4;
pub const LIST_LEN: usize = 32;
pub const SHARED_DEPTH: usize = 16;

/// A plain owned tree, used where a GC'd structure cannot be shared between
/// threads (the churn4 shared data of thread-local collectors).
pub struct SharedNode {
    pub left: Option<Box<SharedNode>>,
    pub right: Option<Box<SharedNode>>,
}

impl SharedNode {
    pub fn build(d: usize) -> Box<SharedNode> {
        if d == 0 {
            Box::new(SharedNode { left: None, right: None })
        } else {
            Box::new(SharedNode { left: Some(Self::build(d - 1)), right: Some(Self::build(d - 1)) })
        }
    }
    pub fn check(&self) -> usize {
        match (&self.left, &self.right) {
            (Some(l), Some(r)) => 1 + l.check() + r.check(),
            _ => 1,
        }
    }
    /// Walks 8 levels down following the bits of k.
    pub fn pick(&self, k: usize) -> &SharedNode {
        let mut n = self;
        for b in 0..8 {
            n = if (k >> b) & 1 == 0 { n.left.as_deref().unwrap() } else { n.right.as_deref().unwrap() };
        }
        n
    }
}
