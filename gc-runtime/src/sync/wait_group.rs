//! `WaitGroup` (Go: `sync.WaitGroup`): wait for a collection of Gs to finish.
//!
//! Invariants: the counter and the list of parked waiters live under one
//! mutex; the counter never goes below zero (an `add` that would make it
//! negative panics and changes nothing); when it reaches zero every waiter
//! parked at that moment is taken off the list and woken, after the mutex is
//! released. A waiter is queued under the mutex, and only while the counter
//! is non-zero, so a `wait` that saw a non-zero counter is always woken by
//! the `add` that brings it to zero.

use crate::chan::facade::{Arc, Mutex, WaitReason};
use crate::chan::WaitCore;

struct State {
    count: isize,
    waiters: Vec<Arc<WaitCore>>,
}

/// Waits for a collection of Gs (or threads) to finish (Go:
/// `sync.WaitGroup`).
///
/// Clones share one counter, so a clone can move into each G; a
/// `&WaitGroup` works as well (it is `Sync`).
///
/// ```
/// use gc_runtime::sync::WaitGroup;
///
/// let wg = WaitGroup::new();
/// for _ in 0..4 {
///     wg.add(1);
///     let wg = wg.clone();
///     std::thread::spawn(move || {
///         // ... work ...
///         wg.done();
///     });
/// }
/// wg.wait(); // returns once all four called done
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Mutex<State>>,
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl std::fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.inner.lock();
        f.debug_struct("WaitGroup").field("count", &s.count).field("waiters", &s.waiters.len()).finish()
    }
}

impl WaitGroup {
    /// A wait group with counter 0.
    pub fn new() -> WaitGroup {
        WaitGroup { inner: Arc::new(Mutex::new(State { count: 0, waiters: Vec::new() })) }
    }

    /// Adds `delta` (which may be negative) to the counter (Go: `Add`). When
    /// the counter reaches zero, every G parked in [`wait`](Self::wait) is
    /// released.
    ///
    /// # Panics
    ///
    /// `sync: negative WaitGroup counter` if the counter would go below
    /// zero; the counter is then left unchanged.
    pub fn add(&self, delta: isize) {
        let woken = {
            let mut s = self.inner.lock();
            let count = match s.count.checked_add(delta) {
                Some(c) if c >= 0 => c,
                _ => {
                    drop(s);
                    panic!("sync: negative WaitGroup counter");
                }
            };
            s.count = count;
            if count == 0 {
                std::mem::take(&mut s.waiters)
            } else {
                Vec::new()
            }
        };
        for w in woken {
            if w.try_claim(0) {
                w.wake();
            }
        }
    }

    /// Decrements the counter by one (Go: `Done`).
    ///
    /// # Panics
    ///
    /// As [`add`](Self::add), if the counter is already zero.
    pub fn done(&self) {
        self.add(-1);
    }

    /// Parks until the counter is zero (Go: `Wait`); returns at once if it is.
    pub fn wait(&self) {
        crate::proc::assert_not_pinned();
        let core = {
            let mut s = self.inner.lock();
            if s.count == 0 {
                return;
            }
            let core = WaitCore::new_shared();
            s.waiters.push(core.clone());
            core
        };
        core.wait(WaitReason::WaitGroup);
    }

    /// The counter's current value.
    pub fn count(&self) -> usize {
        self.inner.lock().count as usize
    }
}
