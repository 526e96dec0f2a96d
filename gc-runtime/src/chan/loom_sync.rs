//! The synchronisation facade of the blocking primitives (tokio's
//! `crate::loom` pattern): `chan`, `select` and `sync` take their mutex,
//! atomics, `Arc`, `UnsafeCell` and park/unpark from here, never from `std`,
//! `parking_lot` or `crate::park` directly.
//!
//! * Normally: `parking_lot::Mutex` (no poisoning: a panic never happens
//!   while one of these locks is held, see the `chan` module's invariants),
//!   std's atomics and `Arc`, a zero-cost `UnsafeCell` with loom's
//!   `with`/`with_mut` API, and `crate::park`'s `park`/`Unparker`.
//! * Under `--cfg loom`: loom's mutex, atomics, `Arc` and `UnsafeCell`, and a
//!   park built of a loom mutex and condvar that implements the park/ready
//!   contract (the `commit` callback runs before the waiter sleeps; an
//!   `unpark` that comes first is absorbed by the flag), so
//!   `tests/loom_chan.rs` checks the real channel code, and the model does
//!   not depend on which `park.rs` (this branch's OS-thread one or the
//!   scheduler's) is compiled.
#![allow(dead_code)]

pub(crate) use crate::park::WaitReason;

#[cfg(not(loom))]
mod imp {
    pub(crate) use crate::park::{park, Unparker};
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::sync::Arc;

    /// A non-poisoning mutex (parking_lot's).
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

    /// Its guard.
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(v: T) -> Self {
            Mutex(parking_lot::Mutex::new(v))
        }

        #[inline]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    /// `core::cell::UnsafeCell` with loom's closure API.
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(v: T) -> Self {
            UnsafeCell(core::cell::UnsafeCell::new(v))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
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

        /// Exclusive access through `&mut self`.
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut()
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use loom::sync::Arc;

    use super::WaitReason;

    /// loom's mutex, unwrapped (the primitives never panic under a lock).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Its guard.
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(v: T) -> Self {
            Mutex(loom::sync::Mutex::new(v))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner().unwrap()
        }
    }

    struct Cell {
        woken: loom::sync::Mutex<bool>,
        cv: loom::sync::Condvar,
    }

    /// The park/ready contract over loom's mutex and condvar.
    pub(crate) struct Unparker(Arc<Cell>);

    impl Unparker {
        pub(crate) fn unpark(self) {
            let mut w = self.0.woken.lock().unwrap();
            assert!(!*w, "unpark called twice for one park");
            *w = true;
            drop(w);
            self.0.cv.notify_one();
        }
    }

    pub(crate) fn park(_reason: WaitReason, commit: impl FnOnce(Unparker) -> bool) {
        let cell = Arc::new(Cell { woken: loom::sync::Mutex::new(false), cv: loom::sync::Condvar::new() });
        if !commit(Unparker(cell.clone())) {
            return;
        }
        let mut w = cell.woken.lock().unwrap();
        while !*w {
            w = cell.cv.wait(w).unwrap();
        }
    }
}

pub(crate) use imp::*;
