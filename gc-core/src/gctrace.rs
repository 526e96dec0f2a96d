//! The `GODEBUG=gctrace=1` line (Go: `gcMarkTermination`'s `printlock`
//! block in mgc.go).
//!
//! Invariant: one line per cycle, printed after mark termination from the
//! figures the cycle measured ([`Cycle`]); nothing here touches the heap.

use crate::{env, pacer, stats};
use std::time::Duration;

/// What one cycle measured, for its gctrace line.
pub(crate) struct Cycle {
    /// `heap_live` when the cycle started.
    pub heap0: u64,
    /// When the cycle started, since the first cycle of the process.
    pub t_start: Duration,
    pub forced: bool,
    pub stw1: Duration,
    pub concurrent: Duration,
    pub stw2: Duration,
    pub heap1: u64,
    pub marked: u64,
    pub marked_objects: u64,
    pub restarts: u32,
}

/// Prints the cycle's line to stderr.
pub(crate) fn print(t: &Cycle) {
    // Go's line (sweep termination + concurrent mark + mark termination,
    // wall clock), with the marked objects and ragged-barrier restarts
    // added.
    eprintln!(
        "gc {} @{:.3}s: {}+{}+{} ms clock, {} -> {} -> {} MB, {} MB goal, {} objects marked, {} restarts, {} P{}",
        stats::num_gc(),
        t.t_start.as_secs_f64(),
        stats::fmt_ms(t.stw1),
        stats::fmt_ms(t.concurrent),
        stats::fmt_ms(t.stw2),
        t.heap0 >> 20,
        t.heap1 >> 20,
        t.marked >> 20,
        pacer::goal() >> 20,
        t.marked_objects,
        t.restarts,
        env::config().max_procs,
        if t.forced { " (forced)" } else { "" }
    );
}
