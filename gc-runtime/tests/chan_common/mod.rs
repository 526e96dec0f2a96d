//! Shared helpers of the `chan_*` tests (a directory, so cargo does not build it as a test of its own): `spawn` starts a concurrent task.
//! Today a task is an OS thread; once the scheduler is merged the same test
//! bodies run inside a runtime by making `spawn` call `gc_runtime::go` (and
//! `Task::join` the `JoinHandle`'s join), so every body is written against
//! this helper only.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// A spawned task.
pub struct Task<R>(std::thread::JoinHandle<R>);

impl<R> Task<R> {
    /// Waits for the task and returns its result (panics if it panicked).
    pub fn join(self) -> R {
        self.0.join().expect("task panicked")
    }

    /// Waits for the task; `Err` with the panic payload if it panicked.
    pub fn join_result(self) -> std::thread::Result<R> {
        self.0.join()
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

/// Starts `f` concurrently.
pub fn spawn<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Task<R> {
    Task(std::thread::spawn(f))
}

/// Sleeps the task.
pub fn sleep(d: Duration) {
    std::thread::sleep(d);
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if cond() {
            return true;
        }
        sleep(Duration::from_millis(1));
    }
    cond()
}

/// A scale factor for the stress sizes: `CHAN_TEST_SCALE` (default 1).
pub fn scale() -> usize {
    std::env::var("CHAN_TEST_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

/// The message of a panic payload.
pub fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".to_string()
    }
}
