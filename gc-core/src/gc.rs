//! `Gc<T>`: the application's pointer, a rooted handle.
//!
//! A `Gc<T>` holds a root slot (in its creating thread's root table) and the
//! object's address. While it exists anywhere outside the heap its target is
//! a root. `Clone` registers another root; `Drop` frees the slot, from
//! whichever thread drops it. `Gc` is deliberately not `Trace`: a root stored
//! in the heap would keep cycles alive forever, so the compiler sends users to
//! [`Member`](crate::Member).
//!
//! Invariants:
//! * `Gc::new` allocates, moves the value in, adopts the value's pending
//!   `Member`s and registers the root inside **one** critical section
//!   (adoption reads the phase after allocating, since allocating may be
//!   what started a cycle).
//! * A root registered while the barrier is on is shaded, so a handle moved
//!   to an already-scanned thread and cloned there keeps its object alive
//!   (the root hand-over case, docs/design.md "Concurrent marking").
//! * Objects are `Send + Sync + 'static`, so `Gc<T>` is always `Send + Sync`.

use crate::alloc::{mallocgc, mallocgc_class};
use crate::cycle;
use crate::heap::object::{self, HasTypeInfo, TypeInfo};
use crate::mark;
use crate::mutator::{self, Mutator};
use crate::pin::{Guard, Ref};
use crate::roots::RootTable;
use crate::trace::tracer::SlotVisitor;
use crate::trace::{TraceLayout, Tracer};
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Types a `Gc` can point to: sized `T: TraceLayout`, `str` and `[T]`.
///
/// # Safety
/// Implemented only in this crate; `INFO` describes the type's layout and
/// `from_object` rebuilds a pointer to it from the object's address.
pub unsafe trait GcPointee: Send + Sync + 'static {
    /// The type descriptor stored in each object's header.
    #[doc(hidden)]
    const INFO: &'static TypeInfo;
    /// The span class of an object of this type (`LARGE` if it varies or is
    /// large); lets the barrier recognise a target in the writer's own
    /// allocated-black range.
    #[doc(hidden)]
    const SPAN_CLASS: u8;
    /// The typed pointer to the object at `p`.
    #[doc(hidden)]
    fn from_object(p: usize) -> *const Self;
}

// SAFETY: `INFO` is the sized descriptor of `T`.
unsafe impl<T: TraceLayout + Send + Sync + 'static> GcPointee for T {
    const INFO: &'static TypeInfo = <T as HasTypeInfo>::INFO;
    const SPAN_CLASS: u8 = <T as HasTypeInfo>::SPAN_CLASS;
    #[inline(always)]
    fn from_object(p: usize) -> *const T {
        p as *const T
    }
}

// SAFETY: slices keep their length at `p - 8` (object.rs).
unsafe impl<T: TraceLayout + Send + Sync + 'static> GcPointee for [T] {
    const INFO: &'static TypeInfo = <T as HasTypeInfo>::SLICE_INFO;
    const SPAN_CLASS: u8 = object::LARGE;
    #[inline(always)]
    fn from_object(p: usize) -> *const [T] {
        // SAFETY: the length word sits just below every slice object.
        let len = unsafe { *((p - 8) as *const usize) };
        core::ptr::slice_from_raw_parts(p as *const T, len)
    }
}

// SAFETY: a `str` object is a `[u8]` object holding UTF-8.
unsafe impl GcPointee for str {
    const INFO: &'static TypeInfo = <u8 as HasTypeInfo>::SLICE_INFO;
    const SPAN_CLASS: u8 = object::LARGE;
    #[inline(always)]
    fn from_object(p: usize) -> *const str {
        <[u8] as GcPointee>::from_object(p) as *const str
    }
}

/// A garbage-collected pointer: a rooted handle to an object in the GC heap.
///
/// ```
/// use gc_core::{Gc, Member};
/// # use gc_core::{Trace, TraceLayout, Tracer, PointerMap};
/// # struct Node { next: Member<Node> }
/// # unsafe impl Trace for Node { fn trace(&self, t: &mut Tracer<'_>) { self.next.trace(t) } }
/// # unsafe impl TraceLayout for Node { const NO_POINTERS: bool = false; const POINTER_MAP: PointerMap = PointerMap::SINGLE; }
/// let a = Gc::new(Node { next: Member::null() });
/// let b = Gc::new(Node { next: Member::new(&a) });
/// a.next.set(&b); // a cycle
/// assert!(b.next.ptr_eq(&a));
/// drop((a, b));
/// gc_core::collect(); // the cycle is freed
/// ```
pub struct Gc<T: ?Sized + GcPointee> {
    slot: NonNull<AtomicUsize>,
    obj: NonNull<u8>,
    _t: PhantomData<T>,
}

// SAFETY: objects are Send + Sync (GcPointee's bound), and a root slot may be
// freed from any thread.
unsafe impl<T: ?Sized + GcPointee> Send for Gc<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + GcPointee> Sync for Gc<T> {}

/// Registers a root for `p` in `m`'s table and shades `p` while the barrier
/// is on. Caller: `m`'s owner inside a critical section.
#[inline(always)]
pub(crate) unsafe fn root(m: &Mutator, p: usize) -> &'static AtomicUsize {
    // SAFETY: forwarded contract.
    let slot = unsafe { m.roots.register(m, p) };
    if mark::barrier_enabled() {
        // SAFETY: inside our critical section.
        unsafe { m.local() }.wbuf.record_root(p);
    }
    slot
}

/// `root` for an object allocated in this same critical section: no shade.
/// While the barrier is on every new object is allocated black (by its
/// span's range, or its mark bit if large), and the phase cannot change
/// inside a section, so a root for it adds no white edge (row 40).
///
/// # Safety
/// As `root`; `p` was allocated in the caller's current critical section.
#[inline(always)]
unsafe fn root_new(m: &Mutator, p: usize) -> &'static AtomicUsize {
    // SAFETY: forwarded contract.
    unsafe { m.roots.register(m, p) }
}

/// Converts a value's pending `Member`s into heap pointers (adoption).
struct Adopt<'a> {
    m: &'a Mutator,
}

impl SlotVisitor for Adopt<'_> {
    #[inline(always)]
    fn visit(&mut self, slot: &AtomicUsize) {
        let w = slot.load(Ordering::Relaxed);
        if w & 1 == 0 {
            return;
        }
        let root = w & !1;
        if root == 0 {
            slot.store(0, Ordering::Release);
            return;
        }
        // SAFETY: a pending Member's word tags the address of its root slot.
        let rs: &'static AtomicUsize = unsafe { &*(root as *const AtomicUsize) };
        let target = rs.load(Ordering::Acquire);
        slot.store(target, Ordering::Release);
        RootTable::unregister(rs);
        if mark::barrier_enabled() {
            // An adoption inserts an edge: shade it (Dijkstra half).
            // SAFETY: inside our critical section.
            unsafe { self.m.local() }.wbuf.record_one(target);
        }
    }
}

/// Adopts every pending `Member` inside the object at `p`.
///
/// # Safety
/// `m` is the caller's mutator, inside a critical section; `p` is a new
/// object of type `info` not yet visible to anyone else.
#[inline(always)]
unsafe fn adopt(m: &Mutator, p: usize, info: &'static TypeInfo) {
    if info.no_pointers {
        return;
    }
    if info.map_exact && !info.is_slice {
        // Fixed layout: the pointer map lists every Member word, and no user
        // code runs.
        let mut bits = info.ptr_map;
        let mut a = Adopt { m };
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // SAFETY: an exact map lists the offsets of `Member` words of
            // this new object.
            a.visit(unsafe { &*((p + i * 8) as *const AtomicUsize) });
        }
        return;
    }
    let len = object::len_of(p, info);
    // SAFETY: `p` is an initialised object of this type.
    unsafe { object::trace_or_abort(info, p, len, &mut Tracer::new(&mut Adopt { m }), "adoption") };
}

/// Allocates an object, moves `value` into it and adopts its pending
/// `Member`s; returns its address, unrooted.
///
/// # Safety
/// `m` is the caller's mutator inside a critical section; the object must be
/// rooted, linked or held by a pinned `Ref` before the section ends.
#[inline(always)]
pub(crate) unsafe fn new_object<T: TraceLayout + Send + Sync + 'static>(m: &Mutator, value: T) -> usize {
    let info = <T as GcPointee>::INFO;
    // SAFETY: per the contract.
    unsafe {
        let slot = mallocgc_class(
            m,
            info,
            <T as HasTypeInfo>::SPAN_CLASS,
            core::mem::size_of::<T>(),
            <T as HasTypeInfo>::SLOT_WORDS,
        );
        let p = object::object_of(slot, info);
        core::ptr::write(p as *mut T, value);
        object::init_header(slot, info, 1);
        if !T::NO_POINTERS {
            adopt(m, p, info);
        }
        p
    }
}

impl<T: TraceLayout + Send + Sync + 'static> Gc<T> {
    /// Moves `value` into the GC heap (Go: `new(T)` / `mallocgc`).
    ///
    /// Any `Member` inside `value` built with `Member::new`/`Member::from` is
    /// adopted: its temporary root is released and the object now holds the
    /// pointer. May run a collection first if the heap reached its goal.
    #[inline]
    pub fn new(value: T) -> Gc<T> {
        let (slot, p) = mutator::with_critical(move |m| {
            // SAFETY: we are `m`'s owner inside its critical section, and
            // the new object is rooted before the section ends.
            unsafe {
                let p = new_object(m, value);
                (root_new(m, p), p)
            }
        });
        cycle::maybe_collect();
        // SAFETY: root slots and object addresses are never null.
        unsafe { Gc::from_parts(slot, p) }
    }
}

impl<T: TraceLayout + Send + Sync + 'static> Gc<[T]> {
    /// Moves the elements of `v` into a new GC slice object.
    pub fn from_vec(mut v: Vec<T>) -> Gc<[T]> {
        let info = <[T] as GcPointee>::INFO;
        let len = v.len();
        let bytes = core::mem::size_of::<T>().checked_mul(len).expect("slice too large");
        let (slot, p) = mutator::with_critical(|m| {
            // SAFETY: we are `m`'s owner inside its critical section; the
            // elements are moved bitwise and `v` forgets them below.
            unsafe {
                let slot = mallocgc(m, info, bytes);
                let p = object::object_of(slot, info);
                core::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut T, len);
                v.set_len(0);
                object::init_header(slot, info, len);
                if !T::NO_POINTERS {
                    adopt(m, p, info);
                }
                (root_new(m, p), p)
            }
        });
        drop(v);
        cycle::maybe_collect();
        // SAFETY: non-null slot and object.
        unsafe { Gc::from_parts(slot, p) }
    }
}

/// Allocates a zeroed array object of `cap` null `Member<T>`s and returns its
/// address (GcVec's backing store).
///
/// # Safety
/// `m` is the caller's mutator inside a critical section, and `cap` words
/// fit in `isize::MAX` bytes (checked by the caller before the section,
/// `vec.rs`). The object is unrooted: the caller must make it reachable
/// before leaving the section.
pub(crate) unsafe fn new_member_array<T: ?Sized + GcPointee>(m: &Mutator, cap: usize) -> usize {
    let info = <crate::Member<T> as HasTypeInfo>::SLICE_INFO;
    // SAFETY: per the contract.
    unsafe {
        let slot = mallocgc(m, info, cap * core::mem::size_of::<usize>());
        let p = object::object_of(slot, info);
        core::ptr::write_bytes(p as *mut u8, 0, cap * core::mem::size_of::<usize>());
        object::init_header(slot, info, cap);
        p
    }
}

impl<T: TraceLayout + Send + Sync + 'static> From<Vec<T>> for Gc<[T]> {
    fn from(v: Vec<T>) -> Self {
        Gc::from_vec(v)
    }
}

impl<T: TraceLayout + Send + Sync + 'static> FromIterator<T> for Gc<[T]> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Gc::from_vec(iter.into_iter().collect())
    }
}

impl From<&str> for Gc<str> {
    fn from(s: &str) -> Gc<str> {
        let info = <str as GcPointee>::INFO;
        let (slot, p) = mutator::with_critical(|m| {
            // SAFETY: owner inside the section; the bytes are copied into
            // the new object.
            unsafe {
                let slot = mallocgc(m, info, s.len());
                let p = object::object_of(slot, info);
                core::ptr::copy_nonoverlapping(s.as_ptr(), p as *mut u8, s.len());
                object::init_header(slot, info, s.len());
                (root_new(m, p), p)
            }
        });
        cycle::maybe_collect();
        // SAFETY: non-null slot and object.
        unsafe { Gc::from_parts(slot, p) }
    }
}

impl From<String> for Gc<str> {
    fn from(s: String) -> Gc<str> {
        Gc::from(s.as_str())
    }
}

impl<T: ?Sized + GcPointee> Gc<T> {
    #[inline(always)]
    pub(crate) unsafe fn from_parts(slot: &'static AtomicUsize, p: usize) -> Gc<T> {
        Gc {
            slot: NonNull::from(slot),
            // SAFETY: object addresses are never 0.
            obj: unsafe { NonNull::new_unchecked(p as *mut u8) },
            _t: PhantomData,
        }
    }

    /// The object's address (Go: the pointer value). Stable: objects never
    /// move.
    #[inline(always)]
    pub fn as_ptr(this: &Self) -> *const T {
        T::from_object(this.obj.as_ptr() as usize)
    }

    #[inline(always)]
    pub(crate) fn addr(&self) -> usize {
        self.obj.as_ptr() as usize
    }

    /// True if both handles point to the same object.
    #[inline]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.obj == b.obj
    }

    /// An unrooted reference to the object, valid for the pin `g` (see
    /// [`pin`](crate::pin)); it stays valid after this handle is dropped.
    #[inline(always)]
    pub fn to_ref<'g>(&self, g: &'g Guard) -> Ref<'g, T> {
        // SAFETY: the handle keeps the object alive now, and the pin keeps
        // it alive until the end of 'g.
        unsafe { Ref::from_addr(self.addr(), g) }
    }

    /// Consumes the handle, returning its root slot without freeing it.
    #[inline(always)]
    pub(crate) fn into_slot(self) -> &'static AtomicUsize {
        let s = self.slot;
        core::mem::forget(self);
        // SAFETY: root slots live in never-freed segments.
        unsafe { &*s.as_ptr() }
    }
}

impl<T: ?Sized + GcPointee> core::ops::Deref for Gc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the root keeps the object alive for as long as this handle
        // exists, and objects never move; no `&mut` to a heap object exists.
        unsafe { &*T::from_object(self.addr()) }
    }
}

impl<T: ?Sized + GcPointee> Clone for Gc<T> {
    #[inline]
    fn clone(&self) -> Self {
        let p = self.addr();
        // SAFETY: owner inside its section.
        let slot = mutator::with_critical(|m| unsafe { root(m, p) });
        // SAFETY: non-null slot and object.
        unsafe { Gc::from_parts(slot, p) }
    }
}

impl<T: ?Sized + GcPointee> Drop for Gc<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: our slot, in a never-freed segment.
        RootTable::unregister(unsafe { &*self.slot.as_ptr() });
    }
}

impl<T: ?Sized + GcPointee + fmt::Debug> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + GcPointee + fmt::Display> fmt::Display for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + GcPointee> fmt::Pointer for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.obj, f)
    }
}

impl<T: ?Sized + GcPointee + PartialEq> PartialEq for Gc<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}
impl<T: ?Sized + GcPointee + Eq> Eq for Gc<T> {}

/// Compares the objects, not their addresses, as `Rc` and `Arc` do; so a
/// `Gc<T>` with `T: Ord` can key a `BTreeMap` or be sorted. (For identity,
/// compare [`Gc::as_ptr`].)
impl<T: ?Sized + GcPointee + PartialOrd> PartialOrd for Gc<T> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        (**self).partial_cmp(&**other)
    }
    #[inline]
    fn lt(&self, other: &Self) -> bool {
        **self < **other
    }
    #[inline]
    fn le(&self, other: &Self) -> bool {
        **self <= **other
    }
    #[inline]
    fn gt(&self, other: &Self) -> bool {
        **self > **other
    }
    #[inline]
    fn ge(&self, other: &Self) -> bool {
        **self >= **other
    }
}

/// By value, like [`PartialOrd`].
impl<T: ?Sized + GcPointee + Ord> Ord for Gc<T> {
    #[inline]
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + GcPointee + core::hash::Hash> core::hash::Hash for Gc<T> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl<T: ?Sized + GcPointee> AsRef<T> for Gc<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized + GcPointee> core::borrow::Borrow<T> for Gc<T> {
    fn borrow(&self) -> &T {
        self
    }
}
