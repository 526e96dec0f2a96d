//! Loom model of the mark round that scheduler workers serve: the real
//! `mark/round.rs` (`RoundGate`), compiled against loom's atomics
//! (`gc_core::sync::model`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_round`.
//!
//! The toy: a global list holding one grey item (a counter); a worker
//! enters the gate, takes the item if it is there, "scans" it (holds it
//! privately) and publishes it back before leaving. (One worker is enough
//! for the property, a Dekker pair between one worker and the close; a
//! second multiplies the search time by about 30 and finds nothing more.) The coordinator opens the round and
//! closes it concurrently. The property, in every interleaving: once
//! `close` has returned, no worker holds a grey object privately, and none
//! takes one later (that is what lets the coordinator go on to the
//! ragged-barrier stop and mark termination, which see only the global
//! lists and the mutators' buffers); and the item is never lost.
//!
//! Checked to fail: `enter_check_first`, which reads `open` before counting
//! itself, lets a worker take the item after `close` returned, and the
//! model reports it (`broken_gate_is_caught`).
#![cfg(loom)]

use gc_core::sync::model::RoundGate;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

struct World {
    gate: RoundGate,
    /// Grey items in the global list.
    global: AtomicUsize,
    holding: AtomicUsize,
    closed: AtomicBool,
}

fn worker(w: &World, broken: bool) {
    let entered = if broken { w.gate.enter_check_first() } else { w.gate.enter() };
    if !entered {
        return;
    }
    if w.global.compare_exchange(1, 0, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        w.holding.fetch_add(1, Ordering::SeqCst);
        assert!(!w.closed.load(Ordering::SeqCst), "a worker took grey work after the round was closed");
        // Scanned; published back before leaving.
        w.holding.fetch_sub(1, Ordering::SeqCst);
        w.global.fetch_add(1, Ordering::SeqCst);
    }
    w.gate.leave();
}

fn model(broken: bool) {
    loom::model(move || {
        let w = Arc::new(World {
            gate: RoundGate::new(),
            global: AtomicUsize::new(1),
            holding: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        });
        w.gate.open();
        let t = {
            let w = w.clone();
            thread::spawn(move || worker(&w, broken))
        };
        w.gate.close(|_| thread::yield_now());
        assert_eq!(w.holding.load(Ordering::SeqCst), 0, "close returned while a worker held grey work");
        w.closed.store(true, Ordering::SeqCst);
        t.join().unwrap();
        assert_eq!(w.global.load(Ordering::SeqCst), 1, "the grey item was lost");
    });
}

#[test]
fn closing_a_round_leaves_no_grey_work_with_a_worker() {
    model(false);
}

#[test]
#[should_panic(expected = "grey work")]
fn broken_gate_is_caught() {
    model(true);
}
