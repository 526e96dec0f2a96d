//! `sync::WaitGroup` and `sync::Mutex`: counts under contention, parking,
//! the negative-counter panic, poisoning, starvation mode.

mod chan_common;

use chan_common::{panic_message, scale, sleep, spawn};
use gc_runtime::sync::{Mutex, WaitGroup};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn wait_group_waits_for_every_done() {
    let wg = WaitGroup::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let n = 8;
    wg.add(n as isize);
    for i in 0..n {
        let (wg, finished) = (wg.clone(), finished.clone());
        spawn(move || {
            sleep(Duration::from_millis(2 * i as u64));
            finished.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    // Several waiters at once.
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let (wg, finished) = (wg.clone(), finished.clone());
            spawn(move || {
                wg.wait();
                finished.load(Ordering::SeqCst)
            })
        })
        .collect();
    wg.wait();
    assert_eq!(finished.load(Ordering::SeqCst), n);
    for w in waiters {
        assert_eq!(w.join(), n);
    }
    assert_eq!(wg.count(), 0);
    wg.wait(); // zero: returns at once
}

#[test]
fn wait_group_parks_until_zero() {
    let wg = WaitGroup::new();
    wg.add(1);
    let w = wg.clone();
    let t = spawn(move || w.wait());
    sleep(Duration::from_millis(30));
    assert!(!t.is_finished());
    wg.done();
    t.join();
}

#[test]
fn wait_group_negative_counter_panics() {
    let wg = WaitGroup::new();
    let e = catch_unwind(AssertUnwindSafe(|| wg.done())).unwrap_err();
    assert_eq!(panic_message(&*e), "sync: negative WaitGroup counter");
    wg.add(2);
    let e = catch_unwind(AssertUnwindSafe(|| wg.add(-3))).unwrap_err();
    assert_eq!(panic_message(&*e), "sync: negative WaitGroup counter");
    assert_eq!(wg.count(), 2, "a rejected add changes nothing");
}

#[test]
fn mutex_contention_counts() {
    let tasks = 6;
    let per = 20_000 * scale();
    let m = Arc::new(Mutex::new((0usize, 0usize)));
    let ts: Vec<_> = (0..tasks)
        .map(|_| {
            let m = m.clone();
            spawn(move || {
                for _ in 0..per {
                    let mut g = m.lock().unwrap();
                    // A non-atomic read-modify-write of two fields: a
                    // broken mutex loses updates or tears the pair.
                    let (a, b) = *g;
                    assert_eq!(a, b);
                    *g = (a + 1, b + 1);
                }
            })
        })
        .collect();
    for t in ts {
        t.join();
    }
    assert_eq!(*m.lock().unwrap(), (tasks * per, tasks * per));
}

#[test]
fn mutex_parks_waiters_until_unlock() {
    let m = Arc::new(Mutex::new(0));
    let g = m.lock().unwrap();
    let m2 = m.clone();
    let t = spawn(move || {
        *m2.lock().unwrap() += 1;
    });
    sleep(Duration::from_millis(30));
    assert!(!t.is_finished(), "lock returned while held");
    assert!(m.try_lock().is_err());
    drop(g);
    t.join();
    assert_eq!(*m.lock().unwrap(), 1);
}

#[test]
fn mutex_poisons_on_panic_and_stays_usable() {
    let m = Arc::new(Mutex::new(vec![1]));
    let m2 = m.clone();
    let t = spawn(move || {
        let mut g = m2.lock().unwrap();
        g.push(2);
        panic!("boom while holding the lock");
    });
    assert!(t.join_result().is_err());
    assert!(m.is_poisoned());
    let g = m.lock().unwrap_err().into_inner();
    assert_eq!(*g, [1, 2], "the data stays reachable");
    drop(g);
    assert!(m.try_lock().is_err());
    m.clear_poison();
    m.lock().unwrap().push(3);
    let m = Arc::try_unwrap(m).unwrap();
    assert_eq!(m.into_inner().unwrap(), [1, 2, 3]);
}

/// A task that holds the lock in a tight loop cannot starve a waiter for
/// long: after 1 ms of waiting the waiter sets starvation mode and gets the
/// next hand-off.
#[test]
fn mutex_starvation_mode_bounds_the_wait() {
    let m = Arc::new(Mutex::new(0u64));
    let stop = Arc::new(AtomicUsize::new(0));
    let (m1, s1) = (m.clone(), stop.clone());
    let hog = spawn(move || {
        while s1.load(Ordering::Relaxed) == 0 {
            let mut g = m1.lock().unwrap();
            *g += 1;
            let t = Instant::now();
            while t.elapsed() < Duration::from_micros(50) {
                std::hint::spin_loop();
            }
        }
    });
    sleep(Duration::from_millis(5));
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        drop(m.lock().unwrap());
        worst = worst.max(t.elapsed());
    }
    stop.store(1, Ordering::Relaxed);
    hog.join();
    // Generous for a loaded 2-core machine; without starvation mode the
    // hog (re-locking within nanoseconds of unlocking) can win for seconds.
    assert!(worst < Duration::from_millis(200), "waited {worst:?}");
}
