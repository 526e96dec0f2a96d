//! Pacer probe (issue 12, item 8; `benches/compare.sh --workloads pacer`,
//! beside its Go twin `benches/peers/go/cmd/pacer`).
//!
//! Usage: `pacer_probe [--live-mb L] [--secs S] [--warmup-secs W]
//! [--sample-ms M] [--rate-mb R] [--runtime]` (defaults 64, 10, 1, 10, 0).
//!
//! Steady churn over a live set of about L MiB: 64-byte nodes, in slots of
//! 64-node chains (4 KiB), kept reachable from one GC slice. The mutator runs
//! batches of 1024 *operations*; an operation allocates one node: every 4th
//! goes into the chain that next replaces a live slot (round robin, so the
//! live size stays ~L MiB while a quarter of the allocation turns the live
//! set over), the others into a 16-node garbage chain that is dropped when
//! full. After W seconds of warm-up, S seconds are measured:
//!
//! * every batch's duration `d`; a *stall* is `max(0, d − median)`, and
//!   `stall_p99_ms` / `stall_max_ms` are over every batch of the window;
//! * every M ms, between batches and outside any pin (the sample is not part
//!   of a batch's time), `mem_stats()`: the largest `heap_alloc` seen is
//!   `peak_heap_mb`, the `next_gc` of that same sample `goal_mb`, and
//!   `overshoot = peak_heap_mb / goal_mb`. `MemStats` has no per-cycle heap
//!   at mark termination, so this sampled ratio is the probe's definition;
//!   the Go twin computes exactly the same from `runtime.ReadMemStats`
//!   (`HeapAlloc`, `NextGC`), also a stop of the world, also between batches;
//! * with `GODEBUG=gctrace=1`, `overshoot_cycle` is Go's per-cycle
//!   definition, the largest heap at mark termination ÷ that cycle's goal
//!   over the cycles completed in the window: the heap is the `H1` of the
//!   cycle's gctrace line (whole MB; the probe reads its own lines: fd 2
//!   goes through a pipe whose reader passes every line on to the real
//!   stderr), the goal the `next_gc` of the first sample taken while that
//!   cycle ran (`num_gc` one below its number; the collector sets the next
//!   goal just before it counts the cycle), so the figure does not depend on
//!   which goal a trace line prints; `NA` without gctrace;
//! * `gc_cpu_fraction` (Go's `GCCPUFraction`, cumulative, idle marking
//!   excluded) at the end, and `mark_worker_fraction`, the median over the
//!   window's cycles of the last completed cycle's dedicated + fractional
//!   worker CPU ÷ (concurrent-mark wall × GOMAXPROCS), come from
//!   [`gc_cpu`]; `NA` where `MemStats` does not measure GC CPU time;
//! * `cycles`: cycles completed in the window.
//!
//! `--rate-mb R > 0` paces allocation at R MiB/s (sleeps between batches are
//! not part of a batch's time); 0 runs flat out. `--runtime` runs the mutator
//! as the main G of a gc-runtime `Runtime` (GOMAXPROCS Ps), calling
//! `safepoint()` between batches (the scheduler preempts only at runtime
//! calls); the default runs it on the main thread.
//!
//! Output: `pacer live slots N, batches B`, then the RESULT line (one line)
//! with `gogc= peak_heap_mb= goal_mb= overshoot= gc_cpu_fraction=
//! mark_worker_fraction= stall_p99_ms= stall_max_ms= cycles=` and extras.
//!
//! Invariants: the live set is `slots` (every slot holds one full chain at
//! every batch boundary); nothing is timed inside a batch but the batch; no
//! sample is taken inside a pin.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};
use tricolor_gc::{Gc, MemStats, Member, Trace};

/// 64 bytes: one pointer and seven words of payload, as the Go twin's node.
#[derive(Trace)]
struct Node {
    next: Member<Node>,
    pay: [u64; 7],
}

const NODE_BYTES: usize = 64;
const CHAIN_LEN: usize = 64;
const BATCH_OPS: usize = 1024;
const LIVE_EVERY: u64 = 4;
const GARBAGE_LEN: usize = 16;

/// Go's `GCCPUFraction` and the last completed cycle's mark-worker
/// fraction, from `s` (`None` before the first cycle ended).
fn gc_cpu(s: &MemStats) -> Option<(f64, f64)> {
    (s.num_gc > 0).then_some((s.gc_cpu_fraction, s.mark_worker_fraction))
}

#[derive(Clone, Copy, Debug)]
struct Config {
    live_mb: f64,
    secs: f64,
    warmup_secs: f64,
    sample_ms: f64,
    rate_mb: f64,
    runtime: bool,
}

fn usage(msg: &str) -> ! {
    eprintln!("pacer_probe: {msg}");
    eprintln!(
        "usage: pacer_probe [--live-mb L=64] [--secs S=10] [--warmup-secs W=1] [--sample-ms M=10] [--rate-mb R=0] [--runtime]"
    );
    std::process::exit(2)
}

fn parse_args() -> Config {
    let mut c = Config { live_mb: 64.0, secs: 10.0, warmup_secs: 1.0, sample_ms: 10.0, rate_mb: 0.0, runtime: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        if key == "--runtime" && inline.is_none() {
            c.runtime = true;
            continue;
        }
        let slot = match key.as_str() {
            "--live-mb" => &mut c.live_mb,
            "--secs" => &mut c.secs,
            "--warmup-secs" => &mut c.warmup_secs,
            "--sample-ms" => &mut c.sample_ms,
            "--rate-mb" => &mut c.rate_mb,
            _ => usage(&format!("unknown argument {a}")),
        };
        let v = inline.or_else(|| args.next()).unwrap_or_else(|| usage(&format!("{key} needs a value")));
        *slot = v.parse().unwrap_or_else(|_| usage(&format!("{key}: {v:?} is not a number")));
    }
    if !(c.live_mb > 0.0 && c.secs > 0.0 && c.sample_ms > 0.0 && c.warmup_secs >= 0.0 && c.rate_mb >= 0.0) {
        usage("--live-mb, --secs and --sample-ms must be > 0, --warmup-secs and --rate-mb >= 0");
    }
    c
}

fn chain(n: usize, seed: u64) -> Gc<Node> {
    let mut head = Gc::new(Node { next: Member::null(), pay: [seed, 0, 0, 0, 0, 0, 0] });
    for i in 1..n {
        head = Gc::new(Node { next: Member::from(head), pay: [seed + i as u64, 0, 0, 0, 0, 0, 0] });
    }
    head
}

/// The churn state between batches.
struct Mutator {
    slots: Gc<[Member<Node>]>,
    cursor: usize,
    building: Option<Gc<Node>>,
    build_len: usize,
    garbage: Option<Gc<Node>>,
    garbage_len: usize,
    seq: u64,
    sum: u64,
}

impl Mutator {
    fn push(list: &mut Option<Gc<Node>>, seq: u64) {
        let next = list.take().map_or_else(Member::null, Member::from);
        *list = Some(Gc::new(Node { next, pay: [seq, 0, 0, 0, 0, 0, 0] }));
    }

    fn batch(&mut self) {
        for _ in 0..BATCH_OPS {
            self.seq += 1;
            if self.seq % LIVE_EVERY == 0 {
                Self::push(&mut self.building, self.seq);
                self.build_len += 1;
                if self.build_len == CHAIN_LEN {
                    let full = self.building.take().expect("a chain is being built");
                    self.slots[self.cursor].set(&full);
                    self.cursor = (self.cursor + 1) % self.slots.len();
                    self.build_len = 0;
                }
            } else {
                Self::push(&mut self.garbage, self.seq);
                self.garbage_len += 1;
                if self.garbage_len == GARBAGE_LEN {
                    self.sum += self.garbage.take().expect("a garbage chain").pay[0];
                    self.garbage_len = 0;
                }
            }
        }
    }
}

/// What one run measured.
struct Report {
    nslots: usize,
    batches: u64,
    live_bytes: u64,
    durations: Vec<u64>,
    peak: u64,
    peak_goal: u64,
    gc0: u64,
    gc1: u64,
    /// Per window cycle (by `num_gc`): the sampled mark-worker fraction.
    worker_fractions: Vec<(u64, f64)>,
    /// `(num_gc, next_gc)` of the first sample at each `num_gc`: the goal
    /// of cycle `num_gc + 1`.
    goals: Vec<(u64, u64)>,
    gc_cpu_fraction: Option<f64>,
    window: Duration,
    checksum: u64,
}

fn run(cfg: Config) -> Report {
    let nslots = ((cfg.live_mb * (1u64 << 20) as f64) as usize / (CHAIN_LEN * NODE_BYTES)).max(1);
    let slots: Gc<[Member<Node>]> = (0..nslots).map(|i| Member::from(chain(CHAIN_LEN, i as u64))).collect();
    tricolor_gc::collect();
    let live_bytes = tricolor_gc::mem_stats().heap_alloc;
    let mut m =
        Mutator { slots, cursor: 0, building: None, build_len: 0, garbage: None, garbage_len: 0, seq: 0, sum: 0 };

    let batch_bytes = (BATCH_OPS * NODE_BYTES) as f64;
    let sample_every = Duration::from_secs_f64(cfg.sample_ms / 1e3);
    let phase_start = Instant::now();
    let warm_end = phase_start + Duration::from_secs_f64(cfg.warmup_secs);
    let end = warm_end + Duration::from_secs_f64(cfg.secs);
    let mut r = Report {
        nslots,
        batches: 0,
        live_bytes,
        durations: Vec::with_capacity(1 << 16),
        peak: 0,
        peak_goal: 0,
        gc0: 0,
        gc1: 0,
        worker_fractions: Vec::new(),
        goals: Vec::new(),
        gc_cpu_fraction: None,
        window: Duration::ZERO,
        checksum: 0,
    };
    let mut measuring = false;
    let mut last_sample: Option<Instant> = None;
    loop {
        let t0 = Instant::now();
        if !measuring && t0 >= warm_end {
            measuring = true;
            let s = tricolor_gc::mem_stats();
            r.gc0 = s.num_gc;
            r.goals.push((s.num_gc, s.next_gc));
        }
        if t0 >= end {
            break;
        }
        m.batch();
        let t1 = Instant::now();
        r.batches += 1;
        if measuring {
            r.durations.push((t1 - t0).as_nanos() as u64);
            if last_sample.is_none_or(|l| t1 - l >= sample_every) {
                let s = tricolor_gc::mem_stats();
                if s.heap_alloc > r.peak {
                    (r.peak, r.peak_goal) = (s.heap_alloc, s.next_gc);
                }
                if r.goals.last().is_none_or(|g| g.0 != s.num_gc) {
                    r.goals.push((s.num_gc, s.next_gc));
                }
                if let Some((_, frac)) = gc_cpu(&s) {
                    if s.num_gc > r.gc0 && r.worker_fractions.last().is_none_or(|&(n, _)| n != s.num_gc) {
                        r.worker_fractions.push((s.num_gc, frac));
                    }
                }
                last_sample = Some(Instant::now());
            }
        }
        if cfg.runtime {
            tricolor_gc::runtime::safepoint();
        }
        if cfg.rate_mb > 0.0 {
            let due = phase_start
                + Duration::from_secs_f64(r.batches as f64 * batch_bytes / (cfg.rate_mb * (1u64 << 20) as f64));
            let now = Instant::now();
            if due > now {
                // A G sleeps on the runtime's timer; a thread falls back to thread::sleep.
                tricolor_gc::runtime::sleep(due - now);
            }
        }
    }
    let s = tricolor_gc::mem_stats();
    r.gc1 = s.num_gc;
    r.gc_cpu_fraction = gc_cpu(&s).map(|(f, _)| f);
    r.window = warm_end.elapsed();
    r.checksum = m.sum + m.slots.iter().filter_map(|s| s.get()).map(|n| n.pay[0]).sum::<u64>();
    r
}

fn median_f(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// (p99, max) in ms of `max(0, d − median(d))` over the batch durations (ns).
fn stalls(d: &mut [u64]) -> Option<(f64, f64)> {
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    let n = d.len();
    let med = if n % 2 == 1 { d[n / 2] } else { (d[n / 2 - 1] + d[n / 2]) / 2 };
    // Sorted durations give sorted stalls.
    let stall = |i: usize| d[i].saturating_sub(med) as f64 / 1e6;
    let idx = ((n as f64 * 0.99).ceil() as usize).saturating_sub(1);
    Some((stall(idx), stall(n - 1)))
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| "NA".to_string(), |x| format!("{x:.prec$}"))
}

fn read_u64(name: &'static str) -> Option<u64> {
    let mut s = [tricolor_gc::metrics::Sample::new(name)];
    tricolor_gc::metrics::read(&mut s);
    match s[0].value {
        tricolor_gc::metrics::Value::Uint64(v) => Some(v),
        _ => None,
    }
}

fn main() {
    let cfg = parse_args();
    let capture = gctrace::Capture::start();
    let start = Instant::now();
    let mut r = if cfg.runtime {
        // SAFETY: (the migration contract of `allow_migration`) the probe's
        // only G holds no thread-local borrow and no thread-bound guard
        // across a runtime call; its state is GC handles and plain values.
        let rt = unsafe { tricolor_gc::runtime::Runtime::builder().allow_migration() }
            .build()
            .unwrap_or_else(|e| usage(&format!("cannot start the runtime: {e}")));
        rt.block_on(move || run(cfg))
    } else {
        run(cfg)
    };
    let cycles = capture.map(gctrace::Capture::stop).unwrap_or_default();
    let window: Vec<_> = cycles.iter().filter(|c| c.n > r.gc0 && c.n <= r.gc1).collect();
    let overshoot_cycle = (!window.is_empty()).then(|| {
        window
            .iter()
            .filter_map(|c| {
                let &(_, goal) = r.goals.iter().find(|g| g.0 + 1 == c.n)?;
                (goal > 0).then(|| (c.heap1_mb << 20) as f64 / goal as f64)
            })
            .fold(0.0, f64::max)
    });

    let stall = stalls(&mut r.durations);
    let median_us = {
        let mut v: Vec<f64> = r.durations.iter().map(|&d| d as f64 / 1e3).collect();
        median_f(&mut v)
    };
    let mut fr: Vec<f64> = r.worker_fractions.iter().map(|&(_, f)| f).collect();
    let mb = |b: u64| format!("{:.1}", b as f64 / (1u64 << 20) as f64);
    let memlimit = match read_u64("/gc/gomemlimit:bytes") {
        Some(l) if l > 0 && l < i64::MAX as u64 => format!("{:.0}", l as f64 / (1u64 << 20) as f64),
        _ => "off".to_string(),
    };
    let overshoot = (r.peak_goal > 0).then(|| r.peak as f64 / r.peak_goal as f64);
    let alloc_mb_s =
        r.durations.len() as f64 * (BATCH_OPS * NODE_BYTES) as f64 / (1u64 << 20) as f64 / r.window.as_secs_f64();
    println!("pacer live slots {}, batches {} (checksum {})", r.nslots, r.batches, r.checksum);
    let extra = format!(
        " mode={} gogc={} memlimit_mb={memlimit} live_mb={} peak_heap_mb={} goal_mb={} overshoot={} overshoot_cycle={} \
         gc_cpu_fraction={} mark_worker_fraction={} stall_p99_ms={} stall_max_ms={} cycles={} batches={} \
         median_batch_us={} alloc_mb_s={alloc_mb_s:.1}",
        if cfg.runtime { "runtime" } else { "thread" },
        read_u64("/gc/gogc:percent").map_or_else(|| "NA".to_string(), |g| g.to_string()),
        mb(r.live_bytes),
        mb(r.peak),
        mb(r.peak_goal),
        fmt_opt(overshoot, 3),
        fmt_opt(overshoot_cycle, 3),
        fmt_opt(r.gc_cpu_fraction, 4),
        fmt_opt(median_f(&mut fr), 4),
        fmt_opt(stall.map(|s| s.0), 3),
        fmt_opt(stall.map(|s| s.1), 3),
        r.gc1 - r.gc0,
        r.durations.len(),
        fmt_opt(median_us, 1),
    );
    common::result("pacer", start, &extra);
}

/// Reading the probe's own `GODEBUG=gctrace=1` lines: while the probe runs,
/// fd 2 is a pipe whose reader thread passes every line on to the original
/// stderr and keeps each gctrace line's cycle number and heap at mark
/// termination. Reads both the project's line (`H0 -> H1 -> H2 MB`)
/// and Go's (`H0->H1->H2 MB`).
mod gctrace {
    use std::fs::File;
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::{FromRawFd, RawFd};
    use std::thread::JoinHandle;

    /// One gctrace line's figures.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Cycle {
        pub n: u64,
        pub heap1_mb: u64,
    }

    /// `gc N @...: ..., H0 -> H1 -> H2 MB, GL MB goal, ...`; `None` for any
    /// other line (one without both the heap and the goal figures).
    pub fn parse(line: &str) -> Option<Cycle> {
        let rest = line.strip_prefix("gc ")?;
        let n = rest.split(' ').next()?.parse().ok()?;
        let (mut heap1_mb, mut goal_mb) = (None, None::<u64>);
        for part in rest.split(", ") {
            if let Some(g) = part.strip_suffix(" MB goal") {
                goal_mb = g.trim().parse().ok();
            } else if let Some(h) = part.strip_suffix(" MB") {
                let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
                let mut it = h.split("->");
                if let (Some(_), Some(h1), Some(_), None) = (it.next(), it.next(), it.next(), it.next()) {
                    heap1_mb = h1.parse().ok();
                }
            }
        }
        goal_mb?;
        Some(Cycle { n, heap1_mb: heap1_mb? })
    }

    /// True if GODEBUG turns gctrace on (the last `gctrace=` item wins).
    fn enabled() -> bool {
        let v = std::env::var("GODEBUG").unwrap_or_default();
        v.split(',')
            .filter_map(|kv| kv.strip_prefix("gctrace="))
            .next_back()
            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
    }

    pub struct Capture {
        orig: RawFd,
        write_end: RawFd,
        reader: JoinHandle<Vec<Cycle>>,
    }

    impl Capture {
        /// Routes fd 2 through a pipe if gctrace is on; `None` (fd 2
        /// untouched) if it is off or a call fails.
        pub fn start() -> Option<Capture> {
            if !enabled() {
                return None;
            }
            let mut fds = [0 as RawFd; 2];
            // SAFETY: `fds` has room for the two descriptors pipe2 writes.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                return None;
            }
            let [read_end, write_end] = fds;
            // SAFETY: dup of fd 2, which is open (or the call fails with -1).
            let orig = unsafe { libc::dup(2) };
            // SAFETY: as above, a second descriptor for the reader's output.
            let out_fd = if orig >= 0 { unsafe { libc::dup(orig) } } else { -1 };
            // SAFETY: both descriptors are ours (pipe2 above); fd 2 is
            // atomically replaced, so a concurrent writer sees one or the other.
            if out_fd < 0 || unsafe { libc::dup2(write_end, 2) } < 0 {
                for fd in [read_end, write_end, orig, out_fd] {
                    if fd >= 0 {
                        // SAFETY: closing descriptors this function opened.
                        unsafe { libc::close(fd) };
                    }
                }
                return None;
            }
            // SAFETY: `read_end` and `out_fd` are open and owned by nothing
            // else; each File takes sole ownership of one.
            let (input, mut out) = unsafe { (File::from_raw_fd(read_end), File::from_raw_fd(out_fd)) };
            let reader = std::thread::spawn(move || {
                let mut cycles = Vec::new();
                for line in BufReader::new(input).lines() {
                    let Ok(line) = line else { break };
                    let _ = writeln!(out, "{line}");
                    cycles.extend(parse(&line));
                }
                cycles
            });
            Some(Capture { orig, write_end, reader })
        }

        /// Puts the original stderr back on fd 2, waits for the reader to
        /// drain the pipe and returns the cycles it saw.
        pub fn stop(self) -> Vec<Cycle> {
            // SAFETY: `orig` and `write_end` are open descriptors owned by
            // this Capture; after dup2 fd 2 no longer refers to the pipe, so
            // closing `write_end` ends the reader's input.
            unsafe {
                libc::dup2(self.orig, 2);
                libc::close(self.orig);
                libc::close(self.write_end);
            }
            self.reader.join().unwrap_or_default()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_both_lines() {
            let go = "gc 18 @3.263s 23%: 0.030+252+0.004 ms clock, 0.061+10/131/174+0.008 ms cpu, \
                      152->179->90 MB, 179 MB goal, 0 MB stacks, 0 MB globals, 2 P";
            assert_eq!(parse(go), Some(Cycle { n: 18, heap1_mb: 179 }));
            let ours = "gc 7 @1.250s: 0.1+20+0.2 ms clock, 120 -> 131 -> 64 MB, 128 MB goal, \
                        1000 objects marked, 0 restarts, 2 P";
            assert_eq!(parse(ours), Some(Cycle { n: 7, heap1_mb: 131 }));
            assert_eq!(parse("gc 3 @0.1s: no heap figures"), None);
            assert_eq!(parse("gc 3 @0.1s: 1+2+3 ms clock, 4 -> 5 -> 6 MB, 7 objects marked"), None);
            assert_eq!(parse("pacer live slots 1"), None);
        }
    }
}
