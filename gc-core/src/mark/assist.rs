//! Mutator assists (Go: `gcAssistAlloc`, `gcAssistAlloc1`, `gcDrainN`).
//!
//! While marking runs, every byte a mutator allocates puts it in debt
//! (`assist_bytes` goes negative, Go's `gcAssistBytes`). A mutator in debt
//! pays in scan work before its allocation completes: first with credit the
//! background markers banked, then by scanning grey objects itself, at least
//! [`OVER_ASSIST_WORK`](crate::pacer::OVER_ASSIST_WORK) at a time so assists
//! stay rare. The exchange rate is the pacer's `assist_work_per_byte`, which
//! makes the mutators finish the expected scan work before the heap reaches
//! its goal however fast they allocate.
//!
//! Invariants:
//! * An assist runs inside its mutator's critical section and uses that
//!   mutator's own work cache (`WbBuf::gcw`); a stop of the world waits for
//!   it, so no grey object is ever in flight across a stop. What it leaves
//!   unscanned it publishes to the global lists before returning, where the
//!   background marker finds it without a stop.
//! * While the GC CPU limiter is on (`limiter.rs`) an assist does nothing:
//!   the allocation proceeds in debt (Go: the `limiting()` check at the top
//!   of `gcAssistAlloc`). Each scanning assist's time goes to `gccpu` and
//!   may update the limiter.
//! * An assist ends early, keeping the rest of its debt, when the CPU
//!   limiter is on or a stop of the world is pending (checked every 64
//!   objects), so a stop waits for at most that much scanning.
//! * An assist that finds no grey work left forgives the rest of the debt
//!   and grants one over-assist's worth of allocation (Go parks the
//!   goroutine until the cycle ends instead): the markers are about to
//!   finish, there is nothing a mutator could do to help, and retrying at
//!   every allocation would cost two clock reads each.

use super::barrier::WbBuf;
use super::drain::{Marker, PrefetchRing, WORK};
use crate::heap::heap;
use crate::pacer;
use core::sync::atomic::Ordering;
use std::time::Instant;

/// Pays the debt in `assist_bytes` (negative) in scan work.
#[cold]
#[inline(never)]
pub fn assist(wbuf: &mut WbBuf, assist_bytes: &mut i64) {
    if crate::limiter::limiting() {
        // The GC CPU limiter is on: allocate without paying (Go:
        // gcAssistAlloc returns at once). The debt stays, to be paid once
        // the limiter turns off or forgiven at mark termination.
        return;
    }
    let heap_live = heap().heap_live.load(Ordering::Relaxed).max(0) as u64;
    let per_byte = pacer::assist_work_per_byte(heap_live).max(1e-9);
    let debt = assist_bytes.unsigned_abs();
    let mut want = (debt as f64 * per_byte) as u64;
    let mut pay = debt;
    if want < pacer::OVER_ASSIST_WORK {
        // Over-assist, so the next assist is far away (Go: gcOverAssistWork).
        want = pacer::OVER_ASSIST_WORK;
        pay = (want as f64 / per_byte) as u64;
    }
    let stolen = pacer::steal_bg_credit(want);
    if stolen >= want {
        *assist_bytes += pay as i64;
        return;
    }
    *assist_bytes += (stolen as f64 / per_byte) as i64;
    let want = want - stolen;

    // Only an assist that scans is timed (the pacer's `assistTime`); paying
    // from credit is a few atomic operations, and may happen every few
    // allocations when the heap is past its goal.
    let t0 = Instant::now();
    // In flight for the GC CPU limiter: an assist that owes the rest of the
    // cycle's work can last a whole cycle.
    let cpu = crate::gccpu::Timer::start_at(crate::gccpu::MarkWork::Assist, t0);
    // Shade what our own barrier buffered first: it is work nobody else can
    // see yet.
    wbuf.flush();
    let mut m = Marker::with_work(&WORK, core::mem::take(&mut wbuf.gcw));
    let mut ring = PrefetchRing::new();
    // Stop early if the limiter turns on meanwhile (Go: gcDrainN's
    // `limiting()` check); checked every 64 objects.
    // Likewise when a stop of the world is pending: the stop waits for this
    // section, so an assist that kept scanning would make the pause as long
    // as the assist (6 ms seen); it publishes its work and keeps its debt.
    let mut limited = false;
    m.drain_with(&mut ring, &mut |n, work| {
        if n % 64 == 0 && (crate::limiter::limiting() || crate::mutator::stop_pending()) {
            limited = true;
        }
        work >= want || limited
    });
    let done = m.scan_work;
    pacer::add_scan_work(done, false);
    crate::stats::add_marked(m.bytes_marked, m.objects_marked);
    // Publish what the assist did not finish: held here it would be found
    // only by the next ragged-barrier stop, which would then restart, and
    // after enough restarts finish the mark inside a stop.
    m.gcw.dispose(&WORK);
    wbuf.gcw = m.gcw;
    *assist_bytes += (done as f64 / per_byte) as i64 + 1;
    if done < want && !limited {
        // No grey work left: forgive the debt and grant an allowance, so
        // that until work reappears the mutator tries again only every
        // `pay` bytes, and at least every OVER_ASSIST_WORK bytes (past the
        // goal `pay` shrinks to a few bytes), not at every allocation (Go
        // parks it until the cycle ends or credit arrives instead).
        *assist_bytes = (*assist_bytes).max(pay.max(pacer::OVER_ASSIST_WORK) as i64);
    }
    let t1 = Instant::now();
    crate::exectrace::slice("assist", "mark assist", t0, t1);
    pacer::add_assist_time(t1 - t0);
    cpu.finish_at(t1);
    crate::limiter::update_if_due(crate::gccpu::ns_since_epoch(t1));
}
