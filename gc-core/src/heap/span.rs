//! Spans: runs of pages holding objects of one span class (Go: `mspan`).
//!
//! Allocation state (`freeindex`, `alloc_cache`, `alloc_count`) follows Go's
//! `nextFreeFast`/`nextFreeIndex`: a slot is allocated if its index is below
//! `freeindex` or its alloc bit is set; `alloc_cache` holds the complement of
//! the 64 alloc bits from `freeindex` rounded down to 64, shifted so that bit
//! 0 is slot `freeindex`, and count-trailing-zeros finds the next free slot.
//!
//! Ownership (who may touch the allocation state and alloc bits):
//! * the mutator whose cache holds the span (Go: sweepgen = sg+3), inside a
//!   GC critical section;
//! * the thread that won the sweep CAS (sweepgen sg−2 → sg−1);
//! * the mcentral lock holder while the span sits in a central list;
//! * the collector while the world is stopped.
//!
//! Mark bits are set by markers at any time during mark, and cleared only by
//! the sweeper that owns the span. See `sweep.rs` for the sweepgen protocol.
//!
//! # Black allocation by range
//!
//! Go sets the mark bit of every object allocated during marking
//! (`gcmarknewobject`), a locked instruction per allocation. Here a span
//! cached while marking runs records `black_from`, its `freeindex` when
//! marking began or when it was cached: every slot at or above it that is
//! not in `alloc_bits` was allocated during this mark, so it is black
//! without a bit. Markers test that range when they find a mark bit clear
//! (`is_black_alloc`); the owner turns the range into mark bits, a word at a
//! time, when it uncaches the span (`finish_black`), which every cache does
//! at the latest at mark termination, before anything reads mark bits as
//! liveness. A marker that reads `black_from` stale marks and scans a new
//! object it need not have: extra work, never a lost object.
//!
//! # Span-batched scanning
//!
//! Headerless scan spans are scanned a span at a time (`mark/span_scan.rs`,
//! Go's Green Tea collector): `scan_bits` records which marked slots have
//! been scanned this cycle, and `scan_owner` is held by the one marker
//! that may scan the span (and touch `scan_bits`) at a time. Both are reset
//! with the mark bits by the sweeper; `scan_owner` is clear whenever no
//! mark is running.

use super::bits::Bitmap;
use super::size_class::{class_size, div_magic, SpanClass, PAGE_SIZE};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// `Span::black_from` when no allocated-black range is open.
pub const NO_BLACK: u32 = u32::MAX;

struct AllocState {
    freeindex: usize,
    alloc_cache: u64,
    alloc_count: usize,
}

/// A span (Go: `mspan`).
pub struct Span {
    /// First byte.
    pub base: usize,
    /// Pages in the span.
    pub npages: usize,
    /// Bytes per slot (Go: `elemsize`).
    pub elemsize: usize,
    /// Slots in the span (Go: `nelems`).
    pub nelems: usize,
    /// Size class and noscan bit.
    pub class: SpanClass,
    magic: u32,
    alloc: UnsafeCell<AllocState>,
    /// Bit per slot: allocated as of the last sweep (Go: `allocBits`).
    pub alloc_bits: Bitmap,
    /// Bit per slot: marked this cycle (Go: `gcmarkBits`).
    pub mark_bits: Bitmap,
    /// Bit per slot: reached by the checkmark pass (`GODEBUG=gccheckmark=1`);
    /// empty unless that mode is on (it is fixed for the process), saving 64
    /// bytes per span.
    pub check_bits: Bitmap,
    /// Headerless scan spans only: one bit per 8-byte word of the span, set
    /// for words that hold a `Member` (Go: the heap bits at the end of a
    /// small-object span, `writeHeapBitsSmall`). Written by the allocating
    /// owner before the object is published; read by markers.
    pub ptr_bits: Bitmap,
    /// Headerless scan spans only: bit per slot, scanned this cycle (Go:
    /// the `scans` half of `spanInlineMarkBits`). Touched only by the holder
    /// of `scan_owner`, and by the sweeper.
    pub scan_bits: Bitmap,
    /// Set while one marker owns the span's scanning: the span sits in a
    /// work list, or is being scanned (Go: `spanInlineMarkBits.owned`).
    pub scan_owner: AtomicBool,
    /// While cached during marking: the first slot index of the
    /// allocated-black range (module doc); `NO_BLACK` otherwise. Written by
    /// the owner, read by markers.
    pub black_from: AtomicU32,
    /// Sweep generation (Go: `sweepgen`); see `sweep.rs`.
    pub sweepgen: AtomicU32,
    /// Set when an object with drop glue is allocated here; sticky until the
    /// span is freed. Spans without it are swept without reading headers.
    pub has_drops: AtomicBool,
    /// Set when a weak handle or cleanup is attached to an object here
    /// (Go: `pageSpecials`); sticky until the span is freed.
    pub has_specials: AtomicBool,
}

// SAFETY: the non-atomic allocation state is only touched by the span's
// current owner, as listed in the module doc; everything else is atomic.
unsafe impl Sync for Span {}
// SAFETY: as above.
unsafe impl Send for Span {}

impl Span {
    /// A fresh span of `npages` at `base`; `class.size_class() == 0` means one
    /// large object of `npages * PAGE_SIZE` bytes.
    pub fn new(base: usize, npages: usize, class: SpanClass, sweepgen: u32) -> Span {
        let (elemsize, nelems, magic) = if class.size_class() == 0 {
            (npages * PAGE_SIZE, 1, 0)
        } else {
            let size = class_size(class.size_class());
            (size, npages * PAGE_SIZE / size, div_magic(class.size_class()))
        };
        let span_scanned = class.is_headerless() && !class.noscan();
        Span {
            base,
            npages,
            elemsize,
            nelems,
            class,
            magic,
            alloc: UnsafeCell::new(AllocState { freeindex: 0, alloc_cache: !0, alloc_count: 0 }),
            alloc_bits: Bitmap::new(nelems),
            mark_bits: Bitmap::new(nelems),
            check_bits: Bitmap::new(if crate::env::config().debug.gccheckmark { nelems } else { 0 }),
            ptr_bits: Bitmap::new(if span_scanned { npages * PAGE_SIZE / 8 } else { 0 }),
            scan_bits: Bitmap::new(if span_scanned { nelems } else { 0 }),
            scan_owner: AtomicBool::new(false),
            black_from: AtomicU32::new(NO_BLACK),
            sweepgen: AtomicU32::new(sweepgen),
            has_drops: AtomicBool::new(false),
            has_specials: AtomicBool::new(false),
        }
    }

    /// Index of the slot containing `addr` (Go: `objIndex`/`divideByElemSize`).
    #[inline]
    pub fn obj_index(&self, addr: usize) -> usize {
        let off = addr - self.base;
        if self.magic == 0 {
            0
        } else {
            ((off as u64 * self.magic as u64) >> 32) as usize
        }
    }

    /// Address of slot `i`.
    #[inline]
    pub fn slot_addr(&self, i: usize) -> usize {
        self.base + i * self.elemsize
    }

    /// Records the pointer words of a new headerless object in `slot` (Go:
    /// `heapSetType`): bit `i` of `map` says word `i` holds a `Member`; the
    /// slot's other words are cleared. `n` is the slot size in words
    /// (`elemsize / 8`); known at compile time (`HasTypeInfo::SLOT_WORDS`),
    /// the straddle test folds away when it divides 64.
    ///
    /// Only the span's allocating owner calls this; markers may read the
    /// words meanwhile, and see the bits of other objects unchanged. The
    /// stores are Relaxed: a marker reaches the object only through a
    /// pointer published with Release after this (a field store, a barrier
    /// buffer flushed to a work list), as it does for the object's own
    /// words. A word already holding the right bits (a recycled span of the
    /// same type, the common case) is not written.
    #[inline(always)]
    pub fn set_ptr_bits(&self, slot: usize, map: u64, n: usize) {
        debug_assert_eq!(n, self.elemsize / 8);
        let w0 = (slot - self.base) / 8;
        let (i, off) = (w0 / 64, w0 % 64);
        let mask = if n >= 64 { !0 } else { (1u64 << n) - 1 };
        let bits = map & mask;
        let word = self.ptr_bits.word_ref(i);
        let cur = word.load(Ordering::Relaxed);
        let new = (cur & !(mask << off)) | (bits << off);
        if new != cur {
            word.store(new, Ordering::Relaxed);
        }
        // Slots are n-word aligned in the span, so only a slot size that
        // does not divide 64 words can straddle two bitmap words.
        if 64 % n != 0 && off + n > 64 {
            let hi = off + n - 64;
            let word = self.ptr_bits.word_ref(i + 1);
            let cur = word.load(Ordering::Relaxed);
            let hi_mask = (1u64 << hi) - 1;
            word.store((cur & !hi_mask) | (bits >> (64 - off)), Ordering::Relaxed);
        }
    }

    /// The pointer words of the headerless object in `slot` (bit `i`: word
    /// `i`).
    #[inline]
    pub fn ptr_bits_of(&self, slot: usize) -> u64 {
        let (i, off, n, mask) = self.ptr_bits_at(slot);
        let mut bits = self.ptr_bits.word(i) >> off;
        if off + n > 64 {
            bits |= self.ptr_bits.word(i + 1) << (64 - off);
        }
        bits & mask
    }

    /// Where the pointer bits of the object in `slot` live: bitmap word,
    /// bit offset in it, the slot's word count (at most 64: headerless
    /// objects are at most 512 bytes) and the mask of that many bits.
    #[inline]
    fn ptr_bits_at(&self, slot: usize) -> (usize, usize, usize, u64) {
        let w0 = (slot - self.base) / 8;
        let n = self.elemsize / 8;
        let mask = if n >= 64 { !0 } else { (1u64 << n) - 1 };
        (w0 / 64, w0 % 64, n, mask)
    }

    /// One past the last byte.
    #[inline]
    pub fn limit(&self) -> usize {
        self.base + self.npages * PAGE_SIZE
    }

    /// Takes the next free slot if the cache has one without a refill
    /// (Go: `nextFreeFast`).
    ///
    /// # Safety
    /// The caller owns the span (module doc).
    #[inline]
    pub unsafe fn next_free_fast(&self) -> Option<usize> {
        // SAFETY: the caller owns the span, so no one else touches `alloc`.
        let st = unsafe { &mut *self.alloc.get() };
        let tz = st.alloc_cache.trailing_zeros() as usize;
        if tz < 64 {
            let result = st.freeindex + tz;
            if result < self.nelems {
                let next = result + 1;
                if next % 64 == 0 && next != self.nelems {
                    return None;
                }
                st.alloc_cache = st.alloc_cache.checked_shr(tz as u32 + 1).unwrap_or(0);
                st.freeindex = next;
                st.alloc_count += 1;
                return Some(self.slot_addr(result));
            }
        }
        None
    }

    /// Takes the next free slot, refilling the cache from the alloc bits, or
    /// returns `None` if the span is full (Go: `nextFreeIndex`).
    ///
    /// # Safety
    /// The caller owns the span.
    pub unsafe fn next_free(&self) -> Option<usize> {
        // SAFETY: the caller owns the span.
        let st = unsafe { &mut *self.alloc.get() };
        loop {
            if st.freeindex >= self.nelems {
                return None;
            }
            let tz = st.alloc_cache.trailing_zeros() as usize;
            if tz == 64 {
                // Nothing free in this 64-slot window: move to the next one.
                st.freeindex = (st.freeindex + 64) & !63;
                if st.freeindex >= self.nelems {
                    st.freeindex = self.nelems;
                    return None;
                }
                st.alloc_cache = !self.alloc_bits.word(st.freeindex / 64);
                continue;
            }
            let result = st.freeindex + tz;
            if result >= self.nelems {
                st.freeindex = self.nelems;
                return None;
            }
            let next = result + 1;
            if next % 64 == 0 && next < self.nelems {
                st.alloc_cache = !self.alloc_bits.word(next / 64);
            } else {
                st.alloc_cache = st.alloc_cache.checked_shr(tz as u32 + 1).unwrap_or(0);
            }
            st.freeindex = next;
            st.alloc_count += 1;
            return Some(self.slot_addr(result));
        }
    }

    /// Slots allocated (Go: `allocCount`).
    ///
    /// # Safety
    /// The caller owns the span.
    #[inline]
    pub unsafe fn alloc_count(&self) -> usize {
        // SAFETY: the caller owns the span.
        unsafe { (*self.alloc.get()).alloc_count }
    }

    /// Starts the allocated-black range at the current `freeindex`: every
    /// slot this cache allocates from now on is black.
    ///
    /// # Safety
    /// The caller owns the span, marking is on, and no allocation from the
    /// span happens between the phase change and this call.
    pub unsafe fn start_black(&self) {
        if crate::fault::active(crate::fault::Fault::BlackAlloc) {
            return; // test-only fault: no allocated-black range
        }
        // SAFETY: the caller owns the span.
        let from = unsafe { (*self.alloc.get()).freeindex };
        self.black_from.store(from as u32, Ordering::Release);
    }

    /// True if slot `i` was allocated black in this mark (module doc). Only
    /// meaningful for an allocated slot, which every slot a marker reaches
    /// is.
    #[inline]
    pub fn is_black_alloc(&self, i: usize) -> bool {
        i >= self.black_from.load(Ordering::Acquire) as usize && !self.alloc_bits.get(i)
    }

    /// Ends the allocated-black range: sets the mark bits of the slots
    /// allocated in it and returns their bytes and count (those a marker had
    /// not already marked).
    ///
    /// # Safety
    /// The caller owns the span (its cache is giving it up).
    pub unsafe fn finish_black(&self) -> (u64, u64) {
        let from = self.black_from.load(Ordering::Relaxed);
        if from == NO_BLACK {
            return (0, 0);
        }
        // SAFETY: the caller owns the span.
        let to = unsafe { (*self.alloc.get()).freeindex };
        let from = from as usize;
        self.black_from.store(NO_BLACK, Ordering::Release);
        if from >= to {
            return (0, 0);
        }
        let mut objects = 0u64;
        let mut w = from / 64;
        while w * 64 < to {
            let lo = if w * 64 < from { from % 64 } else { 0 };
            let hi = (to - w * 64).min(64);
            let range = (u64::MAX >> (64 - (hi - lo))) << lo;
            let new = range & !self.alloc_bits.word(w);
            if new != 0 {
                let old = self.mark_bits.or_word(w, new);
                objects += (new & !old).count_ones() as u64;
            }
            w += 1;
        }
        (objects * self.elemsize as u64, objects)
    }

    /// Readies a pooled descriptor (`span_pool.rs`) for a new span of the
    /// same class and size at `base`. Its bitmaps are clear (it was freed
    /// with no live object), except the pointer bits, which are rewritten
    /// for every slot when it is allocated.
    pub fn reuse(&mut self, base: usize, sweepgen: u32) {
        debug_assert!(self.alloc_bits.count() == 0 && self.mark_bits.count() == 0 && self.scan_bits.count() == 0);
        debug_assert!(!*self.scan_owner.get_mut());
        self.base = base;
        *self.alloc.get_mut() = AllocState { freeindex: 0, alloc_cache: !0, alloc_count: 0 };
        *self.black_from.get_mut() = NO_BLACK;
        *self.sweepgen.get_mut() = sweepgen;
        *self.has_drops.get_mut() = false;
        *self.has_specials.get_mut() = false;
    }

    /// Bitmask of slots in word `w` that are below `freeindex`.
    ///
    /// # Safety
    /// The caller owns the span.
    pub unsafe fn below_freeindex_mask(&self, w: usize) -> u64 {
        // SAFETY: per the contract.
        let fi = unsafe { (*self.alloc.get()).freeindex };
        let lo = w * 64;
        if fi <= lo {
            0
        } else if fi >= lo + 64 {
            !0
        } else {
            (1u64 << (fi - lo)) - 1
        }
    }

    /// Mask of the valid slot bits of word `w`.
    pub fn valid_mask(&self, w: usize) -> u64 {
        let lo = w * 64;
        if self.nelems >= lo + 64 {
            !0
        } else {
            (1u64 << (self.nelems - lo)) - 1
        }
    }

    /// Resets the allocation state after a sweep installed new alloc bits
    /// (Go: the tail of `sweepLocked.sweep`).
    ///
    /// # Safety
    /// The caller owns the span.
    pub unsafe fn reset_alloc(&self, alloc_count: usize) {
        // SAFETY: per the contract.
        let st = unsafe { &mut *self.alloc.get() };
        st.freeindex = 0;
        st.alloc_count = alloc_count;
        st.alloc_cache = !self.alloc_bits.word(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::size_class::size_to_class;

    /// The allocated-black range covers exactly the slots allocated after
    /// `start_black` that were free at the last sweep, across bitmap words,
    /// counts only bits no marker had set, and closes the range.
    #[test]
    fn black_range_marks_exactly_the_new_slots() {
        let span = Span::new(1 << 20, 4, SpanClass::new(size_to_class(16), false), 0);
        // Live after the last sweep: every third slot.
        for i in (0..span.nelems).step_by(3) {
            span.alloc_bits.set(i);
        }
        // SAFETY: this test owns the span.
        unsafe { span.reset_alloc(span.alloc_bits.count()) };
        // SAFETY: this test owns the span.
        let take = |n: usize| (0..n).map(|_| unsafe { span.next_free() }.unwrap()).collect::<Vec<_>>();
        // Allocated before marking: white.
        let before = take(50);
        // SAFETY: this test owns the span.
        unsafe { span.start_black() };
        assert!(!span.is_black_alloc(span.obj_index(before[49])));
        let during = take(200); // allocated black, past several words
        let marked_by_marker = span.obj_index(during[7]);
        span.mark_bits.set(marked_by_marker);
        for &a in &during {
            assert!(span.is_black_alloc(span.obj_index(a)));
        }
        // SAFETY: as above.
        let (bytes, objects) = unsafe { span.finish_black() };
        assert_eq!(objects, 199, "one slot was already marked by a marker");
        assert_eq!(bytes, 199 * 16);
        assert_eq!(span.black_from.load(Ordering::Relaxed), NO_BLACK);
        for i in 0..span.nelems {
            let new = during.iter().any(|&a| span.obj_index(a) == i);
            assert_eq!(span.mark_bits.get(i), new, "slot {i}");
        }
        // A second finish is a no-op; a range with no allocation marks nothing.
        // SAFETY: this test owns the span.
        assert_eq!(unsafe { span.finish_black() }, (0, 0));
        // SAFETY: this test owns the span.
        unsafe { span.start_black() };
        // SAFETY: this test owns the span.
        assert_eq!(unsafe { span.finish_black() }, (0, 0));
    }

    /// Pointer bits round-trip for every slot of a span, including objects
    /// whose bits straddle two bitmap words, and writing one object's bits
    /// leaves its neighbours' alone.
    #[test]
    fn ptr_bits_round_trip_and_do_not_disturb_neighbours() {
        for size in [8usize, 16, 24, 48, 80, 208, 512] {
            let class = SpanClass::headerless(size_to_class(size), false);
            let span = Span::new(1 << 20, 1, class, 0);
            let words = span.elemsize / 8;
            let map = |i: usize| -> u64 {
                let m = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5;
                if words >= 64 {
                    m
                } else {
                    m & ((1 << words) - 1)
                }
            };
            for i in 0..span.nelems {
                span.set_ptr_bits(span.slot_addr(i), map(i), words);
            }
            for i in 0..span.nelems {
                assert_eq!(span.ptr_bits_of(span.slot_addr(i)), map(i), "size {size}, slot {i}");
            }
            // Rewrite every other slot with all-pointer bits.
            for i in (0..span.nelems).step_by(2) {
                span.set_ptr_bits(span.slot_addr(i), !0, words);
            }
            for i in 0..span.nelems {
                let want = if i % 2 == 0 {
                    if words >= 64 {
                        !0
                    } else {
                        (1 << words) - 1
                    }
                } else {
                    map(i)
                };
                assert_eq!(span.ptr_bits_of(span.slot_addr(i)), want, "size {size}, slot {i} after rewrite");
            }
        }
    }
}
