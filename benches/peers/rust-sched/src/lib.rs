//! Shared driver of the scheduler benchmark peers (the `sched` workload of
//! `benches/compare.sh`, issue 11).
//!
//! Each `src/systems/<system>.rs` implements [`Sched`] for one runtime
//! (tricolor-gc's gc-runtime, tokio, may); this module parses argv, reads
//! `GOMAXPROCS` (the number of worker threads / Ps, default 2, as the Go peer
//! does), times nothing itself but prints every check line and the RESULT line
//! in the same format as `benches/peers/go/cmd/sched`, so the harness reads
//! every system the same way.
//!
//! Invariants the four measurements keep on every system:
//! - ping-pong: two tasks, two channels of at most one slot, one token in
//!   flight; 1000 warm-up round trips are not timed;
//! - spawn: all N tasks are spawned from one task running on a worker, then
//!   all are joined; the timed span covers both;
//! - fan-out: T tasks of [`work`] each, spawned from one task, joined, in a
//!   [`Span`]: besides the wall time, `cores_used` = CPU time / wall and
//!   `cores_denied` = run delay / wall (threads runnable but kept off a CPU
//!   by other load), which tells a busy machine from an idle worker;
//! - parked: N tasks, each blocked receiving from its own channel; VmHWM is
//!   read only after every task has announced itself and 50 ms have passed.

use std::time::{Duration, Instant};

/// Knuth's MMIX LCG multiplier (the same constant in the Go peer).
const LCG_MUL: u64 = 6364136223846793005;
/// Knuth's MMIX LCG increment.
const LCG_ADD: u64 = 1442695040888963407;

/// The fan-out's unit of CPU work: `iters` steps of xorshift then LCG from
/// `seed`. The xorshift keeps the loop non-linear: LLVM folds several steps
/// of a pure LCG into one multiply-add, Go's compiler does not, and the
/// systems must do the same work.
#[inline(never)]
pub fn work(seed: u64, iters: u64) -> u64 {
    let mut x = std::hint::black_box(seed);
    for _ in 0..iters {
        x ^= x >> 29;
        x = x.wrapping_mul(LCG_MUL).wrapping_add(LCG_ADD);
    }
    x
}

/// The figures a parked run reports, in KiB of `/proc/self/status`.
#[derive(Debug, Clone, Copy)]
pub struct Parked {
    /// VmRSS after the runtime started, before the first task was spawned.
    pub base_kb: f64,
    /// VmHWM once every task is parked.
    pub hwm_kb: f64,
    /// VmRSS at the same moment.
    pub rss_kb: f64,
    /// Sum of the values the tasks received after the release.
    pub sum: u64,
}

/// One runtime's implementation of the four sub-benchmarks. Each returns the
/// timed span and a checksum.
pub trait Sched {
    /// System name for the RESULT line.
    const NAME: &'static str;
    /// `n` round trips of a token between two tasks (after 1000 warm-up
    /// trips); returns (time of the `n` trips, sum of the returned tokens).
    fn pingpong(procs: usize, n: u64) -> (Duration, u64);
    /// Spawns `n` tasks, task `i` producing `2i+1`, and joins them all;
    /// returns (time, sum).
    fn spawn(procs: usize, n: u64) -> (Duration, u64);
    /// Spawns `tasks` tasks running [`work`]`(i, iters)` and joins them,
    /// inside a [`Span`]; returns (its measurement, xor of the results).
    fn fanout(procs: usize, tasks: u64, iters: u64) -> (Measured, u64);
    /// Parks `n` tasks on channel receives, measures memory, releases them
    /// (task `i` receives `i`) and joins them.
    fn parked(procs: usize, n: u64) -> Parked;
}

/// The process's user+system CPU time (`getrusage(RUSAGE_SELF)`), or zero
/// if the call fails.
pub fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain old data, so the all-zero value is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage` for the call's duration.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Sum over this process's threads of the time they spent runnable but
/// waiting for a CPU (the second field of `/proc/self/task/*/schedstat`):
/// CPU time the machine denied the process, as opposed to time its
/// scheduler left a worker idle. Zero where schedstat is unavailable.
pub fn run_delay() -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Duration::ZERO };
    let ns: u64 = dir
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

/// A timed span of the fan-out: wall time, CPU time and run delay.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    t0: Instant,
    cpu0: Duration,
    wait0: Duration,
}

/// What a [`Span`] measured.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Wall time.
    pub wall: Duration,
    /// CPU time of the process (user + system).
    pub cpu: Duration,
    /// Run delay of the process's threads ([`run_delay`]).
    pub run_delay: Duration,
}

impl Span {
    /// Starts a span. Take it after the runtime's threads exist, and finish
    /// it before they exit, so the run delay counts every worker.
    pub fn start() -> Span {
        Span { wait0: run_delay(), cpu0: cpu_time(), t0: Instant::now() }
    }

    /// Ends the span.
    pub fn finish(self) -> Measured {
        let wall = self.t0.elapsed();
        Measured { wall, cpu: cpu_time().saturating_sub(self.cpu0), run_delay: run_delay().saturating_sub(self.wait0) }
    }
}

/// A field of `/proc/self/status` (e.g. `VmHWM`) in KiB, -1 if unreadable.
pub fn status_kb(key: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else { return -1.0 };
    s.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::to_owned))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(-1.0)
}

/// How long a parked run waits, after the last task announced itself, before
/// it reads VmHWM (each system sleeps with its own timer).
pub const SETTLE: Duration = Duration::from_millis(50);

fn arg(args: &[String], i: usize, def: u64) -> u64 {
    args.get(i).map_or(def, |s| {
        s.parse().unwrap_or_else(|e| {
            eprintln!("bad argument {s:?}: {e}");
            std::process::exit(2)
        })
    })
}

/// Worker threads / Ps: `GOMAXPROCS` if set to a positive integer, else 2.
pub fn procs() -> usize {
    match std::env::var("GOMAXPROCS") {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("GOMAXPROCS={v:?} is not a positive integer; using 2");
                2
            }
        },
        Err(_) => 2,
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.3}")
}

fn result(system: &str, workload: &str, start: Instant, extra: &[String]) {
    let wall = start.elapsed().as_secs_f64() * 1e3;
    println!(
        "RESULT system={system} workload={workload} wall_ms={} max_pause_us=n/a p99_pause_us=n/a {}",
        fmt(wall),
        extra.join(" ")
    );
}

/// Parses argv (`<bin> pingpong N | spawn N | fanout T W | parked N`) and
/// runs the requested sub-benchmark of `S`.
pub fn main_for<S: Sched>() {
    let args: Vec<String> = std::env::args().collect();
    let p = procs();
    let start = Instant::now();
    let name = S::NAME;
    match args.get(1).map(String::as_str).unwrap_or("") {
        "pingpong" => {
            let n = arg(&args, 2, 1_000_000).max(1);
            let (el, sum) = S::pingpong(p, n);
            let us = el.as_secs_f64() * 1e6 / n as f64;
            println!("pingpong n {n}, check {sum}");
            println!("{us:.3} us per round trip");
            result(
                name,
                "sched-pingpong",
                start,
                &[format!("us_per_rtt={}", fmt(us)), format!("n={n}"), format!("procs={p}")],
            );
        }
        "spawn" => {
            let n = arg(&args, 2, 1_000_000).max(1);
            let (el, sum) = S::spawn(p, n);
            let us = el.as_secs_f64() * 1e6 / n as f64;
            println!("spawn n {n}, check {sum}");
            println!("{us:.3} us per spawn+join");
            result(
                name,
                "sched-spawn",
                start,
                &[format!("us_per_spawn={}", fmt(us)), format!("n={n}"), format!("procs={p}")],
            );
        }
        "fanout" => {
            let tasks = arg(&args, 2, 64);
            let iters = arg(&args, 3, 20_000_000);
            let (m, x) = S::fanout(p, tasks, iters);
            let ms = m.wall.as_secs_f64() * 1e3;
            let cpu_ms = m.cpu.as_secs_f64() * 1e3;
            let wait_ms = m.run_delay.as_secs_f64() * 1e3;
            let cores = cpu_ms / ms;
            let denied = wait_ms / ms;
            println!("fanout tasks {tasks}, work {iters}, check {x}");
            println!("{ms:.1} ms on {p} procs ({cores:.2} cores busy, {denied:.2} denied by the machine)");
            result(
                name,
                &format!("sched-fanout-{p}p"),
                start,
                &[
                    format!("fanout_ms={}", fmt(ms)),
                    format!("cpu_ms={}", fmt(cpu_ms)),
                    format!("cores_used={}", fmt(cores)),
                    format!("run_delay_ms={}", fmt(wait_ms)),
                    format!("cores_denied={}", fmt(denied)),
                    format!("procs={p}"),
                    format!("tasks={tasks}"),
                    format!("work={iters}"),
                ],
            );
        }
        "parked" => {
            let n = arg(&args, 2, 100_000).max(1);
            let r = S::parked(p, n);
            let mb = r.hwm_kb / 1024.0;
            let per_g = (r.hwm_kb - r.base_kb) / n as f64;
            println!("parked n {n}, check {}", r.sum);
            println!(
                "peak RSS {mb:.1} MB with {n} tasks parked ({per_g:.2} KiB each above the {:.1} MB base)",
                r.base_kb / 1024.0
            );
            result(
                name,
                "sched-parked",
                start,
                &[
                    format!("peak_rss_mb={}", fmt(mb)),
                    format!("parked_rss_mb={}", fmt(r.rss_kb / 1024.0)),
                    format!("base_rss_mb={}", fmt(r.base_kb / 1024.0)),
                    format!("kb_per_g={}", fmt(per_g)),
                    format!("n={n}"),
                    format!("procs={p}"),
                ],
            );
        }
        _ => {
            eprintln!("usage: {} pingpong N | spawn N | fanout T W | parked N", args[0]);
            std::process::exit(2)
        }
    }
}
