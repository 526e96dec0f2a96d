//! Loom model of the ragged barrier's flush request (Go: `forEachP` in
//! `gcMarkDone`): the real `mark/ragged.rs` (`FlushRequest`), compiled
//! against loom's atomics (`gc_core::sync::model`), between one mutator and
//! the collector's walk (`mutator/flush.rs`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_ragged`.
//!
//! The toy: the mutator runs two critical sections, each buffering one grey
//! object in its local barrier buffer (a loom `UnsafeCell`, so that two
//! sides touching it unordered is a reported race). Its section entry is
//! `Mutator::enter`'s: store INSIDE, fence, load the request and serve it
//! (or back out while the collector serves it). The collector reads whether
//! the first section has ended, asks, fences, and serves the request itself
//! if it finds the mutator outside, else polls until someone served it.
//! Properties, in every interleaving:
//! * the buffer is never touched by both sides unordered (loom's race
//!   detector);
//! * when the walk returns, a grey object buffered in a section that ended
//!   before the walk began is in the global list (a P that flushes late is
//!   still waited for: nothing is left behind for mark termination);
//! * no grey object is lost or counted twice.
//!
//! Checked to fail: a collector claim that is a plain store
//! (`collector_claim_unchecked`), and an entry that does not load the
//! request (what a pin's entry did before it learnt about requests): both
//! let the collector flush the buffer beside its owner, and loom reports it.
#![cfg(loom)]

use gc_core::sync::model::{FlushRequest, OwnerStep};
use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use loom::sync::Arc;
use loom::thread;

const OUTSIDE: u32 = 0;
const INSIDE: u32 = 1;

struct World {
    req: FlushRequest,
    state: AtomicU32,
    /// The mutator's local barrier buffer: grey objects not yet published.
    buf: UnsafeCell<u32>,
    /// The global work list.
    global: AtomicU32,
    first_section_done: AtomicBool,
}

#[derive(Clone, Copy)]
struct Broken {
    unchecked_claim: bool,
    entry_skips_request: bool,
}

fn serve(w: &World) {
    w.buf.with_mut(|b| {
        // SAFETY: the caller holds the request's claim (or is the owner
        // inside its section with the claim): the buffer is its alone.
        let b = unsafe { &mut *b };
        w.global.fetch_add(*b, Ordering::SeqCst);
        *b = 0;
    });
}

/// `Mutator::enter` + `enter_slow`, without the stop.
fn enter(w: &World, broken: Broken) {
    loop {
        w.state.store(INSIDE, Ordering::Relaxed);
        fence(Ordering::SeqCst); // fence::light (symmetric mode)
        if broken.entry_skips_request || !w.req.pending() {
            return;
        }
        match w.req.owner_step() {
            OwnerStep::Clear => return,
            OwnerStep::Flush => {
                serve(w);
                w.req.done();
                return;
            }
            OwnerStep::Wait => {
                w.state.store(OUTSIDE, Ordering::Release);
                while !w.req.is_served() {
                    thread::yield_now();
                }
            }
        }
    }
}

fn mutator(w: &World, broken: Broken) {
    for i in 0..2 {
        enter(w, broken);
        w.buf.with_mut(|b| {
            // SAFETY: inside the section; the race detector checks this.
            unsafe { *b += 1 }
        });
        w.state.store(OUTSIDE, Ordering::Release);
        if i == 0 {
            w.first_section_done.store(true, Ordering::SeqCst);
        }
    }
}

/// `mutator::ragged_flush` for one mutator.
fn collector(w: &World, broken: Broken) {
    let before = w.first_section_done.load(Ordering::SeqCst);
    w.req.ask();
    fence(Ordering::SeqCst); // fence::heavy (symmetric mode)
    loop {
        if w.req.is_served() {
            break;
        }
        let outside = w.state.load(Ordering::Acquire) == OUTSIDE;
        let claimed = outside && if broken.unchecked_claim { w.req.collector_claim_unchecked() } else { w.req.collector_claim() };
        if claimed {
            serve(w);
            w.req.done();
            break;
        }
        thread::yield_now();
    }
    if before {
        assert!(w.global.load(Ordering::SeqCst) >= 1, "a grey object buffered before the walk was left behind");
    }
}

fn model(broken: Broken) {
    loom::model(move || {
        let w = Arc::new(World {
            req: FlushRequest::new(),
            state: AtomicU32::new(OUTSIDE),
            buf: UnsafeCell::new(0),
            global: AtomicU32::new(0),
            first_section_done: AtomicBool::new(false),
        });
        let m = {
            let w = w.clone();
            thread::spawn(move || mutator(&w, broken))
        };
        collector(&w, broken);
        m.join().unwrap();
        // Nothing lost, nothing twice: what is buffered plus what was
        // published is what was shaded.
        let buffered = w.buf.with(|b| {
            // SAFETY: both threads are done.
            unsafe { *b }
        });
        assert_eq!(buffered + w.global.load(Ordering::SeqCst), 2);
        assert!(w.req.is_served());
    });
}

#[test]
fn ragged_flush_request() {
    model(Broken { unchecked_claim: false, entry_skips_request: false });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn unchecked_claim_is_caught() {
    model(Broken { unchecked_claim: true, entry_skips_request: false });
}

#[test]
#[should_panic(expected = "Causality violation")]
fn entry_that_skips_the_request_is_caught() {
    model(Broken { unchecked_claim: false, entry_skips_request: true });
}
