//! The collection cycle: Go's four phases (mgc.go `gcStart`, `gcMarkDone`,
//! `gcMarkTermination`, `gcSweep`).
//!
//! 1. **Sweep termination** (stop #1): the previous cycle's sweep is finished
//!    before the stop, concurrently; inside it we only check it is done,
//!    turn the barrier on and enter `Mark`. From here allocation is black.
//! 2. **Mark**: roots (every mutator's root table, the fallback table, every
//!    barrier buffer) are shaded and grey objects drained. In this version
//!    marking runs inside the pause; it already uses the mark bits, work
//!    buffers and phases that concurrent marking will use, and it never
//!    recurses.
//! 3. **Mark termination**: every mutator's barrier buffer is flushed and its
//!    span cache released, `heap_live` becomes the marked bytes, the barrier
//!    goes off, `sweepgen += 2`, the next goal is committed.
//! 4. **Sweep**: concurrent, lazily on allocation and on the background
//!    sweeper thread.
//!
//! Invariants:
//! * One cycle at a time (`CYCLE`); a cycle starts only after the previous
//!   sweep is complete.
//! * The phase changes only while the world is stopped.
//! * A pause does O(mutators) bookkeeping plus (in this version) the mark
//!   work itself; never a sweep.

use crate::env;
use crate::heap::heap;
use crate::mark::checkmark;
use crate::mark::drain::{Marker, WORK};
use crate::mark::{self, workers, Phase};
use crate::mutator;
use crate::pacer;
use crate::stats;
use crate::sweep;
use core::sync::atomic::Ordering;
use parking_lot::Mutex;
use std::time::{Duration, Instant};

static CYCLE: Mutex<()> = Mutex::new(());
static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Why a cycle starts (Go: `gcTrigger`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `heap_live` reached the goal (Go: `gcTriggerHeap`).
    Heap,
    /// `collect()` (Go: `gcTriggerCycle`, forced).
    Forced,
}

/// Checks the heap trigger after an allocation and runs a cycle if due. The
/// caller is outside every critical section.
#[inline]
pub fn maybe_collect() {
    if pacer::should_trigger(heap().heap_live.load(Ordering::Relaxed)) {
        run(Trigger::Heap);
    }
}

/// Runs one full cycle. With `Trigger::Heap`, returns at once if another
/// thread is already collecting or the trigger no longer holds.
pub fn run(trigger: Trigger) {
    START.get_or_init(Instant::now);
    let _cycle = match trigger {
        Trigger::Heap => match CYCLE.try_lock() {
            Some(g) => g,
            None => return,
        },
        Trigger::Forced => CYCLE.lock(),
    };
    if trigger == Trigger::Heap && !pacer::should_trigger(heap().heap_live.load(Ordering::Relaxed)) {
        return;
    }
    // Finish the previous sweep before stopping (Go: the sweepone loop at
    // the top of gcStart), so the pause never sweeps.
    sweep::finish_sweep(false);

    let heap = heap();
    let heap0 = heap.heap_live.load(Ordering::Relaxed).max(0) as u64;
    let t_start = Instant::now();
    let world = mutator::stop_the_world();
    let t_stopped = Instant::now();

    world.free_retired();

    // --- Sweep termination ---
    // Spans can only become unswept at mark termination, and every sweeper
    // works inside a critical section, so nothing is left to sweep here.
    debug_assert!(sweep::is_done(), "sweep termination with unswept spans");
    mark::set_phase(Phase::Mark);
    let _ = stats::take_marked();

    // --- Mark ---
    let mut marker = Marker::new(&WORK);
    for m in world.mutators() {
        // SAFETY: the world is stopped, so every table is stable.
        unsafe { m.roots.for_each_root(|p| marker.shade(p)) };
        // SAFETY: the world is stopped; mutators' local state is ours.
        let local = unsafe { m.local() };
        local.wbuf.flush_to_global();
    }
    // Weak cells of live objects are roots (Go: markrootSpans).
    crate::specials::for_each_weak_cell(|c| marker.shade(c));
    let (worker_bytes, worker_objects) = workers::run_round(&mut marker);
    debug_assert!(WORK.full_is_empty());
    let (extra_bytes, extra_objects) = stats::take_marked();
    let marked = marker.bytes_marked + worker_bytes + extra_bytes;
    let marked_objects = marker.objects_marked + worker_objects + extra_objects;

    let cfg = env::config();
    if cfg.debug.gccheckmark {
        let mut roots = Vec::new();
        for m in world.mutators() {
            // SAFETY: the world is stopped.
            unsafe { m.roots.for_each_root(|p| roots.push(p)) };
        }
        checkmark::verify(heap, roots);
    }

    // --- Mark termination ---
    mark::set_phase(Phase::MarkTermination);
    let heap1 = heap.heap_live.load(Ordering::Relaxed).max(0) as u64;
    for m in world.mutators() {
        // SAFETY: the world is stopped; mutators' local state is ours.
        let local = unsafe { m.local() };
        // Everything still buffered is already black (Go: wbBuf.reset in
        // gcMark), but flush anyway: it is cheap and keeps the invariant
        // checkable.
        local.wbuf.flush_to_global();
        // SAFETY: as above; caches are released so every span is in a list
        // for the sweep (Go: prepareForSweep for every P).
        unsafe { local.cache.release_all(heap) };
        stats::add_allocs(core::mem::take(&mut local.cache.allocs), core::mem::take(&mut local.cache.alloc_bytes));
    }
    let mut leftover = Marker::new(&WORK);
    leftover.drain();
    assert_eq!(leftover.objects_marked, 0, "mark termination found unmarked grey work");
    heap.heap_live.store(marked as isize, Ordering::Relaxed);
    mark::set_phase(Phase::Off);
    heap.sweepgen.fetch_add(2, Ordering::AcqRel);
    sweep::reset_cursor();
    pacer::end_cycle(marked);
    let ttsp = world.time_to_safepoint;
    drop(world);
    let t_end = Instant::now();
    let pause = t_end - t_stopped + ttsp;
    stats::record_cycle(pause, ttsp, trigger == Trigger::Forced);

    // --- Sweep (concurrent) ---
    sweep::wake_background();

    if cfg.debug.gctrace > 0 {
        print_gctrace(
            trigger,
            t_start,
            t_stopped - t_start,
            t_end - t_stopped,
            heap0,
            heap1,
            marked,
            marked_objects,
            cfg.max_procs,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn print_gctrace(
    trigger: Trigger,
    t_start: Instant,
    stop: Duration,
    mark: Duration,
    heap0: u64,
    heap1: u64,
    marked: u64,
    objects: u64,
    procs: usize,
) {
    let since = t_start.duration_since(*START.get().expect("set at first cycle"));
    // Go's line, with the concurrent-mark column 0 (marking runs in the
    // pause, reported as the termination column) and objects marked added.
    eprintln!(
        "gc {} @{:.3}s: {}+0+{} ms clock, {} -> {} -> {} MB, {} MB goal, {} objects marked, {} P{}",
        stats::num_gc(),
        since.as_secs_f64(),
        stats::fmt_ms(stop),
        stats::fmt_ms(mark),
        heap0 >> 20,
        heap1 >> 20,
        marked >> 20,
        pacer::goal() >> 20,
        objects,
        procs,
        if trigger == Trigger::Forced { " (forced)" } else { "" }
    );
}

/// Go's `runtime.GC`: runs a full cycle, finishes sweeping and runs the drop
/// glue it found before returning.
pub fn collect() {
    run(Trigger::Forced);
    sweep::finish_sweep(true);
    crate::specials::wait_for_cleanups();
}
