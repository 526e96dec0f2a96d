//! The channel itself (Go: `hchan` and `chansend`/`chanrecv`/`closechan`).
//!
//! Invariants:
//!
//! * All of a channel's state (`buf`, `closed`, both wait queues) lives in
//!   one [`State`] inside an `UnsafeCell`, and is touched only while the
//!   channel's [`ChanLock`] is held: by [`Shared::locked`] (which takes the
//!   lock itself) or by `select!`'s engine, which takes the locks of all its
//!   channels in address order (Go's `lockorder`) and then calls
//!   [`Shared::with_state`], whose contract is that the lock is held.
//! * `buf.len() <= cap`; `recvq` is non-empty only while `buf` is empty, and
//!   `sendq` only while `buf` is full (for `cap == 0`: always both "empty"
//!   and "full"), so a parked receiver and a parked sender are never both
//!   queued on one channel (except stale entries of completed selects, which
//!   `dequeue` skips).
//! * Once `closed` is set it stays set and both queues are empty: `close`
//!   claims every queued waiter and wakes it with `closed` in its slot.
//! * No user code (a value's `Drop`, a panic) runs while the lock is held:
//!   values move in and out, and the panics of `send`/`close` are raised
//!   after the lock is released, so the lock cannot be poisoned and a
//!   panicking `Drop` cannot deadlock the channel.
//! * Wakeups happen after the lock is released (as Go's `send` calls
//!   `unlockf` before `goready`), so a woken waiter never contends for it.

use std::collections::VecDeque;

use super::loom_sync::{Arc, Mutex, MutexGuard, UnsafeCell, WaitReason};
use super::waiter::{WaitQueue, Waiter};

/// The lock of one channel. Public only so that the hidden `select!`
/// plumbing can name it; nothing outside the crate can use it.
#[derive(Debug)]
pub struct ChanLock(Mutex<()>);

impl ChanLock {
    pub(crate) fn new() -> ChanLock {
        ChanLock(Mutex::new(()))
    }

    /// Acquires it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        self.0.lock()
    }

    /// The lock's address: the global order in which `select!` locks.
    pub(crate) fn addr(&self) -> usize {
        self as *const ChanLock as usize
    }
}

/// What a non-blocking send did.
pub(crate) enum SendPoll<T> {
    /// Sent; wake this receiver (after unlocking) if the value went straight to it.
    Sent(Option<Arc<Waiter<T>>>),
    /// The channel is closed; the value is returned.
    Closed(T),
    /// Neither a parked receiver nor buffer space; the value is returned.
    Full(T),
}

/// What a non-blocking receive did.
pub(crate) enum RecvPoll<T> {
    /// Received; wake this sender (after unlocking) whose value was taken.
    Got(T, Option<Arc<Waiter<T>>>),
    /// Closed and drained.
    Closed,
    /// Nothing to receive yet.
    Empty,
}

/// A channel's state (Go: the fields of `hchan` under `hchan.lock`).
pub(crate) struct State<T> {
    buf: VecDeque<T>,
    cap: usize,
    closed: bool,
    pub(crate) recvq: WaitQueue<T>,
    pub(crate) sendq: WaitQueue<T>,
}

impl<T> State<T> {
    /// Go's `chansend` up to the point where it would block.
    pub(crate) fn try_send(&mut self, v: T) -> SendPoll<T> {
        if self.closed {
            return SendPoll::Closed(v);
        }
        if let Some(w) = self.recvq.dequeue() {
            // Direct hand-off into the parked receiver's slot (Go: `send`).
            w.slot.lock().value = Some(v);
            return SendPoll::Sent(Some(w));
        }
        if self.buf.len() < self.cap {
            self.buf.push_back(v);
            return SendPoll::Sent(None);
        }
        SendPoll::Full(v)
    }

    /// Go's `chanrecv` up to the point where it would block.
    pub(crate) fn try_recv(&mut self) -> RecvPoll<T> {
        if let Some(w) = self.sendq.dequeue() {
            let sent = w.slot.lock().value.take().expect("a parked sender holds its value");
            // Go's `recv`: unbuffered, take the sender's value directly;
            // buffered (and so full), take the head and put the sender's
            // value at the tail, keeping FIFO order.
            let v = match self.buf.pop_front() {
                None => sent,
                Some(head) => {
                    self.buf.push_back(sent);
                    head
                }
            };
            return RecvPoll::Got(v, Some(w));
        }
        if let Some(v) = self.buf.pop_front() {
            return RecvPoll::Got(v, None);
        }
        if self.closed {
            return RecvPoll::Closed;
        }
        RecvPoll::Empty
    }

    /// Go's `closechan` under the lock: false if it was closed already;
    /// otherwise claims every queued waiter into `wake`, marked closed.
    pub(crate) fn close(&mut self, wake: &mut Vec<Arc<Waiter<T>>>) -> bool {
        if self.closed {
            return false;
        }
        self.closed = true;
        self.recvq.drain_claimed(wake);
        self.sendq.drain_claimed(wake);
        for w in wake.iter() {
            w.slot.lock().closed = true;
        }
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }
}

/// The shared part of a channel: what every handle points to.
pub(crate) struct Shared<T> {
    pub(crate) lock: ChanLock,
    state: UnsafeCell<State<T>>,
}

// SAFETY: `State<T>` is only reached under `lock` (module invariants), so
// `Shared<T>` is a mutex around it; values of `T` move between threads but
// are never shared, so `T: Send` suffices, as for `std::sync::Mutex`.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Shared<T> {}

#[cfg(loom)]
std::thread_local! {
    /// Test-only fault for the loom model: release the channel lock between
    /// deciding to block and queueing the waiter (see `tests/loom_chan.rs`).
    /// Thread-local: loom runs every thread of a model on the test's own OS
    /// thread, and tests running in parallel must not see each other's fault.
    static FAULT_UNLOCK_BEFORE_ENQUEUE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Turns the loom-only fault on or off for models run by this thread.
#[cfg(loom)]
pub fn set_fault_unlock_before_enqueue(on: bool) {
    FAULT_UNLOCK_BEFORE_ENQUEUE.with(|f| f.set(on));
}

#[cfg(loom)]
fn fault_unlock_before_enqueue() -> bool {
    FAULT_UNLOCK_BEFORE_ENQUEUE.with(|f| f.get())
}

#[cfg(not(loom))]
#[inline(always)]
fn fault_unlock_before_enqueue() -> bool {
    false
}

impl<T> Shared<T> {
    pub(crate) fn new(cap: usize) -> Shared<T> {
        Shared {
            lock: ChanLock::new(),
            state: UnsafeCell::new(State {
                buf: VecDeque::with_capacity(cap),
                cap,
                closed: false,
                recvq: WaitQueue::new(),
                sendq: WaitQueue::new(),
            }),
        }
    }

    /// Runs `f` on the state, the caller holding the lock.
    ///
    /// # Safety
    ///
    /// The caller holds `self.lock`, and `f` does not reach this channel's
    /// state again (no nested `with_state` on the same channel).
    #[inline]
    pub(crate) unsafe fn with_state<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        self.state.with_mut(|p| {
            // SAFETY: the caller holds the lock (the function's contract), so
            // no other reference to the state exists while `f` runs.
            f(unsafe { &mut *p })
        })
    }

    /// Takes the lock and runs `f` on the state.
    #[inline]
    pub(crate) fn locked<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        let _g = self.lock.lock();
        // SAFETY: `_g` holds the lock until after `f` returned; `f` only
        // gets this channel's state and the closures passed here never lock
        // or reach this channel again.
        unsafe { self.with_state(f) }
    }

    /// Go's `chansend` with `block = true`.
    pub(crate) fn send(&self, v: T) {
        // Refused inside a gc-core pin before anything is queued (a pinned
        // thread that parks holds off every stop of the world).
        crate::proc::assert_not_pinned();
        let g = self.lock.lock();
        // SAFETY: `g` holds the lock during the call.
        let poll = unsafe { self.with_state(|st| st.try_send(v)) };
        match poll {
            SendPoll::Sent(w) => {
                drop(g);
                if let Some(w) = w {
                    w.core().wake();
                }
            }
            SendPoll::Closed(v) => {
                drop(g);
                drop(v);
                panic!("send on closed channel");
            }
            SendPoll::Full(v) => {
                let w = Waiter::plain(Some(v));
                let g = if fault_unlock_before_enqueue() {
                    drop(g);
                    self.lock.lock()
                } else {
                    g
                };
                // SAFETY: `g` holds the lock during the call.
                unsafe { self.with_state(|st| st.sendq.push(w.clone())) };
                drop(g);
                w.core().wait(WaitReason::ChanSend);
                let closed = w.slot.lock().closed;
                if closed {
                    // The value is still in the slot; it drops with `w`.
                    panic!("send on closed channel");
                }
            }
        }
    }

    /// Go's `chanrecv` with `block = true`: `None` once closed and drained.
    pub(crate) fn recv(&self) -> Option<T> {
        crate::proc::assert_not_pinned();
        let g = self.lock.lock();
        // SAFETY: `g` holds the lock during the call.
        let poll = unsafe { self.with_state(|st| st.try_recv()) };
        match poll {
            RecvPoll::Got(v, w) => {
                drop(g);
                if let Some(w) = w {
                    w.core().wake();
                }
                Some(v)
            }
            RecvPoll::Closed => None,
            RecvPoll::Empty => {
                let w = Waiter::plain(None);
                let g = if fault_unlock_before_enqueue() {
                    drop(g);
                    self.lock.lock()
                } else {
                    g
                };
                // SAFETY: `g` holds the lock during the call.
                unsafe { self.with_state(|st| st.recvq.push(w.clone())) };
                drop(g);
                w.core().wait(WaitReason::ChanRecv);
                let v = w.slot.lock().value.take();
                v
            }
        }
    }

    /// Go's `chansend` with `block = false`.
    pub(crate) fn try_send(&self, v: T) -> Result<(), SendPoll<T>> {
        match self.locked(|st| st.try_send(v)) {
            SendPoll::Sent(w) => {
                if let Some(w) = w {
                    w.core().wake();
                }
                Ok(())
            }
            other => Err(other),
        }
    }

    /// Go's `chanrecv` with `block = false`.
    pub(crate) fn try_recv(&self) -> RecvPoll<T> {
        match self.locked(|st| st.try_recv()) {
            RecvPoll::Got(v, w) => {
                if let Some(w) = w {
                    w.core().wake();
                }
                RecvPoll::Got(v, None)
            }
            other => other,
        }
    }

    /// Go's `closechan`.
    pub(crate) fn close(&self) {
        let mut wake = Vec::new();
        if !self.locked(|st| st.close(&mut wake)) {
            panic!("close of closed channel");
        }
        for w in wake {
            w.core().wake();
        }
    }
}
