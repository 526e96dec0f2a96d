//! `Mutex<T>` (Go: `sync.Mutex`) that parks the G while it waits, with
//! Go's two modes, and std's poisoning.
//!
//! State word (`state`): `LOCKED`, `QUEUED` (the wait queue is non-empty),
//! `STARVING` (Go's `mutexStarving`). The wait queue is a FIFO of waiter
//! records (`WaitCore`) under a small internal mutex.
//!
//! * **Fast path**: `lock` is one CAS `0 -> LOCKED`; `unlock` is one CAS
//!   `LOCKED -> 0`, which fails (and takes the slow path) whenever a waiter is
//!   queued or the mutex is starving.
//! * **Normal mode** (Go's): `unlock` clears `LOCKED` and wakes the first
//!   waiter, which then competes with newly arriving lockers (barging keeps
//!   throughput high). A woken waiter that loses goes back to the *front* of
//!   the queue (Go: `queueLifo`).
//! * **Starvation mode**: a waiter that has waited more than 1 ms since it
//!   first queued sets `STARVING` when it queues again. While `STARVING` is
//!   set, `unlock` hands the mutex straight to the first waiter without
//!   clearing `LOCKED`, and newcomers never see an unlocked state, so they
//!   queue at the back. The mode ends when the queue empties, or when a
//!   waiter that got the hand-off had waited less than 1 ms (Go's rule).
//! * Invariants: `QUEUED` and `STARVING` change only under the queue mutex;
//!   `QUEUED` is set iff the queue is non-empty; `STARVING` implies
//!   `LOCKED` and a non-empty queue, except transiently after a handed-off
//!   owner leaves starvation mode. A waiter is queued (under the queue
//!   mutex, after a CAS that re-checks `LOCKED`) before it parks, so an
//!   `unlock` racing with it either sees `QUEUED` and wakes it, or released
//!   the mutex before the CAS, which then fails and the locker retries.
//! * The lock has no owner thread: a guard may be dropped on another thread
//!   (or after its G migrated to another M).
//!
//! **Poisoning** (as `std::sync::Mutex`): a guard dropped while its thread
//! panics (and that was not panicking when it locked) marks the mutex
//! poisoned; `lock`, `try_lock` and `into_inner` then return `Err` holding
//! the guard or value, so the data is still reachable. Chosen over
//! parking_lot's non-poisoning because a G that panicked while holding the
//! mutex usually left the data half-updated, and the runtime keeps running
//! the other Gs after such a panic.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};
use std::time::{Duration, Instant};

use crate::chan::facade::{Arc, AtomicBool, AtomicUsize, Mutex as RawMutex, Ordering, WaitReason};
use crate::chan::WaitCore;

const LOCKED: usize = 1;
const QUEUED: usize = 2;
const STARVING: usize = 4;

/// `WaitCore` case for "woken, compete for the lock".
const WAKE: usize = 0;
/// `WaitCore` case for "the lock was handed to you".
const HANDOFF: usize = 1;

/// Go's `starvationThresholdNs`.
const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);

/// A mutual-exclusion lock around a `T` that parks waiting Gs (Go:
/// `sync.Mutex`, with the value inside as in Rust).
///
/// ```
/// use gc_runtime::sync::Mutex;
/// use std::sync::Arc;
///
/// let m = Arc::new(Mutex::new(0u64));
/// let hs: Vec<_> = (0..4)
///     .map(|_| {
///         let m = m.clone();
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 *m.lock().unwrap() += 1;
///             }
///         })
///     })
///     .collect();
/// for h in hs {
///     h.join().unwrap();
/// }
/// assert_eq!(*m.lock().unwrap(), 4000);
/// ```
pub struct Mutex<T> {
    state: AtomicUsize,
    queue: RawMutex<VecDeque<Arc<WaitCore>>>,
    poisoned: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `data` to one guard at a time
// (module invariants), so it is as `std::sync::Mutex`: sending it or
// sharing it moves `T` between threads, which `T: Send` allows.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// The guard of a locked [`Mutex`]; unlocks on drop.
///
/// Unlike std's it is `Send` when `T: Send`: the lock has no owner thread.
pub struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
    panicking: bool,
    // `&mut T`'s auto traits: `Sync` only if `T: Sync`, `Send` if `T: Send`.
    _marker: PhantomData<&'a mut T>,
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(g) => d.field("data", &&*g),
            Err(TryLockError::Poisoned(e)) => d.field("data", &&*e.into_inner()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.is_poisoned()).finish()
    }
}

fn spin_allowed() -> bool {
    #[cfg(loom)]
    {
        false
    }
    #[cfg(not(loom))]
    {
        static MULTI: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *MULTI.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
    }
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `v`.
    pub fn new(v: T) -> Mutex<T> {
        Mutex {
            state: AtomicUsize::new(0),
            queue: RawMutex::new(VecDeque::new()),
            poisoned: AtomicBool::new(false),
            data: UnsafeCell::new(v),
        }
    }

    /// Locks, parking the G until the mutex is free (Go: `Lock`).
    ///
    /// `Err` (still holding the guard) if a holder panicked; see the module
    /// documentation on poisoning.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        if self.state.compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_slow();
        }
        self.guard()
    }

    /// Locks if that needs no wait (Go: `TryLock`).
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (LOCKED | STARVING) != 0 {
                return Err(TryLockError::WouldBlock);
            }
            match self.state.compare_exchange_weak(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        self.guard().map_err(TryLockError::Poisoned)
    }

    /// Whether a holder panicked.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Relaxed)
    }

    /// Clears the poison flag.
    pub fn clear_poison(&self) {
        self.poisoned.store(false, Ordering::Relaxed);
    }

    /// The value; `Err` (holding it) if poisoned.
    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.is_poisoned();
        let v = self.data.into_inner();
        if poisoned {
            Err(PoisonError::new(v))
        } else {
            Ok(v)
        }
    }

    /// Mutable access without locking (`&mut self` proves exclusivity).
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.is_poisoned();
        let v = self.data.get_mut();
        if poisoned {
            Err(PoisonError::new(v))
        } else {
            Ok(v)
        }
    }

    fn guard(&self) -> LockResult<MutexGuard<'_, T>> {
        let g = MutexGuard { lock: self, panicking: std::thread::panicking(), _marker: PhantomData };
        if self.is_poisoned() {
            Err(PoisonError::new(g))
        } else {
            Ok(g)
        }
    }

    #[cold]
    fn lock_slow(&self) {
        let mut wait_start: Option<Instant> = None;
        let mut spins = 0;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & LOCKED == 0 {
                if self.state.compare_exchange_weak(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return;
                }
                continue;
            }
            // Go's active spinning: a few short rounds, only on a multicore
            // machine and not in starvation mode (the owner is running and
            // may release the lock within a few hundred cycles).
            if s & STARVING == 0 && spins < 4 && spin_allowed() {
                spins += 1;
                for _ in 0..30 {
                    std::hint::spin_loop();
                }
                continue;
            }
            // About to queue a waiter and park: refused inside a gc-core pin
            // (a lock taken without waiting is fine there, as `try_lock`).
            crate::proc::assert_not_pinned();
            let core = WaitCore::new_shared();
            {
                let mut q = self.queue.lock();
                let s = self.state.load(Ordering::Relaxed);
                if s & LOCKED == 0 {
                    continue;
                }
                let mut new = s | QUEUED;
                if wait_start.is_some_and(|t| t.elapsed() > STARVATION_THRESHOLD) {
                    new |= STARVING;
                }
                if self.state.compare_exchange(s, new, Ordering::Relaxed, Ordering::Relaxed).is_err() {
                    continue;
                }
                if wait_start.is_some() {
                    q.push_front(core.clone());
                } else {
                    q.push_back(core.clone());
                }
            }
            let started = *wait_start.get_or_insert_with(Instant::now);
            core.wait(WaitReason::Mutex);
            if core.selected() == Some(HANDOFF) {
                // We own the mutex: `LOCKED` stayed set. The wake's locks
                // order the previous owner's writes before ours.
                if started.elapsed() < STARVATION_THRESHOLD {
                    let _q = self.queue.lock();
                    self.state.fetch_and(!STARVING, Ordering::Relaxed);
                }
                return;
            }
            spins = 0;
        }
    }

    fn unlock(&self) {
        if self.state.compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed).is_err() {
            self.unlock_slow();
        }
    }

    #[cold]
    fn unlock_slow(&self) {
        let (core, case) = {
            let mut q = self.queue.lock();
            let s = self.state.load(Ordering::Relaxed);
            if s & STARVING != 0 {
                let core = q.pop_front().expect("sync::Mutex: starving with an empty queue");
                if q.is_empty() {
                    self.state.fetch_and(!(QUEUED | STARVING), Ordering::Relaxed);
                }
                (Some(core), HANDOFF)
            } else {
                let core = q.pop_front();
                let clear = if q.is_empty() { LOCKED | QUEUED } else { LOCKED };
                self.state.fetch_and(!clear, Ordering::Release);
                (core, WAKE)
            }
        };
        if let Some(core) = core {
            let claimed = core.try_claim(case);
            debug_assert!(claimed, "a mutex waiter is claimed once");
            core.wake();
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the mutex is locked by it, so no other
        // reference to `data` exists for the guard's lifetime.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only use.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if !self.panicking && std::thread::panicking() {
            self.lock.poisoned.store(true, Ordering::Relaxed);
        }
        self.lock.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
