//! The atomics facade of the run queue (named `atomics`, since `sync` is
//! the public module of WaitGroup and Mutex) (tokio's `crate::loom`
//! pattern): `runq.rs` takes its atomics from here, never from `std`
//! directly.
//!
//! Invariant: in a normal build these are exactly `std`'s atomics (so the
//! queue is as fast as if it named them itself); under `--cfg loom` they are
//! loom's, and `gc-runtime/tests/loom_runq.rs` model-checks **the same
//! `runq.rs` file**, not a copy. Only the run queue uses this facade: the rest
//! of the scheduler keeps `std`'s atomics, and is not run under loom.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU32};
#[cfg(loom)]
pub(crate) use std::sync::atomic::Ordering;
