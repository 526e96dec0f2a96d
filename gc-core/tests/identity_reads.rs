//! Row 54 of docs/pointer-model.md: an identity test on a shared pending
//! `Member` (`ptr_eq`, `points_to`, `Debug`, `Weak::ptr_eq`) reads the
//! field's root slot inside a critical section, so a slot a concurrent `set`
//! retired is never freed and reused under it.
//!
//! The fault-injection probe between the word load and the slot load
//! (`fault::arm_pending_slot_read`) makes the interleaving happen every
//! time: while the reader sits there, the owner retires the slot, collects
//! (the stop frees it) and roots another object `z` in it. Read outside a
//! section, the reader then sees `z` (the code before the fix); inside one,
//! the stop waits for the reader, so the slot still holds the old target.
//!
//! CI: `cargo test --release -p tricolor-gc-core --features fault-injection --test identity_reads`.

use gc_core::{collect, fault, Gc, Member};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[test]
fn points_to_on_a_pending_member_never_sees_a_reused_slot() {
    let (a, b, z) = (Gc::new(1u64), Gc::new(2u64), Gc::new(3u64));
    // The field's root slot S is on this thread's table.
    let field = Arc::new(Member::new(&b));
    let (at_probe_tx, at_probe) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    fault::arm_pending_slot_read(move || {
        at_probe_tx.send(()).unwrap();
        // Bounded: on the fixed code this runs inside the reader's section,
        // which the owner's collect() below waits for.
        let _ = release_rx.recv_timeout(Duration::from_millis(300));
    });
    let zaddr = &*z as *const u64 as usize;
    let reader = {
        let field = field.clone();
        std::thread::spawn(move || field.points_to(zaddr as *const u64))
    };
    at_probe.recv().unwrap();
    // Retire S, free it at the stop, and refill this thread's free list
    // from the freed slots with roots of `z`.
    field.set(&a);
    collect();
    let zs: Vec<Gc<u64>> = (0..4096).map(|_| z.clone()).collect();
    let _ = release.send(());
    let saw_z = reader.join().unwrap();
    assert!(!saw_z, "points_to read a freed root slot that now roots another object");
    assert!(field.ptr_eq(&a) && !field.ptr_eq(&z));
    drop(zs);
}
