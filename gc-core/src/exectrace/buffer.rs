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
/// when the buffer is gone, the event is dropped.
#[inline]
pub(super) fn push(r: Record) {
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
