//! The gate of a mark round served by scheduler workers (`gworker.rs`): who
//! may drain, and when the coordinator may conclude that no worker holds
//! grey objects (Go: `gcBlackenEnabled` with `work.nwait`/`work.nproc`).
//!
//! Invariants (a Dekker pair between `enter` and `close`: each side's store
//! and load are SeqCst with a SeqCst fence between them — loom models the
//! fence, not a SeqCst total order of plain accesses, tokio-rs/loom#180):
//! * A worker drains only between an `enter` that returned true and its
//!   `leave`; it publishes every grey object it holds before `leave`.
//! * `enter` counts the worker in `active` *before* it reads `open`, and
//!   `close` clears `open` *before* it reads `active`. So either the worker
//!   sees the round closed (and backs out without touching work), or
//!   `close` sees it counted and waits for its `leave`.
//! * Hence when `close` returns, no worker is between `enter` and `leave`,
//!   and none can get there until the next `open`: every grey object is in
//!   the global lists or in a mutator's buffers.
//!
//! The protocol lives in this file, generic over nothing and taking its
//! atomics from `super::sync`, so that loom checks this very code
//! (`tests/loom_round.rs`).

use super::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

/// The gate of one round.
pub struct RoundGate {
    open: AtomicBool,
    active: AtomicUsize,
}

impl Default for RoundGate {
    fn default() -> Self {
        Self::new()
    }
}

impl RoundGate {
    /// A closed gate.
    pub fn new() -> RoundGate {
        RoundGate::from_parts(AtomicBool::new(false), AtomicUsize::new(0))
    }

    /// A gate from its two counters (`false`, `0` for a closed gate), for a
    /// `static` (loom's atomics have no const constructor, std's do).
    pub const fn from_parts(open: AtomicBool, active: AtomicUsize) -> RoundGate {
        RoundGate { open, active }
    }

    /// Opens the round. Called by the coordinator while no worker is active.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    /// A worker asks to drain: true if it may (it is counted and must call
    /// [`leave`](Self::leave)), false if the round is closed (not counted).
    pub fn enter(&self) -> bool {
        self.active.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            return true;
        }
        self.leave();
        false
    }

    /// The broken variant the loom model must reject: counts the worker
    /// only after reading `open`, so a `close` in between misses it.
    #[cfg(loom)]
    #[allow(dead_code)] // used by the loom model's instance of this file only
    pub fn enter_check_first(&self) -> bool {
        if !self.open.load(Ordering::SeqCst) {
            return false;
        }
        self.active.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// True while the round is open (a draining worker's periodic check; a
    /// stale true only makes it drain a little longer).
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    /// A worker that entered leaves, having published its grey objects.
    /// Returns true if it was the last active worker.
    pub fn leave(&self) -> bool {
        self.active.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Workers between `enter` and `leave`.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Closes the round and waits (calling `idle` with the number of waits
    /// so far) until no worker is active. After it returns, no worker drains
    /// until the next [`open`](Self::open).
    pub fn close(&self, mut idle: impl FnMut(u32)) {
        self.open.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let mut spins = 0u32;
        while self.active.load(Ordering::SeqCst) != 0 {
            idle(spins);
            spins = spins.saturating_add(1);
        }
    }
}
