//! Stopping the world (Go: `stopTheWorldWithSema` / `startTheWorldWithSema`):
//! the collector's half of the critical-section handshake.
//!
//! A stop runs in two phases: `PIN_STOP`, then wait for every `PINNED`
//! mutator to leave its pin; then `STOP`, then wait for every `INSIDE`
//! mutator to leave its section. Each is a Dekker handshake against the
//! mutator's `state` store, with the heavy fence on this side
//! (`fence.rs`).
//!
//! Invariants: the stopper holds the registry for the whole stop, so no
//! thread joins or leaves; the flags clear (under `RESUME_LOCK`) before the
//! parked mutators are woken; a stop never waits for a thread outside a
//! critical section.

use super::registry::{lock_registry, Registry};
use super::stall::Backoff;
use super::{assert_not_pinned, Mutator, OUTSIDE, PINNED};
use crate::fence;
use crate::roots::RootTable;
use core::sync::atomic::{AtomicBool, Ordering};
use parking_lot::{Condvar, Mutex};
use std::time::Instant;

/// The stop flag (Go: `sched.gcwaiting`).
pub(super) static STOP: AtomicBool = AtomicBool::new(false);
/// Set while a stop waits for pins to end, then through the stop: pins may
/// not begin, short sections may.
pub(super) static PIN_STOP: AtomicBool = AtomicBool::new(false);
static RESUME_LOCK: Mutex<()> = Mutex::new(());
static RESUME: Condvar = Condvar::new();

/// Waits until `flag` (`STOP` or `PIN_STOP`) is clear.
pub(super) fn wait_while(flag: &AtomicBool) {
    let mut g = RESUME_LOCK.lock();
    while flag.load(Ordering::Acquire) {
        RESUME.wait(&mut g);
    }
}

/// The world, stopped; dropping it (or [`StoppedWorld::restart`]) restarts
/// the world (Go: `stopTheWorldWithSema` / `startTheWorldWithSema`). It holds
/// the registry, so no thread joins or leaves during the stop.
pub struct StoppedWorld {
    reg: Registry,
    /// When the pause began: the stop flag was set after the pins ended.
    pub started: Instant,
    /// How long the mutators took to leave their short critical sections.
    pub time_to_safepoint: std::time::Duration,
    restarted: bool,
}

impl StoppedWorld {
    /// Frees every mutator's retired root slots: no critical section is in
    /// progress, so no reader can still be using them. Then moves the
    /// exited threads' fully free root segments to the spare list.
    pub fn free_retired(&self) {
        for m in self.mutators() {
            // SAFETY: the world is stopped; mutators' local state is ours.
            for s in unsafe { m.local() }.retired.drain(..) {
                RootTable::unregister(s);
            }
        }
        super::registry::reclaim_exited(&self.reg);
    }

    /// Every mutator, including the fallback.
    pub fn mutators(&self) -> impl Iterator<Item = &'static Mutator> + '_ {
        self.reg.mutators()
    }

    /// Restarts the world and returns the instant the stop ended: when the
    /// stop flag cleared, from which a mutator entering a critical section
    /// no longer waits. Waking the parked mutators comes after that instant
    /// and is not part of the pause (on a busy machine the woken thread may
    /// preempt the one that woke it).
    pub fn restart(mut self) -> Instant {
        self.restarted = true;
        resume()
    }
}

impl Drop for StoppedWorld {
    fn drop(&mut self) {
        if !self.restarted {
            resume();
        }
    }
}

/// Clears the stop flag, returning when it cleared, then wakes the parked
/// mutators.
fn resume() -> Instant {
    let _g = RESUME_LOCK.lock();
    STOP.store(false, Ordering::Release);
    PIN_STOP.store(false, Ordering::Release);
    let t = Instant::now();
    RESUME.notify_all();
    t
}

/// Waits until no mutator's state is `busy`.
fn wait_for_states(reg: &Registry, busy: impl Fn(u32) -> bool) {
    for m in reg.mutators() {
        let mut backoff = Backoff::default();
        loop {
            let state = m.state.load(Ordering::Acquire);
            if !busy(state) {
                break;
            }
            backoff.snooze(state == PINNED);
        }
    }
}

/// Stops the world: waits until every pin has ended, then until every
/// mutator is outside its critical sections (module doc, "Pins"). The
/// caller must not be inside one.
pub fn stop_the_world() -> StoppedWorld {
    assert_not_pinned("an operation that stops the world", "call it outside the pin");
    let reg = lock_registry();
    let t_pins = Instant::now();
    PIN_STOP.store(true, Ordering::SeqCst);
    fence::heavy();
    wait_for_states(&reg, |s| s == PINNED);
    crate::stats::record_pin_wait(t_pins.elapsed());
    let started = Instant::now();
    STOP.store(true, Ordering::SeqCst);
    fence::heavy();
    // A pin that began before PIN_STOP was seen has ended; later ones back
    // off, but may show PINNED for an instant while doing so.
    wait_for_states(&reg, |s| s != OUTSIDE);
    StoppedWorld { reg, started, time_to_safepoint: started.elapsed(), restarted: false }
}
