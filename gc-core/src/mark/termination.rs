//! Termination detection for a marking round (Go: `work.nwait` /
//! `work.nproc` in `gcBgMarkWorker` and `gcMarkDone`).
//!
//! `nproc` markers drain a shared pool of grey objects. A marker that finds
//! no work, locally or globally, increments `nwait`; a waiting marker that
//! sees new global work decrements `nwait` *before* taking it. The marker
//! whose increment makes `nwait == nproc` and that then sees the global list
//! empty declares the round done.
//!
//! Why that is enough: a marker only holds work while it is not counted in
//! `nwait`, and it publishes before it is counted. So at the instant
//! `nwait == nproc`, no marker holds work; if the global list is empty at
//! that instant, no grey object exists among the markers. (Mutators may still
//! publish grey objects from their barrier buffers; the cycle re-checks the
//! global list after every round and again with the world stopped, see
//! `cycle.rs`.)
//!
//! Invariants:
//! * `nwait <= nproc` at all times.
//! * `done` is set only by a marker that saw `nwait == nproc` and an empty
//!   global list, and a round ends only when every marker has returned.
//!
//! The protocol lives here, generic over [`MarkWork`], so that loom checks
//! this very code (`tests/loom_termination.rs`, through the `sync` facade)
//! with a model of the work lists, as `roots.rs` is checked.

use super::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The shared counters of one round.
pub struct Termination {
    /// Markers in the round. Written by the round's opener before any marker
    /// starts; read by markers.
    nproc: AtomicUsize,
    /// Markers currently without work. Updated by markers.
    nwait: AtomicUsize,
    /// Set once by the marker that detects termination; read by all.
    done: AtomicBool,
}

impl Default for Termination {
    fn default() -> Self {
        Self::new()
    }
}

impl Termination {
    /// Counters for no round yet.
    pub fn new() -> Termination {
        Termination { nproc: AtomicUsize::new(1), nwait: AtomicUsize::new(0), done: AtomicBool::new(false) }
    }

    /// Opens a round of `nproc` markers. Called before any of them starts.
    pub fn open(&self, nproc: usize) {
        self.nproc.store(nproc, Ordering::Release);
        self.nwait.store(0, Ordering::Release);
        self.done.store(false, Ordering::Release);
    }

    /// Markers in the current round.
    pub fn nproc(&self) -> usize {
        self.nproc.load(Ordering::Acquire)
    }
}

/// What a marker does with grey objects; the real one is the `Marker` and the
/// global work lists (`workers.rs`), the loom model's is a toy graph.
pub trait MarkWork {
    /// Scans until no grey object is left locally and the global list is
    /// empty, or until peers look starved (then some local work remains).
    fn drain(&mut self);
    /// True if this marker still holds grey objects.
    fn has_local(&self) -> bool;
    /// Publishes some local work to the global list (Go: `gcWork.balance`).
    fn publish(&mut self);
    /// True if the global list holds no work.
    fn global_empty(&self) -> bool;
    /// Waits a little while idle; `spins` counts the waits so far.
    fn idle(&self, spins: u32);
    /// Called by the marker that declares the round done, at that instant
    /// (the loom model checks the invariant there; the real marker does
    /// nothing).
    fn on_done(&self) {}
}

/// Drains `w` until the round of `t` terminates (Go: the loop of
/// `gcBgMarkWorker` around `gcDrain`, with its `nwait` accounting).
pub fn drain_until_done(t: &Termination, w: &mut impl MarkWork) {
    let nproc = t.nproc();
    'work: loop {
        w.drain();
        if w.has_local() {
            w.publish();
            continue 'work;
        }
        // No work here or in the global list.
        if t.nwait.fetch_add(1, Ordering::AcqRel) + 1 == nproc && w.global_empty() {
            w.on_done();
            t.done.store(true, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        loop {
            if t.done.load(Ordering::Acquire) {
                return;
            }
            if !w.global_empty() {
                t.nwait.fetch_sub(1, Ordering::AcqRel);
                continue 'work;
            }
            w.idle(spins);
            spins = spins.saturating_add(1);
        }
    }
}
