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
//! A table's segments form a singly linked list, newest first. The owner
//! prepends a segment (fully initialised, then published with a Release store
//! of `head`), so a marker can walk the list and read every slot while the
//! owner keeps running: root scanning needs no stop of the world.
//!
//! Invariants:
//! * Registration happens inside a critical section, so the collector never
//!   sees a half-registered root, and a root registered during marking can be
//!   shaded by its registrar: otherwise a handle moved from a table not yet
//!   scanned to one already scanned, cloned there and dropped, would leave
//!   its object reachable only from a scanned table (the root hand-over
//!   case, docs/design.md "Concurrent marking").
//! * A segment's `next` is written before the segment is published and
//!   changes afterwards only in `hand_over`, which the caller excludes from
//!   every scan (the registry lock); so a concurrent scan sees a prefix-closed
//!   list: every slot that existed when the scan began.
//! * Freeing a slot needs no critical section: the scan reads each slot
//!   atomically, so it sees either the root (and keeps the object, harmlessly)
//!   or the tagged link.
//! * The list grows only inside the owner's critical sections, at its head.
//! * When a thread exits, its segments pass to the fallback table (under the
//!   registry lock, so never during a stop) and stay scanned; its local free
//!   slots move to the segments' remote lists.
//! * Segments are never freed, only reused: at a stop, a fallback segment
//!   whose every slot is free leaves the fallback table for the spare list
//!   (`reclaim_free_segments`), and a refill takes a spare before it
//!   allocates (`take_spare`). Spares are pushed only while the world is
//!   stopped and popped only inside critical sections, so a pop never
//!   overlaps a push and the spare stack has no ABA.
//!
//! Atomics, cells, the owner type and the current-owner lookup come from
//! `super::sync` (std's, inlined away), so that loom can check this very file
//! compiled against its own atomics (`sync.rs`, `tests/loom_roots.rs`).

use super::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use super::sync::cell::Cell;
use super::sync::{current_owner, Owner, MODEL_SEGMENT_SLOTS};
use std::alloc::{alloc, Layout};

/// Bytes per segment; segments are aligned to this so a slot finds its
/// segment by masking.
pub const SEGMENT_BYTES: usize = 8192;
const HEADER_WORDS: usize = 4;
/// Slots per segment (a handful in the loom model, see `sync.rs`).
pub const SEGMENT_SLOTS: usize = match MODEL_SEGMENT_SLOTS {
    Some(n) => n,
    None => SEGMENT_BYTES / 8 - HEADER_WORDS,
};

/// A block of root slots.
#[repr(C, align(8192))]
pub struct Segment {
    /// The owning mutator; compared, never dereferenced, by other threads.
    owner: AtomicPtr<Owner>,
    /// Slots freed by non-owners: a list linked through the slots.
    remote: AtomicUsize,
    /// Remote frees in progress (`push_remote` between its link store and
    /// its compare-exchange). A segment is reclaimed only when this is 0, so
    /// a free that is half done never lands on a segment reused meanwhile
    /// (row 57).
    pending: AtomicUsize,
    /// The next older segment of the same table (null at the end). Written
    /// by the owner before publication, and by `hand_over`; read by scans.
    next: AtomicPtr<Segment>,
    slots: [AtomicUsize; SEGMENT_SLOTS],
}

const _: () = assert!(core::mem::align_of::<Segment>() == SEGMENT_BYTES);
const _: () = assert!(core::mem::size_of::<Segment>() == SEGMENT_BYTES || MODEL_SEGMENT_SLOTS.is_some());

impl Segment {
    fn alloc(owner: *const Owner, next: *mut Segment) -> *mut Segment {
        let layout = Layout::new::<Segment>();
        // SAFETY: the layout has non-zero size.
        let p = unsafe { alloc(layout) } as *mut Segment;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `p` is a fresh, exclusively owned, suitably aligned
        // allocation; every field is initialised here before any use.
        unsafe {
            core::ptr::addr_of_mut!((*p).owner).write(AtomicPtr::new(owner as *mut Owner));
            core::ptr::addr_of_mut!((*p).remote).write(AtomicUsize::new(0));
            core::ptr::addr_of_mut!((*p).pending).write(AtomicUsize::new(0));
            core::ptr::addr_of_mut!((*p).next).write(AtomicPtr::new(next));
            let slots = core::ptr::addr_of_mut!((*p).slots) as *mut AtomicUsize;
            for i in 0..SEGMENT_SLOTS {
                let next = if i + 1 < SEGMENT_SLOTS { slots.add(i + 1) as usize } else { 0 };
                slots.add(i).write(AtomicUsize::new(next | 1));
            }
        }
        p
    }

    /// Re-initialises a spare segment for `owner`, as `alloc` does a fresh
    /// one: every slot a free-list link, the remote list empty.
    ///
    /// # Safety
    /// `p` is a spare: in no table and on no list, so no other thread reads
    /// or writes it.
    unsafe fn reuse(p: *mut Segment, owner: *const Owner, next: *mut Segment) -> *mut Segment {
        // SAFETY: segments are never freed; exclusive per the contract.
        let seg = unsafe { &*p };
        seg.owner.store(owner as *mut Owner, Ordering::Relaxed);
        seg.remote.store(0, Ordering::Relaxed);
        debug_assert_eq!(seg.pending.load(Ordering::Relaxed), 0);
        seg.next.store(next, Ordering::Relaxed);
        for (i, slot) in seg.slots.iter().enumerate() {
            let next = seg.slots.get(i + 1).map_or(0, |n| n as *const AtomicUsize as usize);
            slot.store(next | 1, Ordering::Relaxed);
        }
        p
    }

    /// True if every slot is free (a tagged link) and no remote free is
    /// half done. The slots are read first: a free in progress tagged its
    /// slot after announcing itself in `pending`, so the Acquire load that
    /// sees the tag makes the announcement visible to the `pending` load.
    fn all_free(&self) -> bool {
        self.slots.iter().all(|s| s.load(Ordering::Acquire) & 1 == 1) && self.pending.load(Ordering::Acquire) == 0
    }

    #[inline]
    fn of(slot: *const AtomicUsize) -> &'static Segment {
        // SAFETY: slots live inside segments aligned to SEGMENT_BYTES, and
        // segments are never freed.
        unsafe { &*((slot as usize & !(SEGMENT_BYTES - 1)) as *const Segment) }
    }
}

/// The segment list starting at `first`, following `next` links.
fn walk(first: *mut Segment) -> impl Iterator<Item = &'static Segment> {
    core::iter::successors(
        // SAFETY: segments are never freed (outside the loom models'
        // `free_segments`, which runs on a quiescent table).
        (!first.is_null()).then(|| unsafe { &*first }),
        |seg| {
            let next = seg.next.load(Ordering::Acquire);
            // SAFETY: as above.
            (!next.is_null()).then(|| unsafe { &*next })
        },
    )
}

/// Pops a spare segment, or returns null (always, in the loom models,
/// whose facade has no spare list).
///
/// Called inside a critical section: pushes happen only while the world is
/// stopped, so no push overlaps this pop and a segment seen at the head
/// cannot leave and come back before the compare-exchange (no ABA).
fn take_spare() -> *mut Segment {
    let Some(list) = super::sync::spare_segments() else {
        return core::ptr::null_mut();
    };
    let mut h = list.load(Ordering::Acquire);
    while h != 0 {
        // SAFETY: spares are segments, which are never freed.
        let next = unsafe { &*(h as *const Segment) }.next.load(Ordering::Acquire) as usize;
        match list.compare_exchange_weak(h, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return h as *mut Segment,
            Err(now) => h = now,
        }
    }
    core::ptr::null_mut()
}

/// One mutator's root table.
pub struct RootTable {
    /// The newest segment (null when the table has none). Written by the
    /// owner inside its critical sections (a Release store after the segment
    /// is initialised) and by `hand_over`; read by scans from any thread.
    head: AtomicPtr<Segment>,
    /// Head of the owner's free list (slot address, 0 when empty). Owner only.
    free: Cell<usize>,
}

// SAFETY: `head` is atomic and `free` is owner-only, per the rules above.
unsafe impl Sync for RootTable {}
// SAFETY: as above.
unsafe impl Send for RootTable {}

impl Default for RootTable {
    fn default() -> Self {
        Self::new()
    }
}

impl RootTable {
    /// An empty table. (Not `const`: loom's cells are not.)
    pub fn new() -> RootTable {
        RootTable { head: AtomicPtr::new(core::ptr::null_mut()), free: Cell::new(0) }
    }

    /// Registers `obj` as a root and returns its slot.
    ///
    /// # Safety
    /// Called by the table's owner (`me`) inside a critical section.
    #[inline]
    pub unsafe fn register(&self, me: &Owner, obj: usize) -> &'static AtomicUsize {
        let mut head = self.free.get();
        if head == 0 {
            // SAFETY: forwarded contract.
            head = unsafe { self.refill(me) };
        }
        // SAFETY: free-list entries are slots of our live segments.
        let slot: &'static AtomicUsize = unsafe { &*(head as *const AtomicUsize) };
        let link = slot.load(Ordering::Relaxed);
        #[cfg(loom)]
        assert!(link & 1 == 1, "root table: free slot {head:#x} holds {link:#x}, not a free-list link");
        self.free.set(link & !1);
        slot.store(obj, Ordering::Release);
        slot
    }

    #[cold]
    unsafe fn refill(&self, me: &Owner) -> usize {
        // Only the owner (us, per the contract) writes `head` outside
        // `hand_over`, so a Relaxed load sees our own last store.
        let head = self.head.load(Ordering::Relaxed);
        for seg in walk(head) {
            let h = seg.remote.swap(0, Ordering::Acquire);
            if h != 0 {
                return h;
            }
        }
        let spare = take_spare();
        let s = if spare.is_null() {
            Segment::alloc(me, head)
        } else {
            // SAFETY: a spare is in no table, so nobody else touches it.
            unsafe { Segment::reuse(spare, me, head) }
        };
        // Publish the initialised segment to concurrent scans.
        self.head.store(s, Ordering::Release);
        // SAFETY: just allocated.
        unsafe { &(*s).slots[0] as *const AtomicUsize as usize }
    }

    /// The segments of the table, newest first.
    fn segments(&self) -> impl Iterator<Item = &'static Segment> {
        walk(self.head.load(Ordering::Acquire))
    }

    /// Frees a root slot, from any thread, inside or outside a critical
    /// section.
    #[inline]
    pub fn unregister(slot: &'static AtomicUsize) {
        let seg = Segment::of(slot);
        let me = current_owner();
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
        // Announced before the slot looks free: a reclaim that sees the
        // tagged slot (Acquire) then sees this count too and keeps the
        // segment until the push is done.
        seg.pending.fetch_add(1, Ordering::Relaxed);
        let mut h = seg.remote.load(Ordering::Relaxed);
        loop {
            slot.store(h | 1, Ordering::Release);
            super::sync::probe_remote_free();
            match seg.remote.compare_exchange_weak(h, addr, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => h = now,
            }
        }
        seg.pending.fetch_sub(1, Ordering::Release);
    }

    /// Calls `f` with every object held by a root in this table.
    ///
    /// Runs beside the owner and beside other threads freeing slots: each
    /// slot is read once, atomically, and a tagged free-list link is skipped.
    /// A root registered after its slot was read is not reported; roots
    /// registered while the barrier is on are shaded by their registrar, so
    /// a concurrent root scan misses nothing (the root hand-over case,
    /// docs/design.md "Concurrent marking").
    ///
    /// # Safety
    /// No `hand_over` of this table runs meanwhile (the caller holds the
    /// registry lock, or the world is stopped, or is the owner).
    pub unsafe fn for_each_root(&self, mut f: impl FnMut(usize)) {
        self.segments().for_each(|seg| {
            for slot in seg.slots.iter() {
                let v = slot.load(Ordering::Acquire);
                if v & 1 == 0 && v != 0 {
                    f(v);
                }
            }
        })
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
    pub fn hand_over(&self, to: &RootTable, new_owner: &Owner) {
        // Retag first, so that frees racing with us go to remote lists.
        let first = self.head.swap(core::ptr::null_mut(), Ordering::AcqRel);
        let mut last = None;
        for seg in walk(first) {
            seg.owner.store(new_owner as *const Owner as *mut Owner, Ordering::Release);
            last = Some(seg);
        }
        let mut head = self.free.replace(0);
        while head != 0 {
            // SAFETY: free-list entries are slots in our segments.
            let slot: &AtomicUsize = unsafe { &*(head as *const AtomicUsize) };
            let next = slot.load(Ordering::Relaxed) & !1;
            Self::push_remote(Segment::of(slot), slot);
            head = next;
        }
        let Some(last) = last else { return };
        // Splice our list in front of `to`'s. The caller holds the fallback
        // lock, which guards `to`'s owner-side state, and the registry lock,
        // which keeps scans away while `next` changes.
        last.next.store(to.head.load(Ordering::Acquire), Ordering::Release);
        to.head.store(first, Ordering::Release);
    }

    /// Moves every segment of this table whose slots are all free to the
    /// spare list, for `refill` to reuse; returns how many moved. The
    /// table's locally free slots first go to their segments' remote lists
    /// (as in `hand_over`), so no free list links a segment that leaves.
    ///
    /// # Safety
    /// The world is stopped (no critical section runs, so no spare is
    /// popped), the caller holds the registry lock (no scan runs) and owns
    /// the table's owner-side state (for the fallback table: its lock).
    /// Other threads may still free slots: into segments that hold a live
    /// root, or whose `pending` count shows a free in progress; both stay.
    pub unsafe fn reclaim_free_segments(&self) -> usize {
        let Some(spares) = super::sync::spare_segments() else {
            return 0;
        };
        let mut head = self.free.replace(0);
        while head != 0 {
            // SAFETY: free-list entries are slots in our segments.
            let slot: &AtomicUsize = unsafe { &*(head as *const AtomicUsize) };
            let next = slot.load(Ordering::Relaxed) & !1;
            Self::push_remote(Segment::of(slot), slot);
            head = next;
        }
        let mut moved = 0;
        let mut prev: Option<&Segment> = None;
        let mut cur = self.head.load(Ordering::Acquire);
        while !cur.is_null() {
            // SAFETY: segments are never freed.
            let seg = unsafe { &*cur };
            let next = seg.next.load(Ordering::Acquire);
            if seg.all_free() {
                match prev {
                    None => self.head.store(next, Ordering::Release),
                    Some(p) => p.next.store(next, Ordering::Release),
                }
                // No pop runs during the stop, so a plain push suffices.
                seg.next.store(spares.load(Ordering::Relaxed) as *mut Segment, Ordering::Relaxed);
                spares.store(cur as usize, Ordering::Release);
                moved += 1;
            } else {
                prev = Some(seg);
            }
            cur = next;
        }
        moved
    }

    /// Number of segments in the table (for tests).
    ///
    /// # Safety
    /// As `for_each_root`.
    #[cfg(any(feature = "bench-internals", loom))]
    pub unsafe fn segment_count(&self) -> usize {
        self.segments().count()
    }
}

/// What [`RootTable::audit`] found (loom models only).
#[cfg(loom)]
#[derive(Debug)]
pub struct Audit {
    /// The objects held by roots, sorted.
    pub roots: Vec<usize>,
    /// Free slots (local free list and remote lists).
    pub free: usize,
    /// Segments in the table.
    pub segments: usize,
}

#[cfg(loom)]
impl RootTable {
    /// Checks the table's invariants and returns its contents: every slot of
    /// every segment is either a root (untagged, non-zero) or on exactly one
    /// free list (local or its segment's remote list) holding a tagged link;
    /// free lists link only slots of this table; every segment is owned by
    /// `owner`. Panics on a violation: a slot on two lists (handed out
    /// twice), a lost free, a cycle, a stray link.
    ///
    /// # Safety
    /// Quiescent table: no thread touches it meanwhile.
    pub unsafe fn audit(&self, owner: &Owner) -> Audit {
        // SAFETY: the table is quiescent per the contract.
        let segs: Vec<*mut Segment> = self.segments().map(|s| s as *const Segment as *mut Segment).collect();
        let is_slot = |a: usize| {
            segs.iter().any(|&s| {
                // SAFETY: segments are never freed (until `free_segments`).
                let base = unsafe { &(*s).slots } as *const [AtomicUsize; SEGMENT_SLOTS] as usize;
                let sz = core::mem::size_of::<AtomicUsize>();
                a >= base && a < base + SEGMENT_SLOTS * sz && (a - base) % sz == 0
            })
        };
        let mut free = std::collections::HashSet::new();
        let mut walk = |mut h: usize, list: &str| {
            while h != 0 {
                assert!(is_slot(h), "root table: {list} links {h:#x}, not a slot of this table");
                assert!(free.insert(h), "root table: slot {h:#x} is on the free lists twice ({list})");
                // SAFETY: checked to be one of our slots.
                let v = unsafe { &*(h as *const AtomicUsize) }.load(Ordering::Acquire);
                assert!(v & 1 == 1, "root table: slot {h:#x} on the {list} holds {v:#x}, not a tagged link");
                h = v & !1;
            }
        };
        walk(self.free.get(), "local free list");
        for &s in segs.iter() {
            // SAFETY: as above.
            let seg = unsafe { &*s };
            walk(seg.remote.load(Ordering::Acquire), "remote list");
            assert!(core::ptr::eq(seg.owner.load(Ordering::Acquire), owner), "root table: segment with a wrong owner");
        }
        let mut roots = Vec::new();
        for &s in segs.iter() {
            // SAFETY: as above.
            for slot in unsafe { &(*s).slots }.iter() {
                let a = slot as *const AtomicUsize as usize;
                let v = slot.load(Ordering::Acquire);
                if v & 1 == 1 {
                    assert!(free.contains(&a), "root table: slot {a:#x} is free but on no list (a lost free)");
                } else {
                    assert!(v != 0, "root table: slot {a:#x} holds 0");
                    assert!(!free.contains(&a), "root table: root slot {a:#x} is also on a free list");
                    roots.push(v);
                }
            }
        }
        roots.sort_unstable();
        Audit { roots, free: free.len(), segments: segs.len() }
    }

    /// Frees the table's segments at the end of a model iteration (the
    /// crate never frees segments).
    ///
    /// # Safety
    /// No slot of the table is used afterwards.
    pub unsafe fn free_segments(&self) {
        // SAFETY: per the contract nobody else uses the table.
        let segs: Vec<*mut Segment> = self.segments().map(|s| s as *const Segment as *mut Segment).collect();
        self.head.store(core::ptr::null_mut(), Ordering::Relaxed);
        for s in segs {
            // SAFETY: allocated by `Segment::alloc` with this layout; the
            // fields need no drop.
            unsafe { std::alloc::dealloc(s as *mut u8, Layout::new::<Segment>()) };
        }
        self.free.set(0);
    }
}
