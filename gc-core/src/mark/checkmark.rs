//! Checkmark verification (Go: `GODEBUG=gccheckmark=1`, mcheckmark.go).
//!
//! After marking, with the world still stopped, a second, independent and
//! deliberately simple traversal walks the graph from the roots with its own
//! bitmap and checks that every object it reaches carries a mark bit. A
//! reachable but unmarked object is exactly the bug that would free a live
//! object, so finding one aborts with its address and type.
//!
//! Invariant: runs only with the world stopped, after the mark phase and
//! before sweeping; leaves every check bit clear when it returns.

use crate::heap::arena::span_of;
use crate::heap::object::{self, header, info_of};
use crate::heap::Heap;
use crate::trace::tracer::SlotVisitor;
use crate::trace::Tracer;
use core::sync::atomic::{AtomicUsize, Ordering};

struct Check {
    stack: Vec<usize>,
    checked: u64,
}

impl Check {
    fn reach(&mut self, p: usize) {
        let s = span_of(p);
        assert!(!s.is_null(), "checkmark: pointer {p:#x} is not in the GC heap");
        // SAFETY: live spans only (reachable objects are allocated).
        let span = unsafe { &*s };
        let idx = span.obj_index(p);
        if span.check_bits.set(idx) {
            return;
        }
        self.checked += 1;
        if !span.mark_bits.get(idx) {
            let what = if span.class.is_headerless() {
                format!("a headerless object of {} bytes", span.elemsize)
            } else {
                // SAFETY: `p` is reachable, so its slot is allocated and, in a
                // span with headers, starts with its header.
                (unsafe { info_of(header(span.slot_addr(idx)).load(Ordering::Acquire)) }.name)().to_string()
            };
            eprintln!(
                "tricolor-gc: fatal error: checkmark found a reachable object that was not marked: {p:#x} ({what})"
            );
            std::process::abort();
        }
        if !span.class.noscan() {
            self.stack.push(span.slot_addr(idx));
        }
    }
}

impl SlotVisitor for Check {
    fn visit(&mut self, slot: &AtomicUsize) {
        let w = slot.load(Ordering::Acquire);
        if w != 0 && w & 1 == 0 {
            self.reach(w);
        }
    }
}

/// Verifies the marking from `roots`; returns the number of objects reached.
pub fn verify(heap: &Heap, roots: impl IntoIterator<Item = usize>) -> u64 {
    let mut c = Check { stack: Vec::new(), checked: 0 };
    for r in roots {
        c.reach(r);
    }
    while let Some(slot) = c.stack.pop() {
        // SAFETY: reached objects are in live spans.
        let span = unsafe { &*span_of(slot) };
        if span.class.is_headerless() {
            let mut bits = span.ptr_bits_of(slot);
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // SAFETY: pointer bits mark `Member` words of the object.
                c.visit(unsafe { &*((slot + i * 8) as *const AtomicUsize) });
            }
            continue;
        }
        // SAFETY: a reached object in a span with headers: its slot is
        // allocated and starts with its header.
        let info = unsafe { info_of(header(slot).load(Ordering::Acquire)) };
        let p = object::object_of(slot, info);
        let len = object::len_of(p, info);
        // SAFETY: a reached object is allocated and marked; the world is
        // stopped so it cannot change.
        unsafe { object::trace_or_abort(info, p, len, &mut Tracer::new(&mut c), "checkmark") };
    }
    heap.for_each_span(|s| s.check_bits.clear());
    c.checked
}
