//! Loom model of the mark round that scheduler workers serve: the real
//! `mark/round.rs` (`RoundGate`), compiled against loom's atomics
//! (`gc_core::sync::model`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_round`.
//!
//! The toy: a global list holding one grey item; two workers each enter
//! the gate, take the item if it is there, "scan" it (hold it privately)
//! and publish it back before leaving. The coordinator opens the round and
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
use loom::sync::{Arc, Mutex};
use loom::thread;

struct World {
    gate: RoundGate,
    global: Mutex<Vec<u8>>,
    holding: AtomicUsize,
    closed: AtomicBool,
}

fn worker(w: &World, broken: bool) {
    let entered = if broken { w.gate.enter_check_first() } else { w.gate.enter() };
    if !entered {
        return;
    }
    let item = w.global.lock().unwrap().pop();
    if let Some(x) = item {
        w.holding.fetch_add(1, Ordering::SeqCst);
        assert!(!w.closed.load(Ordering::SeqCst), "a worker took grey work after the round was closed");
        // The worker's periodic check; either way it publishes before leaving.
        let _ = w.gate.is_open();
        w.global.lock().unwrap().push(x);
        w.holding.fetch_sub(1, Ordering::SeqCst);
    }
    w.gate.leave();
}

fn model(broken: bool) {
    loom::model(move || {
        let w = Arc::new(World {
            gate: RoundGate::new(),
            global: Mutex::new(vec![1]),
            holding: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        });
        w.gate.open();
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || worker(&w, broken))
            })
            .collect();
        w.gate.close(|_| thread::yield_now());
        assert_eq!(w.holding.load(Ordering::SeqCst), 0, "close returned while a worker held grey work");
        w.closed.store(true, Ordering::SeqCst);
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(*w.global.lock().unwrap(), vec![1], "the grey item was lost");
    });
}

#[test]
fn closing_a_round_leaves_no_grey_work_with_a_worker() {
    model(false);
}

#[test]
#[should_panic]
fn broken_gate_is_caught() {
    model(true);
}
