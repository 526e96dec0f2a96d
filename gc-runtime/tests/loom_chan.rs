//! Loom models of the channels' park/ready handshake over the real code
//! (`chan::raw`, `chan::waiter`, `select`), built with `--cfg loom` so that
//! the channel's mutex, atomics and park come from loom (the facade
//! `chan/loom_sync.rs`). Each model checks that no wakeup is lost (loom
//! fails a model in which every thread is blocked) and that values arrive
//! exactly once, on an unbuffered and a one-slot channel, with 2-3 threads.
//!
//! `wait_group_wakes_its_waiter` does the same for `sync::WaitGroup`.
//!
//! `fault_is_caught` turns on a test-only bug (the receiver releases the
//! channel lock between deciding to park and queueing its waiter) and
//! expects loom to find the resulting deadlock.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p gc-runtime --release --test loom_chan`
#![cfg(loom)]

use gc_runtime::chan::{channel, TryRecvError, TrySendError};
use gc_runtime::select;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    // Builder::new reads LOOM_MAX_PREEMPTIONS; without it, bound the
    // preemptions to 4 (the whole file then runs in ~16 s here; unbounded, the
    // 3-thread models take many minutes).
    let mut b = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        b.preemption_bound = Some(4);
    }
    b.check(f);
}

#[test]
fn unbuffered_send_recv() {
    model(|| {
        let (tx, rx) = channel::<u32>(0);
        let t = thread::spawn(move || tx.send(7));
        assert_eq!(rx.recv(), Some(7));
        t.join().unwrap();
    });
}

#[test]
fn unbuffered_two_senders_one_receiver() {
    model(|| {
        let (tx, rx) = channel::<u32>(0);
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1));
        let b = thread::spawn(move || tx2.send(2));
        let x = rx.recv().unwrap();
        let y = rx.recv().unwrap();
        assert_eq!(x + y, 3);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn one_slot_send_send_recv_recv() {
    model(|| {
        let (tx, rx) = channel::<u32>(1);
        let t = thread::spawn(move || {
            tx.send(1);
            tx.send(2); // parks while the slot is full
            tx.close();
        });
        assert_eq!(rx.recv(), Some(1));
        assert_eq!(rx.recv(), Some(2));
        assert_eq!(rx.recv(), None);
        t.join().unwrap();
    });
}

#[test]
fn close_wakes_a_parked_receiver() {
    for cap in [0, 1] {
        model(move || {
            let (tx, rx) = channel::<u32>(cap);
            let t = thread::spawn(move || tx.close());
            assert_eq!(rx.recv(), None);
            t.join().unwrap();
        });
    }
}

#[test]
fn close_races_send_on_one_slot() {
    model(|| {
        let (tx, rx) = channel::<u32>(1);
        let tx2 = tx.clone();
        let t = thread::spawn(move || match tx2.try_send(5) {
            Ok(()) => true,
            Err(TrySendError::Closed(5)) => false,
            Err(e) => panic!("unexpected {e:?}"),
        });
        tx.close();
        let sent = t.join().unwrap();
        match rx.try_recv() {
            Ok(5) => assert!(sent),
            Err(TryRecvError::Closed) => assert!(!sent),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn select_parks_on_two_channels() {
    model(|| {
        let (tx_a, rx_a) = channel::<u32>(0);
        let (tx_b, rx_b) = channel::<u32>(1);
        let t = thread::spawn(move || {
            tx_a.send(1);
        });
        let u = thread::spawn(move || {
            tx_b.send(2);
        });
        let mut sum = 0;
        for _ in 0..2 {
            select! {
                recv(rx_a) -> v => sum += v.unwrap(),
                recv(rx_b) -> v => sum += v.unwrap(),
            }
        }
        assert_eq!(sum, 3);
        t.join().unwrap();
        u.join().unwrap();
    });
}

#[test]
fn select_send_meets_plain_recv() {
    model(|| {
        let (tx, rx) = channel::<u32>(0);
        let (_tx_other, rx_other) = channel::<u32>(0);
        let t = thread::spawn(move || rx.recv());
        select! {
            send(tx, 9) => (),
            recv(rx_other) -> _ => panic!("nobody sends on rx_other"),
        }
        assert_eq!(t.join().unwrap(), Some(9));
    });
}

#[test]
fn wait_group_wakes_its_waiter() {
    model(|| {
        let wg = gc_runtime::sync::WaitGroup::new();
        wg.add(2);
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let wg = wg.clone();
                thread::spawn(move || wg.done())
            })
            .collect();
        wg.wait();
        assert_eq!(wg.count(), 0);
        for h in hs {
            h.join().unwrap();
        }
    });
}

/// The faulty model, run only in the child process of `fault_is_caught`
/// (a loom deadlock panics while loom objects are live, and the unwind
/// aborts the process, so it cannot run in the test process itself).
#[test]
fn fault_child() {
    if std::env::var_os(FAULT_CHILD_ENV).is_none() {
        return;
    }
    gc_runtime::chan::__loom_set_fault_unlock_before_enqueue(true);
    model(|| {
        let (tx, rx) = channel::<u32>(0);
        let t = thread::spawn(move || tx.send(7));
        assert_eq!(rx.recv(), Some(7));
        t.join().unwrap();
    });
}

const FAULT_CHILD_ENV: &str = "LOOM_CHAN_FAULT_CHILD";

/// With the test-only fault (the receiver unlocks the channel between
/// finding it empty and queueing its waiter), loom must find the
/// interleaving in which the sender queues itself in between and both park
/// for ever, and report the deadlock.
#[test]
fn fault_is_caught() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fault_child", "--nocapture", "--test-threads=1"])
        .env(FAULT_CHILD_ENV, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("cannot run the child test process");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the faulty model passed: loom missed the lost wakeup");
    assert!(stderr.contains("deadlock"), "the faulty model failed, but not with a deadlock:\n{stderr}");
}
