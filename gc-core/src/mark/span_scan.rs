//! Span-batched scanning of small headerless objects (Go 1.25's Green Tea
//! collector: `tryGreyObject`, `scanSpan`, `spanInlineMarkBits` in
//! mgcmark_greenteagc.go).
//!
//! Object-at-a-time marking visits grey objects in work-list order, which
//! for a heap of small linked objects is close to random: each scan misses
//! the cache. Here a marker that greys an object in a headerless scan span
//! queues the *span* instead, once; whoever pops it scans every grey object
//! of the span in address order, and objects greyed in it meanwhile (by the
//! scan itself, as with a tree's left child one slot further on, or by any
//! other marker) join the same pass. Memory is read in order, a span's
//! cache lines are fetched once per pass, and the work lists hold a span
//! where they held up to a span's worth of objects.
//!
//! # The ownership protocol
//!
//! A span's grey objects are `mark_bits & !scan_bits`. `scan_owner` says
//! that some marker will scan them:
//!
//! * **Shade** (any marker): set the mark bit (`fetch_set`, SeqCst); then,
//!   if `scan_owner` is clear, try to set it (`try_own`), and if that
//!   succeeds, queue the span. A failed attempt means another marker owns
//!   it and will see the bit.
//! * **Scan** (the owner): repeatedly take `grey = marks & !scans`, set
//!   those scan bits, scan the objects; when a pass finds nothing grey,
//!   clear `scan_owner` (SeqCst), re-read the mark bits (SeqCst), and if a
//!   grey object appeared, try to take ownership back and go on; if that
//!   fails, the marker that took it queued the span.
//!
//! A mark bit set after the owner's last read is seen either by the owner's
//! re-read (if its `fetch_set` comes first in the SC order) or by the
//! shader's owner load, which then reads clear and queues the span (if the
//! owner's release comes first). So no grey object is left without an
//! owner or a queue entry. `tests/loom_span_scan.rs` checks this protocol,
//! and the variant with a release but no re-read that loses an object.
//!
//! Invariants:
//! * `scan_bits ⊆ mark_bits`; `scan_bits` is written only by the span's
//!   owner, and by the sweeper when no mark runs.
//! * `scan_owner` is set exactly while a work list holds the span's entry
//!   (tagged [`SPAN_ENTRY`]) or a marker is scanning it; at mark
//!   termination it is clear on every span.
//! * Objects allocated black carry no mark bit until their span leaves its
//!   cache (`Span::finish_black`); a span pass may then scan them too,
//!   which is extra work, never a lost object.

use super::drain::Marker;
use crate::heap::span::Span;
use core::sync::atomic::Ordering;

/// Tag of a work entry that is a span to scan (a `*const Span`, 8-byte
/// aligned) rather than the slot of an object with a header.
pub const SPAN_ENTRY: usize = 1;

impl Span {
    /// Takes the span's scan ownership if nobody holds it; true if this
    /// call took it (the caller must then queue or scan the span).
    #[inline]
    pub fn try_own(&self) -> bool {
        !self.scan_owner.load(Ordering::SeqCst)
            && self.scan_owner.compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed).is_ok()
    }

    /// True if some marked slot has not been scanned (owner's view after a
    /// release: reads the mark bits SeqCst against `fetch_set`).
    fn has_grey(&self) -> bool {
        (0..self.mark_bits.nwords()).any(|w| self.mark_bits.word_seqcst(w) & !self.scan_bits.word_owned(w) != 0)
    }
}

impl Marker<'_> {
    /// Scans the headerless object in `slot` of `span`, which this marker
    /// owns. A referent in the same span (a tree's left child, a list's
    /// next cell) is marked here without the span lookup or the ownership
    /// test of `shade`: this pass picks it up. `low` is lowered to the
    /// mark-bit word of such a referent, so that a pass that marks behind
    /// itself (a cons list links each cell to the one allocated before it)
    /// goes back for it at once.
    #[inline(always)]
    fn scan_object(&mut self, span: &Span, slot: usize, low: &mut usize) {
        let (lo, hi) = (span.base, span.limit());
        self.for_each_target(slot, span.ptr_bits_of(slot), |m, w| {
            if w < lo || w >= hi {
                m.shade(w);
                return;
            }
            let idx = span.obj_index(w);
            if m.mark(span, idx) {
                *low = (*low).min(idx / 64);
            }
        });
    }

    /// Scans every grey object of the span at `s`, which this marker owns
    /// (it popped the span's entry), then gives the span up (module doc).
    /// Kept out of line: inlined into `Marker::scan` (which LTO chose once
    /// the module became crate-private) its loop ran 13 % more instructions
    /// (callgrind, pause_probe 20 100000).
    #[inline(never)]
    pub(super) fn scan_span(&mut self, s: *const Span) {
        // SAFETY: span entries point at live spans: spans are freed only by
        // the sweeper, and no sweep runs while a mark does.
        let span = unsafe { &*s };
        let nwords = span.mark_bits.nwords();
        loop {
            // Words in address order; a word is read again until it has no
            // grey slot, and the pass steps back to the lowest word it
            // marked in behind itself.
            let mut w = 0;
            while w < nwords {
                let mut low = usize::MAX;
                loop {
                    let scanned = span.scan_bits.word_owned(w);
                    let grey = span.mark_bits.word(w) & !scanned;
                    if grey == 0 {
                        break;
                    }
                    span.scan_bits.store_word(w, scanned | grey);
                    let mut g = grey;
                    while g != 0 {
                        let slot = span.slot_addr(w * 64 + g.trailing_zeros() as usize);
                        g &= g - 1;
                        self.scan_object(span, slot, &mut low);
                    }
                    self.scan_work += grey.count_ones() as u64 * span.elemsize as u64;
                }
                w = if low < w { low } else { w + 1 };
            }
            span.scan_owner.store(false, Ordering::SeqCst);
            // A marker that greyed an object after our last read and saw us
            // as owner did not queue the span: take it back if it has one.
            if !span.has_grey() || !span.try_own() {
                return;
            }
        }
    }
}
