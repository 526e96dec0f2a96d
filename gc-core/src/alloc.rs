//! The allocation path (Go: `mallocgc`), the only way objects enter the heap.
//!
//! Small objects (slot ≤ 32 KiB, alignment ≤ 16) come from the mutator's span
//! cache; others get a large span of their own. While the collector is in a
//! mark phase the new object is allocated black (by its span's
//! allocated-black range, `heap/span.rs`, or for a large object its mark
//! bit), so a cycle never frees an object allocated during it, and the
//! mutator pays
//! for the allocation with mark work when it is in assist debt
//! (`mark/assist.rs`).
//!
//! Invariants: runs inside the caller's critical section; the returned slot
//! is allocated, its span's `has_drops` is set if the type has drop glue, and
//! its contents are uninitialised except that no other thread can reach it.

use crate::heap::object::{header_offset, span_class_for, TypeInfo, LARGE};
use crate::heap::size_class::{SpanClass, PAGE_SIZE};
use crate::heap::{heap, span::Span};
use crate::mark;
use crate::mutator::Mutator;
use core::sync::atomic::Ordering;

/// Largest alignment an object may have (a page).
pub const MAX_ALIGN: usize = PAGE_SIZE;

/// Allocates a slot for an object of `info` with `payload` bytes and returns
/// the slot address.
///
/// # Safety
/// `m` is the calling thread's mutator and the caller is inside its critical
/// section.
#[inline]
pub unsafe fn mallocgc(m: &Mutator, info: &'static TypeInfo, payload: usize) -> usize {
    let spc = span_class_for(payload, info.align, info.is_slice, info.no_pointers, info.headerless);
    // SAFETY: forwarded contract.
    unsafe { mallocgc_class(m, info, spc, payload, 0) }
}

/// `mallocgc` with the span class already known (`LARGE` for a large span),
/// as `Gc::new` knows it at compile time, and for a headerless object the
/// words per slot (`slot_words`, 0 if not known).
///
/// # Safety
/// As `mallocgc`; `spc` is the span class `mallocgc` would compute, and
/// `slot_words` is 0 or that class's slot size in words.
#[inline(always)]
pub unsafe fn mallocgc_class(
    m: &Mutator,
    info: &'static TypeInfo,
    spc: u8,
    payload: usize,
    slot_words: usize,
) -> usize {
    // SAFETY: inside our own critical section.
    let local = unsafe { m.local() };
    // Marking or not cannot change inside the section.
    let black = mark::barrier_enabled();
    let (slot, span): (usize, &Span) = if spc != LARGE {
        // SAFETY: the cache is ours inside the section; `black` is current.
        unsafe { local.cache.alloc(SpanClass(spc), black) }
    } else {
        alloc_large(info, payload)
    };
    if info.headerless && !info.no_pointers {
        // Go: `heapSetType` for a small object.
        let n = if slot_words != 0 { slot_words } else { span.elemsize / 8 };
        span.set_ptr_bits(slot, info.ptr_map as u64, n);
    }
    if info.drop.is_some() && !span.has_drops.load(Ordering::Relaxed) {
        span.has_drops.store(true, Ordering::Relaxed);
    }
    if black {
        // Allocate black (Go: `gcmarknewobject`): a small object is black by
        // its span's allocated-black range (`span.rs`); a large one gets its
        // bit. A free slot's mark bit is clear: every span was swept before
        // marking began, and no pointer to a free slot exists.
        if spc == LARGE && !crate::fault::active(crate::fault::Fault::BlackAlloc) {
            span.mark_bits.set_new(0);
            crate::stats::add_marked(span.elemsize as u64, 1);
        }
        // Go: `deductAssistCredit`, then `gcAssistAlloc` when in debt.
        local.assist_bytes -= span.elemsize as i64;
        if local.assist_bytes < 0 && mark::phase() == mark::Phase::Mark {
            mark::assist::assist(&mut local.wbuf, &mut local.assist_bytes);
        }
    }
    if spc == LARGE {
        // Small objects are counted per span when it leaves the cache.
        local.cache.allocs += 1;
        local.cache.alloc_bytes += span.elemsize as u64;
    }
    slot
}

#[cold]
fn alloc_large(info: &'static TypeInfo, payload: usize) -> (usize, &'static Span) {
    if info.align > MAX_ALIGN {
        eprintln!(
            "tricolor-gc: fatal error: {} is aligned to {} bytes; the GC heap supports at most {MAX_ALIGN}",
            (info.name)(),
            info.align
        );
        std::process::abort();
    }
    // At least one payload byte, so the object address is inside its slot
    // (`object::slot_size`).
    let total = header_offset(info.align, info.is_slice)
        .checked_add(payload.max(1))
        .unwrap_or_else(|| crate::heap::out_of_memory((info.name)(), "size overflows usize"));
    heap().alloc_large(total.div_ceil(PAGE_SIZE), info.no_pointers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::object::{slot_size, HasTypeInfo};
    use crate::heap::size_class::{size_to_class, MAX_SMALL_SIZE};
    use crate::trace::TraceLayout;

    fn computed<T: TraceLayout>() -> u8 {
        let info = T::INFO;
        if info.headerless {
            return SpanClass::headerless(size_to_class(info.size), info.no_pointers).0;
        }
        let size = slot_size(info.size, info.align, false);
        if size <= MAX_SMALL_SIZE && info.align <= 16 {
            SpanClass::new(size_to_class(size), info.no_pointers).0
        } else {
            LARGE
        }
    }

    /// The compile-time span class agrees with the run-time computation.
    #[test]
    fn const_span_class_matches_mallocgc() {
        assert_eq!(<u8 as HasTypeInfo>::SPAN_CLASS, computed::<u8>());
        assert_eq!(<() as HasTypeInfo>::SPAN_CLASS, computed::<()>());
        assert_eq!(<u128 as HasTypeInfo>::SPAN_CLASS, computed::<u128>());
        assert_eq!(<[u64; 2] as HasTypeInfo>::SPAN_CLASS, computed::<[u64; 2]>());
        assert_eq!(<[u8; 1017] as HasTypeInfo>::SPAN_CLASS, computed::<[u8; 1017]>());
        assert_eq!(<[u8; 40_000] as HasTypeInfo>::SPAN_CLASS, LARGE);
        assert_eq!(<crate::Member<u64> as HasTypeInfo>::SPAN_CLASS, computed::<crate::Member<u64>>());
        assert_eq!(<String as HasTypeInfo>::SPAN_CLASS, computed::<String>());
        // A zero-sized type gets a slot of its own with room for its
        // header and one byte, so its address lies inside it (row 41).
        let zst = crate::heap::size_class::class_size(SpanClass(<() as HasTypeInfo>::SPAN_CLASS).size_class());
        assert!(zst > header_offset(1, false), "slot of {zst} bytes");
    }

    /// Which layouts go without a header (Go: every object below 512 B; here
    /// those without drop glue, a `trace` fallback or a length).
    #[test]
    fn headerless_layouts() {
        let hl = |c: u8| SpanClass(c).is_headerless();
        assert!(hl(<u64 as HasTypeInfo>::SPAN_CLASS), "plain data");
        assert!(hl(<crate::Member<u64> as HasTypeInfo>::SPAN_CLASS), "exact pointer map");
        assert!(hl(<[u8; 512] as HasTypeInfo>::SPAN_CLASS), "512 B is the limit");
        assert!(!hl(<[u8; 513] as HasTypeInfo>::SPAN_CLASS), "above 512 B");
        assert!(!hl(<String as HasTypeInfo>::SPAN_CLASS), "drop glue needs the header");
        assert!(!hl(<u128 as HasTypeInfo>::SPAN_CLASS), "16-byte alignment");
        assert!(!hl(<() as HasTypeInfo>::SPAN_CLASS), "zero-sized");
        assert!(!hl(<Vec<crate::Member<u64>> as HasTypeInfo>::SPAN_CLASS), "trace fallback");
        // A headerless object fills its class exactly: a 16-byte node takes
        // a 16-byte slot, as in Go.
        assert_eq!(
            crate::heap::size_class::class_size(SpanClass(<[u64; 2] as HasTypeInfo>::SPAN_CLASS).size_class()),
            16
        );
    }
}
