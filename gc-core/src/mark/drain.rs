//! Shading, scanning and draining (Go: `greyobject`, `scanobject`, `gcDrain`).
//!
//! A [`Marker`] owns a [`GcWork`] and counts what it marked. `shade` greys an
//! object (sets its mark bit; queues its slot if its span is scannable);
//! `scan` blackens a grey object by shading everything it points to, using
//! the type's exact pointer map when there is one and `Trace::trace`
//! otherwise; `drain` repeats until no grey object is left locally or in the
//! global list.
//!
//! Objects in headerless scan spans are not queued one by one: their span
//! is, and scanned as a batch (`span_scan.rs`).
//!
//! Invariants: an entry popped from a work buffer is either the slot of an
//! allocated object with a header whose mark bit is set, or a headerless
//! scan span tagged `SPAN_ENTRY` that the popping marker now owns; every
//! non-null, untagged word
//! visited is the address of an allocated object (Member words in the heap
//! are adopted: never pending roots).

use super::span_scan::SPAN_ENTRY;
use super::work::{GcWork, WorkLists};
use crate::heap::arena::span_of;
use crate::heap::object::{self, header, info_of};
use crate::heap::span::Span;
use crate::trace::tracer::SlotVisitor;
use crate::trace::Tracer;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The global grey lists of the running cycle.
pub static WORK: WorkLists = WorkLists::new();

/// A marking context: a work cache plus its accounting.
pub struct Marker<'a> {
    /// The local work cache.
    pub gcw: GcWork,
    lists: &'a WorkLists,
    /// Bytes of objects this marker marked (Go: `gcWork.bytesMarked`).
    pub bytes_marked: u64,
    /// Objects this marker marked.
    pub objects_marked: u64,
    /// Bytes of objects this marker scanned (Go: `heapScanWork`).
    pub scan_work: u64,
    /// The span of the last object shaded or scanned, and its bounds:
    /// objects allocated together point to each other, so the next one is
    /// often in it and the arena-index walk is skipped.
    last: (*const Span, usize, usize),
}

impl<'a> Marker<'a> {
    /// A marker feeding `lists`.
    pub fn new(lists: &'a WorkLists) -> Marker<'a> {
        Marker {
            gcw: GcWork::default(),
            lists,
            bytes_marked: 0,
            objects_marked: 0,
            scan_work: 0,
            last: (core::ptr::null(), 0, 0),
        }
    }

    /// A marker that adopts an existing work cache.
    pub fn with_work(lists: &'a WorkLists, gcw: GcWork) -> Marker<'a> {
        Marker { gcw, ..Marker::new(lists) }
    }

    /// Greys the object at `p` (Go: `greyobject`).
    #[inline]
    pub fn shade(&mut self, p: usize) {
        let s = self.span_of(p);
        if s.is_null() {
            debug_assert!(false, "shade of {p:#x}, which is not in the GC heap");
            return;
        }
        // SAFETY: the index maps heap pages to live spans.
        let span = unsafe { &*s };
        let idx = span.obj_index(p);
        if !self.mark(span, idx) {
            return;
        }
        if span.class.noscan() {
            return;
        }
        if span.class.is_headerless() {
            // Span-batched: queue the span, once for all its grey objects.
            if span.try_own() {
                self.gcw.put(self.lists, s as usize | SPAN_ENTRY);
            }
            return;
        }
        self.gcw.put(self.lists, span.slot_addr(idx));
    }

    /// Sets the mark bit of slot `idx` of `span` and counts the object;
    /// false if it was marked already, allocated black this cycle, or
    /// another marker won the race to mark it.
    #[inline(always)]
    pub(super) fn mark(&mut self, span: &Span, idx: usize) -> bool {
        if span.mark_bits.get(idx) || span.is_black_alloc(idx) || span.mark_bits.fetch_set(idx) {
            return false;
        }
        self.bytes_marked += span.elemsize as u64;
        self.objects_marked += 1;
        true
    }

    /// The span holding `p` (null outside the heap), through the one-span
    /// cache `last`.
    #[inline]
    fn span_of(&mut self, p: usize) -> *const Span {
        let (last, lo, hi) = self.last;
        if p >= lo && p < hi {
            return last;
        }
        let s = span_of(p);
        if !s.is_null() {
            // SAFETY: the index maps heap pages to live spans.
            let span = unsafe { &*s };
            self.last = (s, span.base, span.limit());
        }
        s
    }

    /// Blackens the grey object in `slot` (Go: `scanobject`), or, for an
    /// entry tagged `SPAN_ENTRY`, every grey object of that span.
    #[inline]
    pub fn scan(&mut self, slot: usize) {
        if slot & SPAN_ENTRY != 0 {
            self.scan_span((slot & !SPAN_ENTRY) as *const Span);
            return;
        }
        // SAFETY: work entries other than span entries are slots of marked
        // objects with headers (headerless objects are queued by span), and
        // a marked object stays allocated until the next sweep.
        let info = unsafe { info_of(header(slot).load(Ordering::Acquire)) };
        let p = object::object_of(slot, info);
        let len = object::len_of(p, info);
        self.scan_work += (info.size * len) as u64;
        if info.map_exact {
            for i in 0..len {
                let (p, map) = (p + i * info.size, info.ptr_map);
                self.scan_words(p, map as u64);
                self.scan_words(p + 64 * 8, (map >> 64) as u64);
            }
        } else {
            // SAFETY: `p` is an allocated, marked object of this type, alive for the cycle.
            unsafe { object::trace_or_abort(info, p, len, &mut Tracer::new(self), "marking") };
        }
    }

    /// Shades the targets of the words of `p` whose bits are set in `bits`
    /// (bit `i`: the word at `p + 8i`), in 64-bit steps: one half of an
    /// exact pointer map.
    #[inline]
    fn scan_words(&mut self, p: usize, bits: u64) {
        self.for_each_target(p, bits, |m, w| m.shade(w));
    }

    /// Calls `f` with every non-null heap pointer among the words of `p`
    /// whose bits are set in `bits` (bit `i`: the word at `p + 8i`): a
    /// headerless object's pointer bits, or one half of an exact map.
    #[inline(always)]
    pub(super) fn for_each_target(&mut self, p: usize, mut bits: u64, mut f: impl FnMut(&mut Self, usize)) {
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // SAFETY: pointer bits and exact pointer maps list word offsets
            // of `Member` slots, which are `AtomicUsize`s inside the object.
            let w = unsafe { &*((p + i * 8) as *const AtomicUsize) }.load(Ordering::Acquire);
            if w != 0 && w & 1 == 0 {
                f(self, w);
            }
        }
    }

    /// Scans grey objects until none is left locally or globally (Go:
    /// `gcDrain` without preemption checks: marking runs inside the pause).
    pub fn drain(&mut self) {
        let mut ring = PrefetchRing::new();
        self.drain_with(&mut ring, &mut |_, _| false);
    }

    /// Scans until no grey object is left locally or globally, or `stop`
    /// returns true (checked after each object with the count of objects
    /// scanned by this call and this marker's total scan work).
    ///
    /// Objects pass through a small FIFO between the LIFO work buffer and
    /// the scan, and are prefetched on entry, so the cache miss on an
    /// object's header overlaps the scanning of the few before it (the same
    /// idea as Go's `prefetch` in `greyobject` and the Green Tea design
    /// notes on latency hiding).
    pub fn drain_with<F: FnMut(u32, u64) -> bool>(&mut self, ring: &mut PrefetchRing, stop: &mut F) {
        let mut n = 0u32;
        loop {
            while !ring.is_full() {
                match self.gcw.try_get(self.lists) {
                    Some(slot) => ring.push(slot),
                    None => break,
                }
            }
            let Some(slot) = ring.pop() else { return };
            self.scan(slot);
            n += 1;
            if stop(n, self.scan_work) {
                // Put back what the ring holds so no grey object is lost.
                while let Some(s) = ring.pop() {
                    self.gcw.put(self.lists, s);
                }
                return;
            }
        }
    }
}

impl SlotVisitor for Marker<'_> {
    #[inline]
    fn visit(&mut self, slot: &AtomicUsize) {
        let w = slot.load(Ordering::Acquire);
        if w != 0 && w & 1 == 0 {
            self.shade(w);
        }
    }
}

/// Objects scanned ahead of time: the distance a prefetch gets to complete.
const PREFETCH_DISTANCE: usize = 16;

/// A FIFO of grey slots whose cache lines are being prefetched.
pub struct PrefetchRing {
    slots: [usize; PREFETCH_DISTANCE],
    head: usize,
    len: usize,
}

impl Default for PrefetchRing {
    fn default() -> Self {
        Self::new()
    }
}

impl PrefetchRing {
    /// An empty ring.
    pub const fn new() -> Self {
        PrefetchRing { slots: [0; PREFETCH_DISTANCE], head: 0, len: 0 }
    }

    #[inline]
    fn is_full(&self) -> bool {
        self.len == PREFETCH_DISTANCE
    }

    #[inline]
    fn push(&mut self, slot: usize) {
        prefetch(slot);
        self.slots[(self.head + self.len) % PREFETCH_DISTANCE] = slot;
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let s = self.slots[self.head];
        self.head = (self.head + 1) % PREFETCH_DISTANCE;
        self.len -= 1;
        Some(s)
    }
}

#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch(addr as *const i8, core::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
