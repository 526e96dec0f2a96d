//! Sweeping (Go: mgcsweep.go): turning mark bits into alloc bits, lazily on
//! allocation and in the background, and running drop glue outside every
//! critical section and lock.
//!
//! # Sweep generations (Go's table, `sg` = `Heap::sweepgen`)
//!
//! | `span.sweepgen` | meaning |
//! | --- | --- |
//! | sg − 2 | needs sweeping |
//! | sg − 1 | being swept by the thread that won the CAS |
//! | sg | swept, in a central list |
//! | sg + 1 | cached before this sweep phase began; swept when uncached |
//! | sg + 3 | swept, then cached |
//!
//! `sg` grows by 2 at each mark termination, with the world stopped. A span
//! is swept exactly once per cycle: the only ways in are the CAS
//! `sg−2 → sg−1` and the uncache of an `sg+1` span by its owning cache.
//!
//! # Drop glue
//!
//! A dead object with drop glue is not freed by the sweep that finds it: its
//! header goes `LIVE → DROPPING`, its slot stays allocated, and its glue is
//! queued for the finalizer thread (`finalizer.rs`; user code may block,
//! allocate, collect or panic — a panic aborts). The header then goes to
//! `DEAD` and the *next* cycle's sweep frees the slot without touching the
//! object again. So drop glue runs exactly once, on the finalizer thread —
//! never inside an allocation, a critical section or a collector lock — and
//! never on memory that was reused.
//!
//! # Invariants
//! * Only the owner of a span sweeps it; sweeping needs a critical section
//!   (so no stop-the-world can begin halfway through a span).
//! * Every unswept span is swept before the next cycle's sweep termination
//!   ends (`finish_sweep` before the stop, asserted inside it).
//! * `collect()` returns only after every drop its cycle queued has run
//!   (`finalizer::wait`).

use crate::finalizer::{self, Task};
use crate::heap::central::SpanPtr;
use crate::heap::object::{self, TypeInfo, DEAD, DROPPING};
use crate::heap::size_class::NUM_SPAN_CLASSES;
use crate::heap::span::Span;
use crate::heap::{heap, Heap, Sweeper};
use crate::mutator;
use core::sync::atomic::{AtomicUsize, Ordering};
use parking_lot::{Condvar, Mutex};

/// A dead object whose drop glue must still run.
pub(crate) struct PendingDrop {
    slot: usize,
    info: &'static TypeInfo,
}
// SAFETY: the object is dead and owned by whoever holds this record.
unsafe impl Send for PendingDrop {}

impl PendingDrop {
    /// The dead object's type name.
    pub(crate) fn type_name(&self) -> &'static str {
        (self.info.name)()
    }

    /// Runs the drop glue and marks the header `DEAD`. The caller is the
    /// finalizer thread, outside every critical section and lock.
    pub(crate) fn run(self) {
        let p = object::object_of(self.slot, self.info);
        let len = object::len_of(p, self.info);
        if let Some(f) = self.info.drop {
            // SAFETY: the object is dead (unmarked, unreachable), its header
            // is DROPPING so no one else drops it, and its slot stays
            // allocated until the header says DEAD.
            unsafe { f(p, len) };
        }
        // SAFETY: the slot is still allocated (DROPPING keeps it) and starts
        // with its header word.
        let h = unsafe { object::header(self.slot) };
        h.store(self.info as *const TypeInfo as usize | DEAD, Ordering::Release);
    }
}

/// The sweeper the heap calls (`heap::Sweeper`).
pub(crate) struct Sweep;

impl Sweeper for Sweep {
    unsafe fn sweep_span(&self, heap: &Heap, span: &Span) -> usize {
        let _t = crate::exectrace::SliceGuard::new("sweep", "sweep: lazy (allocation)");
        // SAFETY: forwarded contract.
        unsafe { sweep_span(heap, span) }
    }
    unsafe fn sweep_one(&self) -> bool {
        let _t = crate::exectrace::SliceGuard::new("sweep", "sweep: reclaim (allocation)");
        // SAFETY: forwarded contract.
        unsafe { sweep_one() }
    }
}

/// Sweeps `span` (Go: `sweepLocked.sweep`): installs the mark bits as alloc
/// bits, queues drop glue for the finalizer thread, clears the mark bits.
/// Returns the slots still allocated (live objects plus objects whose drop
/// glue is pending).
///
/// # Safety
/// The caller owns the span (won its sweep CAS, or owns a stale cached span)
/// and is inside a critical section or holds the world stopped.
pub(crate) unsafe fn sweep_span(heap: &Heap, span: &Span) -> usize {
    let mut drops: Vec<Task> = Vec::new();
    let has_drops = span.has_drops.load(Ordering::Relaxed);
    let has_specials = span.has_specials.load(Ordering::Acquire);
    // Headerless objects have no drop glue and no header to read: only
    // their specials matter, keyed by the slot address itself.
    let headerless = span.class.is_headerless();
    let clobber = crate::env::config().debug.clobberfree;
    let mut dead_with_specials: Vec<usize> = Vec::new();
    let mut live = 0;
    let mut freed = 0u64;
    for w in 0..span.alloc_bits.nwords() {
        let valid = span.valid_mask(w);
        // SAFETY: the caller owns the span.
        let alloc = (span.alloc_bits.word(w) | unsafe { span.below_freeindex_mask(w) }) & valid;
        let marked = span.mark_bits.word(w) & valid;
        let dead = alloc & !marked;
        let mut keep = marked;
        if (has_drops || has_specials) && dead != 0 {
            let mut d = dead;
            while d != 0 {
                let b = d.trailing_zeros() as usize;
                d &= d - 1;
                let slot = span.slot_addr(w * 64 + b);
                if headerless {
                    if has_specials {
                        dead_with_specials.push(slot);
                    }
                    continue;
                }
                // SAFETY: the slot is allocated (its alloc bit is set) in a
                // span with headers, so it starts with a header word.
                let h = unsafe { object::header(slot) };
                let word = h.load(Ordering::Acquire);
                match object::state_of(word) {
                    DROPPING => keep |= 1 << b,
                    DEAD => {}
                    _ => {
                        // SAFETY: a LIVE header word holds its type's
                        // static descriptor.
                        let info = unsafe { object::info_of(word) };
                        if has_specials {
                            dead_with_specials.push(object::object_of(slot, info));
                        }
                        if info.drop.is_some() {
                            h.store(word | DROPPING, Ordering::Release);
                            keep |= 1 << b;
                            drops.push(Task::Drop(PendingDrop { slot, info }));
                        }
                    }
                }
            }
        }
        if clobber {
            clobber_free(span, w, alloc & !keep);
        }
        freed += (alloc & !keep).count_ones() as u64;
        live += keep.count_ones() as usize;
        span.alloc_bits.store_word(w, keep);
        span.mark_bits.store_word(w, 0);
    }
    // Scan bits mean "scanned this cycle" (span-batched marking); no mark
    // runs while a span is swept, so no marker owns it.
    debug_assert!(!span.scan_owner.load(Ordering::Relaxed), "sweeping a span a marker owns");
    span.scan_bits.clear();
    if !dead_with_specials.is_empty() {
        // Clear weak handles and queue cleanups before any slot is reused.
        crate::specials::object_died(&dead_with_specials);
    }
    if !drops.is_empty() {
        finalizer::queue(drops);
    }
    // SAFETY: the caller owns the span.
    unsafe { span.reset_alloc(live) };
    if freed > 0 {
        heap.frees.fetch_add(freed, Ordering::Relaxed);
        heap.freed_bytes.fetch_add(freed * span.elemsize as u64, Ordering::Relaxed);
    }
    live
}

/// The next span class whose unswept list may be non-empty (Go:
/// `sweep.centralIndex`); reset at each mark termination.
static SWEEP_CURSOR: AtomicUsize = AtomicUsize::new(0);

/// Resets the sweep cursor; called with the world stopped after `sweepgen`
/// was bumped.
pub fn reset_cursor() {
    SWEEP_CURSOR.store(0, Ordering::Release);
}

/// `GODEBUG=clobberfree=1`: fills every slot in `freed` (bits of word `w`)
/// with 0xdeadbeef, as Go's `clobberfree` does. The stores are atomic so
/// that a buggy reader racing here (the use after free this mode exposes)
/// is not undefined behaviour on top.
#[cold]
fn clobber_free(span: &Span, w: usize, mut freed: u64) {
    while freed != 0 {
        let b = freed.trailing_zeros() as usize;
        freed &= freed - 1;
        let slot = span.slot_addr(w * 64 + b);
        for i in 0..span.elemsize / 8 {
            // SAFETY: the word is inside a slot the caller (the span's sweep owner) is freeing; nothing live is in it.
            let word = unsafe { &*((slot + i * 8) as *const AtomicUsize) };
            word.store(0xdead_beef_dead_beef, Ordering::Relaxed);
        }
    }
}

/// Sweeps one span from the central lists (Go: `sweepone`). Empty spans go
/// back to the page heap. Returns false when nothing is left to sweep.
///
/// # Safety
/// The caller is inside a critical section.
pub(crate) unsafe fn sweep_one() -> bool {
    let heap = heap();
    let sg = heap.sweepgen.load(Ordering::Acquire);
    loop {
        let i = SWEEP_CURSOR.load(Ordering::Acquire);
        if i >= NUM_SPAN_CLASSES {
            return false;
        }
        let c = &heap.central[i];
        let Some(s) = c.pop_unswept(sg) else {
            let _ = SWEEP_CURSOR.compare_exchange(i, i + 1, Ordering::AcqRel, Ordering::Relaxed);
            continue;
        };
        let span = s.get();
        if span
            .sweepgen
            .compare_exchange(sg.wrapping_sub(2), sg.wrapping_sub(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        // SAFETY: we won the CAS and are in a critical section.
        let live = unsafe { sweep_span(heap, span) };
        if live == 0 {
            // Published as swept before the descriptor is released, so an
            // `ensure_swept` waiting on this span (a `Weak::upgrade` of an
            // object that just died) sees the sweep end (row 56).
            span.sweepgen.store(sg, Ordering::Release);
            // SAFETY: owned, empty, and in no list.
            unsafe { heap.free_span(span) };
        } else {
            span.sweepgen.store(sg, Ordering::Release);
            c.push_swept(sg, SpanPtr(span), live < span.nelems);
        }
        return true;
    }
}

/// True if no span is left unswept (racy outside a stop).
pub fn is_done() -> bool {
    let heap = heap();
    let sg = heap.sweepgen.load(Ordering::Acquire);
    heap.central.iter().all(|c| !c.has_unswept(sg))
}

/// Makes sure the span holding `p` has been swept this cycle, sweeping it
/// now if needed, or waiting for the thread sweeping it (Go:
/// `mspan.ensureSwept`). A span swept here is not freed even if empty,
/// because a stale entry for it may still sit in an unswept list; that
/// entry is skipped when popped (its sweep CAS fails) and gone by the next
/// cycle.
///
/// Another thread's sweep of the span may find it empty and free it while
/// we wait (`p` then died, and its weak cell was cleared first): that sweep
/// publishes the span as swept before releasing it, a small span's
/// descriptor is only ever reused (never freed) and a large one's is freed
/// only at the next stop, which cannot happen while we are in our section;
/// and the wait also ends once `p`'s page no longer maps to this span
/// (row 56).
///
/// # Safety
/// `m` is the caller's mutator, inside a critical section, and `p` was an
/// allocated object when the caller read it in this section.
pub(crate) unsafe fn ensure_swept(p: usize) {
    let heap = heap();
    let s = crate::heap::arena::span_of(p);
    if s.is_null() {
        return;
    }
    // SAFETY: `p` is allocated, so its span is live.
    let span = unsafe { &*s };
    let sg = heap.sweepgen.load(Ordering::Acquire);
    loop {
        let g = span.sweepgen.load(Ordering::Acquire);
        if g == sg.wrapping_sub(2) {
            if span.sweepgen.compare_exchange(g, sg.wrapping_sub(1), Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                // SAFETY: we won the CAS and are in a critical section.
                let live = unsafe { sweep_span(heap, span) };
                span.sweepgen.store(sg, Ordering::Release);
                heap.central[span.class.index()].push_swept(sg, SpanPtr(span), live < span.nelems);
                return;
            }
        } else if g == sg.wrapping_sub(1) {
            if !core::ptr::eq(crate::heap::arena::span_of(p), s) {
                return; // freed (and maybe reused) under us: `p` is dead
            }
            std::thread::yield_now();
        } else {
            return;
        }
    }
}

/// Sweeps every remaining span on the calling thread (Go: the `sweepone`
/// loop in `gcStart` and `runtime.GC`). With `wait`, also waits until the
/// spans other threads claimed are swept, and then until the drops and
/// cleanups every sweep of the cycle queued have run on the finalizer
/// thread (not on the finalizer thread itself: a `Drop` may call
/// `collect()`).
pub(crate) fn finish_sweep(wait: bool) {
    while mutator::with_critical(|_| {
        // SAFETY: inside a critical section.
        unsafe { sweep_one() }
    }) {}
    if wait && !finalizer::on_finalizer_thread() {
        // Spans other threads claimed may still be mid-sweep, their dead
        // objects' drops and cleanups not yet queued. Every sweep runs inside
        // a critical section, so an empty stop of the world is the grace
        // period that waits them out (Go: waiting for `sweep.active`).
        drop(mutator::stop_the_world());
        if finalizer::pending() {
            crate::sched::block_on_collector(finalizer::wait);
        }
    }
}

/// The background sweeper (Go: `bgsweep`): a thread that sweeps after each
/// cycle until nothing is left, yielding between spans.
struct Background {
    work: Mutex<u64>,
    cv: Condvar,
}
static BG: Background = Background { work: Mutex::new(0), cv: Condvar::new() };
static BG_STARTED: std::sync::Once = std::sync::Once::new();

/// Wakes the background sweeper (starting it on first use).
pub fn wake_background() {
    BG_STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("tricolor-gc-sweeper".into())
            .spawn(background_loop)
            .expect("tricolor-gc: cannot start the background sweeper thread");
    });
    *BG.work.lock() += 1;
    BG.cv.notify_one();
}

fn background_loop() {
    let mut seen = 0;
    loop {
        {
            let mut w = BG.work.lock();
            while *w == seen {
                BG.cv.wait(&mut w);
            }
            seen = *w;
        }
        let t = crate::exectrace::SliceGuard::new("sweep", "sweep: background");
        finish_sweep(false);
        drop(t);
        let _t = crate::exectrace::SliceGuard::new("sweep", "scavenge");
        scavenge();
        // A stuck Drop must not hold up the drops this sweep queued.
        finalizer::keep_queue_moving();
    }
}

/// Returns free memory to the OS down to the heap goal plus 10 % (Go's
/// scavenger retention), after a cycle's sweep freed its empty spans.
fn scavenge() {
    let goal = crate::pacer::goal();
    if goal == u64::MAX {
        return;
    }
    scavenge_to((goal + goal / 10) as usize);
}

/// Returns free pages to the OS until the heap retains at most `retain`
/// bytes; returns the bytes released. The page lock is a leaf lock, taken
/// here outside any critical section; a stop never waits on its holder.
pub fn scavenge_to(retain: usize) -> usize {
    heap().pages.lock().scavenge_to(retain)
}
