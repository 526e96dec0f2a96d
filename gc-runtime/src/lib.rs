//! gc-runtime: the embedded G/M/P scheduler of tricolor-gc (Go: proc.go).
//!
//! Stackful goroutines (Gs) on mmap'd, guard-paged, pooled stacks, switched
//! with corosensei; OS threads (Ms) each running Go's `schedule` loop on
//! their own stack (g0); GOMAXPROCS processors (Ps) with 256-slot local run
//! queues, `runnext`, a global queue and work stealing; park/ready
//! (the crate-internal `park` module is the contract the blocking primitives build
//! on); per-P timer heaps; `blocking` as entersyscall/exitsyscall with P
//! handoff; sysmon for retake, 10 ms preemption at safepoints and
//! `GODEBUG=schedtrace`; Go's blocking primitives on top of park/ready:
//! [`chan`] (channels, unbuffered and buffered) with [`select!`], and
//! [`sync`] (`WaitGroup`, a `Mutex<T>` that parks). The user guide is
//! `docs/runtime.md`.
//!
//! Invariants every module keeps (each states its own in detail):
//!
//! * No unwind ever crosses a context switch: a G's body runs under
//!   `catch_unwind`, and a panic there ends that G only
//!   ([`JoinHandle::join`] returns it as `Err`).
//! * A G's stack is freed only after its coroutine returned; Gs left
//!   unfinished when a [`Runtime`] is dropped are leaked, never freed under
//!   running code.
//! * Gs migrate between Ms. Safe code cannot race through that: a runtime
//!   can only be built after the user signed the thread-local contract once
//!   ([`Builder::allow_migration`], an `unsafe fn`).
//! * The GC hooks (mark workers as Gs) are issue 12; `findRunnable` marks
//!   their slot. This crate does nothing GC-specific yet.
//! * Every `unsafe` block states why it is sound in a `// SAFETY:` comment;
//!   safe callers of the public API cannot reach a data race or any other
//!   undefined behaviour.
#![deny(unsafe_op_in_unsafe_fn)]

mod api;
mod atomics;
pub mod chan;
mod gcworker;
mod park;
mod proc;
mod runq;
mod select;
mod signal;
mod stack;
pub mod sync;
mod sysmon;
mod timer;

pub use api::DEFAULT_STACK_SIZE;
pub use api::{after, blocking, go, gosched, in_runtime, safepoint, sleep, Builder, GLocal, JoinHandle, Runtime};
#[doc(hidden)]
pub use stack::bench_raw_switch;
pub use stack::{guard_kind, GuardKind};

/// The run queue, exposed only to the loom model (`tests/loom_runq.rs`).
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api {
    pub use crate::runq::{Ring, CAPACITY};
}
