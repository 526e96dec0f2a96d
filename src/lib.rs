//! # tricolor-gc
//!
//! A garbage-collected heap for Rust, after Go's runtime: [`Gc<T>`] smart
//! pointers and `#[derive(Trace)]` on top of a concurrent tri-color
//! mark-sweep collector with Go's hybrid write barrier, a Go-like span
//! allocator, and Go's knobs (`GOGC`, `GOMEMLIMIT`, `GOMAXPROCS`,
//! `GODEBUG`).
//!
//! ## What a GC gives
//!
//! Objects that point to each other in any shape, cycles included, shared
//! by any number of threads, freed once nothing reaches them: no `Rc`
//! cycles to break by hand, no `Weak` back-pointers to keep a tree
//! acyclic, no lifetimes tying the graph to a scope. Collection runs beside
//! the program; the program stops only for short pauses (microseconds,
//! independent of the heap's size). Freed objects' fields are dropped
//! (their `String`s, `Vec`s) on a finalizer thread.
//!
//! ```
//! use tricolor_gc::{Gc, Member, Trace};
//!
//! #[derive(Trace)]
//! struct Node {
//!     value: i64,
//!     next: Member<Node>,
//! }
//!
//! let a = Gc::new(Node { value: 1, next: Member::null() });
//! let b = Gc::new(Node { value: 2, next: Member::new(&a) });
//! a.next.set(&b); // a cycle, through the write barrier
//! let n: Option<Gc<Node>> = b.next.get(); // a rooted handle
//! assert_eq!(n.unwrap().value, 1);
//! drop((a, b));
//! tricolor_gc::collect(); // the cycle is freed
//! ```
//!
//! ## Two kinds of pointers
//!
//! Rust stacks cannot be scanned, so every client has two kinds of values:
//!
//! * **Rooted handles**, [`Gc<T>`], on the Rust stack and in ordinary Rust
//!   data structures. A `Gc` keeps its object alive (it holds a slot in a
//!   root table); it derefs to `&T`, and `Clone` makes another root. `Gc`
//!   is not [`Trace`], so storing one inside a GC object is a compile error.
//! * **Fields**, [`Member<T>`] (a nullable pointer, one atomic word) and
//!   [`GcVec<T>`] (a growable vector of pointers), inside GC objects. They
//!   are traced, and every write to them goes through the write barrier, so
//!   their methods all take `&self`; nothing can move a pointer out of the
//!   heap behind the collector's back.
//!
//! Other fields hold plain data. Mutable plain data uses atomics,
//! [`AtomicCell`] or a lock (`Mutex`, `RwLock`), which are `Trace` only over
//! [`NoGcPointers`] contents, so a pointer can never hide behind one; `Cell`
//! and `RefCell` are not allowed. A type that holds no GC pointers says so
//! with `#[trace(no_pointers)]` (checked field by field): it is never
//! scanned, and it may implement `Drop`, which a type with pointers may not
//! (use a [`Cleanup`] instead). [`Weak<T>`] does not keep its target alive.
//!
//! ## Threads
//!
//! Objects are `Send + Sync + 'static`, so a `Gc<T>` can go to any thread,
//! and any thread may allocate, read and write. Threads need no
//! registration; a thread that waits outside the library for a long time
//! (I/O, a lock, a channel) can say so with [`blocking`], so that a
//! collection never waits for it, and a loop that neither allocates nor
//! touches GC pointers can call [`safepoint`]. The collector's own threads
//! (a background marker, a sweeper, a finalizer) start on first use.
//!
//! ## Pins: unrooted references for hot loops
//!
//! A `Gc` costs a root-table write on creation and on drop. Code that walks
//! or builds much graph at once can [`pin`] the thread instead: inside the
//! closure, [`Member::load`], [`GcVec::load`], [`GcVec::iter_pinned`],
//! [`Guard::alloc`] and [`Gc::to_ref`] hand out [`Ref<'g, T>`](Ref), a
//! `Copy` pointer with no root, valid until the pin ends. No collection can
//! start or finish while a thread is pinned, so keep pins short, do not
//! block inside one, and call [`Guard::repin`] in long loops.
//!
//! ## Tuning
//!
//! As in Go: `GOGC` (or [`set_gc_percent`]) sets how much the heap may grow
//! over the live data before the next cycle (100 = double); `GOMEMLIMIT`
//! (or [`set_memory_limit`]) a soft limit on the heap's memory; `GODEBUG`
//! debugging switches (`gctrace=1`, `gccheckmark=1`, `clobberfree=1`). The
//! environment is read once, at the first GC operation. [`mem_stats`] is
//! Go's `ReadMemStats`; [`collect`] is `runtime.GC`, [`free_os_memory`]
//! `debug.FreeOSMemory`.
//!
//! ## This crate's API and its dependencies
//!
//! This crate re-exports the API of `tricolor-gc-core` (the collector) and
//! `tricolor-gc-derive` (the derive) and nothing else; depend on it, not on
//! them. [`AtomicCell`] is crossbeam-utils' own type, re-exported on
//! purpose: `Trace` is implemented for that type, so users must name exactly
//! it. The price is that this crate's semver follows crossbeam-utils' for
//! that item: moving to an incompatible crossbeam-utils (0.9) is a breaking
//! release of tricolor-gc.

#![deny(missing_docs)]

/// Lock-free mutable cell for pointer-free `Copy` data inside GC objects.
///
/// crossbeam-utils' `AtomicCell`, re-exported because `Trace` is implemented
/// for it (over `NoGcPointers` contents); see the crate docs for what that
/// means for semver.
///
/// ```
/// use tricolor_gc::{AtomicCell, Gc, Trace};
///
/// #[derive(Trace, Clone, Copy)]
/// #[trace(no_pointers)] // a `Copy` type never holds GC pointers; say so
/// struct Point { x: i32, y: i32 }
///
/// #[derive(Trace)]
/// struct Sprite { at: AtomicCell<Point> }
///
/// let s = Gc::new(Sprite { at: AtomicCell::new(Point { x: 0, y: 0 }) });
/// s.at.store(Point { x: 3, y: 4 });
/// assert_eq!(s.at.load().x, 3);
/// ```
pub use crossbeam_utils::atomic::AtomicCell;

/// ```
/// use tricolor_gc::{Gc, Member, Trace};
///
/// #[derive(Trace)]
/// struct Person {
///     name: String,
///     friend: Member<Person>, // null, or another object
/// }
///
/// let bob = Gc::new(Person { name: "bob".into(), friend: Member::null() });
/// // `Member::new` in a struct literal: adopted by `Gc::new`.
/// let alice = Gc::new(Person { name: "alice".into(), friend: Member::new(&bob) });
/// bob.friend.set(&alice); // a cycle; `set` runs the write barrier
/// assert!(bob.friend.ptr_eq(&alice)); // identity, without a root
/// let f: Gc<Person> = alice.friend.get().unwrap(); // a new rooted handle
/// assert_eq!(f.name, "bob");
/// alice.friend.clear();
/// assert!(alice.friend.is_null());
/// ```
pub use gc_core::Member;

/// ```
/// use tricolor_gc::{pin, Gc, Guard, Member, Ref, Trace};
///
/// #[derive(Trace)]
/// struct Cons { head: i64, tail: Member<Cons> }
///
/// // Builds a list without a root per cell: `Guard::alloc` returns a `Ref`.
/// fn build<'g>(g: &'g Guard, n: i64) -> Ref<'g, Cons> {
///     let mut list = g.alloc(Cons { head: 0, tail: Member::null() });
///     for i in 1..n {
///         let cell = g.alloc(Cons { head: i, tail: Member::null() });
///         cell.tail.set_ref(list);
///         list = cell;
///     }
///     list
/// }
///
/// let kept: Gc<Cons> = pin(|g| {
///     let list = build(g, 1000);
///     let mut sum = 0;
///     let mut cur = Some(list);
///     while let Some(c) = cur {
///         sum += c.head;
///         cur = c.tail.load(g);
///     }
///     assert_eq!(sum, 999 * 1000 / 2);
///     list.root() // a rooted handle, to keep the list past the pin
/// });
/// assert_eq!(kept.head, 999);
/// ```
pub use gc_core::Guard;

/// ```
/// use tricolor_gc::{pin, Gc, GcVec, Ref, Trace};
///
/// #[derive(Trace)]
/// #[trace(no_pointers)]
/// struct Word(String);
///
/// let words: GcVec<Word> = ["gc", "pins", "ref"].map(|w| Gc::new(Word(w.into()))).into_iter().collect();
/// let longest: Gc<Word> = pin(|g| {
///     // `Ref`s: `Copy`, no root, valid until the pin ends.
///     let best: Ref<'_, Word> = words.iter_pinned(g).max_by_key(|w| w.0.len()).unwrap();
///     assert!(Ref::ptr_eq(best, words.load(1, g).unwrap()));
///     best.root()
/// });
/// assert_eq!(longest.0, "pins");
/// ```
///
/// A `Ref` cannot leave its pin (`tests/ui/ref_escapes_pin.rs`):
///
/// ```compile_fail
/// use tricolor_gc::{pin, Gc, Ref};
/// let x = Gc::new(1u64);
/// let escaped: Ref<'_, u64> = pin(|g| x.to_ref(g));
/// ```
pub use gc_core::Ref;

/// ```
/// use tricolor_gc::{Gc, Member, Trace};
///
/// #[derive(Trace)]
/// struct Node { next: Member<Node>, payload: Vec<u8> }
///
/// let a = Gc::new(Node { next: Member::null(), payload: vec![0; 1024] });
/// let b = Gc::new(Node { next: Member::new(&a), payload: vec![0; 1024] });
/// a.next.set(&b);
/// let before = tricolor_gc::mem_stats().num_gc;
/// drop((a, b));
/// tricolor_gc::collect(); // a whole cycle; the a <-> b cycle is freed
/// assert!(tricolor_gc::mem_stats().num_gc > before);
/// ```
pub use gc_core::collect;

/// ```
/// use tricolor_gc::Gc;
///
/// let kept: Vec<Gc<[u64]>> = (0..100).map(|i| Gc::from_vec(vec![i; 64])).collect();
/// tricolor_gc::collect();
/// let s = tricolor_gc::mem_stats();
/// assert!(s.num_gc >= 1);
/// assert!(s.heap_objects >= 100);
/// assert!(s.heap_alloc >= 100 * 64 * 8);
/// assert!(s.next_gc > 0, "the pacer's goal for the next cycle");
/// println!("{} cycles, max pause {:?}", s.num_gc, s.pause_max);
/// drop(kept);
/// ```
pub use gc_core::mem_stats;

/// ```
/// // A cycle whenever the heap has grown by half of the live data (the
/// // default is 100, or `GOGC`). Returns the previous setting.
/// let previous = tricolor_gc::set_gc_percent(50);
/// // Off: heap growth starts no cycle (`collect()` and the memory limit
/// // still do).
/// assert_eq!(tricolor_gc::set_gc_percent(-1), 50);
/// assert_eq!(tricolor_gc::set_gc_percent(previous), -1);
/// ```
pub use gc_core::set_gc_percent;

/// ```
/// // No limit by default (`i64::MAX`), unless `GOMEMLIMIT` sets one.
/// // A soft limit of 256 MiB: cycles run more often as the heap nears it.
/// let previous = tricolor_gc::set_memory_limit(256 << 20);
/// assert_eq!(tricolor_gc::set_memory_limit(-1), 256 << 20); // negative: only reads
/// assert_eq!(tricolor_gc::set_memory_limit(previous), 256 << 20);
/// ```
pub use gc_core::set_memory_limit;

/// ```
/// use tricolor_gc::{Gc, Weak};
///
/// let page: Gc<str> = Gc::from("cached page");
/// let cache: Weak<str> = Gc::downgrade(&page);
/// assert_eq!(&*cache.upgrade().unwrap(), "cached page");
/// drop(page);
/// tricolor_gc::collect();
/// assert!(cache.upgrade().is_none(), "the target was collected");
/// assert!(Weak::<str>::new().upgrade().is_none());
/// ```
pub use gc_core::Weak;

/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use tricolor_gc::{Gc, Member, Trace};
///
/// #[derive(Trace)]
/// struct Handle { fd: i32, next: Member<Handle> } // has pointers: no `Drop`
///
/// let closed = Arc::new(AtomicUsize::new(0));
/// let h = Gc::new(Handle { fd: 3, next: Member::null() });
/// // The closure must not capture `h` (it would keep it alive).
/// let fd = h.fd;
/// let c = closed.clone();
/// let _cleanup = Gc::add_cleanup(&h, move || {
///     assert_eq!(fd, 3);
///     c.fetch_add(1, Ordering::SeqCst);
/// });
/// let h2 = Gc::new(Handle { fd: 4, next: Member::null() });
/// Gc::add_cleanup(&h2, || unreachable!("stopped")).stop();
/// drop((h, h2));
/// tricolor_gc::collect(); // returns after the cleanups it found have run
/// assert_eq!(closed.load(Ordering::SeqCst), 1);
/// ```
pub use gc_core::Cleanup;

pub use gc_core::{
    blocking, free_os_memory, pin, safepoint, Gc, GcPointee, GcVec, GcVecIter, GcVecPinnedIter, MemStats, NoGcPointers,
    PinnedMembers, PointerMap, Trace, TraceLayout, Tracer,
};
pub use gc_derive::Trace;
/// The G/M/P scheduler (gc-runtime): `Runtime`, `go`, `gosched`, `sleep`, `blocking`, ...
pub mod runtime {
    pub use gc_runtime::*;
}
pub use gc_derive::main;

/// Execution traces (Go: `runtime/trace`): what the collector did, when and
/// on which thread, as Chrome trace-event JSON for Perfetto
/// (ui.perfetto.dev) or `chrome://tracing`. `TRICOLOR_TRACE=path` traces a
/// whole run; `cargo run --release --features trace-tool --bin gc-trace --
/// summary|mmu|svg trace.json` reads a trace.
///
/// ```no_run
/// tricolor_gc::trace::start("run.trace.json").expect("cannot create the trace");
/// // ... the program ...
/// tricolor_gc::trace::stop().expect("the trace could not be written");
/// ```
pub mod trace {
    pub use gc_core::exectrace::{is_running, mmu, start, stop};
}

/// Go's `runtime/metrics` names for this collector's figures.
pub use gc_core::metrics;

// The scheduler's re-exports (gc-runtime: the `runtime` module and the
// `main` macro) go below.
