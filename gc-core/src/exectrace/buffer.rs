//! Per-thread event buffers of the execution trace.
//!
//! Each thread that records an event gets a buffer, a lock-free queue
//! (crossbeam's `SegQueue`) that it alone pushes to and the writer thread
//! alone pops from; the registry of buffers is locked once per thread, at
//! its first event, never per event.
//!
//! Invariants:
//! * A thread's buffer outlives the thread (the registry shares it), so
//!   events recorded just before a thread exits still reach the file.
//! * Only the writer pops; it drains every registered buffer on each tick
//!   and once more when the trace stops, after tracing was switched off.
//! * The thread-local is touched only inside `push`, which is never
//!   inlined, so a caller that changed OS thread since its last event (a
//!   gc-runtime G) reaches its current thread's buffer (R13).

use super::Record;
use crossbeam_queue::SegQueue;
use parking_lot::Mutex;
use std::sync::Arc;

/// One thread's buffer.
pub(super) type Buffer = Arc<SegQueue<Record>>;

/// Every buffer ever handed out (one per thread that traced).
static BUFFERS: Mutex<Vec<Buffer>> = Mutex::new(Vec::new());

thread_local! {
    static MINE: Buffer = {
        let b: Buffer = Arc::new(SegQueue::new());
        BUFFERS.lock().push(b.clone());
        b
    };
}

/// Appends `r` to the calling thread's buffer. During thread teardown,
/// when the buffer is gone, the event is dropped. Never inlined, behind a
/// compiler fence: the caller may be a gc-runtime G that changed thread
/// since its last event (R13), and `MINE`'s lazy initialisation must run
/// on the thread that owns the slot.
#[inline(never)]
pub(super) fn push(r: Record) {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    let _ = MINE.try_with(|b| b.push(r));
}

/// Pops every event from every buffer into `out` (writer thread only).
pub(super) fn drain(out: &mut Vec<Record>) {
    let bufs: Vec<Buffer> = BUFFERS.lock().clone();
    for b in bufs {
        while let Some(r) = b.pop() {
            out.push(r);
        }
    }
    // Buffers of exited threads that are empty can go.
    BUFFERS.lock().retain(|b| Arc::strong_count(b) > 1 || !b.is_empty());
}
