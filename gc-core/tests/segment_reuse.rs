//! Row 57 of docs/pointer-model.md: a remote free of a root slot that is
//! half done (its link stored, its compare-exchange onto the segment's list
//! not yet made) must keep the segment out of reuse. The free runs outside
//! any critical section, so a stop does not wait for it; if that stop moved
//! the exited thread's segment to the spare list as "all free", a new thread
//! would root objects in it, and the resumed free would overwrite one of
//! those roots with a free-list link (a live object with no root, freed at
//! the next cycle) and put a live slot on a free list.
//!
//! The fault-injection probe inside `push_remote` makes the interleaving
//! happen every time. CI: `cargo test --release -p gc-core --features
//! fault-injection --test segment_reuse`.

use gc_core::{collect, fault, Gc};
use std::sync::mpsc;

#[test]
fn a_half_done_remote_free_keeps_its_segment() {
    // SAFETY: set before any GC operation of this single-test binary reads
    // the environment.
    unsafe { std::env::set_var("GODEBUG", "clobberfree=1") };
    // A thread roots one object and exits: its segment, holding that one
    // live slot, passes to the fallback table.
    let h: Gc<u64> = std::thread::spawn(|| Gc::new(41)).join().unwrap();
    let (ready_tx, ready) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel();
    let y = std::thread::spawn(move || {
        // Inside the probe: the stop reclaims what looks free, then this
        // thread's new roots take any spare segment.
        collect();
        let mine: Vec<Gc<u64>> = (0..3000u64).map(|i| Gc::new(i * 7)).collect();
        let roots_before = gc_core::mem_stats().roots;
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let roots_after = gc_core::mem_stats().roots;
        // Every root must still hold its object through collections.
        for _ in 0..3 {
            collect();
            let junk: Vec<Gc<u64>> = (0..20_000u64).map(Gc::new).collect();
            drop(junk);
        }
        let bad = mine.iter().enumerate().filter(|(i, g)| ***g != *i as u64 * 7).count();
        done_tx.send((bad, roots_before, roots_after)).unwrap();
    });
    fault::arm_remote_free(move || {
        ready.recv().unwrap();
    });
    // Dropping the handle frees its slot remotely (its segment's owner is
    // the fallback mutator): the probe runs between link and list.
    drop(h);
    go.send(()).unwrap();
    let (bad, roots_before, roots_after) = done.recv().unwrap();
    y.join().unwrap();
    assert_eq!(roots_after, roots_before, "a live root was overwritten by the resumed free");
    assert_eq!(bad, 0, "{bad} rooted objects lost their root and were freed");
}
