//! `#[derive(Trace)]` for tricolor-gc.
//!
//! Use it through the facade, as `tricolor_gc::Trace` (the derive and the
//! trait share the name, in different namespaces).
//!
//! # Invariants: what the emitted code guarantees
//!
//! For a struct or enum `Ty` that is not `#[trace(no_pointers)]`:
//!
//! * `unsafe impl Trace for Ty`: `trace` calls `<F as Trace>::trace` on every
//!   field not marked `#[trace(skip)]`, of every variant, and does nothing
//!   else. A field whose type is not `Trace` (`Gc<T>`, `Cell<Member<T>>`,
//!   `Mutex<Member<T>>`, ...) is a compile error at that field.
//! * `unsafe impl TraceLayout for Ty`: `NO_POINTERS` is the conjunction of the
//!   traced fields' `NO_POINTERS` (`true` if there are none); `POINTER_MAP` is
//!   each traced field's map placed at its `offset_of!` (structs), or
//!   `PointerMap::opaque_unless(NO_POINTERS)` (enums). A field whose type
//!   names `Ty` or `Self` other than as the target of a GC pointer
//!   (`Vec<Self>`, but not `Member<Self>`) counts as `false` /
//!   `PointerMap::OPAQUE`: always sound, and it avoids a const-evaluation
//!   cycle. (Mutual recursion through owned containers, `A { b: Vec<B> }` /
//!   `B { a: Vec<A> }`, is not detected and fails to compile with a cycle
//!   error; use `Member`s, or `no_pointers` if pointer-free.)
//! * `NEEDS_DROP` is the disjunction over all fields, skipped ones included,
//!   of `<F as TraceLayout>::NEEDS_DROP` (`core::mem::needs_drop::<F>()` for
//!   skipped and self-referential fields); exact because `Ty` cannot
//!   implement `Drop` (below).
//! * Both impls add `P: TraceLayout` to every type parameter `P` and keep the
//!   type's own bounds and where clauses.
//! * A `#[trace(skip)]` field is never traced, and its type is proven
//!   `NoGcPointers`: by a where-predicate on both impls if the type mentions a
//!   generic parameter, otherwise by an assertion checked at the definition.
//! * `Ty` cannot implement `Drop`: such an impl is a compile error
//!   (conflicting implementations of a local marker trait, the guarantee),
//!   beside a second error whose message names the fix
//!   (`#[trace(no_pointers)]` for a pointer-free type). A destructor run by
//!   the sweeper could reach freed objects through its `Member`s or move a
//!   GC pointer out of the dead object.
//! * `#[repr(packed)]` is rejected (pointer slots must stay aligned).
//!
//! For a `#[trace(no_pointers)]` type:
//!
//! * every field's type is proven `NoGcPointers` (where-predicates for field
//!   types that mention a generic parameter, a definition-time assertion for
//!   the others); `unsafe impl NoGcPointers for Ty` and both trait impls carry
//!   the same predicates, and no `TraceLayout` bounds on parameters;
//! * `trace` is empty, `NO_POINTERS = true`, `POINTER_MAP = PointerMap::EMPTY`,
//!   and `NEEDS_DROP` keeps the trait's default, `needs_drop::<Self>()`;
//! * `Drop` is allowed (there is no GC pointer for a destructor to misuse).
//!
//! For every type, when the derive relies on `NoGcPointers` (a `skip` field,
//! or `no_pointers`): the `Trace` impl coerces
//! `<Self as krate::Trace>::__derive_no_gc_pointers_is` to
//! `fn(&Self, &dyn krate::NoGcPointers)`, which compiles only if the
//! `NoGcPointers` at the `crate` path is the one gc-core's `Trace` names. The
//! path is the user's choice, so without this a module re-exporting the real
//! `Trace` beside a look-alike `NoGcPointers` (or `Send`) would pass every
//! check above; a look-alike `Trace` yields impls the collector cannot use
//! (gc-core's `TraceLayout` requires gc-core's `Trace`).
//!
//! Unions are rejected. Generated code names the facade by absolute path
//! (`::tricolor_gc`, or the `#[trace(crate = "...")]` override), calls
//! trait methods in fully qualified form, uses mixed-site identifiers for its
//! locals and puts its helper items inside `const _: () = { ... };`, so user
//! fields, generics and items cannot clash with it. (As with any derive, a
//! *constant* in scope named like one of its `__tricolor_gc_*` bindings would
//! turn that binding into a pattern: that prefix is reserved.)

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Derives `Trace` and `TraceLayout` (and, with `#[trace(no_pointers)]`,
/// `NoGcPointers`) for a struct or enum.
///
/// # Attributes
///
/// * `#[trace(skip)]` on a field: do not trace it. Its type must implement
///   `NoGcPointers` (checked).
/// * `#[trace(no_pointers)]` on the type: the type holds no GC pointers
///   (checked field by field); it is allocated in noscan spans, never traced,
///   and may implement `Drop`.
/// * `#[trace(crate = "path")]` on the type: where to find the facade
///   (default `::tricolor_gc`), for a renamed dependency or a re-export. Its
///   `NoGcPointers` must be tricolor-gc's own (checked: a look-alike trait is
///   a type mismatch at the path).
///
/// # Example
///
/// A proc-macro crate cannot run doctests that use the facade, so this one is
/// `ignore`d; the same example is compiled and run in the facade's docs and in
/// `tests/derive_shapes.rs`.
///
/// ```ignore
/// use tricolor_gc::{Member, Trace};
///
/// #[derive(Trace)]
/// struct Node {
///     left: Member<Node>,
///     right: Member<Node>,
///     #[trace(skip)]
///     hits: u64, // pointer-free, so it may be skipped
/// }
///
/// #[derive(Trace)]
/// enum Shape {
///     Leaf,
///     One(Member<Node>),
///     Two { a: Member<Node>, b: Member<Node> },
/// }
///
/// #[derive(Trace)]
/// #[trace(no_pointers)]
/// struct Stats {
///     count: u64,
///     name: String,
/// }
/// impl Drop for Stats {
///     fn drop(&mut self) {} // allowed: no GC pointers
/// }
/// ```
#[proc_macro_derive(Trace, attributes(trace))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match expand::derive(&input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

mod main_attr;
/// `#[tricolor_gc::main] unsafe fn main() { .. }`: runs the body as the main G of a gc-runtime scheduler.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    main_attr::expand(args.into(), item.into()).unwrap_or_else(|e| e.to_compile_error()).into()
}
