//! One-shot timers: per-P heaps inside a runtime (Go: `p.timers`,
//! `timers.check`), and one process-wide timer thread outside any runtime.
//!
//! Invariants:
//!
//! * A timer is an [`Entry`] whose `state` moves once, by CAS, from
//!   `PENDING` to `FIRED` (the callback is then taken and run exactly once)
//!   or to `STOPPED` ([`TimerHandle::stop`] returned true; the callback is
//!   dropped unrun). A heap may still hold a stopped entry; it is skipped
//!   when it reaches the top.
//! * Each runtime counts its `PENDING` timers (`Sched::ntimers`): the count
//!   goes up before the entry is visible in a heap and down exactly once, by
//!   whoever wins the CAS. The deadlock check reads it.
//! * Callbacks run with no heap lock held, so they may add timers.
//! * `Heap::first` mirrors the earliest `when` (nanoseconds since the
//!   runtime's epoch, `u64::MAX` when empty), updated under the heap lock and
//!   read without it by `schedule`'s fast check.

use parking_lot::{Condvar, Mutex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const STOPPED: u8 = 2;

type Callback = Box<dyn FnOnce() + Send>;

/// One timer.
pub(crate) struct Entry {
    state: AtomicU8,
    f: Mutex<Option<Callback>>,
    /// The pending-timer count this entry is part of (a runtime's `ntimers`,
    /// or the timer thread's).
    count: Arc<AtomicUsize>,
}

impl Entry {
    fn new(f: Callback, count: Arc<AtomicUsize>) -> Arc<Entry> {
        count.fetch_add(1, Ordering::SeqCst);
        Arc::new(Entry { state: AtomicU8::new(PENDING), f: Mutex::new(Some(f)), count })
    }

    /// Fires the timer if still pending: runs the callback here.
    fn fire(&self) {
        if self.state.compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            let f = self.f.lock().take();
            self.count.fetch_sub(1, Ordering::SeqCst);
            if let Some(f) = f {
                f();
            }
        }
    }

    fn pending(&self) -> bool {
        self.state.load(Ordering::Acquire) == PENDING
    }
}

/// A handle to a timer (Go: the `*timer`). Dropping it does not stop it.
#[allow(dead_code)]
pub(crate) struct TimerHandle {
    entry: Arc<Entry>,
}

// `stop` is part of the park contract (chan's select/after use it).
#[allow(dead_code)]
impl TimerHandle {
    /// Stops the timer; true if it had not fired (nor been stopped) yet.
    pub(crate) fn stop(&self) -> bool {
        let stopped = self.entry.state.compare_exchange(PENDING, STOPPED, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        if stopped {
            self.entry.count.fetch_sub(1, Ordering::SeqCst);
            drop(self.entry.f.lock().take());
        }
        stopped
    }
}

struct Item {
    when: Instant,
    seq: u64,
    entry: Arc<Entry>,
}

impl PartialEq for Item {
    fn eq(&self, o: &Item) -> bool {
        (self.when, self.seq) == (o.when, o.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Item) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Item) -> std::cmp::Ordering {
        (self.when, self.seq).cmp(&(o.when, o.seq))
    }
}

/// A timer heap (one per P).
pub(crate) struct Heap {
    heap: Mutex<(BinaryHeap<Reverse<Item>>, u64)>,
    /// Earliest `when` in ns since `epoch`; `u64::MAX` if empty.
    first: AtomicU64,
    epoch: Instant,
}

impl Heap {
    pub(crate) fn new(epoch: Instant) -> Heap {
        Heap { heap: Mutex::new((BinaryHeap::new(), 0)), first: AtomicU64::new(u64::MAX), epoch }
    }

    fn ns(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Adds a timer; returns its handle.
    pub(crate) fn add(&self, when: Instant, f: Callback, count: &Arc<AtomicUsize>) -> TimerHandle {
        let entry = Entry::new(f, count.clone());
        let mut h = self.heap.lock();
        let seq = h.1;
        h.1 += 1;
        h.0.push(Reverse(Item { when, seq, entry: entry.clone() }));
        self.first.store(self.ns(h.0.peek().map_or(when, |r| r.0.when)), Ordering::SeqCst);
        TimerHandle { entry }
    }

    /// Earliest pending `when`, dropping stopped entries at the top.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        let mut h = self.heap.lock();
        while let Some(top) = h.0.peek() {
            if top.0.entry.pending() {
                return Some(top.0.when);
            }
            h.0.pop();
        }
        self.first.store(u64::MAX, Ordering::SeqCst);
        None
    }

    /// Whether any entry (maybe stopped) is queued.
    pub(crate) fn has_any(&self) -> bool {
        self.first.load(Ordering::SeqCst) != u64::MAX
    }

    /// Go's `timers.check`: runs every timer due at `now`. Returns how many
    /// fired.
    pub(crate) fn run_due(&self, now: Instant) -> usize {
        if self.first.load(Ordering::Relaxed) > self.ns(now) {
            return 0;
        }
        let mut fired = 0;
        loop {
            let mut h = self.heap.lock();
            let due = match h.0.peek() {
                Some(top) => top.0.when <= now,
                None => false,
            };
            if !due {
                let first = h.0.peek().map_or(u64::MAX, |r| self.ns(r.0.when));
                self.first.store(first, Ordering::SeqCst);
                return fired;
            }
            let item = h.0.pop().expect("peeked").0;
            let first = h.0.peek().map_or(u64::MAX, |r| self.ns(r.0.when));
            self.first.store(first, Ordering::SeqCst);
            drop(h);
            if item.entry.pending() {
                fired += 1;
            }
            item.entry.fire();
        }
    }

    /// Removes every entry still pending, with its `when` (a runtime shuts
    /// down: its timers move to the timer thread, R15). Handles stay valid:
    /// the entries themselves move.
    pub(crate) fn take_pending(&self) -> Vec<(Instant, Arc<Entry>)> {
        let mut h = self.heap.lock();
        let items: Vec<(Instant, Arc<Entry>)> =
            h.0.drain().map(|r| r.0).filter(|i| i.entry.pending()).map(|i| (i.when, i.entry)).collect();
        self.first.store(u64::MAX, Ordering::SeqCst);
        items
    }

    /// Queues an existing entry (see `take_pending`).
    fn adopt(&self, when: Instant, entry: Arc<Entry>) {
        let mut h = self.heap.lock();
        let seq = h.1;
        h.1 += 1;
        h.0.push(Reverse(Item { when, seq, entry }));
        self.first.store(self.ns(h.0.peek().map_or(when, |r| r.0.when)), Ordering::SeqCst);
    }

    /// Entries queued (including stopped ones not yet dropped).
    pub(crate) fn len(&self) -> usize {
        self.heap.lock().0.len()
    }
}

/// The process-wide timer thread used outside any runtime.
struct TimerThread {
    heap: Heap,
    cv: Condvar,
    wake: Mutex<()>,
    count: Arc<AtomicUsize>,
}

fn timer_thread() -> &'static TimerThread {
    static T: OnceLock<&'static TimerThread> = OnceLock::new();
    T.get_or_init(|| {
        let t: &'static TimerThread = Box::leak(Box::new(TimerThread {
            heap: Heap::new(Instant::now()),
            cv: Condvar::new(),
            wake: Mutex::new(()),
            count: Arc::new(AtomicUsize::new(0)),
        }));
        std::thread::Builder::new()
            .name("gc-runtime-timers".into())
            .spawn(move || loop {
                t.heap.run_due(Instant::now());
                let mut g = t.wake.lock();
                match t.heap.earliest() {
                    Some(when) => {
                        if when > Instant::now() {
                            t.cv.wait_until(&mut g, when);
                        }
                    }
                    None => t.cv.wait(&mut g),
                }
            })
            .expect("gc-runtime: cannot start the timer thread");
        t
    })
}

/// Moves timers of a runtime that shuts down to the process-wide timer
/// thread, so they still fire (an `after` receiver may outlive its runtime).
pub(crate) fn adopt_outside(items: Vec<(Instant, Arc<Entry>)>) {
    if items.is_empty() {
        return;
    }
    let t = timer_thread();
    for (when, e) in items {
        t.heap.adopt(when, e);
    }
    let _g = t.wake.lock();
    t.cv.notify_one();
}

/// Adds a timer on the process-wide timer thread.
pub(crate) fn add_outside(when: Instant, f: Callback) -> TimerHandle {
    let t = timer_thread();
    let h = t.heap.add(when, f, &t.count);
    let _g = t.wake.lock();
    t.cv.notify_one();
    h
}
