//! A lock whose waiters, when they are gc-runtime Gs, park instead of
//! blocking their OS thread (Go: a `sync.Mutex` parks the goroutine, never
//! the M). `GcVec`'s writer lock is one: a G blocked on it with its M would
//! keep its P from the mark workers, and a holder inside `retain`'s closure
//! that calls `collect()` would then wait for marking that cannot run
//! (pointer-model R21).
//!
//! Invariants:
//! * A G waits by parking through gc-core's park hook; on g0, the commit
//!   files its waker on `waiters` only while `raw` is still locked, checked
//!   under the `waiters` lock. Every unlock releases `raw` first and then,
//!   under the `waiters` lock, wakes the oldest waiter. So a waiter either
//!   sees the lock free and retries at once, or is filed before the
//!   unlock's look at `waiters`: no wakeup is lost. A woken waiter retries
//!   and parks again if someone else took the lock first.
//! * A plain thread (or a G that may not switch) blocks on `raw` as on any
//!   lock.
//! * The commit reads the lock through its address: the waiting G borrows
//!   the lock for the whole wait, so it outlives every filed waker's use.
//! * Holders must not switch G while holding it (`GcVec`'s writers run no
//!   user code under it except `retain`'s closure, which may not switch).

use crate::sched::{park_g, ParkReason, Waker};
use parking_lot::{Mutex, MutexGuard};
use std::collections::VecDeque;

/// The lock.
pub(crate) struct GLock {
    raw: Mutex<()>,
    waiters: Mutex<VecDeque<Waker>>,
}

/// The lock, held.
pub(crate) struct GLockGuard<'a> {
    lock: &'a GLock,
    raw: Option<MutexGuard<'a, ()>>,
}

impl GLock {
    /// An unlocked lock.
    pub(crate) const fn new() -> GLock {
        GLock { raw: Mutex::new(()), waiters: Mutex::new(VecDeque::new()) }
    }

    /// Takes the lock, parking the calling G (or blocking the calling
    /// thread) while another holds it.
    pub(crate) fn lock(&self) -> GLockGuard<'_> {
        loop {
            if let Some(g) = self.raw.try_lock() {
                return GLockGuard { lock: self, raw: Some(g) };
            }
            if !park_g(ParkReason::Lock, file_waiter, self as *const GLock as usize as u64) {
                return GLockGuard { lock: self, raw: Some(self.raw.lock()) };
            }
        }
    }
}

/// The park hook's commit: files `w` unless the lock at `addr` is free.
fn file_waiter(w: Waker, addr: u64) -> bool {
    // SAFETY: `addr` is the lock a G is waiting for in `GLock::lock`; that G
    // borrows it until the call returns, and the call cannot return before
    // this commit has run (the park hook runs it first).
    let l = unsafe { &*(addr as usize as *const GLock) };
    let mut ws = l.waiters.lock();
    if !l.raw.is_locked() {
        return false;
    }
    ws.push_back(w);
    true
}

impl Drop for GLockGuard<'_> {
    fn drop(&mut self) {
        drop(self.raw.take());
        let next = self.lock.waiters.lock().pop_front();
        if let Some(w) = next {
            w();
        }
    }
}
