//! Loom model of the P run queue (`src/runq.rs`, the real file compiled
//! against loom's atomics through `src/atomics.rs`): the owner pushes and pops
//! while another thread steals; every element is taken exactly once,
//! including through the overflow path (ring of 4 under loom). A ring with a
//! deliberately broken `pop` (plain store instead of the CAS) must fail.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p gc-runtime --release --test loom_runq`
#![cfg(loom)]

use gc_runtime::loom_api::{Ring, CAPACITY};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::ptr::NonNull;

/// Element tokens: never dereferenced, identified by address.
fn token(i: usize) -> NonNull<u8> {
    NonNull::new((i + 1) as *mut u8).unwrap()
}
fn index(p: NonNull<u8>) -> usize {
    p.as_ptr() as usize - 1
}

/// Owner: pushes `n` tokens (overflowing to `global`), popping one after
/// each of the first two pushes; a thief steals into its own ring and
/// drains it. Checks every token was taken exactly once.
fn scenario(owner_ring: Ring<u8>, n: usize) {
    let victim = Arc::new(owner_ring);
    let taken = Arc::new(Mutex::new(Vec::new()));

    let thief = {
        let victim = victim.clone();
        let taken = taken.clone();
        thread::spawn(move || {
            let mine = Ring::<u8>::new();
            if let Some(t) = victim.steal_into(&mine) {
                taken.lock().unwrap().push(index(t));
            }
            while let Some(t) = mine.pop() {
                taken.lock().unwrap().push(index(t));
            }
        })
    };

    let mut global = Vec::new();
    for i in 0..n {
        victim.push(token(i), |batch| global.extend(batch.into_iter().map(index)));
        if i < 2 {
            if let Some(t) = victim.pop() {
                taken.lock().unwrap().push(index(t));
            }
        }
    }
    thief.join().unwrap();
    while let Some(t) = victim.pop() {
        taken.lock().unwrap().push(index(t));
    }
    let mut all = taken.lock().unwrap().clone();
    all.extend(global);
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "each element taken exactly once");
}

#[test]
fn push_pop_steal_take_each_once() {
    loom::model(|| scenario(Ring::new(), 3));
}

#[test]
fn overflow_to_global_takes_each_once() {
    assert_eq!(CAPACITY, 4);
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| scenario(Ring::new(), CAPACITY as usize + 2));
}

#[test]
#[should_panic(expected = "each element taken exactly once")]
fn broken_pop_is_caught() {
    loom::model(|| scenario(Ring::new_broken(), 3));
}
