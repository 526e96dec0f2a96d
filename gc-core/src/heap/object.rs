//! Object layout: headerless objects, the one-word header, and the per-type
//! descriptor.
//!
//! **Headerless** objects are what Go does for every small object: types of
//! at most 512 bytes, aligned to at most 8, with no drop glue and either no
//! pointers or an exact pointer map (the common case: nodes made of
//! `Member`s and plain data). They sit at the start of their slot and cost
//! nothing but their size; they live in span classes of their own, whose scan
//! spans keep one pointer bit per word, written at allocation (Go's heap
//! bits). Nothing else needs their type: they are never dropped and never
//! traced by `trace`.
//!
//! Every other object's slot starts with a header word: a pointer to the
//! type's static [`TypeInfo`] with two state bits in its low bits. Slice
//! objects (`Gc<[T]>`, `Gc<str>`) keep their length in the next word, just
//! below the object. These are the objects that need drop glue, a `trace`
//! fallback or a length per object, which span-level bits cannot give
//! (docs/design.md records the cost: 8 bytes per such object).
//!
//! Placement: the object sits at `p = slot + header_offset(align, is_slice)`:
//! 8 for types aligned to at most 8, 16 for 16-aligned types and for slices,
//! and the type's alignment above that (such objects take a large span, page
//! aligned). Slots of 16-aligned objects come from classes whose size is a
//! multiple of 16, so `p` keeps the type's alignment. Because the header is at
//! the slot start, the marker and the sweeper, which know slots, find it
//! without knowing the type; user-facing code, which knows `p`, reads a
//! slice's length at `p - 8`.
//!
//! Header state (owner: the sweeper that holds the span):
//! * `LIVE` (0): ordinary object;
//! * `DROPPING`: found dead, its drop glue is queued or running; the slot stays
//!   allocated;
//! * `DEAD`: drop glue has run; the next sweep frees the slot without reading
//!   the object again.

use crate::trace::{Trace, TraceLayout, Tracer};
use core::mem::{align_of, size_of};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Header state bit: drop glue queued or running.
pub const DROPPING: usize = 1;
/// Header state bit: drop glue done, slot free at next sweep.
pub const DEAD: usize = 2;
const STATE_MASK: usize = 3;

/// Everything the collector needs to know about a type at run time
/// (Go: `_type` with its `GCData` pointer mask).
pub struct TypeInfo {
    /// `size_of` of the type, or of one element for slices.
    pub size: usize,
    /// `align_of` of the type (or element).
    pub align: usize,
    /// Go's `noscan`: never scanned.
    pub no_pointers: bool,
    /// Exact pointer bitmap (words), valid if `map_exact`.
    pub ptr_map: u128,
    /// True if `ptr_map` is exact; otherwise `trace` is called.
    pub map_exact: bool,
    /// True for slice objects (length at `p - 16`).
    pub is_slice: bool,
    /// True if objects of this type go without a header (see the module
    /// doc and [`is_headerless`]).
    pub headerless: bool,
    /// Visits the object's pointer slots; `len` is the element count for
    /// slices and 1 otherwise.
    pub trace: unsafe fn(p: usize, len: usize, tracer: &mut Tracer<'_>),
    /// Drop glue; `None` if the type needs none.
    pub drop: Option<unsafe fn(p: usize, len: usize)>,
    /// Type name, for diagnostics.
    pub name: fn() -> &'static str,
}

unsafe fn trace_one<T: Trace>(p: usize, _len: usize, t: &mut Tracer<'_>) {
    // SAFETY: the caller passes the address of a live `T`.
    unsafe { (*(p as *const T)).trace(t) }
}

unsafe fn trace_slice<T: Trace>(p: usize, len: usize, t: &mut Tracer<'_>) {
    // SAFETY: the caller passes the address and length of a live `[T]`.
    let s = unsafe { core::slice::from_raw_parts(p as *const T, len) };
    for v in s {
        v.trace(t);
    }
}

unsafe fn drop_one<T>(p: usize, _len: usize) {
    // SAFETY: the caller passes a dead `T` that is dropped exactly once.
    unsafe { core::ptr::drop_in_place(p as *mut T) }
}

unsafe fn drop_slice<T>(p: usize, len: usize) {
    // SAFETY: as `drop_one`, for `len` elements.
    unsafe { core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(p as *mut T, len)) }
}

/// Gives each type its static [`TypeInfo`].
pub trait HasTypeInfo {
    /// Descriptor of a single object of this type.
    const INFO: &'static TypeInfo;
    /// Descriptor of a slice object `[Self]`.
    const SLICE_INFO: &'static TypeInfo;
    /// The span class of a single object of this type, or `LARGE` if it needs
    /// a span of its own; computed at compile time so `Gc::new` does no size
    /// class lookup.
    const SPAN_CLASS: u8;
    /// Words per slot of a headerless object of this type (0 otherwise), so
    /// that writing its pointer bits needs no division at run time.
    const SLOT_WORDS: usize;
}

/// `HasTypeInfo::SPAN_CLASS` for objects that take a large span.
pub const LARGE: u8 = u8::MAX;

/// True if objects of a type with this layout go without a header: at most
/// 512 bytes (Go's `minSizeForMallocHeader`), aligned to at most 8, not
/// zero-sized (a zero-sized object needs its header for a distinct
/// address), no drop glue, and either no pointers or an exact pointer map.
pub const fn is_headerless(
    size: usize,
    align: usize,
    is_slice: bool,
    no_pointers: bool,
    map_exact: bool,
    needs_drop: bool,
) -> bool {
    !is_slice
        && !needs_drop
        && size > 0
        && size <= crate::heap::size_class::MAX_HEADERLESS_SIZE
        && align <= 8
        && (no_pointers || map_exact)
}

/// The span class for an object of this layout, or `LARGE`.
pub const fn span_class_for(payload: usize, align: usize, is_slice: bool, no_pointers: bool, headerless: bool) -> u8 {
    use crate::heap::size_class::{size_to_class, SpanClass, MAX_SMALL_SIZE};
    if headerless {
        return SpanClass::headerless(size_to_class(payload), no_pointers).0;
    }
    let size = slot_size(payload, align, is_slice);
    if size <= MAX_SMALL_SIZE && align <= 16 {
        SpanClass::new(size_to_class(size), no_pointers).0
    } else {
        LARGE
    }
}

/// `align`, if a GC object may have it: at most a page (8192 bytes), the
/// alignment of a large span. A type aligned above that fails to compile
/// where it is first allocated (a post-monomorphisation error in `INFO`),
/// never at run time inside a critical section.
pub const fn checked_align(align: usize) -> usize {
    assert!(
        align <= crate::heap::size_class::PAGE_SIZE,
        "tricolor-gc: a GC object's alignment must be at most a page (8192 bytes); box the over-aligned value"
    );
    align
}

impl<T: TraceLayout> HasTypeInfo for T {
    const SPAN_CLASS: u8 =
        span_class_for(size_of::<T>(), align_of::<T>(), false, T::NO_POINTERS, Self::INFO.headerless);
    const SLOT_WORDS: usize = if Self::INFO.headerless {
        crate::heap::size_class::class_size(crate::heap::size_class::SpanClass(Self::SPAN_CLASS).size_class()) / 8
    } else {
        0
    };
    const INFO: &'static TypeInfo = &TypeInfo {
        size: size_of::<T>(),
        align: checked_align(align_of::<T>()),
        no_pointers: T::NO_POINTERS,
        ptr_map: T::POINTER_MAP.bits(),
        map_exact: T::POINTER_MAP.is_exact(),
        is_slice: false,
        headerless: is_headerless(
            size_of::<T>(),
            align_of::<T>(),
            false,
            T::NO_POINTERS,
            T::POINTER_MAP.is_exact(),
            T::NEEDS_DROP,
        ),
        trace: trace_one::<T>,
        drop: if T::NEEDS_DROP { Some(drop_one::<T>) } else { None },
        name: core::any::type_name::<T>,
    };
    const SLICE_INFO: &'static TypeInfo = &TypeInfo {
        size: size_of::<T>(),
        align: checked_align(align_of::<T>()),
        no_pointers: T::NO_POINTERS,
        ptr_map: T::POINTER_MAP.bits(),
        map_exact: T::POINTER_MAP.is_exact(),
        is_slice: true,
        headerless: false,
        trace: trace_slice::<T>,
        drop: if T::NEEDS_DROP { Some(drop_slice::<T>) } else { None },
        name: core::any::type_name::<[T]>,
    };
}

/// Calls the type's `trace` on the object at `p` (`len` elements), aborting
/// with a message if it panics: an unwind would leave the collector step
/// named by `during` half done, on a thread others may be waiting for.
///
/// # Safety
/// `p` is an initialised object of type `info` that stays allocated for the
/// call.
pub unsafe fn trace_or_abort(info: &'static TypeInfo, p: usize, len: usize, tracer: &mut Tracer<'_>, during: &str) {
    struct AbortOnUnwind<'a>(&'static TypeInfo, &'a str);
    impl Drop for AbortOnUnwind<'_> {
        fn drop(&mut self) {
            eprintln!(
                "tricolor-gc: fatal error: panic in Trace::trace during {} of {}; the heap cannot be left half done",
                self.1,
                (self.0.name)()
            );
            std::process::abort();
        }
    }
    let guard = AbortOnUnwind(info, during);
    // SAFETY: forwarded contract.
    unsafe { (info.trace)(p, len, tracer) };
    core::mem::forget(guard);
}

/// Offset of the object from its slot start.
#[inline]
pub const fn header_offset(align: usize, is_slice: bool) -> usize {
    let min = if is_slice { 16 } else { 8 };
    if align <= min {
        min
    } else if align <= 16 {
        16
    } else {
        align
    }
}

/// Bytes a slot must have for an object of `payload` bytes and `align`, and
/// the alignment the slot size must keep.
///
/// The payload counts as at least one byte: the object address
/// `slot + header_offset` must lie inside its own slot, or a zero-sized
/// object or an empty slice would have the address of its neighbour's slot
/// (or of the byte after the span), and the marker, which finds slots from
/// addresses, would mark the neighbour and free this one while rooted
/// (docs/pointer-model.md row 41).
#[inline]
pub const fn slot_size(payload: usize, align: usize, is_slice: bool) -> usize {
    let total = header_offset(align, is_slice) + if payload == 0 { 1 } else { payload };
    if align > 8 {
        (total + 15) & !15
    } else {
        total
    }
}

/// The header word of the object whose slot starts at `slot`.
///
/// # Safety
/// `slot` is the start of an allocated slot in a span with headers (not a
/// headerless class), which stays allocated while the reference is used.
#[inline]
pub(crate) unsafe fn header(slot: usize) -> &'static AtomicUsize {
    // SAFETY: per the contract, the slot starts with its header word.
    unsafe { &*(slot as *const AtomicUsize) }
}

/// Decodes a header word into its type, ignoring state bits.
///
/// # Safety
/// `word` was read from the header of an initialised object (`init_header`
/// wrote it), so it holds a pointer to a static `TypeInfo`.
#[inline]
pub(crate) unsafe fn info_of(word: usize) -> &'static TypeInfo {
    // SAFETY: per the contract.
    unsafe { &*((word & !STATE_MASK) as *const TypeInfo) }
}

/// The object address for a slot holding an object of type `info`.
#[inline]
pub fn object_of(slot: usize, info: &TypeInfo) -> usize {
    if info.headerless {
        slot
    } else {
        slot + header_offset(info.align, info.is_slice)
    }
}

/// The header state bits of a header word.
#[inline]
pub fn state_of(word: usize) -> usize {
    word & STATE_MASK
}

/// Element count of the object at `p` (1 for non-slices).
#[inline]
pub fn len_of(p: usize, info: &TypeInfo) -> usize {
    if info.is_slice {
        // SAFETY: slice objects keep their length at `p - 8`.
        unsafe { *((p - 8) as *const usize) }
    } else {
        1
    }
}

/// Writes the header (and length) of a new object in `slot`; nothing for a
/// headerless object (its pointer bits were written by the allocator).
///
/// # Safety
/// `slot` is a freshly allocated slot large enough for `info`'s layout.
#[inline]
pub unsafe fn init_header(slot: usize, info: &'static TypeInfo, len: usize) {
    if info.headerless {
        return;
    }
    // SAFETY: per the contract the header words belong to this new object.
    unsafe {
        if info.is_slice {
            *((object_of(slot, info) - 8) as *mut usize) = len;
        }
        (*(slot as *const AtomicUsize)).store(info as *const TypeInfo as usize, Ordering::Release);
    }
}
