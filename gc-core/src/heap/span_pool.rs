//! Recycled span descriptors (Go: `mheap.spanalloc`, a `fixalloc` of
//! `mspan`s, and the reuse of `gcBits` arenas).
//!
//! A span whose objects all died goes back to the page heap, but its
//! descriptor — the `Span` and its five bitmaps, six heap blocks — is kept
//! here, per span class, and handed to the next span of that class, so a
//! program that fills and empties spans at a high rate (every short-lived
//! data structure does) does not pay `malloc` and `free` for each.
//!
//! Invariants:
//! * A pooled descriptor is in no list, cache or arena index entry; its
//!   alloc, mark, scan and check bits are all clear (it was swept with no
//!   live object) and its specials and drop flags are reset on reuse.
//! * Only small span classes are pooled: a large span's size varies, and
//!   so would its bitmaps. A large span's descriptor is kept on a retired
//!   list until the next stop of the world (`free_retired`): a thread in a
//!   critical section may have looked it up before the span was freed and
//!   still read its `sweepgen` (`sweep::ensure_swept`), and no section spans
//!   a stop. A pooled small descriptor is never freed, so such a read is
//!   always of live memory.
//! * Like Go's `fixalloc`, the pool never shrinks: it holds at most as
//!   many descriptors of a class as there were spans of that class at the
//!   peak (about 3 % of those spans' bytes for the smallest classes, less
//!   for the others). A cap of a few dozen was tried: one cycle frees
//!   hundreds of spans at once, so a small cap recycled almost nothing.

use super::size_class::{SpanClass, NUM_SPAN_CLASSES};
use super::span::Span;
use parking_lot::Mutex;

/// Retired large descriptors taken at a stop; dropping frees them.
#[allow(clippy::vec_box)]
pub struct Retired(#[allow(dead_code)] Vec<Box<Span>>);

/// Free span descriptors, one list per span class.
pub struct SpanPool {
    // Boxed: a descriptor leaves as the `Box` whose address becomes the
    // span's identity in the arena index and the central lists.
    #[allow(clippy::vec_box)]
    free: Mutex<Vec<Vec<Box<Span>>>>,
    /// Large descriptors freed since the last stop.
    #[allow(clippy::vec_box)]
    retired: Mutex<Vec<Box<Span>>>,
}

impl Default for SpanPool {
    fn default() -> Self {
        SpanPool {
            free: Mutex::new((0..NUM_SPAN_CLASSES).map(|_| Vec::new()).collect()),
            retired: Mutex::new(Vec::new()),
        }
    }
}

impl SpanPool {
    /// A descriptor for a new span of `npages` at `base`: a pooled one of
    /// class `spc` if there is one, else a fresh one.
    pub fn take(&self, base: usize, npages: usize, spc: SpanClass, sweepgen: u32) -> Box<Span> {
        if spc.size_class() != 0 {
            if let Some(mut s) = self.free.lock()[spc.index()].pop() {
                debug_assert_eq!(s.npages, npages);
                s.reuse(base, sweepgen);
                return s;
            }
        }
        Box::new(Span::new(base, npages, spc, sweepgen))
    }

    /// Takes back the descriptor of a freed span (a large one is dropped).
    pub fn give(&self, s: Box<Span>) {
        if s.class.size_class() != 0 {
            self.free.lock()[s.class.index()].push(s);
        } else {
            self.retired.lock().push(s);
        }
    }

    /// Takes the retired large descriptors (to be dropped by the caller).
    /// The caller guarantees no critical section runs (the world is
    /// stopped).
    pub fn take_retired(&self) -> Retired {
        Retired(core::mem::take(&mut *self.retired.lock()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::size_class::{size_to_class, PAGE_SIZE};
    use core::sync::atomic::Ordering;

    /// A freed descriptor comes back for the next span of its class, at the
    /// new address and with fresh allocation state; other classes and
    /// large spans get new ones.
    #[test]
    fn reuses_descriptors_per_class_with_fresh_state() {
        let pool = SpanPool::default();
        let class = SpanClass::new(size_to_class(16), false);
        let s = pool.take(1 << 20, 1, class, 4);
        // SAFETY: the span is ours alone.
        let first = unsafe { s.next_free() }.unwrap();
        assert_eq!(first, 1 << 20);
        // SAFETY: as above.
        unsafe { s.next_free() }.unwrap();
        s.has_drops.store(true, Ordering::Relaxed);
        s.black_from.store(3, Ordering::Relaxed);
        let addr = &*s as *const Span;
        pool.give(s);

        let other = pool.take(2 << 20, 1, SpanClass::new(size_to_class(32), false), 6);
        assert_ne!(&*other as *const Span, addr, "a descriptor crossed span classes");

        let again = pool.take(3 << 20, 1, class, 6);
        assert_eq!(&*again as *const Span, addr, "the freed descriptor was not reused");
        assert_eq!((again.base, again.limit()), (3 << 20, (3 << 20) + PAGE_SIZE));
        // SAFETY: as above.
        assert_eq!(unsafe { again.next_free() }, Some(3 << 20), "allocation state not reset");
        assert!(!again.has_drops.load(Ordering::Relaxed));
        assert_eq!(again.black_from.load(Ordering::Relaxed), crate::heap::span::NO_BLACK);
        assert_eq!(again.sweepgen.load(Ordering::Relaxed), 6);

        let large = SpanClass::new(0, false);
        pool.give(pool.take(4 << 20, 2, large, 6));
        assert!(pool.free.lock()[large.index()].is_empty(), "a large descriptor was pooled");
    }
}
