//! Root tables: the slots behind `Gc<T>` handles (Go's roots are stacks and
//! globals; Rust stacks cannot be scanned precisely, so roots are explicit).
//!
//! A table is a list of 8 KiB segments that never move, so a handle can keep
//! the address of its slot. A slot holds either an object address (a root),
//! or a free-list link tagged with bit 0 (`next | 1`, `1` ending the list),
//! which a scan skips. A segment knows its owner; the owner allocates slots
//! from its own free list with plain loads and stores, while slots freed by
//! other threads go to the segment's atomic `remote` list (a Treiber stack
//! that only the owner empties, all at once with `swap`, so it has no ABA).
//!
//! Invariants:
//! * Registration happens inside a critical section, so the collector never
//!   sees a half-registered root, and a root registered during marking can be
//!   shaded by its registrar (DESIGN.md's h1/h2 example).
//! * Freeing a slot needs no critical section: the scan reads each slot
//!   atomically, so it sees either the root (and keeps the object, harmlessly)
//!   or the tagged link.
//! * `segments` grows only inside the owner's critical sections, so it is
//!   stable while the world is stopped.
//! * When a thread exits, its segments pass to the fallback table (under the
//!   registry lock, so never during a stop) and stay scanned; its local free
//!   slots move to the segments' remote lists.

use crate::mutator::{self, Mutator};
use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::alloc::{alloc_zeroed, Layout};

/// Bytes per segment; segments are aligned to this so a slot finds its
/// segment by masking.
pub const SEGMENT_BYTES: usize = 8192;
const HEADER_WORDS: usize = 2;
/// Slots per segment.
pub const SEGMENT_SLOTS: usize = SEGMENT_BYTES / 8 - HEADER_WORDS;

/// A block of root slots.
#[repr(C, align(8192))]
pub struct Segment {
    /// The owning mutator; compared, never dereferenced, by other threads.
    owner: AtomicPtr<Mutator>,
    /// Slots freed by non-owners: a list linked through the slots.
    remote: AtomicUsize,
    slots: [AtomicUsize; SEGMENT_SLOTS],
}

const _: () = assert!(core::mem::size_of::<Segment>() == SEGMENT_BYTES);

impl Segment {
    fn alloc(owner: *const Mutator) -> *mut Segment {
        let layout = Layout::new::<Segment>();
        // SAFETY: the layout has non-zero size; zeroed memory is a valid
        // `Segment` (atomics of 0).
        let p = unsafe { alloc_zeroed(layout) } as *mut Segment;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `p` is a fresh, exclusively owned segment.
        let seg = unsafe { &*p };
        seg.owner.store(owner as *mut Mutator, Ordering::Relaxed);
        for i in 0..SEGMENT_SLOTS {
            let next = if i + 1 < SEGMENT_SLOTS { &seg.slots[i + 1] as *const AtomicUsize as usize } else { 0 };
            seg.slots[i].store(next | 1, Ordering::Relaxed);
        }
        p
    }

    #[inline]
    fn of(slot: *const AtomicUsize) -> &'static Segment {
        // SAFETY: slots live inside segments aligned to SEGMENT_BYTES, and
        // segments are never freed.
        unsafe { &*((slot as usize & !(SEGMENT_BYTES - 1)) as *const Segment) }
    }
}

/// One mutator's root table.
pub struct RootTable {
    /// Owner-only (inside its critical sections, or the collector while the
    /// world is stopped).
    segments: UnsafeCell<Vec<*mut Segment>>,
    /// Head of the owner's free list (slot address, 0 when empty). Owner only.
    free: Cell<usize>,
}

// SAFETY: `segments` and `free` follow the ownership rules above.
unsafe impl Sync for RootTable {}
// SAFETY: as above.
unsafe impl Send for RootTable {}

impl Default for RootTable {
    fn default() -> Self {
        Self::new()
    }
}

impl RootTable {
    /// An empty table.
    pub const fn new() -> RootTable {
        RootTable { segments: UnsafeCell::new(Vec::new()), free: Cell::new(0) }
    }

    /// Registers `obj` as a root and returns its slot.
    ///
    /// # Safety
    /// Called by the table's owner (`me`) inside a critical section.
    #[inline]
    pub unsafe fn register(&self, me: &Mutator, obj: usize) -> &'static AtomicUsize {
        let mut head = self.free.get();
        if head == 0 {
            // SAFETY: forwarded contract.
            head = unsafe { self.refill(me) };
        }
        // SAFETY: free-list entries are slots of our live segments.
        let slot: &'static AtomicUsize = unsafe { &*(head as *const AtomicUsize) };
        self.free.set(slot.load(Ordering::Relaxed) & !1);
        slot.store(obj, Ordering::Release);
        slot
    }

    #[cold]
    unsafe fn refill(&self, me: &Mutator) -> usize {
        // SAFETY: owner inside a critical section.
        let segs = unsafe { &mut *self.segments.get() };
        for &s in segs.iter() {
            // SAFETY: segments are never freed.
            let h = unsafe { &*s }.remote.swap(0, Ordering::Acquire);
            if h != 0 {
                return h;
            }
        }
        let s = Segment::alloc(me);
        segs.push(s);
        // SAFETY: just allocated.
        unsafe { &(*s).slots[0] as *const AtomicUsize as usize }
    }

    /// Frees a root slot, from any thread, inside or outside a critical
    /// section.
    #[inline]
    pub fn unregister(slot: &'static AtomicUsize) {
        let seg = Segment::of(slot);
        let me = mutator::current_ptr();
        if core::ptr::eq(seg.owner.load(Ordering::Relaxed), me) {
            // SAFETY: `me` is the owner and is the calling thread, so its
            // table's free list is ours to touch.
            let table = unsafe { &(*me).roots };
            slot.store(table.free.get() | 1, Ordering::Release);
            table.free.set(slot as *const AtomicUsize as usize);
        } else {
            Self::push_remote(seg, slot);
        }
    }

    fn push_remote(seg: &Segment, slot: &AtomicUsize) {
        let addr = slot as *const AtomicUsize as usize;
        let mut h = seg.remote.load(Ordering::Relaxed);
        loop {
            slot.store(h | 1, Ordering::Release);
            match seg.remote.compare_exchange_weak(h, addr, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => h = now,
            }
        }
    }

    /// Calls `f` with every object held by a root in this table.
    ///
    /// # Safety
    /// The world is stopped (or the caller owns the table in a section).
    pub unsafe fn for_each_root(&self, mut f: impl FnMut(usize)) {
        // SAFETY: per the contract, `segments` is stable.
        let segs = unsafe { &*self.segments.get() };
        for &s in segs.iter() {
            // SAFETY: segments are never freed.
            for slot in unsafe { &(*s).slots }.iter() {
                let v = slot.load(Ordering::Acquire);
                if v & 1 == 0 && v != 0 {
                    f(v);
                }
            }
        }
    }

    /// Number of live roots (for stats and tests).
    ///
    /// # Safety
    /// As `for_each_root`.
    pub unsafe fn count(&self) -> usize {
        let mut n = 0;
        // SAFETY: forwarded.
        unsafe { self.for_each_root(|_| n += 1) };
        n
    }

    /// Moves every segment to `to` (owned by `new_owner`) at thread exit;
    /// this table's locally free slots go to their segments' remote lists.
    /// The caller holds the registry lock and the fallback lock.
    pub fn hand_over(&self, to: &RootTable, new_owner: &Mutator) {
        // Retag first, so that frees racing with us go to remote lists.
        // SAFETY: the registry lock excludes a stop and the owner is exiting,
        // so no one else touches our segment list.
        let segs = core::mem::take(unsafe { &mut *self.segments.get() });
        for &s in segs.iter() {
            // SAFETY: segments are never freed.
            unsafe { &*s }.owner.store(new_owner as *const Mutator as *mut Mutator, Ordering::Release);
        }
        let mut head = self.free.replace(0);
        while head != 0 {
            // SAFETY: free-list entries are slots in our segments.
            let slot: &AtomicUsize = unsafe { &*(head as *const AtomicUsize) };
            let next = slot.load(Ordering::Relaxed) & !1;
            Self::push_remote(Segment::of(slot), slot);
            head = next;
        }
        // SAFETY: the caller holds the fallback lock, which guards `to`.
        unsafe { &mut *to.segments.get() }.extend(segs);
    }
}
