//! `select!`: readiness, default, fairness among ready cases, parking on
//! several channels, close, send cases, duplicates, nesting in loops.

mod chan_common;

use chan_common::{panic_message, scale, sleep, spawn};
use gc_runtime::chan::channel;
use gc_runtime::select;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

#[test]
fn default_runs_when_nothing_is_ready() {
    let (tx, rx) = channel::<u8>(0);
    let r = select! {
        recv(rx) -> v => Some(v),
        send(tx, 1) => None,
        default => None,
    };
    assert_eq!(r, None);
    // And the ready case wins over default.
    let (tx, rx) = channel::<u8>(1);
    tx.send(9);
    let r = select! {
        recv(rx) -> v => v,
        default => None,
    };
    assert_eq!(r, Some(9));
    // Only a default.
    assert_eq!(select! { default => 5 }, 5);
}

/// Two always-ready cases: each must win about half of the selects. A
/// biased picker (e.g. always the first ready case, or a poll order that is
/// not uniform) fails these bounds by far; a fair one fails them with
/// probability below 1e-9 (|z| > 6 for n = 10^5).
#[test]
fn fairness_between_two_ready_channels() {
    let n = 100_000;
    let (tx1, rx1) = channel::<()>(1);
    let (tx2, rx2) = channel::<()>(1);
    tx1.send(());
    tx2.send(());
    let mut wins = [0usize; 2];
    for _ in 0..n {
        select! {
            recv(rx1) -> _ => { wins[0] += 1; tx1.send(()); },
            recv(rx2) -> _ => { wins[1] += 1; tx2.send(()); },
        }
    }
    let sigma = (n as f64 * 0.25).sqrt();
    let dev = (wins[0] as f64 - n as f64 / 2.0).abs();
    assert!(dev < 6.0 * sigma, "unfair select: {wins:?}");
}

/// Three ready cases (two receives and a send): chi-square with 2 degrees of
/// freedom, threshold 40 (p ~ 2e-9 for a fair picker).
#[test]
fn fairness_between_three_ready_cases_chi_square() {
    let n = 60_000;
    let (tx1, rx1) = channel::<u8>(1);
    let (tx2, rx2) = channel::<u8>(1);
    let (tx3, rx3) = channel::<u8>(1);
    tx1.send(1);
    tx2.send(2);
    let mut wins = [0f64; 3];
    for _ in 0..n {
        select! {
            recv(rx1) -> _ => { wins[0] += 1.0; tx1.send(1); },
            recv(rx2) -> _ => { wins[1] += 1.0; tx2.send(2); },
            send(tx3, 3) => { wins[2] += 1.0; rx3.recv(); },
        }
    }
    let e = n as f64 / 3.0;
    let chi2: f64 = wins.iter().map(|w| (w - e) * (w - e) / e).sum();
    assert!(chi2 < 40.0, "unfair select: {wins:?}, chi2 {chi2}");
}

#[test]
fn parks_on_all_cases_and_the_first_to_fire_wins() {
    for which in 0..3 {
        let (tx1, rx1) = channel::<u32>(0);
        let (tx2, rx2) = channel::<u32>(0);
        let (tx3, rx3) = channel::<u32>(0);
        let t = spawn(move || {
            select! {
                recv(rx1) -> v => (1, v),
                recv(rx2) -> v => (2, v),
                recv(rx3) -> v => (3, v),
            }
        });
        sleep(Duration::from_millis(20));
        assert!(!t.is_finished());
        match which {
            0 => tx1.send(10),
            1 => tx2.send(20),
            _ => tx3.close(),
        }
        let got = t.join();
        let want = [(1, Some(10)), (2, Some(20)), (3, None)][which];
        assert_eq!(got, want);
        // The losing cases were withdrawn: nobody receives on them any more.
        assert!(tx1.try_send(0).is_err() && tx2.try_send(0).is_err());
    }
}

#[test]
fn parked_send_case_is_taken_by_a_receiver() {
    let (tx, rx) = channel::<String>(0);
    let (_tx_other, rx_other) = channel::<String>(0);
    let t = spawn(move || {
        select! {
            send(tx, "hello".to_string()) => "sent",
            recv(rx_other) -> _ => "other",
        }
    });
    sleep(Duration::from_millis(20));
    assert_eq!(rx.recv().as_deref(), Some("hello"));
    assert_eq!(t.join(), "sent");
}

#[test]
fn select_send_on_closed_channel_panics() {
    let (tx, _rx) = channel::<u8>(0);
    tx.close();
    let e = catch_unwind(AssertUnwindSafe(|| {
        select! {
            send(tx, 1) => (),
        }
    }))
    .unwrap_err();
    assert_eq!(panic_message(&*e), "send on closed channel");
    // Parked on a send case when the channel closes: panics too.
    let (tx, _rx) = channel::<u8>(0);
    let tx2 = tx.clone();
    let t = spawn(move || {
        select! {
            send(tx2, 1) => (),
        }
    });
    sleep(Duration::from_millis(20));
    tx.close();
    let e = t.join_result().unwrap_err();
    assert_eq!(panic_message(&*e), "send on closed channel");
}

#[test]
fn select_on_the_same_channel_twice_and_both_directions() {
    // Both a send and a receive on one unbuffered channel: a select can
    // never match itself, so a peer is needed.
    let (tx, rx) = channel::<u32>(0);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let t = spawn(move || {
        select! {
            send(tx2, 1) => "sent",
            recv(rx2) -> _ => "received",
            recv(rx2) -> _ => "received again",
        }
    });
    sleep(Duration::from_millis(20));
    assert!(!t.is_finished(), "a select matched itself");
    assert_eq!(rx.recv(), Some(1));
    assert_eq!(t.join(), "sent");
    // A duplicated ready channel is fine too.
    let (tx, rx) = channel::<u32>(1);
    tx.send(4);
    let v = select! {
        recv(rx) -> v => v,
        recv(rx) -> v => v,
    };
    assert_eq!(v, Some(4));
}

#[test]
fn empty_select_parks_forever() {
    // The task never finishes; it is leaked when the test process exits.
    let t = spawn(|| {
        select! {}
    });
    sleep(Duration::from_millis(50));
    assert!(!t.is_finished(), "select! {{}} returned");
}

#[test]
fn control_flow_in_arms() {
    let (tx, rx) = channel::<u32>(4);
    for i in 1..=3 {
        tx.send(i);
    }
    tx.close();
    let mut sum = 0;
    loop {
        select! {
            recv(rx) -> v => match v {
                Some(v) => sum += v,
                None => break,
            },
        }
    }
    assert_eq!(sum, 6);
}

/// Selects racing with each other and with plain operations on shared
/// channels: every value is delivered exactly once, nobody deadlocks (the
/// lock order is global), the losing waiters are cleaned up.
#[test]
fn concurrent_selects_deliver_each_value_once() {
    let per = 3_000 * scale();
    let (a_tx, a_rx) = channel::<usize>(0);
    let (b_tx, b_rx) = channel::<usize>(1);
    let (done_tx, done_rx) = channel::<()>(0);
    // Two selecting senders over (a, b) in opposite source order.
    let senders: Vec<_> = (0..2)
        .map(|k| {
            let (a, b) = (a_tx.clone(), b_tx.clone());
            spawn(move || {
                for i in 0..per {
                    let v = k * per + i;
                    if k == 0 {
                        select! { send(a, v) => (), send(b, v) => () }
                    } else {
                        select! { send(b, v) => (), send(a, v) => () }
                    }
                }
            })
        })
        .collect();
    // Two selecting receivers and one plain receiver.
    let receivers: Vec<_> = (0..3)
        .map(|k| {
            let (a, b, done) = (a_rx.clone(), b_rx.clone(), done_rx.clone());
            spawn(move || {
                let mut got = Vec::new();
                loop {
                    if k == 2 {
                        match a.try_recv() {
                            Ok(v) => got.push(v),
                            Err(_) => {
                                if done.is_closed() && a.is_empty() {
                                    // Drain what may still come via select peers.
                                    select! {
                                        recv(a) -> v => if let Some(v) = v { got.push(v) } else { break },
                                        recv(b) -> v => if let Some(v) = v { got.push(v) } else { break },
                                        default => break,
                                    }
                                } else {
                                    std::thread::yield_now();
                                }
                            }
                        }
                        continue;
                    }
                    select! {
                        recv(a) -> v => match v { Some(v) => got.push(v), None => break },
                        recv(b) -> v => match v { Some(v) => got.push(v), None => break },
                        recv(done) -> _ => break,
                    }
                }
                got
            })
        })
        .collect();
    for s in senders {
        s.join();
    }
    done_tx.close();
    let mut all = Vec::new();
    for r in receivers {
        all.extend(r.join());
    }
    // Whatever is left in b's buffer.
    all.extend(b_rx.try_iter());
    all.sort_unstable();
    assert_eq!(all, (0..2 * per).collect::<Vec<_>>());
}

#[test]
fn cases_accept_references_to_handles() {
    let (tx, rx) = channel::<u8>(1);
    let (txr, rxr) = (&tx, &rx);
    select! {
        send(txr, 3) => (),
    }
    let v = select! {
        recv(rxr) -> v => v,
    };
    assert_eq!(v, Some(3));
}

struct CountDrop(std::sync::Arc<std::sync::atomic::AtomicUsize>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The value of a send arm that did not win is dropped exactly once, both
/// when another arm was ready at once and when another arm won after the
/// select parked.
#[test]
fn losing_send_arm_drops_its_value_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, _rx) = channel::<CountDrop>(0);
    let (tx_ready, rx_ready) = channel::<u8>(1);
    tx_ready.send(1);
    select! {
        send(tx, CountDrop(drops.clone())) => panic!("nobody receives on tx"),
        recv(rx_ready) -> _ => (),
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let (tx_wake, rx_wake) = channel::<u8>(0);
    let d = drops.clone();
    let t = spawn(move || {
        select! {
            send(tx, CountDrop(d)) => panic!("nobody receives on tx"),
            recv(rx_wake) -> _ => (),
        }
    });
    sleep(Duration::from_millis(20));
    tx_wake.send(1);
    t.join();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

/// Many selects parked when their channels close: each receive case gets
/// `None`, each send case panics with `send on closed channel`.
#[test]
fn close_wakes_every_parked_select() {
    let (txa, rxa) = channel::<u32>(0); // receive cases park here
    let (txb, _rxb) = channel::<u32>(0); // send cases park here
    let (_keep, never) = channel::<u32>(0);
    let n = 8 * scale();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (rxa, txb, never) = (rxa.clone(), txb.clone(), never.clone());
            spawn(move || {
                if i % 2 == 0 {
                    select! {
                        recv(rxa) -> v => v,
                        recv(never) -> _ => Some(99),
                    }
                } else {
                    select! {
                        send(txb, 5) => Some(5),
                        recv(never) -> _ => Some(99),
                    }
                }
            })
        })
        .collect();
    sleep(Duration::from_millis(30));
    assert!(tasks.iter().all(|t| !t.is_finished()));
    txa.close();
    txb.close();
    let (mut none, mut panicked) = (0, 0);
    for t in tasks {
        match t.join_result() {
            Ok(None) => none += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => {
                assert_eq!(panic_message(&*e), "send on closed channel");
                panicked += 1;
            }
        }
    }
    assert_eq!((none, panicked), (n / 2, n / 2));
}
