//! GC CPU accounting, Go's GC CPU limiter, forced periodic cycles and Go's
//! gctrace line (issue 12, items 5 and 6). Each test runs its workload in a
//! child process (`tests/child`), so the environment (`GODEBUG`,
//! `GOMEMLIMIT`, `GOMAXPROCS`) and the process-wide figures are its own.
//!
//! The memory-limit test's size comes from `TRICOLOR_LIMIT_LIVE_MB`,
//! `TRICOLOR_LIMIT_MB` and `TRICOLOR_LIMIT_ITERS` (defaults: 32 MiB live
//! under an 8 MiB limit, sized for CI); the full-size run of the issue is
//! `TRICOLOR_LIMIT_LIVE_MB=200 TRICOLOR_LIMIT_MB=128 TRICOLOR_LIMIT_ITERS=300000
//! cargo test --release --test gc_cpu memory_limit -- --nocapture` (figures
//! in docs/design.md, "GC CPU accounting, the CPU limiter ...").

mod child;

use regex::Regex;
use std::time::{Duration, Instant};
use tricolor_gc::metrics::{self, Sample, Value};
use tricolor_gc::{collect, mem_stats, Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    left: Member<Node>,
    right: Member<Node>,
    _pad: [u64; 5],
}

fn tree(depth: u32) -> Gc<Node> {
    let (left, right) = if depth == 0 {
        (Member::null(), Member::null())
    } else {
        (Member::from(tree(depth - 1)), Member::from(tree(depth - 1)))
    };
    Gc::new(Node { left, right, _pad: [0; 5] })
}

fn count(n: &Node) -> usize {
    1 + n.left.get().map_or(0, |l| count(&l)) + n.right.get().map_or(0, |r| count(&r))
}

/// Depth of the live heap's trees: 1023 nodes of 64 bytes, 64 KiB each.
const LIVE_DEPTH: u32 = 9;

/// A live heap of about `mb` MiB in 64 KiB trees.
fn live_heap(mb: usize) -> Gc<[Member<Node>]> {
    let slots = (mb << 20) / (64 << 10);
    (0..slots).map(|_| Member::from(tree(LIVE_DEPTH))).collect()
}

/// One churn step: a 127-node garbage tree, and every 16th step a live
/// tree replaced (its old one becomes garbage), so the live heap holds its
/// size while the mutator allocates and writes pointers.
fn churn_step(live: &Gc<[Member<Node>]>, i: usize) -> usize {
    let t = tree(6);
    let n = count(&t);
    if i % 16 == 0 {
        live[(i / 16) % live.len()].set(&tree(LIVE_DEPTH));
    }
    n
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// `(GC CPU without idle marking, total CPU)` in seconds, from Go's
/// runtime/metrics names.
fn cpu_seconds() -> (f64, f64) {
    let mut s = [
        Sample::new("/cpu/classes/gc/total:cpu-seconds"),
        Sample::new("/cpu/classes/gc/mark/idle:cpu-seconds"),
        Sample::new("/cpu/classes/total:cpu-seconds"),
    ];
    metrics::read(&mut s);
    let f = |v: &Value| match v {
        Value::Float64(x) => *x,
        v => panic!("not a float: {v:?}"),
    };
    (f(&s[0].value) - f(&s[1].value), f(&s[2].value))
}

fn read_u64(name: &'static str) -> u64 {
    let mut s = [Sample::new(name)];
    metrics::read(&mut s);
    match s[0].value {
        Value::Uint64(n) => n,
        ref v => panic!("{name}: {v:?}"),
    }
}

/// A field `key=value` of a `key=value ...` result line.
fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        .parse()
        .unwrap()
}

fn result_line<'a>(stderr: &'a str, tag: &str) -> &'a str {
    stderr.lines().find(|l| l.starts_with(tag)).unwrap_or_else(|| panic!("no {tag} line in:\n{stderr}"))
}

/// The pattern Go's gctrace readers use for a Go 1.23 line (the fields of
/// runtime/extern.go's description, in mgc.go's format).
const GO_GCTRACE: &str = concat!(
    r"^gc (\d+) @(\d+\.\d{3})s (\d+)%: ",
    r"(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?) ms clock, ",
    r"(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?) ms cpu, ",
    r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks, (\d+) MB globals, (\d+) P( \(forced\))?$"
);

/// `GODEBUG=gctrace=1` prints Go's line for every cycle, and every line
/// parses with the pattern Go's tools use, with plausible figures: cycle
/// numbers 1, 2, 3, ...; times that only grow; CPU figures that fit the
/// wall times (stop CPU = stwprocs × stop wall; marking CPU at most
/// GOMAXPROCS × the concurrent mark, plus rounding); heap sizes in order
/// (marked ≤ heap at mark termination); `(forced)` exactly on the cycles
/// `collect()` ran; GOMAXPROCS as set. `tricolorgctrace=1` adds one line of
/// our own per cycle.
#[test]
fn gctrace_lines_parse_as_gos() {
    const TEST: &str = "gctrace_lines_parse_as_gos";
    if child::is_child(TEST) {
        let live = live_heap(8);
        let mut n = 0;
        for i in 0..6000 {
            n += churn_step(&live, i);
            if i % 2000 == 1999 {
                collect();
            }
        }
        let s = mem_stats();
        eprintln!(
            "RESULT checksum={n} cycles={} forced={} gc_cpu_fraction={} mark_worker_fraction={}",
            s.num_gc, s.num_forced_gc, s.gc_cpu_fraction, s.mark_worker_fraction
        );
        return;
    }
    let err =
        child::run(TEST, &[("GODEBUG", "gctrace=1,tricolorgctrace=1"), ("GOMAXPROCS", "2")], Duration::from_secs(120));
    let re = Regex::new(GO_GCTRACE).unwrap();
    let result = result_line(&err, "RESULT");
    let (cycles, forced) = (field(result, "cycles") as usize, field(result, "forced") as usize);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("gc ")).collect();
    assert_eq!(lines.len(), cycles, "one line per cycle:\n{err}");
    assert!(cycles >= 6, "too few cycles to check: {cycles}");
    let stwprocs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2) as f64;
    let (mut last_t, mut forced_seen, mut background_seen) = (0.0, 0, false);
    for (i, line) in lines.iter().enumerate() {
        let c = re.captures(line).unwrap_or_else(|| panic!("not Go's gctrace format: {line:?}"));
        let f = |k: usize| c[k].parse::<f64>().unwrap();
        assert_eq!(f(1) as usize, i + 1, "{line}");
        assert!(f(2) >= last_t, "time went back: {line}");
        last_t = f(2);
        assert!(f(3) <= 100.0, "{line}");
        let (a, b, cc) = (f(4), f(5), f(6));
        let (d, e, bg, idle, h) = (f(7), f(8), f(9), f(10), f(11));
        // Two significant digits: each printed figure is within 10 % (and
        // 1 µs) below its value.
        let near = |cpu: f64, wall: f64| (cpu - stwprocs * wall).abs() <= 0.11 * stwprocs * wall + 0.003;
        assert!(near(d, a) && near(h, cc), "stop CPU is stwprocs × wall: {line}");
        assert!(e + bg + idle <= 2.0 * b * 1.25 + 0.05, "marking CPU beyond GOMAXPROCS × the mark: {line}");
        background_seen |= bg > 0.0;
        let (h0, h1, h2) = (f(12), f(13), f(14));
        assert!(h2 <= h1 + 1.0 && h0 <= h1 + 1.0, "heap sizes out of order: {line}");
        assert!(f(15) >= 4.0, "goal below the 4 MiB minimum: {line}");
        assert_eq!((f(16), f(17), f(18)), (0.0, 0.0, 2.0), "{line}");
        forced_seen += c.get(19).is_some() as usize;
    }
    assert_eq!(forced_seen, forced, "(forced) marks exactly the collect() cycles");
    assert!(background_seen, "no cycle reported background marking CPU:\n{err}");
    // The last line's U is the MemStats figure, truncated.
    let last = re.captures(lines.last().unwrap()).unwrap();
    let frac = field(result, "gc_cpu_fraction");
    assert_eq!(last[3].parse::<u64>().unwrap(), (frac * 100.0) as u64, "{result}");
    assert!(frac > 0.0 && frac < 1.0 && field(result, "mark_worker_fraction") > 0.0, "{result}");
    let ours = Regex::new(r"^tricolor-gc (\d+): \d+ objects marked, \d+ ragged flushes, \d+ restarts, [\d.]+ ms cpu in stops, mark workers \d+% of 2 P, limiter \d+% full").unwrap();
    assert_eq!(err.lines().filter(|l| ours.is_match(l)).count(), cycles, "one tricolorgctrace line per cycle:\n{err}");
}

/// A memory limit far below the live heap: Go's death-spiral case. The
/// goal floors at the live heap, cycles run back to back, and the GC CPU
/// limiter turns assists off once GC CPU has filled its bucket, so the
/// work finishes in bounded time with GC CPU near 50 % (at GOMAXPROCS=2
/// the one background marker takes a processor) and the heap over the
/// limit, instead of the mutator doing all the marking.
#[test]
fn memory_limit_below_live_heap_degrades_instead_of_spiralling() {
    const TEST: &str = "memory_limit_below_live_heap_degrades_instead_of_spiralling";
    let live_mb = env_or("TRICOLOR_LIMIT_LIVE_MB", 32);
    let limit_mb = env_or("TRICOLOR_LIMIT_MB", 8);
    let iters = env_or("TRICOLOR_LIMIT_ITERS", 60_000);
    if child::is_child(TEST) {
        let t0 = Instant::now();
        let live = live_heap(live_mb);
        let built = t0.elapsed();
        let (mut n, mut peak) = (0, 0u64);
        let mut next_sample = Instant::now();
        let mut half = None;
        let (gc0, total0) = cpu_seconds();
        let cycles0 = mem_stats().num_gc;
        let t1 = Instant::now();
        for i in 0..iters {
            n += churn_step(&live, i);
            if Instant::now() >= next_sample {
                peak = peak.max(mem_stats().heap_alloc);
                next_sample = Instant::now() + Duration::from_millis(100);
            }
            if i == iters / 2 {
                half = Some(cpu_seconds());
            }
        }
        let churn = t1.elapsed();
        let (gc1, total1) = cpu_seconds();
        let (gch, totalh) = half.unwrap();
        let s = mem_stats();
        eprintln!(
            "RESULT build_s={:.2} churn_s={:.2} checksum={n} cycles={} gc_cpu_churn={:.3} gc_cpu_second_half={:.3} \
             gc_cpu_fraction={:.3} mark_worker_fraction={:.3} limiter_last_enabled={} peak_heap_mb={} limit_mb={limit_mb} live_mb={live_mb}",
            built.as_secs_f64(),
            churn.as_secs_f64(),
            s.num_gc - cycles0,
            (gc1 - gc0) / (total1 - total0),
            (gc1 - gch) / (total1 - totalh),
            s.gc_cpu_fraction,
            s.mark_worker_fraction,
            read_u64("/gc/limiter/last-enabled:gc-cycle"),
            peak >> 20,
        );
        return;
    }
    let limit = format!("{limit_mb}MiB");
    let err = child::run(TEST, &[("GOMEMLIMIT", &limit), ("GOMAXPROCS", "2")], Duration::from_secs(300));
    let r = result_line(&err, "RESULT");
    println!("{r}");
    assert!(field(r, "limiter_last_enabled") >= 1.0, "the limiter never turned on: {r}");
    assert!(field(r, "cycles") >= 3.0, "cycles should run back to back: {r}");
    assert!(field(r, "peak_heap_mb") > limit_mb as f64, "the heap stayed under a limit below the live heap? {r}");
    let g = field(r, "gc_cpu_second_half");
    // Without the runtime the one background marker alone is 0.50 of
    // GOMAXPROCS=2 and the limiter can only take the assists away, so the
    // figure sits at 0.66-0.74 here (old and new code alike, 2026-12-03;
    // 0.72 was too tight: it failed once in a full run); as Gs the same
    // setting gives 0.46 (the pacer probe's GOMEMLIMIT row).
    assert!((0.35..=0.80).contains(&g), "GC CPU once the limiter is on should be near 50 %: {r}");
    // Bounded: the churn costs a small multiple of the mark work it causes,
    // not all of the mutator's time (a spiral ran for minutes here).
    assert!(field(r, "churn_s") < 120.0, "{r}");
}

/// Without allocation, a cycle still comes every `forcegcperiod` (Go: the
/// time trigger, here with a test period of 150 ms): it is not a forced
/// cycle (no `(forced)`, `num_forced_gc` unchanged), its trace instant says
/// "time", and with `GOGC=off` no such cycle runs.
#[test]
fn periodic_cycle_when_none_ran() {
    const TEST: &str = "periodic_cycle_when_none_ran";
    if child::is_child(TEST) {
        gc_core::testing::set_forcegc_period(Duration::from_millis(150));
        let path = std::env::temp_dir().join(format!("tricolor-gc-cpu-forcegc-{}.json", std::process::id()));
        tricolor_gc::trace::start(&path).unwrap();
        let keep = live_heap(1);
        collect();
        let before = mem_stats();
        std::thread::sleep(Duration::from_millis(1000));
        let after = mem_stats();
        tricolor_gc::trace::stop().unwrap();
        let trace = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        eprintln!(
            "RESULT periodic={} forced={} time_instants={} live={}",
            after.num_gc - before.num_gc,
            after.num_forced_gc - before.num_forced_gc,
            trace.matches("\"cycle start: time\"").count(),
            keep.len()
        );
        return;
    }
    let err = child::run(TEST, &[("GODEBUG", "gctrace=1"), ("GOMAXPROCS", "2")], Duration::from_secs(60));
    let r = result_line(&err, "RESULT");
    let periodic = field(r, "periodic");
    // 1 s at a 150 ms period: about 6 (a cycle restarts the period at its
    // end); a loaded machine may fit fewer.
    assert!((2.0..=8.0).contains(&periodic), "{r}");
    assert_eq!(field(r, "forced"), 0.0, "{r}");
    assert!(field(r, "time_instants") >= periodic, "{r}");
    let unforced = err.lines().filter(|l| l.starts_with("gc ") && !l.ends_with("(forced)")).count();
    assert!(unforced as f64 >= periodic, "periodic cycles are not forced:\n{err}");

    let err = child::run(TEST, &[("GOGC", "off"), ("GOMAXPROCS", "2")], Duration::from_secs(60));
    let r = result_line(&err, "RESULT");
    assert_eq!(field(r, "periodic"), 0.0, "GOGC=off still ran periodic cycles: {r}");
}

/// The `/cpu/classes` metrics under Go's names: the GC classes add up to
/// the GC total, each only grows, a concurrent cycle reports dedicated
/// marking and a stop reports pause CPU of GOMAXPROCS × its length.
#[test]
fn cpu_class_metrics_add_up() {
    const TEST: &str = "cpu_class_metrics_add_up";
    if child::is_child(TEST) {
        let names = [
            "/cpu/classes/gc/mark/assist:cpu-seconds",
            "/cpu/classes/gc/mark/dedicated:cpu-seconds",
            "/cpu/classes/gc/mark/idle:cpu-seconds",
            "/cpu/classes/gc/pause:cpu-seconds",
            "/cpu/classes/gc/total:cpu-seconds",
            "/cpu/classes/total:cpu-seconds",
        ];
        let read = || {
            let mut s: Vec<Sample> = names.iter().map(|n| Sample::new(n)).collect();
            metrics::read(&mut s);
            s.iter().map(|s| if let Value::Float64(x) = s.value { x } else { panic!("{:?}", s) }).collect::<Vec<f64>>()
        };
        let a = read();
        let live = live_heap(16);
        for i in 0..20_000 {
            churn_step(&live, i);
        }
        collect();
        let b = read();
        let s = mem_stats();
        for (i, n) in names.iter().enumerate() {
            assert!(b[i] >= a[i], "{n} went back: {} -> {}", a[i], b[i]);
        }
        let sum = b[0] + b[1] + b[2] + b[3];
        assert!((sum - b[4]).abs() < 1e-6, "classes {sum} != total {}", b[4]);
        assert!(b[1] > 0.0, "no dedicated marking after concurrent cycles");
        // Exactly the collector's stops (pause_total; the stops of
        // mem_stats() and metrics reads are not collector pauses) × 2.
        let pause = s.pause_total.as_secs_f64() * 2.0;
        assert!(b[3] > 0.0 && (b[3] - pause).abs() < 1e-6, "pause CPU {} vs 2 × pause_total {pause}", b[3]);
        assert!(b[4] < b[5], "GC CPU {} above the total {}", b[4], b[5]);
        eprintln!("RESULT ok");
        return;
    }
    let err = child::run(TEST, &[("GOMAXPROCS", "2")], Duration::from_secs(120));
    result_line(&err, "RESULT ok");
}
