//! The synchronisation facade of the root tables (tokio's `crate::loom`
//! pattern): `roots.rs` takes its atomics, cells, owner type and "current
//! owner" lookup from `super::sync`, never from `core` directly.
//!
//! * This module is that facade for the crate: std's atomics and cells,
//!   `Owner` = `Mutator`, and the owner lookup is `mutator::current_ptr`. All
//!   of it inlines away, so the crate's root tables are exactly as fast as if
//!   they named `core` themselves.
//! * Under `--cfg loom`, `sync` is a second facade made of
//!   loom's atomics and cells, a tiny segment size and a model-controlled
//!   current owner, and `roots` is **the same `roots.rs`
//!   file** compiled against it (its `super::sync` is that facade). The loom
//!   tests in `tests/loom_*.rs` drive it through `model`:
//!   loom checks the real code, not a copy.
//!
//! Why a second instance rather than switching this facade to loom under
//! `cfg(loom)`: the rest of the crate (`Gc`, `Member`, `GcVec`) passes root
//! slots around as `core::sync::atomic::AtomicUsize`, so the crate's own
//! root tables must keep std atomics for it to compile under `cfg(loom)`.
#![doc(hidden)]
#![allow(dead_code, unreachable_pub)]

/// Atomics used by the root tables and the termination counters.
pub(crate) mod atomic {
    pub(crate) use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
}

/// Cells used by the root tables; `UnsafeCell` has loom's closure API.
pub(crate) mod cell {
    pub(crate) use core::cell::Cell;

    /// `core::cell::UnsafeCell` with loom's `with`/`with_mut` API.
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `v`.
        #[inline(always)]
        pub(crate) const fn new(v: T) -> UnsafeCell<T> {
            UnsafeCell(core::cell::UnsafeCell::new(v))
        }

        /// Runs `f` with a pointer for shared access.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a pointer for exclusive access.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// What owns a root table: the mutator whose `roots` field it is.
pub type Owner = crate::mutator::Mutator;

/// The calling thread's owner: null if none yet, `EXITED` after teardown
/// (never the address of a live table's owner in either case).
#[inline(always)]
pub(crate) fn current_owner() -> *const Owner {
    crate::mutator::current_ptr()
}

/// `Some(n)` shrinks root segments to `n` slots (models only).
pub(crate) const MODEL_SEGMENT_SLOTS: Option<usize> = None;

/// The stack of spare root segments (addresses linked through their `next`
/// fields; see `roots.rs`).
static SPARE_SEGMENTS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// The fault-injection probe inside a remote free (`fault::remote_free`).
#[inline(always)]
pub(crate) fn probe_remote_free() {
    crate::fault::remote_free();
}

/// The spare-segment list of the crate's root tables.
#[inline]
pub(crate) fn spare_segments() -> Option<&'static core::sync::atomic::AtomicUsize> {
    Some(&SPARE_SEGMENTS)
}

// The loom model. `roots.rs` names its facade `super::sync`; compiled a
// second time as `crate::sync::roots`, its `super::sync` is the loom facade
// `crate::sync::sync` below.

/// The loom facade: what the model instance of `roots.rs` sees as
/// `super::sync`.
#[cfg(loom)]
#[allow(clippy::module_inception)]
pub mod sync {
    /// Loom's atomics.
    pub mod atomic {
        pub use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
    }

    /// Loom's cells (their accesses are checked for data races).
    pub mod cell {
        pub use loom::cell::{Cell, UnsafeCell};
    }

    /// A model mutator: just a root table.
    #[derive(Default)]
    pub struct Owner {
        /// Its root table.
        pub roots: super::roots::RootTable,
    }

    loom::thread_local! {
        static CURRENT: core::cell::Cell<*const Owner> = core::cell::Cell::new(core::ptr::null());
    }

    /// The model's `mutator::current_ptr()`: per loom thread.
    pub fn current_owner() -> *const Owner {
        CURRENT.with(|c| c.get())
    }

    /// Makes `o` the calling loom thread's owner (null: none).
    pub fn set_current_owner(o: *const Owner) {
        CURRENT.with(|c| c.set(o))
    }

    /// Two slots per segment, so a few roots reach refills and new segments.
    pub const MODEL_SEGMENT_SLOTS: Option<usize> = Some(2);

    /// No fault probes in the models.
    #[inline(always)]
    pub fn probe_remote_free() {}

    /// The models do not reuse segments (their tables free theirs at the
    /// end of each iteration).
    pub fn spare_segments() -> Option<&'static core::sync::atomic::AtomicUsize> {
        None
    }
}

/// `roots.rs` compiled against the loom facade `sync` above (the same file
/// as `crate::roots`).
#[cfg(loom)]
#[allow(clippy::duplicate_mod)]
#[path = "roots.rs"]
pub mod roots;

/// `mark/termination.rs` compiled against the loom facade (the same file as
/// `crate::mark::termination`).
#[cfg(loom)]
#[allow(clippy::duplicate_mod)]
#[path = "mark/termination.rs"]
pub mod termination;

/// `mark/round.rs` compiled against the loom facade (the same file as
/// `crate::mark::round`).
#[cfg(loom)]
#[allow(clippy::duplicate_mod)]
#[path = "mark/round.rs"]
pub mod round;

/// `mark/ragged.rs` compiled against the loom facade (the same file as
/// `crate::mark::ragged`).
#[cfg(loom)]
#[allow(clippy::duplicate_mod)]
#[path = "mark/ragged.rs"]
pub mod ragged;

/// What the loom tests use.
#[cfg(loom)]
pub mod model {
    pub use super::roots::{Audit, RootTable, SEGMENT_SLOTS};
    pub use super::ragged::{FlushRequest, OwnerStep};
    pub use super::round::RoundGate;
    pub use super::sync::atomic;
    pub use super::sync::{set_current_owner, Owner};
    pub use super::termination::{drain_until_done, MarkWork, Termination};
}
