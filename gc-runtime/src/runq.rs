//! A P's local run queue: Go's `p.runq` ring with `runqput`, `runqget`,
//! `runqputslow`, `runqgrab` and `runqsteal` (proc.go), generic over the
//! element so the loom model can drive it with plain tokens.
//!
//! Shape (facts card §10.2): a ring of [`CAPACITY`] slots (256; 4 under
//! loom, as tokio shrinks its queue) indexed by two free-running `u32`
//! counters. One producer, many consumers:
//!
//! * `tail` is written only by the owner (the M holding the P), with a
//!   store-release after the slot store; read by thieves with load-acquire.
//! * `head` is advanced by every consumer (the owner's [`Ring::pop`], a
//!   thief's [`Ring::steal_into`], the owner's overflow in
//!   [`Ring::push`]) with a compare-and-swap (release), and loaded with
//!   acquire, so a slot a consumer read is never overwritten before the
//!   consumer's CAS published that it is done with it.
//! * Slots are `AtomicPtr`s read and written relaxed: a thief reads a batch
//!   speculatively and keeps it only if its CAS on `head` succeeds. The owner
//!   overwrites slot `i` only once `tail - head < CAPACITY` with `head > i`,
//!   that is after every consumer that read slot `i` has either committed
//!   (CAS succeeded, it took the element) or will fail its CAS.
//! * Hence every element pushed is taken exactly once: by one `pop`, one
//!   steal, or one overflow batch. `tests/loom_runq.rs` checks this, and
//!   checks that a deliberately broken `pop` (a plain store instead of the
//!   CAS, compiled only under loom) makes the model fail.
//!
//! The queue never dereferences its elements: ownership of what they point
//! to moves with them.

use crate::atomics::{AtomicPtr, AtomicU32, Ordering};
use std::ptr::{self, NonNull};

/// Slots in a ring (Go: `len(p.runq)` = 256).
#[cfg(not(loom))]
pub const CAPACITY: u32 = 256;
/// Slots in a ring (shrunk under loom so the model reaches "full").
#[cfg(loom)]
pub const CAPACITY: u32 = 4;

/// A P's local run queue (Go: `p.runq`, `p.runqhead`, `p.runqtail`).
pub struct Ring<T> {
    /// Next slot to take. Advanced (CAS) by the owner and by thieves.
    head: AtomicU32,
    /// Next slot to fill. Written only by the owner; read by many.
    tail: AtomicU32,
    /// The slots; an element lives in `buf[i % CAPACITY]` for `head <= i < tail`.
    buf: Box<[AtomicPtr<T>]>,
    /// Test-only fault: `pop` skips the CAS (loom must catch it).
    #[cfg(loom)]
    broken_pop: bool,
}

// SAFETY: the ring only moves pointers between threads; the elements'
// ownership is transferred with them (the caller's `T` protocol). All shared
// state is atomic.
unsafe impl<T> Send for Ring<T> {}
// SAFETY: as above; every access goes through atomics.
unsafe impl<T> Sync for Ring<T> {}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Ring<T> {
    /// An empty ring.
    pub fn new() -> Ring<T> {
        Ring {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            buf: (0..CAPACITY).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            #[cfg(loom)]
            broken_pop: false,
        }
    }

    /// A ring whose `pop` publishes `head` with a plain store instead of a
    /// CAS: the fault the loom model must detect.
    #[cfg(loom)]
    pub fn new_broken() -> Ring<T> {
        Ring { broken_pop: true, ..Ring::new() }
    }

    fn slot(&self, i: u32) -> &AtomicPtr<T> {
        &self.buf[(i % CAPACITY) as usize]
    }

    /// Elements in the ring (a snapshot; exact only for the owner).
    pub fn len(&self) -> u32 {
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire);
        t.wrapping_sub(h).min(CAPACITY)
    }

    /// Whether the ring looked empty (Go: `runqempty`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Go's `runqput(pp, gp, false)`: appends `item`. **Owner only.** If the
    /// ring is full, half of it plus `item` move out in one batch through
    /// `overflow` (Go's `runqputslow`, which puts them on the global queue).
    pub fn push(&self, item: NonNull<T>, overflow: impl FnOnce(Vec<NonNull<T>>)) {
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            if t.wrapping_sub(h) < CAPACITY {
                self.slot(t).store(item.as_ptr(), Ordering::Relaxed);
                self.tail.store(t.wrapping_add(1), Ordering::Release);
                return;
            }
            // Full: Go's runqputslow grabs half in one CAS.
            let n = t.wrapping_sub(h) / 2;
            let mut batch = Vec::with_capacity(n as usize + 1);
            for i in 0..n {
                batch.push(self.slot(h.wrapping_add(i)).load(Ordering::Relaxed));
            }
            if self.head.compare_exchange(h, h.wrapping_add(n), Ordering::Release, Ordering::Relaxed).is_err() {
                // A thief took some meanwhile: there is room now, retry.
                continue;
            }
            let mut batch: Vec<NonNull<T>> = batch.into_iter().filter_map(NonNull::new).collect();
            batch.push(item);
            overflow(batch);
            return;
        }
    }

    /// Go's `runqget` (without `runnext`, which lives in the P): takes the
    /// oldest element. **Owner only** (thieves use [`Ring::steal_into`]).
    pub fn pop(&self) -> Option<NonNull<T>> {
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            if t == h {
                return None;
            }
            let item = self.slot(h).load(Ordering::Relaxed);
            #[cfg(loom)]
            if self.broken_pop {
                self.head.store(h.wrapping_add(1), Ordering::Release);
                return NonNull::new(item);
            }
            if self.head.compare_exchange(h, h.wrapping_add(1), Ordering::Release, Ordering::Relaxed).is_ok() {
                return NonNull::new(item);
            }
        }
    }

    /// Go's `runqgrab`: copies half (rounded up) of `self` into `dst`'s
    /// slots from `dst_tail` on, and claims them with one CAS. Returns how
    /// many were claimed. `dst` must have room for `CAPACITY / 2`.
    fn grab(&self, dst: &Ring<T>, dst_tail: u32) -> u32 {
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Acquire);
            let len = t.wrapping_sub(h);
            let n = len - len / 2;
            if n == 0 {
                return 0;
            }
            if n > CAPACITY / 2 {
                // h and t were read at different times; retry.
                continue;
            }
            for i in 0..n {
                let item = self.slot(h.wrapping_add(i)).load(Ordering::Relaxed);
                dst.slot(dst_tail.wrapping_add(i)).store(item, Ordering::Relaxed);
            }
            if self.head.compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                return n;
            }
        }
    }

    /// Go's `runqsteal`: moves half of `self` (a victim's ring) into `dst`
    /// (the caller's own ring, which it owns and which must be empty) and
    /// returns one of them to run at once.
    pub fn steal_into(&self, dst: &Ring<T>) -> Option<NonNull<T>> {
        let t = dst.tail.load(Ordering::Relaxed);
        debug_assert!(dst.is_empty(), "steal into a non-empty ring");
        let n = self.grab(dst, t);
        if n == 0 {
            return None;
        }
        let n = n - 1;
        let item = dst.slot(t.wrapping_add(n)).load(Ordering::Relaxed);
        if n != 0 {
            dst.tail.store(t.wrapping_add(n), Ordering::Release);
        }
        NonNull::new(item)
    }
}
