//! Park/ready (Go: `gopark`/`goready`): the contract between the scheduler
//! and the blocking primitives (channels, `select!`, `WaitGroup`, `Mutex`).
//!
//! **This file holds only the outside-a-runtime backend**: the waiter is the
//! calling OS thread, and timers run on one process-wide timer thread. The
//! scheduler's version of this file (a G parks on its P, timers on the P's
//! heap) keeps exactly these signatures and replaces this one.
//!
//! Invariants of this backend:
//!
//! * Each OS thread owns one [`ThreadParker`] (a thread-local `Arc`): a
//!   `notified` flag plus the thread's `std::thread::Thread` handle. A park
//!   clears the flag, *then* hands out the [`Unparker`] to `commit`, then
//!   sleeps in a `std::thread::park` loop until the flag is set. An `unpark`
//!   sets the flag (release) before it calls `Thread::unpark`, so an unpark
//!   that comes before the thread sleeps, or even before `commit` returns,
//!   is absorbed by the flag and never lost; a late `Thread::unpark` of a
//!   previous park only causes a spurious wakeup, which the loop absorbs.
//! * `commit` runs exactly once, on the parking thread, before it sleeps.
//! * Timers: a min-heap ordered by (deadline, sequence number) under one
//!   mutex; the timer thread sleeps on a condvar until the earliest deadline
//!   or a new earlier timer. A timer's state goes `PENDING -> FIRED` (the
//!   thread runs it) or `PENDING -> STOPPED` ([`TimerHandle::stop`]) by one
//!   CAS, so a timer fires at most once and `stop` tells truthfully whether it
//!   had not fired yet.
#![allow(dead_code)]

use std::cell::RefCell;
use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// Why a G waits (Go's waitReason); shown by scheddetail and the deadlock report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitReason {
    /// Go: `waitReasonChanSend` ("chan send").
    ChanSend,
    /// Go: `waitReasonChanReceive` ("chan receive").
    ChanRecv,
    /// Go: `waitReasonSelect` ("select").
    Select,
    /// Go: `waitReasonSelectNoCases` ("select (no cases)").
    SelectNoCases,
    /// Go: `waitReasonSleep` ("sleep").
    Sleep,
    /// Go: `waitReasonSyncWaitGroupWait` ("sync.WaitGroup.Wait").
    WaitGroup,
    /// Go: `waitReasonSyncMutexLock` ("sync.Mutex.Lock").
    Mutex,
    /// Waiting in `JoinHandle::join`.
    Join,
}

/// One OS thread's wakeup flag.
struct ThreadParker {
    notified: AtomicBool,
    thread: Thread,
}

thread_local! {
    static PARKER: RefCell<Option<Arc<ThreadParker>>> = const { RefCell::new(None) };
}

fn current_parker() -> Arc<ThreadParker> {
    PARKER.with(|p| {
        p.borrow_mut()
            .get_or_insert_with(|| {
                Arc::new(ThreadParker {
                    notified: AtomicBool::new(false),
                    thread: std::thread::current(),
                })
            })
            .clone()
    })
}

/// A handle that makes one parked waiter runnable again (Go: the `*g`
/// handed to `goready`). Here the waiter is always an OS thread.
pub(crate) struct Unparker {
    parker: Arc<ThreadParker>,
}

impl Unparker {
    /// Makes the waiter runnable (Go: `goready`).
    pub(crate) fn unpark(self) {
        let was = self.parker.notified.swap(true, Ordering::Release);
        debug_assert!(!was, "Unparker::unpark called twice for one park");
        self.parker.thread.unpark();
    }
}

impl std::fmt::Debug for Unparker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unparker").field("thread", &self.parker.thread.id()).finish()
    }
}

/// Parks the current OS thread until the [`Unparker`] handed to `commit` is
/// used, or returns at once if `commit` returns false (Go: `gopark` with
/// `unlockf`). `_reason` is kept for the scheduler's backend.
pub(crate) fn park(_reason: WaitReason, commit: impl FnOnce(Unparker) -> bool) {
    let parker = current_parker();
    parker.notified.store(false, Ordering::Relaxed);
    if !commit(Unparker { parker: parker.clone() }) {
        return;
    }
    while !parker.notified.load(Ordering::Acquire) {
        std::thread::park();
    }
}

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const STOPPED: u8 = 2;

struct TimerState {
    state: AtomicU8,
    f: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// A one-shot timer. Dropping it does not cancel it; see [`TimerHandle::stop`].
pub(crate) struct TimerHandle {
    timer: Arc<TimerState>,
}

impl TimerHandle {
    /// Cancels the timer; true if it had not fired yet (Go: `deltimer`).
    pub(crate) fn stop(&self) -> bool {
        let stopped = self
            .timer
            .state
            .compare_exchange(PENDING, STOPPED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if stopped {
            // Free the closure now; the heap entry is dropped at its deadline.
            drop(self.timer.f.lock().take());
        }
        stopped
    }
}

struct HeapEntry {
    when: Instant,
    seq: u64,
    timer: Arc<TimerState>,
}

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        self.when == other.when && self.seq == other.seq
    }
}
impl Eq for HeapEntry {}
impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapEntry {
    // Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.when, other.seq).cmp(&(self.when, self.seq))
    }
}

struct TimerThread {
    heap: Mutex<BinaryHeap<HeapEntry>>,
    cv: Condvar,
    seq: AtomicU64,
}

fn timer_thread() -> &'static TimerThread {
    static TIMERS: OnceLock<&'static TimerThread> = OnceLock::new();
    TIMERS.get_or_init(|| {
        let t: &'static TimerThread = Box::leak(Box::new(TimerThread {
            heap: Mutex::new(BinaryHeap::new()),
            cv: Condvar::new(),
            seq: AtomicU64::new(0),
        }));
        std::thread::Builder::new()
            .name("gc-runtime-timers".into())
            .spawn(move || run_timers(t))
            .expect("gc-runtime: cannot start the timer thread");
        t
    })
}

fn run_timers(t: &'static TimerThread) {
    let mut heap = t.heap.lock();
    loop {
        let now = Instant::now();
        match heap.peek() {
            None => t.cv.wait(&mut heap),
            Some(e) if e.when > now => {
                let when = e.when;
                t.cv.wait_until(&mut heap, when);
            }
            Some(_) => {
                let e = heap.pop().expect("peeked");
                if e
                    .timer
                    .state
                    .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    let f = e.timer.f.lock().take();
                    if let Some(f) = f {
                        parking_lot::MutexGuard::unlocked(&mut heap, f);
                    }
                }
            }
        }
    }
}

/// Adds a one-shot timer that runs `f` on the timer thread at `when` (Go:
/// `addtimer`). `f` must not block or park.
pub(crate) fn add_timer(when: Instant, f: Box<dyn FnOnce() + Send>) -> TimerHandle {
    let t = timer_thread();
    let timer = Arc::new(TimerState { state: AtomicU8::new(PENDING), f: Mutex::new(Some(f)) });
    let seq = t.seq.fetch_add(1, Ordering::Relaxed);
    let mut heap = t.heap.lock();
    let earliest = heap.peek().is_none_or(|e| when < e.when);
    heap.push(HeapEntry { when, seq, timer: timer.clone() });
    drop(heap);
    if earliest {
        t.cv.notify_one();
    }
    TimerHandle { timer }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn early_unpark_is_absorbed() {
        // commit unparks at once: the park must return, not sleep forever.
        park(WaitReason::Sleep, |u| {
            u.unpark();
            true
        });
    }

    #[test]
    fn cancelled_park_returns() {
        park(WaitReason::Sleep, |_u| false);
    }

    #[test]
    fn unpark_from_another_thread() {
        let (tx, rx) = mpsc::channel();
        let h = std::thread::spawn(move || {
            let u: Unparker = rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(5));
            u.unpark();
        });
        park(WaitReason::Sleep, |u| {
            tx.send(u).unwrap();
            true
        });
        h.join().unwrap();
    }

    #[test]
    fn timers_fire_in_order_and_stop_works() {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        let t2 = tx.clone();
        let _a = add_timer(now + Duration::from_millis(20), Box::new(move || t2.send(2).unwrap()));
        let t1 = tx.clone();
        let _b = add_timer(now + Duration::from_millis(5), Box::new(move || t1.send(1).unwrap()));
        let t3 = tx.clone();
        let c = add_timer(now + Duration::from_millis(10), Box::new(move || t3.send(3).unwrap()));
        assert!(c.stop());
        assert!(!c.stop());
        assert_eq!(rx.recv().unwrap(), 1);
        assert_eq!(rx.recv().unwrap(), 2);
        assert!(now.elapsed() >= Duration::from_millis(20));
        assert!(!_a.stop(), "a fired timer cannot be stopped");
        drop(tx);
        assert!(rx.recv_timeout(Duration::from_millis(30)).is_err(), "stopped timer fired");
    }
}
