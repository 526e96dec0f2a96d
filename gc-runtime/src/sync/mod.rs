//! Go's `sync` package, parking the G (or OS thread) instead of spinning:
//! [`WaitGroup`] and [`Mutex`].
//!
//! Both are written against the park/ready contract (`crate::park`) through
//! the blocking primitives' facade (`chan::loom_sync`), like the channels,
//! and share their waiter record (`chan::waiter::WaitCore`): a waiter is
//! queued under the primitive's lock before it parks, and a wakeup that
//! comes before the park is absorbed, so none is lost.

mod mutex;
mod wait_group;

pub use mutex::{Mutex, MutexGuard};
pub use wait_group::WaitGroup;
