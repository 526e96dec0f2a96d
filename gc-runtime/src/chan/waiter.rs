//! Waiter records (Go: `sudog`) and the wait queues of a channel (Go:
//! `waitq`).
//!
//! A parked operation is one [`WaitCore`] (shared by every case of one
//! `select!`, Go: the `g` and its `selectDone` flag) plus one [`Waiter<T>`]
//! per case, queued on that case's channel (Go: one `sudog` per case); a
//! plain send or receive keeps its core inline in its one waiter. The
//! waiter's `slot` carries the value: a parked sender's value waits in it, and
//! a sender that finds a parked receiver writes its value straight into the
//! receiver's slot (Go's `send`/`recv` with `sg.elem`), so an unbuffered
//! transfer costs one park and one unpark and no buffer.
//!
//! Invariants:
//!
//! * **Claim before touching.** Whoever takes a waiter off a queue (a peer
//!   operation, `close`, or a `select!` poll) must first win
//!   [`WaitCore::try_claim`] for it, a CAS of `selected` from `NONE` to the
//!   waiter's case index. Only the winner writes the slot and calls
//!   [`WaitCore::wake`]; a loser drops the queue entry (the waiter belongs to a
//!   `select!` that another case already completed; its owner removes its other
//!   entries itself and tolerates finding one gone).
//! * **Transfer, then wake.** The winner writes the slot (under the slot's
//!   lock) before `wake`, and the waiter reads the slot only after
//!   [`WaitCore::wait`] returned, which happens after `wake` took the wake
//!   lock: the slot write happens-before the read.
//! * **No lost wakeup.** The waiter is queued (under the channel lock) before
//!   it parks; `wait` hands its `Unparker` over under the wake lock, and
//!   `wake` sets `woken` under the same lock: if `wake` came first, the park's
//!   `commit` sees `woken` and cancels the park; otherwise `wake` finds the
//!   `Unparker` and uses it. Either way the waiter returns exactly once.
//! * Lock order: channel lock, then a waiter's slot or wake lock; the slot
//!   and wake locks are never held together and never held while parking.

use std::collections::VecDeque;

use super::loom_sync::{park, Arc, AtomicUsize, Mutex, Ordering, Unparker, WaitReason};

/// `selected` before any case was claimed.
const NONE: usize = usize::MAX;

struct WakeState {
    unparker: Option<Unparker>,
    woken: bool,
}

/// One parked operation: which case completed, and how to wake its owner.
pub(crate) struct WaitCore {
    /// Go: `selectDone` and the `g.param` telling which case won.
    selected: AtomicUsize,
    wake: Mutex<WakeState>,
}

impl WaitCore {
    /// A core for a new park.
    pub(crate) fn new() -> WaitCore {
        WaitCore { selected: AtomicUsize::new(NONE), wake: Mutex::new(WakeState { unparker: None, woken: false }) }
    }

    /// A core shared by several waiters (a `select!`'s cases).
    pub(crate) fn new_shared() -> Arc<WaitCore> {
        Arc::new(WaitCore::new())
    }

    /// Claims case `case` of this park for the caller; false if some case
    /// (this one or another) was claimed already.
    #[inline]
    pub(crate) fn try_claim(&self, case: usize) -> bool {
        self.selected.compare_exchange(NONE, case, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The claimed case, if any.
    pub(crate) fn selected(&self) -> Option<usize> {
        match self.selected.load(Ordering::Acquire) {
            NONE => None,
            c => Some(c),
        }
    }

    /// Makes the owner runnable (Go: `goready`). Only the winner of
    /// [`try_claim`](Self::try_claim) calls it, once, after the transfer.
    pub(crate) fn wake(&self) {
        let unparker = {
            let mut s = self.wake.lock();
            debug_assert!(!s.woken, "WaitCore woken twice");
            s.woken = true;
            s.unparker.take()
        };
        if let Some(u) = unparker {
            u.unpark();
        }
    }

    /// Parks the caller until [`wake`](Self::wake) was called (Go:
    /// `gopark`). The caller has queued its waiters before calling this.
    pub(crate) fn wait(&self, reason: WaitReason) {
        loop {
            park(reason, |u| {
                let mut s = self.wake.lock();
                if s.woken {
                    false
                } else {
                    s.unparker = Some(u);
                    true
                }
            });
            // The contract has no spurious returns; this check makes the
            // primitives correct even against a backend that had them.
            if self.wake.lock().woken {
                return;
            }
        }
    }
}

/// The value slot of a waiter.
pub(crate) struct Slot<T> {
    /// A parked sender's value, or the value handed to a parked receiver.
    pub(crate) value: Option<T>,
    /// Set by `close` instead of a transfer.
    pub(crate) closed: bool,
}

/// The core of a waiter: its own (a plain send or receive: one allocation
/// per park) or shared with the other cases of its `select!`.
enum CoreRef {
    Own(WaitCore),
    Shared(Arc<WaitCore>),
}

/// One case of a parked operation, queued on one channel (Go: `sudog`).
pub(crate) struct Waiter<T> {
    core: CoreRef,
    /// This waiter's case index in its `select!` (0 for a plain operation).
    pub(crate) case: usize,
    pub(crate) slot: Mutex<Slot<T>>,
}

impl<T> Waiter<T> {
    /// The waiter of a plain (non-select) operation, case 0.
    pub(crate) fn plain(value: Option<T>) -> Arc<Waiter<T>> {
        Arc::new(Waiter {
            core: CoreRef::Own(WaitCore::new()),
            case: 0,
            slot: Mutex::new(Slot { value, closed: false }),
        })
    }

    /// The waiter of case `case` of a `select!` parked on `core`.
    pub(crate) fn in_select(core: Arc<WaitCore>, case: usize, value: Option<T>) -> Arc<Waiter<T>> {
        Arc::new(Waiter { core: CoreRef::Shared(core), case, slot: Mutex::new(Slot { value, closed: false }) })
    }

    /// The waiter's core.
    #[inline]
    pub(crate) fn core(&self) -> &WaitCore {
        match &self.core {
            CoreRef::Own(c) => c,
            CoreRef::Shared(c) => c,
        }
    }
}

/// A FIFO of waiters on one channel, one direction (Go: `waitq`).
pub(crate) struct WaitQueue<T> {
    q: VecDeque<Arc<Waiter<T>>>,
}

impl<T> WaitQueue<T> {
    pub(crate) const fn new() -> Self {
        WaitQueue { q: VecDeque::new() }
    }

    pub(crate) fn push(&mut self, w: Arc<Waiter<T>>) {
        self.q.push_back(w);
    }

    /// Takes the first waiter whose claim succeeds, dropping stale entries
    /// of completed `select!`s on the way (Go: `waitq.dequeue`).
    pub(crate) fn dequeue(&mut self) -> Option<Arc<Waiter<T>>> {
        while let Some(w) = self.q.pop_front() {
            if w.core().try_claim(w.case) {
                return Some(w);
            }
        }
        None
    }

    /// Removes `w` if it is still queued (Go: `dequeueSudoG`).
    pub(crate) fn remove(&mut self, w: &Arc<Waiter<T>>) {
        if let Some(i) = self.q.iter().position(|x| Arc::ptr_eq(x, w)) {
            self.q.remove(i);
        }
    }

    /// Claims and takes every waiter (for `close`).
    pub(crate) fn drain_claimed(&mut self, out: &mut Vec<Arc<Waiter<T>>>) {
        while let Some(w) = self.dequeue() {
            out.push(w);
        }
    }
}
