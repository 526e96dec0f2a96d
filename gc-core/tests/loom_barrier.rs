//! Loom model of the hybrid write barrier, its per-mutator buffer and the
//! ragged-barrier flush (`mark/barrier.rs`, `cycle.rs`), against a marker
//! running concurrently.
//!
//! The heap is three objects with one pointer field each; object 0 is the
//! root (scanned first by the marker, so it is black early). Before marking
//! the graph is `0 → 1 → 2`. While the marker drains, the mutator moves the
//! pointer to object 2 from object 1's field into the root's, then deletes it
//! from object 1 — the lost-object pattern: object 2 ends up reachable only
//! through a black object. Each barriered store records the old and the new
//! referent in the mutator's private buffer before storing (Go's
//! `gcWriteBarrier`); a full buffer, and the termination stop, flush it by
//! shading every entry. Mark termination (after the mutator is stopped and
//! its buffer flushed, then a final drain) must find every object reachable
//! in the final graph marked.
//!
//! This is a model of the protocol, not the code: the real buffer shades
//! through `Marker` and the span heap, which loom cannot run. `REAL` is the
//! protocol as `mark/barrier.rs` runs it; each broken variant is reported.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_barrier`.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Mutex;
use loom::thread;
use std::sync::Arc;

const N: usize = 3;
/// Field value for "no pointer"; otherwise the target's index + 1.
const NULL: usize = 0;

#[derive(Clone, Copy)]
struct Protocol {
    /// Record the old referent (Yuasa's deletion half).
    deletion: bool,
    /// Record the new referent (Dijkstra's insertion half).
    insertion: bool,
    /// Flush the mutator's buffer at mark termination (the ragged barrier).
    flush_at_termination: bool,
    /// Buffer capacity in entries before a flush (the real one holds 512;
    /// 2 makes the model flush mid-run too).
    capacity: usize,
}

const REAL: Protocol = Protocol { deletion: true, insertion: true, flush_at_termination: true, capacity: 2 };

struct Heap {
    fields: Vec<AtomicUsize>,
    marks: Vec<AtomicBool>,
    grey: Mutex<Vec<usize>>,
}

impl Heap {
    fn new() -> Arc<Heap> {
        let h = Heap {
            fields: (0..N).map(|_| AtomicUsize::new(NULL)).collect(),
            marks: (0..N).map(|_| AtomicBool::new(false)).collect(),
            grey: Mutex::new(Vec::new()),
        };
        h.fields[0].store(2, Ordering::Relaxed); // 0 → 1
        h.fields[1].store(3, Ordering::Relaxed); // 1 → 2
        Arc::new(h)
    }

    /// Marks `obj` grey if it is white (`Marker::shade`).
    fn shade(&self, obj: usize) {
        if !self.marks[obj].swap(true, Ordering::AcqRel) {
            self.grey.lock().unwrap().push(obj);
        }
    }

    /// Scans grey objects until none is left (`drain`).
    fn drain(&self) {
        loop {
            let Some(obj) = self.grey.lock().unwrap().pop() else { return };
            let f = self.fields[obj].load(Ordering::Acquire);
            if f != NULL {
                self.shade(f - 1);
            }
        }
    }
}

/// A mutator's barrier buffer (`WbBuf`).
struct Buf {
    entries: Vec<usize>,
    p: Protocol,
}

impl Buf {
    fn flush(&mut self, h: &Heap) {
        for e in self.entries.drain(..) {
            if e != NULL {
                h.shade(e - 1);
            }
        }
    }

    /// `write_barrier` then the store.
    fn store(&mut self, h: &Heap, slot: usize, new: usize) {
        let old = h.fields[slot].load(Ordering::Acquire);
        if self.entries.len() + 2 > self.p.capacity {
            self.flush(h);
        }
        if self.p.deletion {
            self.entries.push(old);
        }
        if self.p.insertion {
            self.entries.push(new);
        }
        h.fields[slot].store(new, Ordering::Release);
    }
}

fn run(p: Protocol) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(move || {
        let h = Heap::new();
        // Marking starts: the root is shaded (root scan), and the barrier is
        // on for the mutator from here (stop #1 is the model's start).
        h.shade(0);
        let marker = {
            let h = h.clone();
            thread::spawn(move || h.drain())
        };
        let mutator = {
            let h = h.clone();
            thread::spawn(move || {
                let mut buf = Buf { entries: Vec::new(), p };
                buf.store(&h, 0, 3); // root.f = object 2
                buf.store(&h, 1, NULL); // object1.f = null
                buf
            })
        };
        let mut buf = mutator.join().unwrap();
        marker.join().unwrap();
        // Mark termination, inside the stop: flush the stopped mutator's
        // buffer, drain what that greyed.
        if p.flush_at_termination {
            buf.flush(&h);
        }
        h.drain();
        // Everything reachable from the root in the final graph is marked.
        let mut obj = 0;
        for _ in 0..N {
            assert!(h.marks[obj].load(Ordering::Acquire), "reachable object {obj} was not marked");
            let f = h.fields[obj].load(Ordering::Acquire);
            if f == NULL {
                break;
            }
            obj = f - 1;
        }
    });
}

#[test]
fn hybrid_barrier_loses_no_object() {
    run(REAL);
}

/// Either half alone suffices for this pattern (Go needs both because its
/// stacks are not barriered; see `docs/design.md`).
#[test]
fn deletion_half_alone_suffices_here() {
    run(Protocol { insertion: false, ..REAL });
}

#[test]
fn insertion_half_alone_suffices_here() {
    run(Protocol { deletion: false, ..REAL });
}

#[test]
#[should_panic(expected = "was not marked")]
fn broken_no_barrier() {
    run(Protocol { deletion: false, insertion: false, ..REAL });
}

/// A buffered entry never flushed before termination is lost (the ragged
/// barrier's job, pointer-model row 29).
#[test]
#[should_panic(expected = "was not marked")]
fn broken_no_flush_at_termination() {
    run(Protocol { flush_at_termination: false, capacity: 8, ..REAL });
}
