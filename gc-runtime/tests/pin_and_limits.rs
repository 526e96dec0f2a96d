//! Blocking operations inside a gc-core pin are refused before they touch
//! the primitive (the third outside attack found `recv`, `send` and
//! `select!` panicking only after queueing their waiter, which left a ghost
//! receiver that swallowed a later `try_send`, delivered the value of a send
//! that had panicked, and later deadlocked the channel), and an absurd
//! `stack_size` is an error from `build`, not a stack of one guard page.

use gc_runtime::chan::channel;
use gc_runtime::{select, Runtime};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn rt() -> Runtime {
    // SAFETY: these tests hold no thread-local borrow across runtime calls.
    unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap()
}

#[test]
fn recv_inside_a_pin_leaves_no_ghost_receiver() {
    let (sent, got) = rt().block_on(|| {
        let (tx, rx) = channel::<u32>(0);
        assert!(catch_unwind(AssertUnwindSafe(|| gc_core::pin(|_g| rx.recv()))).is_err());
        let sent = tx.try_send(5).is_ok(); // nobody receives: must fail
        (sent, rx.try_recv().ok())
    });
    assert!(!sent, "try_send found a receiver that had panicked (got {got:?})");
}

#[test]
fn send_inside_a_pin_delivers_nothing() {
    let got = rt().block_on(|| {
        let (tx, rx) = channel::<u32>(0);
        assert!(catch_unwind(AssertUnwindSafe(|| gc_core::pin(|_g| tx.send(9)))).is_err());
        rx.try_recv().ok()
    });
    assert_eq!(got, None, "a send that panicked delivered its value");
}

#[test]
fn select_inside_a_pin_leaves_the_channels_usable() {
    let ok = rt().block_on(|| {
        let (tx, rx) = channel::<u32>(0);
        let (_tx2, rx2) = channel::<u32>(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            gc_core::pin(|_g| {
                select! {
                    recv(rx) -> v => v,
                    recv(rx2) -> v => v,
                }
            })
        }));
        assert!(r.is_err());
        assert!(tx.try_send(1).is_err(), "a ghost select case took the value");
        // An ordinary exchange still works.
        let h = gc_runtime::go(move || rx.recv());
        tx.send(7);
        h.join().unwrap() == Some(7)
    });
    assert!(ok);
}

#[test]
fn absurd_stack_sizes_are_a_build_error() {
    for size in [usize::MAX, usize::MAX / 2, 1 << 50] {
        // SAFETY: no G runs.
        let r = unsafe { Runtime::builder().stack_size(size).allow_migration() }.build();
        let e = r.err().unwrap_or_else(|| panic!("stack_size({size}) built"));
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }
}

/// R15: an `after` receiver that outlives its runtime still fires (the
/// runtime's pending timers move to the timer thread when it is dropped).
#[test]
fn after_outliving_its_runtime_still_fires() {
    let r = rt();
    let rx = r.block_on(|| gc_runtime::after(std::time::Duration::from_millis(50)));
    drop(r);
    let (tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(rx.recv());
    });
    let got = done.recv_timeout(std::time::Duration::from_secs(5));
    assert!(matches!(got, Ok(Some(_))), "the timer never fired: {got:?}");
}
