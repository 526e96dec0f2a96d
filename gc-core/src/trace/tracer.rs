//! The visitor handed to [`Trace::trace`](super::Trace::trace).
//!
//! A `Tracer` is an opaque capability: user code can only pass it on to
//! fields' `trace` methods. What happens to each visited slot (shading during
//! marking, adoption of pending `Member`s in `Gc::new`, checkmark
//! verification, tests that collect edges) is chosen by the collector through
//! the crate-private [`SlotVisitor`].
//!
//! Invariant: a `Tracer` is only ever built by the collector, on a thread that
//! is inside a GC critical section or inside a stop-the-world pause, so the
//! slots it visits belong to objects that cannot be freed meanwhile.

use core::sync::atomic::AtomicUsize;

/// What the collector does with one GC pointer slot.
pub(crate) trait SlotVisitor {
    fn visit(&mut self, slot: &AtomicUsize);
}

/// Receives the GC pointer slots of a value; see [`Trace`](super::Trace).
pub struct Tracer<'a> {
    visitor: &'a mut dyn SlotVisitor,
}

impl<'a> Tracer<'a> {
    pub(crate) fn new(visitor: &'a mut dyn SlotVisitor) -> Self {
        Tracer { visitor }
    }

    /// Visits one pointer slot (a `Member`'s word).
    #[inline]
    pub(crate) fn visit_slot(&mut self, slot: &AtomicUsize) {
        self.visitor.visit(slot);
    }
}

impl core::fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Tracer")
    }
}
