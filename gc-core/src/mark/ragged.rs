//! The per-mutator flush request of the ragged barrier (Go: `forEachP` with
//! `p.runSafePointFn`, as `gcMarkDone` uses it to flush every P's write
//! barrier buffer and work cache without stopping the world).
//!
//! Each mutator carries one [`FlushRequest`]. The collector asks every
//! mutator at once, runs the heavy fence, and then each request is served
//! exactly once, by whichever side claims it first:
//!
//! * the **owner**, at its next section entry (`Mutator::enter`,
//!   `enter_pinned`, or an operation inside a pin), when its load after the
//!   light fence sees the request: it claims `ASKED -> OWNER`, flushes its
//!   own buffer inside its section and stores `NONE`;
//! * the **collector**, for a mutator it sees `OUTSIDE` (idle, parked, in
//!   `blocking`, or running plain Rust code): it claims `ASKED -> COLLECTOR`,
//!   flushes that mutator's buffer itself and stores `NONE`. An owner that
//!   enters meanwhile sees `COLLECTOR`, backs out of its section and waits
//!   for `NONE` (a flush of at most one buffer).
//!
//! Invariants (the section handshake's Dekker pair, plus a CAS):
//! * The collector stores `ASKED`, then runs the heavy fence, then loads the
//!   owner's state; the owner stores its state, then runs the light fence,
//!   then loads the request. So an owner section that the collector's load
//!   missed (it read `OUTSIDE`) sees the request at its entry.
//! * Both claims are one compare-exchange from `ASKED`: exactly one side
//!   serves a request, and the mutator's local state has one owner at a
//!   time (the collector only between its claim and its `NONE`, during which
//!   the owner is kept out of its section).
//! * `NONE` is stored with Release and every load that may see it is an
//!   Acquire, so whatever the server wrote into the local state happens
//!   before the owner's next section and before the collector's conclusion.
//! * The collector never waits for a mutator inside a short section while
//!   the others wait: every other mutator keeps running (that is what makes
//!   the barrier ragged); a request whose owner is inside is retried until
//!   the owner leaves (or serves it itself).
//!
//! The protocol lives in this file and takes its atomics from `super::sync`,
//! so that the loom model (`tests/loom_ragged.rs`) checks this very code.

use super::sync::atomic::{AtomicU32, Ordering};

/// No request pending.
const NONE: u32 = 0;
/// The collector asked; nobody serves it yet.
const ASKED: u32 = 1;
/// The collector serves it (owns the mutator's local state).
const COLLECTOR: u32 = 2;
/// The owner serves it.
const OWNER: u32 = 3;

/// What the owner does about its request at a section entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerStep {
    /// Nothing pending (or already served): go on.
    Clear,
    /// Claimed: flush inside the section, then call [`FlushRequest::done`].
    Flush,
    /// The collector owns the local state: leave the section, wait until
    /// [`FlushRequest::is_served`], enter again.
    Wait,
}

/// One mutator's flush request.
#[derive(Debug)]
pub struct FlushRequest {
    req: AtomicU32,
}

impl Default for FlushRequest {
    fn default() -> Self {
        Self::new()
    }
}

impl FlushRequest {
    /// No request.
    pub fn new() -> FlushRequest {
        FlushRequest::from_word(AtomicU32::new(NONE))
    }

    /// From its word (`NONE` = 0), for a `const` constructor.
    pub const fn from_word(req: AtomicU32) -> FlushRequest {
        FlushRequest { req }
    }

    /// Collector: asks for a flush. The caller runs the heavy fence after
    /// asking every mutator and before reading any state.
    pub fn ask(&self) {
        self.req.store(ASKED, Ordering::SeqCst);
    }

    /// Owner's fast-path check, after its state store and light fence.
    #[inline(always)]
    pub fn pending(&self) -> bool {
        self.req.load(Ordering::Acquire) != NONE
    }

    /// Owner, inside its section (its state stored, then the light fence),
    /// having seen [`pending`](Self::pending).
    pub fn owner_step(&self) -> OwnerStep {
        match self.req.compare_exchange(ASKED, OWNER, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => OwnerStep::Flush,
            Err(NONE) => OwnerStep::Clear,
            Err(COLLECTOR) => OwnerStep::Wait,
            // Only the owner stores OWNER, and it stores NONE before it
            // enters another section.
            Err(_) => unreachable!("a flush request served twice by its owner"),
        }
    }

    /// Collector, having read the owner's state `OUTSIDE` with Acquire
    /// after the heavy fence: true if it now owns the local state and must
    /// flush it, then call [`done`](Self::done).
    pub fn collector_claim(&self) -> bool {
        self.req.compare_exchange(ASKED, COLLECTOR, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The broken claim the loom model must reject: a plain store, so an
    /// owner that claimed at the same time flushes beside the collector.
    #[cfg(loom)]
    #[allow(dead_code)] // used by the loom model's instance of this file only
    pub fn collector_claim_unchecked(&self) -> bool {
        if self.req.load(Ordering::Acquire) == NONE {
            return false;
        }
        self.req.store(COLLECTOR, Ordering::Release);
        true
    }

    /// The server (owner or collector) finished its flush.
    pub fn done(&self) {
        self.req.store(NONE, Ordering::Release);
    }

    /// True once the request is served (the collector's poll; the owner's
    /// wait after [`OwnerStep::Wait`]).
    pub fn is_served(&self) -> bool {
        self.req.load(Ordering::Acquire) == NONE
    }
}
