//! The hybrid write barrier and its per-mutator buffer (Go: mbarrier.go,
//! mwbbuf.go).
//!
//! Go's barrier, as the compiler emits it (the "is my stack grey" test is not
//! implemented there either):
//!
//! ```text
//! write_pointer(slot, new):
//!     if writeBarrier.enabled { buf.push(new, *slot) }   // insertion + deletion
//!     *slot = new
//! ```
//!
//! Entries are object addresses (old and new referents), not slot addresses;
//! a null referent is not recorded, nor a new referent that the writer
//! itself allocated black this cycle (`Member::store_in_section`). The
//! buffer holds 512 entries; a full buffer, a ragged barrier and mark
//! termination flush it by shading every entry into the mutator's `GcWork`;
//! a full buffer's flush also publishes that work to the global lists.
//!
//! Invariants:
//! * The barrier runs inside the writer's critical section, before the store
//!   (pre-publication), and only while `barrier_enabled()`.
//! * A buffer is non-empty only while the barrier is on; at mark termination
//!   every entry is already black, so leftovers are discarded (Go:
//!   `wbBuf.reset` in `gcMark`).

use super::drain::{Marker, WORK};
use super::work::GcWork;
use crate::fault::{self, Fault};

/// Entries per buffer (Go: `wbBufEntries`).
pub const WB_ENTRIES: usize = 512;

/// A mutator's write-barrier buffer (Go: `wbBuf`).
pub struct WbBuf {
    /// Entries `buf[..len]`; allocated on first use (most threads never
    /// write while marking).
    buf: Box<[usize]>,
    len: usize,
    /// Grey objects produced by flushes, handed to the collector at the
    /// ragged barrier (Go: the P's `gcw`).
    pub gcw: GcWork,
}

impl Default for WbBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl WbBuf {
    /// An empty buffer.
    pub fn new() -> WbBuf {
        WbBuf { buf: Box::new([]), len: 0, gcw: GcWork::default() }
    }

    /// Makes room for two entries.
    #[inline(always)]
    fn reserve2(&mut self) {
        if self.len + 2 > self.buf.len() {
            self.grow_or_flush();
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_or_flush(&mut self) {
        if self.buf.is_empty() {
            self.buf = vec![0; WB_ENTRIES].into_boxed_slice();
        } else {
            self.flush();
            // Publish the grey objects at once, so the background marker
            // finds them without a ragged-barrier stop (and its restart).
            self.gcw.dispose(&WORK);
        }
    }

    /// Records the old and new referents of a pointer write; a null
    /// referent (or one the caller knows is black, passed as 0) takes no
    /// entry (its slot is written, then overwritten or left past `len`).
    #[inline]
    pub fn record(&mut self, old: usize, new: usize) {
        // Test-only faults (`fault.rs`): drop one half of the barrier.
        let old = if fault::active(Fault::BarrierYuasa) { 0 } else { old };
        let new = if fault::active(Fault::BarrierDijkstra) { 0 } else { new };
        if (old | new) == 0 {
            return;
        }
        self.reserve2();
        let n = self.len;
        self.buf[n] = new;
        let n = n + (new != 0) as usize;
        self.buf[n] = old;
        self.len = n + (old != 0) as usize;
    }

    /// Records one referent (a shade of a root registered during marking, or
    /// an adoption).
    #[inline]
    pub fn record_one(&mut self, p: usize) {
        self.reserve2();
        self.buf[self.len] = p;
        self.len += 1;
    }

    /// Records the object of a root registered while the barrier is on
    /// (`gc.rs::root`): the registrar's shade, which keeps an object moved
    /// from a table not yet scanned into one already scanned (row 26 of
    /// docs/pointer-model.md).
    #[inline]
    pub fn record_root(&mut self, p: usize) {
        if fault::active(Fault::RootShade) {
            return;
        }
        self.record_one(p);
    }

    /// Shades every buffered entry into this mutator's work cache (Go:
    /// `wbBufFlush1`).
    pub fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let mut m = Marker::with_work(&WORK, core::mem::take(&mut self.gcw));
        for &p in &self.buf[..self.len] {
            if p != 0 && p & 1 == 0 {
                m.shade(p);
            }
        }
        self.len = 0;
        self.gcw = m.gcw;
        crate::stats::add_marked(m.bytes_marked, m.objects_marked);
    }

    /// Flushes and publishes all grey work to the global lists (the
    /// per-mutator step of the ragged barrier). Returns true if it published
    /// anything.
    pub fn flush_to_global(&mut self) -> bool {
        self.flush();
        self.gcw.flushed_work = false;
        self.gcw.dispose(&WORK);
        core::mem::take(&mut self.gcw.flushed_work)
    }

    /// Drops buffered entries when the barrier is off (thread exit).
    pub fn discard_if_off(&mut self) {
        if !super::barrier_enabled() || fault::active(Fault::ExitFlush) {
            self.len = 0;
        } else {
            self.flush_to_global();
        }
    }
}

/// The write barrier for storing `new` over `old` in a heap slot. `buf` is
/// the writer's buffer; the caller is inside its critical section.
#[inline(always)]
pub fn write_barrier(buf: &mut WbBuf, old: usize, new: usize) {
    if super::barrier_enabled() {
        buf.record(old, new);
    }
}
