//! Central span lists, one per span class (Go: `mcentral`).
//!
//! Four lists per class: partial/full × swept/unswept. Which physical list is
//! "swept" flips each cycle with the parity of `sweepgen / 2`, exactly as Go's
//! spanSets do, so that bumping `sweepgen` by 2 at mark termination turns
//! every swept list into an unswept one in O(1).
//!
//! Invariants (under the lock):
//! * a span in a swept list has `sweepgen == sg`; in an unswept list,
//!   `sweepgen == sg - 2`;
//! * a span is in at most one list, and in none while a cache holds it
//!   (`sg + 3`) or a sweeper owns it (`sg - 1`);
//! * partial lists hold only spans with a free slot as of their last sweep.

use super::span::Span;
use parking_lot::Mutex;

/// A raw span pointer stored in lists; spans are owned by the heap.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SpanPtr(pub *const Span);
// SAFETY: spans are shared between threads under the ownership rules of
// `span.rs`; the pointer itself is just an address.
unsafe impl Send for SpanPtr {}

impl SpanPtr {
    /// The span.
    #[inline]
    pub fn get(&self) -> &'static Span {
        // SAFETY: list entries point to live spans; a span is freed only after
        // it has been removed from every list.
        unsafe { &*self.0 }
    }
}

#[derive(Default)]
pub(crate) struct Lists {
    partial: [Vec<SpanPtr>; 2],
    full: [Vec<SpanPtr>; 2],
}

/// One span class's lists (Go: `mcentral`).
#[derive(Default)]
pub struct Central {
    lists: Mutex<Lists>,
}

#[inline]
fn swept(sg: u32) -> usize {
    ((sg / 2) % 2) as usize
}
#[inline]
fn unswept(sg: u32) -> usize {
    1 - swept(sg)
}

impl Central {
    /// Pops a swept span with free slots.
    pub fn pop_partial_swept(&self, sg: u32) -> Option<SpanPtr> {
        self.lists.lock().partial[swept(sg)].pop()
    }

    /// Pops an unswept span, partial ones first.
    pub fn pop_unswept(&self, sg: u32) -> Option<SpanPtr> {
        let mut l = self.lists.lock();
        let u = unswept(sg);
        l.partial[u].pop().or_else(|| l.full[u].pop())
    }

    /// Pushes a swept span (`sweepgen == sg`) to the partial or full list.
    pub fn push_swept(&self, sg: u32, s: SpanPtr, has_free: bool) {
        let mut l = self.lists.lock();
        if has_free {
            l.partial[swept(sg)].push(s);
        } else {
            l.full[swept(sg)].push(s);
        }
    }

    /// True if any unswept span remains.
    pub fn has_unswept(&self, sg: u32) -> bool {
        let l = self.lists.lock();
        let u = unswept(sg);
        !l.partial[u].is_empty() || !l.full[u].is_empty()
    }

    /// Calls `f` on every span in every list (world stopped or lock-held use).
    pub fn for_each(&self, mut f: impl FnMut(SpanPtr)) {
        let l = self.lists.lock();
        for list in l.partial.iter().chain(l.full.iter()) {
            for &s in list {
                f(s);
            }
        }
    }
}
