//! Channel semantics (Go's): close, try_*, rendezvous, FIFO, drops,
//! iteration, many producers and consumers. Run outside a runtime (tasks
//! are threads, see `common`).

mod chan_common;

use chan_common::{eventually, panic_message, scale, sleep, spawn};
use gc_runtime::chan::{channel, TryRecvError, TrySendError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn expect_panic(msg: &str, f: impl FnOnce()) {
    let e = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    assert_eq!(panic_message(&*e), msg);
}

#[test]
fn closed_channel_drains_then_yields_none() {
    let (tx, rx) = channel(4);
    for i in 0..3 {
        tx.send(i);
    }
    tx.close();
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 3);
    assert_eq!(rx.recv(), Some(0));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.recv(), Some(2));
    assert_eq!(rx.recv(), None);
    assert_eq!(rx.recv(), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_on_closed_channel_panics() {
    let (tx, _rx) = channel::<u8>(1);
    tx.close();
    expect_panic("send on closed channel", || tx.send(1));
    let (tx, _rx) = channel::<u8>(0);
    tx.close();
    expect_panic("send on closed channel", || tx.send(1));
}

#[test]
fn close_twice_panics() {
    let (tx, _rx) = channel::<u8>(0);
    tx.close();
    expect_panic("close of closed channel", || tx.close());
}

#[test]
fn close_wakes_parked_receivers_with_none() {
    let (tx, rx) = channel::<u32>(0);
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            spawn(move || rx.recv())
        })
        .collect();
    sleep(Duration::from_millis(20));
    tx.close();
    for t in tasks {
        assert_eq!(t.join(), None);
    }
}

#[test]
fn close_makes_parked_senders_panic() {
    for cap in [0, 1] {
        let (tx, rx) = channel::<String>(cap);
        if cap == 1 {
            tx.send("fills the buffer".into());
        }
        let parked: Vec<_> = (0..2)
            .map(|i| {
                let tx = tx.clone();
                spawn(move || tx.send(format!("parked {i}")))
            })
            .collect();
        sleep(Duration::from_millis(20));
        assert!(parked.iter().all(|t| !t.is_finished()), "senders must be parked");
        tx.close();
        for t in parked {
            let e = t.join_result().expect_err("a parked sender must panic on close");
            assert_eq!(panic_message(&*e), "send on closed channel");
        }
        // The buffered value survives the close; the parked ones never arrived.
        if cap == 1 {
            assert_eq!(rx.recv().as_deref(), Some("fills the buffer"));
        }
        assert_eq!(rx.recv(), None);
    }
}

#[test]
fn try_send_and_try_recv_results() {
    // Unbuffered: nobody waiting, so try_send is Full and try_recv Empty.
    let (tx, rx) = channel::<i32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // With a parked receiver, try_send hands the value over.
    let rx2 = rx.clone();
    let t = spawn(move || rx2.recv());
    let mut sent = false;
    assert!(eventually(Duration::from_secs(5), || {
        sent = tx.try_send(7).is_ok();
        sent
    }));
    assert_eq!(t.join(), Some(7));
    // With a parked sender, try_recv takes its value.
    let tx2 = tx.clone();
    let t = spawn(move || tx2.send(8));
    let mut got = None;
    assert!(eventually(Duration::from_secs(5), || {
        got = rx.try_recv().ok();
        got.is_some()
    }));
    assert_eq!(got, Some(8));
    t.join();
    // Buffered.
    let (tx, rx) = channel::<i32>(2);
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(tx.try_send(2), Ok(()));
    let e = tx.try_send(3).unwrap_err();
    assert!(e.is_full());
    assert_eq!(e.into_inner(), 3);
    assert_eq!(rx.try_recv(), Ok(1));
    tx.close();
    let e = tx.try_send(4).unwrap_err();
    assert!(e.is_closed());
    assert_eq!(e.to_string(), "sending on a closed channel");
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn unbuffered_send_returns_only_after_a_receive() {
    let (tx, rx) = channel::<u64>(0);
    let received = Arc::new(AtomicUsize::new(0));
    let r = received.clone();
    let t = spawn(move || {
        for i in 0..50 {
            tx.send(i);
            // The value was taken before send returned.
            assert!(r.load(Ordering::SeqCst) > i as usize, "send {i} returned before its receive");
        }
    });
    for i in 0..50u64 {
        if i % 10 == 0 {
            sleep(Duration::from_millis(2));
        }
        // Count first, then receive: the sender must still be parked.
        received.fetch_add(1, Ordering::SeqCst);
        assert_eq!(rx.recv(), Some(i));
    }
    t.join();
}

#[test]
fn unbuffered_sender_parks_until_received() {
    let (tx, rx) = channel::<u8>(0);
    let t = spawn(move || tx.send(1));
    sleep(Duration::from_millis(30));
    assert!(!t.is_finished(), "an unbuffered send completed with no receiver");
    assert_eq!(rx.recv(), Some(1));
    t.join();
}

#[test]
fn buffered_channel_is_fifo_and_blocks_when_full() {
    let (tx, rx) = channel::<usize>(3);
    assert_eq!(tx.cap(), 3);
    for i in 0..3 {
        tx.send(i);
    }
    assert_eq!(tx.len(), 3);
    let t = spawn(move || {
        for i in 3..1000 {
            tx.send(i);
        }
        tx.close();
    });
    sleep(Duration::from_millis(10));
    let got: Vec<usize> = rx.iter().collect();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    t.join();
}

#[test]
fn for_loop_over_receiver() {
    let (tx, rx) = channel(0);
    let t = spawn(move || {
        for i in 0..10 {
            tx.send(i);
        }
        tx.close();
    });
    let mut sum = 0;
    for v in &rx {
        sum += v;
    }
    assert_eq!(sum, 45);
    let (tx2, rx2) = channel(8);
    tx2.send(1);
    tx2.send(2);
    tx2.close();
    assert_eq!(rx2.into_iter().collect::<Vec<_>>(), [1, 2]);
    t.join();
}

struct CountDrop(Arc<AtomicUsize>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn buffered_values_drop_once_when_the_channel_is_freed() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(8);
    for _ in 0..5 {
        tx.send(CountDrop(drops.clone()));
    }
    drop(rx.recv()); // one received and dropped by us
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let rx2 = rx.clone();
    drop(rx);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "a live handle keeps the buffer");
    drop(rx2);
    assert_eq!(drops.load(Ordering::SeqCst), 5, "freeing the channel drops each buffered value once");
}

#[test]
fn rejected_and_panicking_sends_drop_their_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(0);
    let e = tx.try_send(CountDrop(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(e);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let tx2 = tx.clone();
    let d = drops.clone();
    let t = spawn(move || tx2.send(CountDrop(d)));
    sleep(Duration::from_millis(20));
    tx.close();
    assert!(t.join_result().is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(rx);
}

#[test]
fn dropping_every_handle_does_not_close() {
    // Go semantics: only close() closes. A receiver still sees "empty".
    let (tx, rx) = channel::<u8>(1);
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_closed());
}

#[test]
fn many_producers_many_consumers_counts() {
    let producers = 4;
    let consumers = 3;
    let per = 5_000 * scale();
    for cap in [0, 1, 64] {
        let (tx, rx) = channel::<usize>(cap);
        let ps: Vec<_> = (0..producers)
            .map(|p| {
                let tx = tx.clone();
                spawn(move || {
                    for i in 0..per {
                        tx.send(p * per + i);
                    }
                })
            })
            .collect();
        let cs: Vec<_> = (0..consumers)
            .map(|_| {
                let rx = rx.clone();
                spawn(move || {
                    let mut seen = Vec::new();
                    for v in &rx {
                        seen.push(v);
                    }
                    seen
                })
            })
            .collect();
        for p in ps {
            p.join();
        }
        tx.close();
        let mut all: Vec<usize> = Vec::new();
        for c in cs {
            let seen = c.join();
            // Per producer, a consumer sees values in send order (FIFO).
            for p in 0..producers {
                let mine: Vec<_> = seen.iter().filter(|&&v| v / per == p).collect();
                assert!(mine.windows(2).all(|w| w[0] < w[1]), "cap {cap}: out of order");
            }
            all.extend(seen);
        }
        all.sort_unstable();
        assert_eq!(all, (0..producers * per).collect::<Vec<_>>(), "cap {cap}: lost or duplicated values");
    }
}

#[test]
fn channels_of_non_send_free_types_and_debug() {
    let (tx, rx) = channel::<Box<[u8]>>(1);
    tx.send(vec![1, 2, 3].into_boxed_slice());
    assert_eq!(format!("{rx:?}"), "Receiver { len: 1, cap: 1, closed: false }");
    assert!(tx.same_channel(&tx.clone()));
    assert_eq!(&*rx.recv().unwrap(), &[1, 2, 3]);
}
