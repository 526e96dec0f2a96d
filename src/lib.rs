//! # tricolor-gc
//!
//! A Go-style garbage-collected heap for Rust: `Gc<T>` smart pointers,
//! `#[derive(Trace)]`, a tri-color mark-sweep collector with Go's hybrid write
//! barrier, a Go-like span allocator, and GOGC / GOMEMLIMIT / GODEBUG tuning.
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
//! Two kinds of values exist in every client: **rooted handles** (`Gc<T>`) on
//! the Rust stack and in Rust data structures, and **fields** (`Member<T>`)
//! inside GC objects. A `Gc` keeps its object alive; a `Member` is traced.
//! `Gc` does not implement `Trace`, so storing one inside an object is a
//! compile error.

/// Lock-free mutable cell for pointer-free `Copy` data inside GC objects
/// (re-exported from crossbeam-utils).
pub use crossbeam_utils::atomic::AtomicCell;
pub use gc_core::{
    blocking, collect, free_os_memory, mem_stats, pin, safepoint, set_gc_percent, set_memory_limit, testing, Cleanup,
    Gc, GcPointee, GcVec, GcVecIter, GcVecPinnedIter, Guard, MemStats, Member, NoGcPointers, PinnedMembers, PointerMap,
    Ref, Trace, TraceLayout, Tracer, Weak,
};
pub use gc_derive::Trace;

/// Environment configuration (GOGC, GOMEMLIMIT, GOMAXPROCS, GODEBUG).
pub use gc_core::env;
