//! The ragged barrier (Go: `forEachP` in `gcMarkDone`): every mutator's
//! write-barrier buffer and work cache flushed to the global lists without
//! stopping the world.
//!
//! The collector asks every registered mutator at once (under the registry
//! lock, so a thread that exits meanwhile sees its request), runs the heavy
//! fence, and then serves the requests of the mutators it finds outside
//! their critical sections itself (Go runs the function for idle Ps and Ps
//! in a system call); a mutator inside a section serves its own request at
//! its next section entry, or the collector serves it once the section has
//! ended. Meanwhile every other mutator runs on. The protocol of one request
//! is `mark/ragged.rs`.
//!
//! Invariants:
//! * When [`ragged_flush`] returns, every grey object that was in a
//!   mutator's buffer when it was called is in the global lists (or was
//!   marked from there already). Objects buffered later are not: mark
//!   termination's stop flushes once more (Go does the same, for
//!   golang/go#27993), so this walk only has to make that last flush find
//!   nothing.
//! * A mutator's local state is touched by one side at a time: the owner
//!   inside its section, or the collector between its claim and `done`.
//! * The registry lock is held only while asking, never while waiting: a
//!   pinned thread that starts a thread (whose registration takes the lock)
//!   does not deadlock the walk.

use super::stall::Backoff;
use super::{lock_registry, Mutator, OUTSIDE, PINNED};
use crate::fence;
use crate::mark::ragged::OwnerStep;
use core::sync::atomic::{AtomicBool, Ordering};

/// Set by whichever side served a request and published grey objects.
static PUBLISHED: AtomicBool = AtomicBool::new(false);

/// Flushes every mutator's buffer, ragged; true if that published grey
/// objects. The caller is not inside a critical section or pin.
pub fn ragged_flush() -> bool {
    let pending: Vec<&'static Mutator> = {
        let reg = lock_registry();
        PUBLISHED.store(false, Ordering::Relaxed);
        let all: Vec<&'static Mutator> = reg.mutators().collect();
        for m in &all {
            m.flush.ask();
        }
        all
    };
    fence::heavy();
    let mut pending = pending;
    let mut backoff = Backoff::default();
    loop {
        let mut pinned = false;
        pending.retain(|m| {
            if m.flush.is_served() {
                return false;
            }
            let state = m.state.load(Ordering::Acquire);
            if state == OUTSIDE && m.flush.collector_claim() {
                // SAFETY: the claim made this side the owner of `m`'s local
                // state until `done` (mark/ragged.rs): the owner backs out of
                // any section it tries to enter meanwhile.
                serve(unsafe { m.local() });
                m.flush.done();
                return false;
            }
            pinned |= state == PINNED;
            true
        });
        if pending.is_empty() {
            break;
        }
        backoff.snooze(pinned);
    }
    PUBLISHED.load(Ordering::Acquire)
}

/// Flushes one mutator's buffer and work cache to the global lists.
fn serve(local: &mut super::Local) {
    if crate::fault::active(crate::fault::Fault::TerminationFlush) {
        return; // test-only fault: buffers and work caches stay put
    }
    if local.wbuf.flush_to_global() {
        PUBLISHED.store(true, Ordering::Release);
    }
}

impl Mutator {
    /// The owner's answer to a pending request at a section entry, its
    /// state stored and fenced: `false` if it must leave the section and
    /// wait for the collector (then enter again).
    #[cold]
    #[inline(never)]
    pub(super) fn answer_flush(&self) -> bool {
        match self.flush.owner_step() {
            OwnerStep::Clear => true,
            OwnerStep::Flush => {
                // SAFETY: inside our own section (or pin), holding the claim.
                serve(unsafe { self.local() });
                self.flush.done();
                true
            }
            OwnerStep::Wait => false,
        }
    }

    /// Waits until the collector has served this mutator's request (after
    /// [`answer_flush`](Self::answer_flush) said so, the state `OUTSIDE`).
    #[cold]
    pub(super) fn wait_flush_served(&self) {
        let mut backoff = Backoff::default();
        while !self.flush.is_served() {
            backoff.snooze(false);
        }
    }

    /// At thread exit, under the registry lock and outside any section:
    /// serves or waits out a pending request, so that the exit's own use of
    /// the local state has it alone. No new request can come while the
    /// registry lock is held.
    pub(super) fn settle_flush_for_exit(&self) {
        while self.flush.pending() {
            if self.answer_flush() {
                return;
            }
            self.wait_flush_served();
        }
    }
}
