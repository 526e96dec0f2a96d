//! The warning for a stop stuck behind one thread (the JVM's
//! `-XX:+SafepointTimeout` idea, always on, printed once per process).
//!
//! Invariant: it only prints; the stop keeps waiting. [`Backoff`] is the
//! collector's wait for one mutator (spin, then yield, then sleep: a pin may
//! last milliseconds), shared by the stop and the ragged barrier.

use core::sync::atomic::{AtomicBool, Ordering};

/// How long a stop waits for one thread before it warns (the JVM's
/// `-XX:+SafepointTimeout` idea, always on, once per process).
pub(super) const STALL_WARNING: std::time::Duration = std::time::Duration::from_secs(2);

/// Warns, once per process, that a stop is stuck behind a thread.
#[cold]
pub(super) fn warn_stalled(pinned: bool) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    let (where_, why) = if pinned {
        (
            "inside a pin",
            "a thread that blocks inside a pin (a lock, a channel, I/O, a sleep) holds off every collection \
             until the pin ends, and deadlocks if what it waits for is a thread waiting for this collection",
        )
    } else {
        (
            "inside a critical section",
            "the thread may be descheduled, or blocked in user code that runs inside a section",
        )
    };
    eprintln!(
        "tricolor-gc: warning: a stop of the world has waited {} s for a thread {where_}; {why} \
         (docs/tuning.md, \"Pins and the collector\"); still waiting",
        STALL_WARNING.as_secs()
    );
}

/// The collector's wait for one mutator: spins, then yields, then sleeps
/// 20 µs at a time, warning once if the wait passes [`STALL_WARNING`].
#[derive(Default)]
pub(super) struct Backoff {
    spins: u32,
    since: Option<std::time::Instant>,
}

impl Backoff {
    /// Waits a little; `pinned`: the thread waited for is inside a pin.
    pub(super) fn snooze(&mut self, pinned: bool) {
        self.spins += 1;
        if self.spins < 64 {
            core::hint::spin_loop();
        } else if self.spins < 1024 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(20));
            let t0 = *self.since.get_or_insert_with(std::time::Instant::now);
            if t0.elapsed() >= STALL_WARNING {
                warn_stalled(pinned);
            }
        }
    }
}
