//! `Trace`, `TraceLayout` and `NoGcPointers` for the std types users store in
//! GC objects.
//!
//! Invariants: a pointer-free std type is `NoGcPointers` with an empty map;
//! containers are `NoGcPointers` exactly when their contents are; interior
//! mutability (`Mutex`, `RwLock`, atomics, `AtomicCell`, `OnceLock`) is
//! traceable only over `NoGcPointers` contents, because a pointer written
//! through a lock would bypass the write barrier; so is shared ownership
//! (`Arc<T>`, over `T: NoGcPointers + Send + Sync`), whose contents code
//! outside the heap can reach and change.
//!
//! Every type parameter of every impl here is bounded, including parameters
//! that are not the contents, such as a map's hasher `S` (`NoGcPointers`):
//! an unbounded parameter that is stored in the value could hide a `Member`
//! or a `Gc`. The one exception is `PhantomData<T>`, which stores no `T`.

use super::{NoGcPointers, PointerMap, Trace, TraceLayout, Tracer};
use core::mem::{offset_of, size_of};

/// Pointer-free leaf types: nothing to trace.
macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type holds no `Member`, so visiting nothing is complete.
        unsafe impl Trace for $t {
            #[inline]
            fn trace(&self, _: &mut Tracer<'_>) {}
        }
        // SAFETY: no pointers, so the empty map is exact.
        unsafe impl TraceLayout for $t {
            const NO_POINTERS: bool = true;
            const POINTER_MAP: PointerMap = PointerMap::EMPTY;
        }
        // SAFETY: the type holds no `Member`.
        unsafe impl NoGcPointers for $t {}
    )*};
}

leaf!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    std::time::Duration,
    std::time::Instant,
    std::time::SystemTime,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroUsize,
    core::sync::atomic::AtomicBool,
    core::sync::atomic::AtomicU8,
    core::sync::atomic::AtomicU16,
    core::sync::atomic::AtomicU32,
    core::sync::atomic::AtomicU64,
    core::sync::atomic::AtomicUsize,
    core::sync::atomic::AtomicI8,
    core::sync::atomic::AtomicI16,
    core::sync::atomic::AtomicI32,
    core::sync::atomic::AtomicI64,
    core::sync::atomic::AtomicIsize,
    std::path::PathBuf,
    std::ffi::OsString,
);

// SAFETY: a `&'static str` points to static data, never into the GC heap.
unsafe impl Trace for &'static str {
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: as above, no pointers.
unsafe impl TraceLayout for &'static str {
    const NO_POINTERS: bool = true;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY;
}
// SAFETY: as above.
unsafe impl NoGcPointers for &'static str {}

/// Containers whose contents are owned values of `T`, traced through `iter`.
macro_rules! owning_container {
    ($($t:ident),*) => {$(
        // SAFETY: visits every element, each of which visits its own pointers.
        unsafe impl<T: Trace> Trace for std::collections::$t<T> {
            fn trace(&self, tracer: &mut Tracer<'_>) {
                for v in self.iter() {
                    v.trace(tracer);
                }
            }
        }
        // SAFETY: elements live in separately allocated memory, so no inline
        // pointer word exists: the map is empty when `T` has no pointers and
        // opaque (scan with `trace`) otherwise.
        unsafe impl<T: TraceLayout> TraceLayout for std::collections::$t<T> {
            const NO_POINTERS: bool = T::NO_POINTERS;
            const POINTER_MAP: PointerMap = PointerMap::opaque_unless(T::NO_POINTERS);
        }
        // SAFETY: holds only `T`s, which hold no pointers.
        unsafe impl<T: NoGcPointers> NoGcPointers for std::collections::$t<T> {}
    )*};
}
owning_container!(VecDeque, BTreeSet, LinkedList, BinaryHeap);

// SAFETY: visits every element.
unsafe impl<T: Trace> Trace for Vec<T> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for v in self {
            v.trace(tracer);
        }
    }
}
// SAFETY: elements are out of line; see `owning_container`.
unsafe impl<T: TraceLayout> TraceLayout for Vec<T> {
    const NO_POINTERS: bool = T::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(T::NO_POINTERS);
}
// SAFETY: holds only `T`s.
unsafe impl<T: NoGcPointers> NoGcPointers for Vec<T> {}

// SAFETY: visits the boxed value.
unsafe impl<T: Trace + ?Sized> Trace for Box<T> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        (**self).trace(tracer);
    }
}
// SAFETY: the boxed value is out of line.
unsafe impl<T: TraceLayout> TraceLayout for Box<T> {
    const NO_POINTERS: bool = T::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(T::NO_POINTERS);
}
// SAFETY: holds only a `T`.
unsafe impl<T: NoGcPointers + ?Sized> NoGcPointers for Box<T> {}

// `Arc<T>` shares its contents with code outside the heap, which may mutate
// them through interior mutability (an `Arc<AtomicUsize>` drop counter) or
// through `get_mut`/`make_mut` without any barrier: so only pointer-free
// contents are allowed. `Send + Sync` because a GC object is shared by every
// thread and its drop glue, which drops the `Arc`, runs on the finalizer
// thread (`Arc<T>: Send + Sync` needs exactly `T: Send + Sync`).

// SAFETY: the contents are `NoGcPointers`, so there is nothing to visit.
unsafe impl<T: NoGcPointers + Send + Sync + ?Sized> Trace for std::sync::Arc<T> {
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: the contents (out of line) hold no pointers; the `Arc` itself is
// one or two words of address and length.
unsafe impl<T: NoGcPointers + Send + Sync + ?Sized> TraceLayout for std::sync::Arc<T> {
    const NO_POINTERS: bool = true;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY;
}
// SAFETY: holds only a shared `T`, which holds no pointers.
unsafe impl<T: NoGcPointers + Send + Sync + ?Sized> NoGcPointers for std::sync::Arc<T> {}

// SAFETY: visits every element of the slice.
unsafe impl<T: Trace> Trace for [T] {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for v in self {
            v.trace(tracer);
        }
    }
}
// SAFETY: holds only `T`s.
unsafe impl<T: NoGcPointers> NoGcPointers for [T] {}

// SAFETY: `str` is bytes.
unsafe impl Trace for str {
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: bytes only.
unsafe impl NoGcPointers for str {}

// SAFETY: visits the value when present.
unsafe impl<T: Trace> Trace for Option<T> {
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if let Some(v) = self {
            v.trace(tracer);
        }
    }
}
// SAFETY: the discriminant decides whether the payload is live, so a map
// cannot be exact unless there are no pointers at all.
unsafe impl<T: TraceLayout> TraceLayout for Option<T> {
    const NO_POINTERS: bool = T::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(T::NO_POINTERS);
    const NEEDS_DROP: bool = T::NEEDS_DROP;
}
// SAFETY: holds at most a `T`.
unsafe impl<T: NoGcPointers> NoGcPointers for Option<T> {}

// SAFETY: visits whichever variant is present.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        match self {
            Ok(v) => v.trace(tracer),
            Err(e) => e.trace(tracer),
        }
    }
}
// SAFETY: as for `Option`.
unsafe impl<T: TraceLayout, E: TraceLayout> TraceLayout for Result<T, E> {
    const NO_POINTERS: bool = T::NO_POINTERS && E::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(T::NO_POINTERS && E::NO_POINTERS);
}
// SAFETY: holds a `T` or an `E`.
unsafe impl<T: NoGcPointers, E: NoGcPointers> NoGcPointers for Result<T, E> {}

// SAFETY: visits every element.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for v in self {
            v.trace(tracer);
        }
    }
}
// SAFETY: elements are inline at `i * size_of::<T>()`, so the element map
// repeats exactly.
unsafe impl<T: TraceLayout, const N: usize> TraceLayout for [T; N] {
    const NO_POINTERS: bool = T::NO_POINTERS || N == 0;
    const POINTER_MAP: PointerMap = PointerMap::repeat(T::POINTER_MAP, size_of::<T>(), N);
    const NEEDS_DROP: bool = T::NEEDS_DROP;
}
// SAFETY: holds only `T`s.
unsafe impl<T: NoGcPointers, const N: usize> NoGcPointers for [T; N] {}

// Hash maps and sets own their `BuildHasher` (`S`) as well as their entries,
// and a hasher is arbitrary user data: it must be `NoGcPointers`, or a
// `Member` in it would go untraced and a `Gc` in it would be a root inside
// the heap (pointer-model row 50).

// SAFETY: visits every key and value; the hasher holds no pointers.
unsafe impl<K: Trace, V: Trace, S: NoGcPointers> Trace for std::collections::HashMap<K, V, S> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for (k, v) in self {
            k.trace(tracer);
            v.trace(tracer);
        }
    }
}
// SAFETY: entries are out of line, and the hasher (inline) holds no pointers.
unsafe impl<K: TraceLayout, V: TraceLayout, S: NoGcPointers> TraceLayout for std::collections::HashMap<K, V, S> {
    const NO_POINTERS: bool = K::NO_POINTERS && V::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(K::NO_POINTERS && V::NO_POINTERS);
}
// SAFETY: holds only keys, values and the hasher state, none with pointers.
unsafe impl<K: NoGcPointers, V: NoGcPointers, S: NoGcPointers> NoGcPointers for std::collections::HashMap<K, V, S> {}

// SAFETY: visits every element; the hasher holds no pointers.
unsafe impl<T: Trace, S: NoGcPointers> Trace for std::collections::HashSet<T, S> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for v in self {
            v.trace(tracer);
        }
    }
}
// SAFETY: entries are out of line, and the hasher (inline) holds no pointers.
unsafe impl<T: TraceLayout, S: NoGcPointers> TraceLayout for std::collections::HashSet<T, S> {
    const NO_POINTERS: bool = T::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(T::NO_POINTERS);
}
// SAFETY: holds only `T`s and the hasher state.
unsafe impl<T: NoGcPointers, S: NoGcPointers> NoGcPointers for std::collections::HashSet<T, S> {}

// SAFETY: std's default hasher state is two `u64` keys.
unsafe impl NoGcPointers for std::collections::hash_map::RandomState {}
// SAFETY: holds only a `PhantomData<fn() -> H>`: no value of `H`, whatever `H`
// is (it builds a fresh `H::default()` for every hash).
unsafe impl<H> NoGcPointers for core::hash::BuildHasherDefault<H> {}

// SAFETY: visits every key and value.
unsafe impl<K: Trace, V: Trace> Trace for std::collections::BTreeMap<K, V> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for (k, v) in self {
            k.trace(tracer);
            v.trace(tracer);
        }
    }
}
// SAFETY: entries are out of line.
unsafe impl<K: TraceLayout, V: TraceLayout> TraceLayout for std::collections::BTreeMap<K, V> {
    const NO_POINTERS: bool = K::NO_POINTERS && V::NO_POINTERS;
    const POINTER_MAP: PointerMap = PointerMap::opaque_unless(K::NO_POINTERS && V::NO_POINTERS);
}
// SAFETY: holds only keys and values.
unsafe impl<K: NoGcPointers, V: NoGcPointers> NoGcPointers for std::collections::BTreeMap<K, V> {}

/// Interior mutability over pointer-free contents only.
macro_rules! locked {
    ($($t:ty),*) => {$(
        // SAFETY: the contents are `NoGcPointers`, so there is nothing to visit.
        unsafe impl<T: NoGcPointers + ?Sized> Trace for $t {
            fn trace(&self, _: &mut Tracer<'_>) {}
        }
        // SAFETY: no pointers.
        unsafe impl<T: NoGcPointers> TraceLayout for $t {
            const NO_POINTERS: bool = true;
            const POINTER_MAP: PointerMap = PointerMap::EMPTY;
        }
        // SAFETY: the contents hold no pointers.
        unsafe impl<T: NoGcPointers + ?Sized> NoGcPointers for $t {}
    )*};
}
locked!(std::sync::Mutex<T>, std::sync::RwLock<T>, parking_lot::Mutex<T>, parking_lot::RwLock<T>);

// SAFETY: contents are `NoGcPointers`.
unsafe impl<T: NoGcPointers> Trace for std::sync::OnceLock<T> {
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: no pointers.
unsafe impl<T: NoGcPointers> TraceLayout for std::sync::OnceLock<T> {
    const NO_POINTERS: bool = true;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY;
}
// SAFETY: the contents hold no pointers.
unsafe impl<T: NoGcPointers> NoGcPointers for std::sync::OnceLock<T> {}

// SAFETY: contents are `NoGcPointers` (and `Copy`).
unsafe impl<T: NoGcPointers> Trace for crossbeam_utils::atomic::AtomicCell<T> {
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: no pointers.
unsafe impl<T: NoGcPointers> TraceLayout for crossbeam_utils::atomic::AtomicCell<T> {
    const NO_POINTERS: bool = true;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY;
}
// SAFETY: the contents hold no pointers.
unsafe impl<T: NoGcPointers> NoGcPointers for crossbeam_utils::atomic::AtomicCell<T> {}

// `PhantomData<T>` is the one impl whose parameter is unbounded: it is
// zero-sized and never holds a `T`, so `PhantomData<Member<T>>` or
// `PhantomData<Gc<T>>` hides nothing.

// SAFETY: `PhantomData` holds nothing.
unsafe impl<T: ?Sized> Trace for core::marker::PhantomData<T> {
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: zero-sized, no pointers.
unsafe impl<T: ?Sized> TraceLayout for core::marker::PhantomData<T> {
    const NO_POINTERS: bool = true;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY;
}
// SAFETY: holds nothing.
unsafe impl<T: ?Sized> NoGcPointers for core::marker::PhantomData<T> {}

/// Tuples: inline fields at their `offset_of!` offsets.
macro_rules! tuple {
    ($($name:ident . $idx:tt),+) => {
        // SAFETY: visits every element.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            fn trace(&self, tracer: &mut Tracer<'_>) {
                $(self.$idx.trace(tracer);)+
            }
        }
        // SAFETY: each element's map is placed at its real offset.
        unsafe impl<$($name: TraceLayout),+> TraceLayout for ($($name,)+) {
            const NO_POINTERS: bool = true $(&& $name::NO_POINTERS)+;
            const POINTER_MAP: PointerMap = PointerMap::EMPTY
                $(.with_field(offset_of!(Self, $idx), $name::POINTER_MAP))+;
            const NEEDS_DROP: bool = false $(|| $name::NEEDS_DROP)+;
        }
        // SAFETY: every element holds no pointers.
        unsafe impl<$($name: NoGcPointers),+> NoGcPointers for ($($name,)+) {}
    };
}
tuple!(A.0);
tuple!(A.0, B.1);
tuple!(A.0, B.1, C.2);
tuple!(A.0, B.1, C.2, D.3);
tuple!(A.0, B.1, C.2, D.3, E.4);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);
