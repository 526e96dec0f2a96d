//! The per-mutator span cache (Go: `mcache`).
//!
//! One span per span class; allocation takes slots from it without locks.
//! Without the scheduler each mutator thread owns one cache (like a TLAB);
//! under `gc-runtime` a P will own it.
//!
//! Invariants:
//! * every cached span has `sweepgen == sg + 3` (swept, then cached) — or
//!   `sg + 1` if it was cached before the current sweep phase began;
//! * the cache is touched only by its owner inside a GC critical section, or
//!   by the collector while the world is stopped;
//! * `heap_live` counts a cached span's free slots as used from the moment it
//!   is cached (Go's pessimistic accounting) until it is uncached.

use super::central::SpanPtr;
use super::size_class::{SpanClass, NUM_SPAN_CLASSES};
use super::span::Span;
use super::Heap;
use core::ptr;
use core::sync::atomic::Ordering;

/// A mutator's span cache (Go: `mcache`).
pub struct MCache {
    alloc: [*const Span; NUM_SPAN_CLASSES],
    /// Each cached span's `alloc_count` when it was cached or last counted
    /// (Go: `mspan.allocCountBeforeCache`): small allocations are counted
    /// per span, not per object.
    counted: [u32; NUM_SPAN_CLASSES],
    /// Objects allocated and counted since the last flush (Go:
    /// `mcache.smallAllocCount`, plus large objects).
    pub allocs: u64,
    /// Bytes of those objects.
    pub alloc_bytes: u64,
}

// SAFETY: the cache is handed between threads only under the critical-section
// and stop-the-world rules in the module doc.
unsafe impl Send for MCache {}

impl Default for MCache {
    fn default() -> Self {
        MCache { alloc: [ptr::null(); NUM_SPAN_CLASSES], counted: [0; NUM_SPAN_CLASSES], allocs: 0, alloc_bytes: 0 }
    }
}

impl MCache {
    /// Allocates one slot of span class `spc` (Go: `nextFreeFast` then
    /// `mcache.nextFree`). `black` says whether the collector allocates
    /// black (it is marking): a span cached now then opens its
    /// allocated-black range.
    ///
    /// # Safety
    /// The caller is the cache's owner inside a GC critical section, and
    /// `black` is the collector's current answer (it cannot change inside
    /// the section).
    #[inline]
    pub(crate) unsafe fn alloc(&mut self, spc: SpanClass, black: bool) -> (usize, &'static Span) {
        let s = self.alloc[spc.index()];
        if !s.is_null() {
            // SAFETY: a cached span is live and owned by this cache.
            let span = unsafe { &*s };
            // SAFETY: the cache owns `span`.
            if let Some(a) = unsafe { span.next_free_fast() } {
                return (a, span);
            }
        }
        // SAFETY: forwarded contract.
        unsafe { self.alloc_slow(super::heap(), spc, black) }
    }

    /// True if `p` was allocated black by this cache in the current mark:
    /// it lies in the allocated-black range of the span cached for class
    /// `spc` (`span.rs`). Exact, since only the owner changes that range.
    ///
    /// # Safety
    /// The caller owns the cache; `p` is an object address.
    #[inline(always)]
    pub unsafe fn is_own_black(&self, spc: SpanClass, p: usize) -> bool {
        let s = self.alloc[spc.index()];
        if s.is_null() {
            return false;
        }
        // SAFETY: a cached span is live and owned by this cache.
        let span = unsafe { &*s };
        p >= span.base && p < span.limit() && span.is_black_alloc(span.obj_index(p))
    }

    #[inline(never)]
    unsafe fn alloc_slow(&mut self, heap: &Heap, spc: SpanClass, black: bool) -> (usize, &'static Span) {
        loop {
            let s = self.alloc[spc.index()];
            if !s.is_null() {
                // SAFETY: a cached span is live and owned by this cache.
                let span = unsafe { &*s };
                // SAFETY: the cache owns `span`.
                if let Some(a) = unsafe { span.next_free() } {
                    return (a, span);
                }
            }
            // SAFETY: forwarded contract.
            unsafe { self.refill(heap, spc, black) };
        }
    }

    /// Replaces the cached span of `spc` by one with free slots
    /// (Go: `mcache.refill`).
    unsafe fn refill(&mut self, heap: &Heap, spc: SpanClass, black: bool) {
        // SAFETY: forwarded contract.
        unsafe { self.uncache(heap, spc.index()) };
        let s = heap.cache_span(spc).get();
        if black {
            // SAFETY: the span was just handed to this cache, inside its
            // owner's critical section, so the phase cannot change.
            unsafe { s.start_black() };
        }
        // SAFETY: the span was just handed to this cache.
        let used = unsafe { s.alloc_count() };
        heap.heap_live.fetch_add(((s.nelems - used) * s.elemsize) as isize, Ordering::Relaxed);
        self.alloc[spc.index()] = s;
        self.counted[spc.index()] = used as u32;
    }

    /// Adds the objects allocated from the cached span at `i` since it was
    /// last counted to `allocs`.
    ///
    /// # Safety
    /// The caller owns the cache, and slot `i` holds a span.
    unsafe fn count(&mut self, i: usize) {
        // SAFETY: per the contract the span is live and ours.
        let span = unsafe { &*self.alloc[i] };
        // SAFETY: as above.
        let now = unsafe { span.alloc_count() } as u32;
        let n = (now - self.counted[i]) as u64;
        self.counted[i] = now;
        self.allocs += n;
        self.alloc_bytes += n * span.elemsize as u64;
    }

    /// Counts every cached span's new allocations into `allocs` (for
    /// `mem_stats` and mark termination).
    ///
    /// # Safety
    /// The caller owns the cache (the world is stopped, or its owner).
    pub unsafe fn count_all(&mut self) {
        for i in 0..NUM_SPAN_CLASSES {
            if !self.alloc[i].is_null() {
                // SAFETY: a cached span; forwarded contract.
                unsafe { self.count(i) };
            }
        }
    }

    /// Opens the allocated-black range of every cached span, when marking
    /// starts (`span.rs`).
    ///
    /// # Safety
    /// The world is stopped and the phase has just become `Mark`.
    pub unsafe fn start_black(&self) {
        for &s in self.alloc.iter().filter(|s| !s.is_null()) {
            // SAFETY: a cached span is live; the stopped world owns it.
            unsafe { (*s).start_black() };
        }
    }

    /// Returns every cached span to its central list (Go: `releaseAll`), as
    /// done for every mutator at mark termination and at thread exit.
    ///
    /// # Safety
    /// The caller owns the cache (owner in a critical section, or the world
    /// is stopped).
    pub unsafe fn release_all(&mut self, heap: &Heap) {
        for i in 0..NUM_SPAN_CLASSES {
            // SAFETY: forwarded contract.
            unsafe { self.uncache(heap, i) };
        }
    }

    /// Counts the allocations of the span cached at `i`, if any, and
    /// returns it to its central list (Go: `mcentral.uncacheSpan`).
    ///
    /// # Safety
    /// The caller owns the cache.
    unsafe fn uncache(&mut self, heap: &Heap, i: usize) {
        let s = self.alloc[i];
        if s.is_null() {
            return;
        }
        // SAFETY: a cached span, owned by this cache until uncached.
        unsafe {
            self.count(i);
            heap.uncache_span(SpanPtr(s));
        }
        self.alloc[i] = ptr::null();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::heap;
    use crate::heap::size_class::size_to_class;

    /// The barrier's filter (`Member::store_in_section`) skips shading only
    /// what `is_own_black` reports: exactly the slots this cache allocated
    /// after the range opened, in the span it holds for that class; not
    /// those allocated before, not other spans' objects, and nothing once
    /// the span has left the cache.
    #[test]
    fn own_black_is_exactly_the_black_range() {
        let spc = SpanClass::headerless(size_to_class(48), false);
        let other = SpanClass::headerless(size_to_class(64), false);
        let mut c = MCache::default();
        // SAFETY: the cache is this test's own, used by this thread only.
        unsafe {
            let o = c.alloc(other, false).0;
            let before: Vec<usize> = (0..40).map(|_| c.alloc(spc, false).0).collect();
            c.start_black();
            let after: Vec<usize> = (0..40).map(|_| c.alloc(spc, false).0).collect();
            for &p in &before {
                assert!(!c.is_own_black(spc, p), "allocated before marking: white");
            }
            for &p in &after {
                // (The span may have been refilled in between; a refill
                // outside a mark opens no range, so check per span.)
                let span = &*c.alloc[spc.index()];
                let cached = p >= span.base && p < span.limit();
                assert_eq!(c.is_own_black(spc, p), cached, "allocated black from the cached span");
            }
            assert!(!c.is_own_black(spc, o), "an object of another class's span");
            assert!(!c.is_own_black(other, before[0]), "looked up under the wrong class");
            c.release_all(heap());
            assert!(!c.is_own_black(spc, *after.last().unwrap()), "the span has left the cache");
        }
    }
}
