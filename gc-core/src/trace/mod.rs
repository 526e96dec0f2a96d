//! Tracing: how the collector finds the GC pointers inside an object.
//!
//! Two traits split what stable Rust lets us say about a type:
//!
//! * [`Trace`] is object-safe and holds the one dynamic operation, `trace`,
//!   which hands every [`Member`](crate::Member) slot of a value to a
//!   [`Tracer`]. It is the fallback used for types whose pointers cannot be
//!   described by a fixed map (enums, `Vec`, `Box`, maps).
//! * [`TraceLayout`] adds the static facts: whether the type holds no GC
//!   pointers at all (such objects go to *noscan* spans and are never scanned,
//!   Go's `noscan` span classes) and, when the layout is fixed, a
//!   [`PointerMap`] of the words that hold `Member`s, so the marker scans the
//!   object by bitmap without calling `trace` (Go's per-type `GCData`).
//!
//! [`NoGcPointers`] is the marker trait that interior-mutability containers
//! (`Mutex`, `RwLock`, atomics, `AtomicCell`) require of their contents, so
//! that a GC pointer can never hide behind a lock where the barrier cannot see
//! it being written.
//!
//! # Invariants
//!
//! * `trace` visits every `Member` reachable through the value without
//!   crossing into another GC object, and visits nothing else. It never
//!   allocates, never blocks and never panics (a panic there aborts the
//!   process: the heap would be half-marked).
//! * `NO_POINTERS == true` implies `trace` visits nothing.
//! * An exact `POINTER_MAP` lists exactly the word offsets whose `trace` would
//!   visit a `Member`; an inexact map means "call `trace`".

mod impls;
mod pointer_map;
pub(crate) mod tracer;

pub use pointer_map::PointerMap;
pub use tracer::Tracer;

/// Types whose GC pointers the collector can find.
///
/// Derive it with `#[derive(Trace)]`; the derive also implements
/// [`TraceLayout`]. Implementing it by hand is `unsafe` because a `trace`
/// that misses a `Member` lets the collector free a live object.
///
/// # Safety
///
/// `trace` must call [`Trace::trace`] on every field that may hold a
/// [`Member`](crate::Member) (directly or inside containers) and must not
/// panic, allocate GC objects or block.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a GC object: it does not implement `Trace`",
    note = "a `Gc<T>` is a root and is never stored in the heap: use `Member<T>` for pointer fields",
    note = "interior mutability is traceable only over pointer-free contents (`NoGcPointers`): \
            `Cell` and `RefCell` never are; use an atomic, `AtomicCell` or a lock over plain data",
    note = "for your own type, add `#[derive(Trace)]` (with `#[trace(no_pointers)]` if it holds \
            no GC pointers)"
)]
pub unsafe trait Trace {
    /// Hands every GC pointer slot inside `self` to `tracer`.
    fn trace(&self, tracer: &mut Tracer<'_>);

    /// Not part of the API: do not call or override it.
    ///
    /// `#[derive(Trace)]` checks `#[trace(skip)]` and `#[trace(no_pointers)]`
    /// fields against the `NoGcPointers` found at its `crate` path, which the
    /// user chooses. In the `Trace` impl it generates, it coerces
    /// `<Self as krate::Trace>::__derive_no_gc_pointers_is` to
    /// `fn(&Self, &dyn krate::NoGcPointers)`: that compiles only if the path's
    /// `NoGcPointers` is the one named here by the trait being implemented, so
    /// a look-alike trait cannot stand in for it in a real `Trace` impl.
    #[doc(hidden)]
    #[inline(always)]
    fn __derive_no_gc_pointers_is(&self, _: &dyn NoGcPointers) {}
}

/// The static layout facts the collector uses to scan a type without calling
/// [`Trace::trace`].
///
/// # Safety
///
/// `NO_POINTERS` may be `true` only if the type holds no `Member` anywhere
/// (inline or behind owned indirections). An exact [`PointerMap`] must list
/// precisely the word offsets of the type's inline `Member` slots.
pub unsafe trait TraceLayout: Trace {
    /// True if values of this type never hold a GC pointer (Go: `noscan`).
    const NO_POINTERS: bool;
    /// Word offsets of inline `Member` slots, or [`PointerMap::OPAQUE`].
    const POINTER_MAP: PointerMap;
    /// True if a dead object of this type has drop glue that must run at
    /// sweep. Defaults to `needs_drop::<Self>()`; `Member` overrides it to
    /// `false` (an adopted `Member`'s destructor does nothing), and the derive
    /// ORs its fields' values, so an object made only of `Member`s and plain
    /// data is freed by the sweep that finds it dead, without a drop pass.
    const NEEDS_DROP: bool = core::mem::needs_drop::<Self>();
}

/// Marker for types that hold no GC pointers at all.
///
/// Required of the contents of `Mutex`, `RwLock`, `AtomicCell` and of fields
/// marked `#[trace(skip)]`. Derive it on your own types with
/// `#[derive(Trace)] #[trace(no_pointers)]`, which checks every field.
///
/// The trait is `unsafe` to implement by hand, and `#[derive(Trace)]` only
/// implements it after checking every field, so safe code cannot make a type
/// with GC pointers `NoGcPointers`.
///
/// # Safety
///
/// No value of the type may contain a `Gc`, `Member`, `GcVec` or `Weak` (or
/// anything else that refers to a GC object), inline or through any owned
/// indirection (a `Box`, a collection's buffer, a hasher's state, ...), and
/// the type must give safe code no way to store one in it. The collector
/// never scans such a value: a `Member` in it would not keep its target
/// alive, a `Gc` in it would be a root inside the heap, and a lock over it
/// would let a pointer be written without the write barrier.
#[diagnostic::on_unimplemented(
    message = "`{Self}` may hold GC pointers (it does not implement `NoGcPointers`)",
    note = "locks, atomics, `Arc`s and `#[trace(skip)]` fields may only hold pointer-free data; use `Member<T>` fields in the object itself",
    note = "if `{Self}` is your own type and holds no GC pointers (a `Copy` type never does), \
            derive it with `#[derive(Trace)]` and `#[trace(no_pointers)]`; `Member`, `GcVec`, \
            `Weak` and `Gc` never are pointer-free, and `Arc<T>` is when `T: NoGcPointers + Send + Sync`"
)]
pub unsafe trait NoGcPointers {}
