//! Loom model of the critical-section handshake of `mutator.rs` (Dekker's
//! pattern): a mutator enters by storing INSIDE, fencing, loading STOP (on
//! STOP: stores OUTSIDE, waits for the resume, retries); it leaves with a
//! Release store of OUTSIDE. The collector stores STOP, fences, waits until
//! every state is OUTSIDE, works on the stopped world, then clears STOP with
//! a Release store.
//!
//! This is a model of the protocol, not the code: `mutator.rs` uses std
//! atomics, `parking_lot` and `membarrier`, none of which loom can run.
//! Loom cannot model `membarrier(2)` either, so both sides use
//! `fence(SeqCst)` (the symmetric mode of `fence.rs`); and since loom treats
//! SeqCst accesses as AcqRel, the fences are explicit. Keep `REAL` in step
//! with `mutator.rs`.
//!
//! The property is checked by loom's data-race detector: the "heap" (written
//! by mutators inside sections, read by the collector while stopped) and each
//! mutator's section-local state (written by the collector while stopped,
//! read by its mutator inside sections) are loom `UnsafeCell`s, so a section
//! that overlaps the stop, or is not ordered with it by happens-before, is
//! reported as a causality violation.
//!
//! Pins add a first phase: a pinned mutator enters by storing PINNED,
//! fencing and loading PIN_STOP; the collector sets PIN_STOP, fences, waits
//! for no PINNED state, then runs the stop above (counting PINNED as
//! inside), and clears both flags at the end.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_handshake`
//! (`LOOM_MAX_PREEMPTIONS=n` widens the search; default bound 4).
#![cfg(loom)]

use gc_core::sync::model::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use loom::cell::UnsafeCell;
use loom::sync::{Condvar, Mutex};
use loom::thread;
use std::sync::Arc;

const OUTSIDE: u32 = 0;
const INSIDE: u32 = 1;
const PINNED: u32 = 2;

/// The protocol's choices, so that tests can break one.
#[derive(Clone, Copy)]
struct Protocol {
    /// `fence::light()` between the store of INSIDE and the load of STOP.
    mutator_fence: bool,
    /// `fence::heavy()` between the store of STOP and the loads of states.
    collector_fence: bool,
    /// The mutator's load of STOP after its fence.
    stop_load: Ordering,
    /// The store of OUTSIDE when leaving a section.
    exit_store: Ordering,
    /// The stop's first phase (set PIN_STOP, wait for PINNED states), and
    /// PINNED counted as inside by the second; `false` is a collector that
    /// does not know about pins.
    wait_for_pins: bool,
}

/// The protocol as `mutator.rs` should run it. NOTE: `Mutator::enter` and
/// `enter_slow` load STOP with `Relaxed`; that misses the case where the
/// mutator enters right as a stop ends and reads the collector's final
/// `STOP = false`: without Acquire, nothing orders the collector's writes to
/// the mutator's `local` state during the stop before the section
/// (`relaxed_stop_load_races` below).
const REAL: Protocol = Protocol {
    mutator_fence: true,
    collector_fence: true,
    stop_load: Ordering::Acquire,
    exit_store: Ordering::Release,
    wait_for_pins: true,
};

struct World {
    stop: AtomicBool,
    pin_stop: AtomicBool,
    resume_lock: Mutex<()>,
    resume: Condvar,
    states: Vec<AtomicU32>,
    /// Per mutator: written inside its sections, read by the collector.
    heap: Vec<UnsafeCell<usize>>,
    /// Per mutator: read inside its sections, written by the collector.
    local: Vec<UnsafeCell<usize>>,
}

// SAFETY: the cells are shared on purpose: the protocol is what must make
// their accesses exclusive, and loom checks exactly that.
unsafe impl Sync for World {}

impl World {
    fn new(mutators: usize) -> Arc<World> {
        Arc::new(World {
            stop: AtomicBool::new(false),
            pin_stop: AtomicBool::new(false),
            resume_lock: Mutex::new(()),
            resume: Condvar::new(),
            states: (0..mutators).map(|_| AtomicU32::new(OUTSIDE)).collect(),
            heap: (0..mutators).map(|_| UnsafeCell::new(0)).collect(),
            local: (0..mutators).map(|_| UnsafeCell::new(0)).collect(),
        })
    }

    fn enter(&self, i: usize, p: Protocol) {
        let state = &self.states[i];
        state.store(INSIDE, Ordering::Relaxed);
        if p.mutator_fence {
            fence(Ordering::SeqCst);
        }
        if self.stop.load(p.stop_load) {
            loop {
                state.store(OUTSIDE, Ordering::Release);
                self.wait_for_resume();
                state.store(INSIDE, Ordering::Relaxed);
                if p.mutator_fence {
                    fence(Ordering::SeqCst);
                }
                if !self.stop.load(p.stop_load) {
                    break;
                }
            }
        }
    }

    fn wait_for_resume(&self) {
        self.wait_while(&self.stop);
    }

    fn wait_while(&self, flag: &AtomicBool) {
        let mut g = self.resume_lock.lock().unwrap();
        while flag.load(Ordering::Acquire) {
            g = self.resume.wait(g).unwrap();
        }
    }

    /// `Mutator::enter_pinned`, then a pin's body, then the exit.
    fn pinned_section(&self, i: usize, p: Protocol) {
        let state = &self.states[i];
        loop {
            state.store(PINNED, Ordering::Relaxed);
            if p.mutator_fence {
                fence(Ordering::SeqCst);
            }
            if !self.pin_stop.load(p.stop_load) {
                break;
            }
            state.store(OUTSIDE, Ordering::Release);
            self.wait_while(&self.pin_stop);
        }
        // SAFETY (of the model): exclusive per the protocol; loom checks it.
        self.heap[i].with_mut(|h| unsafe { *h += 1 });
        // SAFETY (of the model): as above.
        let _ = self.local[i].with(|l| unsafe { *l });
        state.store(OUTSIDE, p.exit_store);
    }

    fn section(&self, i: usize, p: Protocol) {
        self.enter(i, p);
        // SAFETY (of the model): exclusive per the protocol; loom checks it.
        self.heap[i].with_mut(|h| unsafe { *h += 1 });
        // SAFETY (of the model): as above.
        let _ = self.local[i].with(|l| unsafe { *l });
        self.states[i].store(OUTSIDE, p.exit_store);
    }

    fn stop_the_world(&self, p: Protocol) -> usize {
        if p.wait_for_pins {
            self.pin_stop.store(true, Ordering::SeqCst);
            if p.collector_fence {
                fence(Ordering::SeqCst);
            }
            for s in &self.states {
                while s.load(Ordering::Acquire) == PINNED {
                    thread::yield_now();
                }
            }
        }
        self.stop.store(true, Ordering::SeqCst);
        if p.collector_fence {
            fence(Ordering::SeqCst);
        }
        for s in &self.states {
            // A pin backing off may show PINNED for an instant.
            let busy = |v: u32| if p.wait_for_pins { v != OUTSIDE } else { v == INSIDE };
            while busy(s.load(Ordering::Acquire)) {
                thread::yield_now();
            }
        }
        // Stopped: read the heap, work on every mutator's local state.
        // SAFETY (of the model): the world is stopped; loom checks it.
        let seen = self.heap.iter().map(|h| h.with(|h| unsafe { *h })).sum();
        for l in &self.local {
            // SAFETY (of the model): as above.
            l.with_mut(|l| unsafe { *l += 1 });
        }
        // StoppedWorld::drop.
        let _g = self.resume_lock.lock().unwrap();
        self.stop.store(false, Ordering::Release);
        self.pin_stop.store(false, Ordering::Release);
        self.resume.notify_all();
        seen
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    // LOOM_MAX_PREEMPTIONS, read by Builder::new, overrides this.
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(4);
    }
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!("loom: {} executions", runs.load(std::sync::atomic::Ordering::Relaxed));
}

/// One mutator runs two sections while the collector stops the world once.
fn one_mutator(p: Protocol) {
    model(move || {
        let w = World::new(1);
        let m = {
            let w = w.clone();
            thread::spawn(move || {
                w.section(0, p);
                w.section(0, p);
            })
        };
        let seen = w.stop_the_world(p);
        assert!(seen <= 2);
        m.join().unwrap();
        // SAFETY (of the model): every thread has been joined.
        assert_eq!(w.heap[0].with(|h| unsafe { *h }), 2);
    });
}

#[test]
fn handshake_one_mutator() {
    one_mutator(REAL);
}

/// Two mutators, one section each, and a stop.
#[test]
fn handshake_two_mutators() {
    model(|| {
        let w = World::new(2);
        let ms: Vec<_> = (0..2)
            .map(|i| {
                let w = w.clone();
                thread::spawn(move || w.section(i, REAL))
            })
            .collect();
        let seen = w.stop_the_world(REAL);
        assert!(seen <= 2);
        for m in ms {
            m.join().unwrap();
        }
    });
}

/// A pinned mutator and a short-section mutator beside a two-phase stop.
fn pin_and_section(p: Protocol) {
    model(move || {
        let w = World::new(2);
        let pinner = {
            let w = w.clone();
            thread::spawn(move || w.pinned_section(0, p))
        };
        let short = {
            let w = w.clone();
            thread::spawn(move || w.section(1, p))
        };
        let seen = w.stop_the_world(p);
        assert!(seen <= 2);
        pinner.join().unwrap();
        short.join().unwrap();
    });
}

#[test]
fn handshake_pin_and_short_section() {
    pin_and_section(REAL);
}

// The model can fail: each deliberately broken protocol is caught.

/// A collector that ignores pins stops the world under a pinned section.
#[test]
#[should_panic(expected = "Causality violation")]
fn broken_collector_ignores_pins() {
    pin_and_section(Protocol { wait_for_pins: false, ..REAL });
}

/// The pinner's load of PIN_STOP, Relaxed: it may read the collector's
/// final `false` without seeing the stop's writes.
#[test]
#[should_panic(expected = "Causality violation")]
fn broken_relaxed_pin_stop_load() {
    let p = Protocol { stop_load: Ordering::Relaxed, ..REAL };
    model(move || {
        let w = World::new(1);
        let pinner = {
            let w = w.clone();
            thread::spawn(move || {
                w.pinned_section(0, p);
                w.pinned_section(0, p);
            })
        };
        w.stop_the_world(p);
        pinner.join().unwrap();
    });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn broken_no_mutator_fence() {
    one_mutator(Protocol { mutator_fence: false, ..REAL });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn broken_no_collector_fence() {
    one_mutator(Protocol { collector_fence: false, ..REAL });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn broken_relaxed_exit() {
    one_mutator(Protocol { exit_store: Ordering::Relaxed, ..REAL });
}

/// `mutator.rs` as it stands (Relaxed load of STOP): loom finds the race.
#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_stop_load_races() {
    one_mutator(Protocol { stop_load: Ordering::Relaxed, ..REAL });
}
