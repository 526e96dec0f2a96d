//! gc-runtime: the embedded G/M/P scheduler of tricolor-gc (Go: proc.go).
//!
//! Not built yet. Its design is in `../shared/DESIGN.md` ("gc-runtime: the
//! scheduler"): Gs on mmap'd stacks with guard pages, Ms as OS threads, P
//! run queues with work stealing, sysmon, and the GC's mark workers as
//! dedicated, fractional and idle Gs. Until it lands, `gc-core` runs with
//! plain std threads as mutators, which is a supported configuration of its
//! own, and this crate deliberately contains no code.
#![forbid(unsafe_code)]
