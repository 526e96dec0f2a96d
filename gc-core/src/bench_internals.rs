//! Internals the fast-path benches need, behind the test-only
//! `bench-internals` feature (never in a normal build): a program that
//! turned the barrier on or off outside a cycle would break the collector's
//! invariants, so each entry point is `unsafe` with its contract.

/// The collector phase (Go: `gcphase`).
pub use crate::mark::Phase;

/// Sets the collector phase, so a bench can time the write barrier on.
///
/// # Safety
/// No collection may run while the phase differs from the one the collector
/// set (call it with collection off, `set_gc_percent(-1)`, and no
/// `collect()`), and the caller restores the previous phase before any
/// cycle can start.
pub unsafe fn set_phase(p: Phase) {
    crate::mark::set_phase(p)
}

/// True while the write barrier is on.
pub fn barrier_enabled() -> bool {
    crate::mark::barrier_enabled()
}

/// Root segments held by the fallback table: those exited threads handed
/// over and no stop has reclaimed yet (row 49's test).
pub fn fallback_segments() -> usize {
    crate::mutator::fallback_segments()
}
