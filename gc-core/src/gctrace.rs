//! The `GODEBUG=gctrace=1` line, exactly as Go 1.23 prints it
//! (`gcMarkTermination`'s `printlock` block in mgc.go, with `itoaDiv` and
//! `fmtNSAsMS`), and the project's own line behind
//! `GODEBUG=tricolorgctrace=1`.
//!
//! ```text
//! gc 7 @0.412s 9%: 0.012+3.1+0.040 ms clock, 0.024+0.51/3.0/0+0.080 ms cpu, 9->10->4 MB, 9 MB goal, 0 MB stacks, 0 MB globals, 2 P
//! tricolor-gc 7: 101232 objects marked, 1 ragged flushes, 0 restarts, 0.10 ms cpu in stops, mark workers 49% of 2 P, limiter 0% full
//! ```
//!
//! Go's fields: cycle number; seconds since the collector's first use at
//! sweep termination (`@T`, milliseconds truncated, three decimals); the
//! GC CPU fraction so far as a truncated percentage; the wall times of
//! sweep termination, concurrent mark and mark termination; the CPU times
//! `stwprocs × stop #1`, assist / dedicated+fractional / idle marking, and
//! `stwprocs × stop #2`, where `stwprocs = min(GOMAXPROCS, CPUs)`; heap in
//! use at cycle start, at mark termination, and marked live (MiB, shifted
//! as Go does); the goal the cycle ran against; stack and global scan
//! bytes, always 0 here (roots are handles, not scanned stacks or data
//! segments); GOMAXPROCS; ` (forced)` for `collect()`.
//!
//! Invariants: at most one line of each kind per cycle, printed after mark
//! termination from the figures the cycle measured ([`Cycle`]); nothing
//! here touches the heap. The `gc` line is Go's format string byte for byte
//! (a test parses it with the pattern Go's tools use).

use crate::{env, pacer, stats};
use std::fmt::Write as _;
use std::time::Duration;

/// What one cycle measured, for its gctrace line.
pub(crate) struct Cycle {
    /// `heap_live` when the cycle started.
    pub heap0: u64,
    /// When the cycle started (stop #1 began), since the collector's first
    /// use.
    pub t_start: Duration,
    pub forced: bool,
    pub stw1: Duration,
    pub concurrent: Duration,
    pub stw2: Duration,
    pub heap1: u64,
    pub marked: u64,
    pub marked_objects: u64,
    pub restarts: u32,
    /// Ragged barriers run (each one a walk over the mutators, no stop).
    pub ragged: u32,
    /// The cycle's CPU time by kind (`gccpu::mark_done`).
    pub cpu: crate::gccpu::CycleCpu,
}

/// True if either trace line is on (the cycle then fills a [`Cycle`]).
pub(crate) fn enabled() -> bool {
    let d = &env::config().debug;
    d.gctrace > 0 || d.tricolorgctrace > 0
}

/// Prints the cycle's lines to stderr: Go's with `gctrace`, ours with
/// `tricolorgctrace`.
pub(crate) fn print(t: &Cycle) {
    let d = &env::config().debug;
    let n = stats::num_gc();
    if d.gctrace > 0 {
        eprintln!("{}", go_line(n, t, pacer::last_heap_goal(), crate::sched::procs(), stw_procs()));
    }
    if d.tricolorgctrace > 0 {
        let (fill, cap, _) = crate::limiter::fill();
        eprintln!(
            "tricolor-gc {n}: {} objects marked, {} ragged flushes, {} restarts, {} ms cpu in stops, mark workers {}% of {} P, limiter {}% full{}",
            t.marked_objects,
            t.ragged,
            t.restarts,
            stats::fmt_ms(Duration::from_nanos(t.cpu.pause)),
            (t.cpu.mark_worker_fraction * 100.0) as u64,
            crate::sched::procs(),
            (fill as f64 * 100.0 / cap.max(1) as f64) as u64,
            if crate::limiter::limiting() { " (limiting)" } else { "" },
        );
    }
}

/// Go's `work.stwprocs`: GOMAXPROCS, at most the CPU count.
fn stw_procs() -> u64 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    crate::sched::procs().min(cpus).max(1) as u64
}

/// Go's line for cycle `n` (`goal`: the goal the cycle ran against).
pub(crate) fn go_line(n: u64, t: &Cycle, goal: u64, procs: usize, stwprocs: u64) -> String {
    let ms = t.t_start.as_millis() as u64;
    let util = (t.cpu.gc_cpu_fraction * 100.0) as i64;
    let mut s = format!("gc {n} @{}.{:03}s {util}%: ", ms / 1000, ms % 1000);
    let _ = write!(s, "{}+{}+{} ms clock, ", stats::fmt_ms(t.stw1), stats::fmt_ms(t.concurrent), stats::fmt_ms(t.stw2));
    let ns = Duration::from_nanos;
    let _ = write!(
        s,
        "{}+{}/{}/{}+{} ms cpu, ",
        stats::fmt_ms(t.stw1 * stwprocs as u32),
        stats::fmt_ms(ns(t.cpu.assist)),
        stats::fmt_ms(ns(t.cpu.dedicated + t.cpu.fractional)),
        stats::fmt_ms(ns(t.cpu.idle)),
        stats::fmt_ms(t.stw2 * stwprocs as u32),
    );
    let _ = write!(
        s,
        "{}->{}->{} MB, {} MB goal, 0 MB stacks, 0 MB globals, {procs} P",
        t.heap0 >> 20,
        t.heap1 >> 20,
        t.marked >> 20,
        goal >> 20
    );
    if t.forced {
        s.push_str(" (forced)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gccpu::CycleCpu;

    #[test]
    fn line_matches_go_format() {
        let t = Cycle {
            heap0: 9 << 20 | 5,
            t_start: Duration::from_micros(412_999),
            forced: true,
            stw1: Duration::from_micros(12),
            concurrent: Duration::from_micros(3_150),
            stw2: Duration::from_micros(40),
            heap1: 10 << 20,
            marked: 4 << 20,
            marked_objects: 1,
            restarts: 0,
            ragged: 1,
            cpu: CycleCpu {
                assist: 512_000,
                dedicated: 2_000_000,
                fractional: 1_000_000,
                idle: 0,
                pause: 0,
                concurrent: Duration::ZERO,
                gc_cpu_fraction: 0.0999,
                mark_worker_fraction: 0.5,
            },
        };
        assert_eq!(
            go_line(7, &t, 9 << 20, 2, 2),
            "gc 7 @0.412s 9%: 0.012+3.1+0.040 ms clock, 0.024+0.51/3.0/0+0.080 ms cpu, 9->10->4 MB, 9 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)"
        );
        let t =
            Cycle { forced: false, t_start: Duration::from_millis(61_234), concurrent: Duration::from_millis(25), ..t };
        assert!(go_line(12, &t, 1 << 30, 4, 2).starts_with("gc 12 @61.234s 9%: 0.012+25+0.040 ms clock, 0.024+"));
        assert!(go_line(12, &t, 1 << 30, 4, 2).ends_with("1024 MB goal, 0 MB stacks, 0 MB globals, 4 P"));
    }
}
