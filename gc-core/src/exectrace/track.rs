//! Tracks of the execution trace: which timeline an event goes on.
//!
//! Today a track is an OS thread: the collector's threads (the background
//! marker, its helpers, the sweeper, the finalizer thread) and every mutator
//! thread each get one, named after the thread. Under the `gc-runtime`
//! scheduler the natural tracks are Gs and Ps; this file is where they would
//! be mapped, and nothing else in the trace would change.
//!
//! Invariants: track 0 is the process (counters); a thread's track number is
//! assigned at its first event and never reused; the thread-local holding
//! it is read only inside `current`, which is never inlined (R13).

use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use parking_lot::Mutex;

static NEXT: AtomicU64 = AtomicU64::new(1);
/// Every track's number and name, for the trace's metadata events.
static NAMES: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());

thread_local! {
    static TRACK: Cell<u64> = const { Cell::new(0) };
}

/// The calling thread's track (assigned at its first event). Never
/// inlined, behind a compiler fence: the caller may be a gc-runtime G that
/// changed thread since its last event (R13).
#[inline(never)]
pub(super) fn current() -> u64 {
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
    TRACK
        .try_with(|t| {
            let id = t.get();
            if id != 0 {
                return id;
            }
            let id = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = match std::thread::current().name() {
                Some(n) => n.to_string(),
                None => format!("thread {id}"),
            };
            NAMES.lock().push((id, name));
            t.set(id);
            id
        })
        .unwrap_or(u64::MAX)
}

/// The tracks seen so far, with their names.
pub(super) fn tracks() -> Vec<(u64, String)> {
    NAMES.lock().clone()
}
