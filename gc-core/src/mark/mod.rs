//! Marking (Go: mgcmark.go, mgcwork.go, mbarrier.go, mwbbuf.go).
//!
//! Colours: white = mark bit clear; grey = mark bit set and the object's slot
//! address is in a work buffer (for a small headerless object: its scan bit
//! clear, and its span queued or being scanned, `span_scan.rs`); black =
//! mark bit set and scanned (noscan objects are black as soon as marked).
//! An object in a barrier buffer awaiting flush is not yet grey.
//!
//! Invariants:
//! * An object is queued at most once per cycle: only the thread whose
//!   `fetch_or` set its mark bit pushes it. A headerless span is queued
//!   at most once at a time: only the thread that took its scan ownership
//!   pushes it.
//! * Work buffers hold slot addresses of objects with headers in scan
//!   spans, and tagged addresses of headerless scan spans.
//! * Marking never recurses: grey objects wait in work buffers, so a list of
//!   10^7 nodes is marked in constant native stack.

pub mod assist;
pub mod barrier;
pub mod checkmark;
pub mod drain;
pub mod gworker;
pub mod ragged;
pub mod round;
pub mod span_scan;
pub mod termination;
pub mod work;
pub mod workers;

use core::sync::atomic::{AtomicU8, Ordering};

/// The synchronisation facade `termination.rs` uses (std's atomics here; the
/// loom instance of that file, in `crate::sync`, sees loom's).
pub(crate) use crate::sync;

/// Go's `gcphase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Not collecting; sweeping may be in progress; barrier off.
    Off = 0,
    /// Marking; barrier on; new objects are allocated black.
    Mark = 1,
    /// Mark termination; barrier on.
    MarkTermination = 2,
}

static PHASE: AtomicU8 = AtomicU8::new(Phase::Off as u8);

/// The current phase.
#[inline(always)]
pub fn phase() -> Phase {
    match PHASE.load(Ordering::Relaxed) {
        0 => Phase::Off,
        1 => Phase::Mark,
        _ => Phase::MarkTermination,
    }
}

/// True while the write barrier is on (Go: `writeBarrier.enabled`, which is
/// `phase == mark || phase == marktermination`).
#[inline(always)]
pub fn barrier_enabled() -> bool {
    PHASE.load(Ordering::Relaxed) != Phase::Off as u8
}

/// Sets the phase (Go: `setGCPhase`); only with the world stopped.
pub fn set_phase(p: Phase) {
    PHASE.store(p as u8, Ordering::SeqCst);
}
