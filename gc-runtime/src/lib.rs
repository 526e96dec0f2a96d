//! gc-runtime: the embedded G/M/P scheduler of tricolor-gc (Go: proc.go).
//!
//! The scheduler itself is being built (issue 11); its design is in
//! `../shared/DESIGN.md` ("gc-runtime: the scheduler"): Gs on mmap'd stacks
//! with guard pages, Ms as OS threads, P run queues with work stealing,
//! sysmon, and the GC's mark workers as dedicated, fractional and idle Gs.
//!
//! What is here today are the blocking primitives, written against the
//! park/ready contract of `park` (Go: `gopark`/`goready`), so they work on
//! plain OS threads now and on Gs once the scheduler lands:
//!
//! * [`chan`]: Go's channels (unbuffered and buffered), and [`select!`];
//! * [`sync`]: Go's `sync.WaitGroup` and a `sync.Mutex<T>` that parks.
//!
//! Invariant of the crate: every `unsafe` block states why it is sound in a
//! `// SAFETY:` comment; safe callers of the public API cannot reach a data
//! race or any other undefined behaviour.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod chan;
mod park;
mod select;
pub mod sync;
