//! The collection cycle: Go's four phases (mgc.go `gcStart`, `gcMarkDone`,
//! `gcMarkTermination`, `gcSweep`).
//!
//! 1. **Sweep termination** (stop #1, run by the thread that triggered the
//!    cycle): the previous sweep was finished before the stop, concurrently;
//!    inside it the retired root slots are freed, per-mutator assist state is
//!    reset, the pacer starts the cycle and the barrier goes on (phase
//!    `Mark`). From here allocation is black. The stop does O(mutators)
//!    work.
//! 2. **Concurrent mark**, on the background mark thread (Go:
//!    `gcBgMarkWorker`) while the mutators run: it scans every root table
//!    (they are read atomically, see `roots.rs`) and the weak cells, then
//!    drains grey objects with Go's 25 % budget of markers; mutators in
//!    assist debt help (`mark/assist.rs`), and their barrier buffers fill
//!    the same work lists.
//! 3. **Mark termination**: when the markers find no work, the ragged
//!    barrier (Go: `forEachP` in `gcMarkDone`, `mutator/flush.rs`) flushes
//!    every mutator's barrier buffer and work cache without stopping the
//!    world: each mutator flushes at its next section entry, or the
//!    collector flushes it if it is outside one. If that produced grey
//!    objects marking goes on. Otherwise a short stop flushes once more
//!    (barrier work buffered after the ragged barrier, Go's check for
//!    golang/go#27993); if that found some, the world restarts and marking
//!    goes on; if not, in the same stop, the span caches are released,
//!    `heap_live` becomes the marked bytes, the barrier goes off,
//!    `sweepgen += 2` and the pacer commits the next goal and trigger.
//!    After [`MAX_RESTARTS`] such restarts the last grey objects are
//!    drained inside the stop by every worker, so a mutator that keeps
//!    producing work cannot postpone the end of the cycle forever.
//! 4. **Sweep**: concurrent, lazily on allocation and on the background
//!    sweeper thread.
//!
//! Invariants:
//! * One cycle at a time (`CTL.running`); a cycle starts only after the
//!   previous sweep is complete.
//! * The phase changes only while the world is stopped.
//! * A pause does O(mutators) work: flushing buffers of bounded size and
//!   releasing span caches. Marking happens inside a pause only in the
//!   restart fallback above, and sweeping never does.
//! * Mark termination happens only when a stop found every barrier buffer
//!   and work cache empty and the global lists empty: then no grey object
//!   exists and none can appear (roots are shaded when registered, new
//!   objects are black).

use crate::env;
use crate::gctrace;
use crate::heap::heap;
use crate::mark::checkmark;
use crate::mark::drain::{Marker, WORK};
use crate::mark::{self, gworker, workers, Phase};
use crate::mutator::{self, StoppedWorld};
use crate::pacer;
use crate::stats;
use crate::sweep;
use core::sync::atomic::{AtomicBool, Ordering};
use parking_lot::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Ragged-barrier stops that may find new work before the rest of the mark
/// is finished inside the stop.
pub const MAX_RESTARTS: u32 = 8;

/// Cycle control: who runs, what was started and finished (Go: `work.cycles`
/// plus `gcsema`).
struct Control {
    running: bool,
    started: u64,
    finished: u64,
    job: Option<Job>,
    /// Gs parked until a cycle finishes (`wait_finished`), woken at each
    /// cycle's end.
    waiters: Vec<crate::sched::Waker>,
}

static CTL: Mutex<Control> =
    Mutex::new(Control { running: false, started: 0, finished: 0, job: None, waiters: Vec::new() });
static CTL_CV: Condvar = Condvar::new();
/// `CTL.running`, for the allocation path's lock-free check.
static RUNNING: AtomicBool = AtomicBool::new(false);
static BG_MARK: std::sync::Once = std::sync::Once::new();

/// What the starter hands to the background mark thread.
struct Job {
    n: u64,
    trigger: Trigger,
    t_start: Instant,
    stw1: Duration,
    heap0: u64,
}

/// Why a cycle starts (Go: `gcTrigger`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `heap_live` reached the trigger (Go: `gcTriggerHeap`).
    Heap,
    /// `collect()` (Go: `gcTriggerCycle`, forced).
    Forced,
    /// No cycle for two minutes (Go: `gcTriggerTime`, `forcegcperiod`);
    /// started by the monitor thread (`sysmon.rs`).
    Time,
}

/// Checks the heap trigger after an allocation and starts a cycle if due.
/// The caller is outside every critical section.
#[inline]
pub fn maybe_collect() {
    if crate::sched::preempt_pending() {
        // Allocation is a safepoint under a scheduler (sched.rs).
        crate::sched::preempt_slow();
    }
    maybe_trigger();
}

/// [`maybe_collect`] without its preemption point, for callers that must
/// stay on their thread (`Guard::repin`).
#[inline]
pub fn maybe_trigger() {
    if !RUNNING.load(Ordering::Relaxed) && pacer::should_trigger(heap().heap_live.load(Ordering::Relaxed)) {
        run(Trigger::Heap);
    }
}

/// Starts a cycle. With `Trigger::Heap` (or `Trigger::Time`), returns at
/// once if one is running or the trigger no longer holds, and otherwise as
/// soon as marking has started. With `Trigger::Forced`, waits for a running
/// cycle to finish, then runs a new one and returns after its mark termination (Go:
/// `runtime.GC`'s `gcWaitOnMark`).
pub fn run(trigger: Trigger) {
    if mutator::pinned() {
        // The cycle's first stop would wait for this thread's pin.
        match trigger {
            Trigger::Heap | Trigger::Time => return, // `pin_exit` triggers it
            Trigger::Forced => mutator::assert_not_pinned("collect()", "call it outside the pin"),
        }
    }
    let n = {
        let mut c = CTL.lock();
        match trigger {
            Trigger::Heap => {
                if c.running || !pacer::should_trigger(heap().heap_live.load(Ordering::Relaxed)) {
                    return;
                }
            }
            Trigger::Time => {
                if c.running || !crate::sysmon::time_trigger_due() {
                    return;
                }
            }
            Trigger::Forced => {
                while c.running {
                    let running = c.started;
                    drop(c);
                    wait_finished(running);
                    c = CTL.lock();
                }
            }
        }
        c.running = true;
        RUNNING.store(true, Ordering::Release);
        c.started += 1;
        c.started
    };
    start(trigger, n);
    if trigger == Trigger::Forced {
        wait_finished(n);
    }
}

/// Waits until cycle `n` has finished. A G parks (Go: `gcWaitOnMark`), so
/// that it holds neither a P, which the mark workers may need, nor an OS
/// thread (pointer-model R25: 400 Gs in `collect()` used to block 400
/// threads); a plain thread, or a G that may not park here, blocks with
/// its P handed off.
fn wait_finished(n: u64) {
    loop {
        if CTL.lock().finished >= n {
            return;
        }
        if !crate::sched::park_g(crate::sched::ParkReason::Cycle, file_waiter, n) {
            break;
        }
    }
    crate::sched::block_on_collector(|| {
        let mut c = CTL.lock();
        while c.finished < n {
            CTL_CV.wait(&mut c);
        }
    });
}

/// The park hook's commit for [`wait_finished`]: files `w` unless cycle `n`
/// has finished meanwhile (checked under the lock the finisher takes, so no
/// wakeup is lost).
fn file_waiter(w: crate::sched::Waker, n: u64) -> bool {
    let mut c = CTL.lock();
    if c.finished >= n {
        return false;
    }
    c.waiters.push(w);
    true
}

/// Sweep termination and the start of marking (Go: `gcStart`).
fn start(trigger: Trigger, n: u64) {
    // Before the first cycle can leave a span unswept: the heap's sweeper,
    // and the thread that runs the drop glue and cleanups sweeps queue.
    crate::heap::install_sweeper(&sweep::Sweep);
    crate::finalizer::start();
    crate::exectrace::start_from_env();
    if crate::exectrace::on() {
        let reason = match trigger {
            Trigger::Heap => "cycle start: heap",
            Trigger::Forced => "cycle start: forced",
            Trigger::Time => "cycle start: time",
        };
        crate::exectrace::instant("cycle", reason, "cycle", n);
    }
    // Finish the previous sweep before stopping (Go: the sweepone loop at
    // the top of gcStart), so the pause never sweeps.
    sweep::finish_sweep(false);
    BG_MARK.call_once(|| {
        std::thread::Builder::new()
            .name("tricolor-gc-bgmark".into())
            .spawn(background_mark)
            .expect("tricolor-gc: cannot start the background mark thread");
    });
    crate::sysmon::start();

    let heap0 = heap().heap_live.load(Ordering::Relaxed).max(0) as u64;
    let world = mutator::stop_the_world();
    let t_start = world.started;
    world.free_retired();
    // Freed after the restart: no section can still read them (row 56).
    let dead_descriptors = heap().take_retired_descriptors();
    // Spans can only become unswept at mark termination, and every sweeper
    // works inside a critical section, so nothing is left to sweep here.
    debug_assert!(sweep::is_done(), "sweep termination with unswept spans");
    // Every mutator's assist and black-allocation counters are zero here:
    // mark termination (and thread exit) fold and reset them.
    let _ = stats::take_marked();
    pacer::start_cycle(heap0);
    mark::set_phase(Phase::Mark);
    for m in world.mutators() {
        // SAFETY: the world is stopped and marking has just begun.
        unsafe { m.local().cache.start_black() };
    }
    let ttsp = world.time_to_safepoint;
    let stw1 = stats::record_stop("stop: sweep termination", t_start, world.restart(), ttsp);
    drop(dead_descriptors);
    if crate::exectrace::on() {
        crate::exectrace::counter("heap_live", heap0);
        crate::exectrace::counter("goal", pacer::goal());
    }

    let mut c = CTL.lock();
    c.job = Some(Job { n, trigger, t_start, stw1, heap0 });
    CTL_CV.notify_all();
}

/// The background mark thread: runs the concurrent mark and mark
/// termination of every cycle.
fn background_mark() {
    loop {
        let job = {
            let mut c = CTL.lock();
            loop {
                if let Some(j) = c.job.take() {
                    break j;
                }
                CTL_CV.wait(&mut c);
            }
        };
        mark_cycle(job);
    }
}

fn mark_cycle(job: Job) {
    let t_mark = Instant::now();
    let mut marker = Marker::new(&WORK);
    let (mut bytes, mut objects) = (0u64, 0u64);
    let mut restarts = 0;
    let mut ragged = 0u32;
    let helpers = workers::background_markers() - 1;
    gworker::begin_cycle(job.n);

    let (world, t_stop) = if env::config().debug.gcstoptheworld > 0 {
        // GODEBUG=gcstoptheworld=1|2: the whole mark inside one stop, with
        // every worker (Go's gcForceMode / gcForceBlockMode).
        let world = mutator::stop_the_world();
        let t0 = world.started;
        scan_roots(&mut marker, world.mutators());
        flush_buffers(&world);
        let (b, o) = workers::run_round(&mut marker, usize::MAX, false);
        (bytes, objects) = (b, o);
        (world, t0)
    } else {
        // --- Root jobs (Go: markroot), beside the running mutators; the
        // registry lock keeps any table from being handed over meanwhile ---
        scan_roots(&mut marker, mutator::lock_registry().mutators());

        // --- Concurrent mark and the ragged barrier (Go: gcMarkDone) ---
        loop {
            // On the scheduler's worker Gs when one is installed, else on
            // this thread and the worker threads.
            let (b, o) = match gworker::run_round(&mut marker) {
                Some(r) => r,
                None => workers::run_round(&mut marker, helpers, true),
            };
            bytes += b;
            objects += o;
            if !WORK.full_is_empty() {
                continue;
            }
            crate::fault::gate(crate::fault::Gate::BeforeTermination);
            // The ragged barrier (Go: forEachP in gcMarkDone): every
            // mutator flushes, none stops; grey objects found go back to
            // the markers.
            stats::record_mark_done(stats::MarkDone::Ragged);
            ragged += 1;
            let published = mutator::ragged_flush();
            crate::fault::gate(crate::fault::Gate::AfterRagged);
            if published || !WORK.full_is_empty() {
                continue;
            }
            let world = mutator::stop_the_world();
            let t0 = world.started;
            // Barrier work buffered after the ragged barrier (Go's check for
            // golang/go#27993): rare, and O(mutators) to look for.
            let flushed = flush_buffers(&world) | !WORK.full_is_empty();
            if !flushed {
                break (world, t0);
            }
            if restarts < MAX_RESTARTS {
                restarts += 1;
                stats::record_mark_done(stats::MarkDone::Restart);
                let ttsp = world.time_to_safepoint;
                stats::record_stop("stop: mark termination (restart)", t0, world.restart(), ttsp);
                continue;
            }
            stats::record_mark_done(stats::MarkDone::MarkedInStop);
            // Finish inside the stop, with every worker.
            let (b, o) = workers::run_round(&mut marker, usize::MAX, false);
            bytes += b;
            objects += o;
            break (world, t0);
        }
    };
    let concurrent = t_stop - t_mark;
    let ttsp = world.time_to_safepoint;
    let u_extra = extra_utilization(concurrent, helpers + 1);
    let (heap1, marked, marked_objects, t_end) = mark_termination(world, marker, bytes, objects, u_extra);
    let stw2 = stats::record_stop("stop: mark termination", t_stop, t_end, ttsp);
    let cpu = crate::gccpu::mark_done(concurrent);
    if crate::exectrace::on() {
        crate::exectrace::slice_arg("mark", "concurrent mark", t_mark, t_stop, "restarts", restarts as u64);
        crate::exectrace::counter("marked", marked);
        crate::exectrace::counter("heap_live", heap1);
        crate::exectrace::counter("goal", pacer::goal());
        crate::exectrace::counter("trigger", pacer::trigger());
    }
    stats::record_cycle(job.trigger == Trigger::Forced);

    // --- Sweep (concurrent; with gcstoptheworld=2 finished before the
    // cycle counts as done, Go's gcForceBlockMode) ---
    if env::config().debug.gcstoptheworld == 2 {
        sweep::finish_sweep(false);
    }
    sweep::wake_background();
    if env::config().debug.gcpacertrace {
        eprintln!("{}", pacer::trace_line());
    }
    if gctrace::enabled() {
        let t = gctrace::Cycle {
            heap0: job.heap0,
            t_start: job.t_start.saturating_duration_since(crate::gccpu::epoch()),
            forced: job.trigger == Trigger::Forced,
            stw1: job.stw1,
            concurrent,
            stw2,
            heap1,
            marked,
            marked_objects,
            restarts,
            ragged,
            cpu,
        };
        gctrace::print(&t);
    }
    let mut c = CTL.lock();
    c.running = false;
    RUNNING.store(false, Ordering::Release);
    c.finished = job.n;
    CTL_CV.notify_all();
    let waiters = core::mem::take(&mut c.waiters);
    drop(c);
    for w in waiters {
        w();
    }
}

/// The markers' utilisation above Go's 25 % during a concurrent mark of
/// `mark` wall time: with worker Gs, what they measured (fractional
/// overshoot and idle marking); with threads, `markers` whole threads.
fn extra_utilization(mark: Duration, markers: usize) -> f64 {
    let procs = crate::sched::procs() as f64;
    let (d, f, i) = gworker::cycle_mode_ns();
    let worker_ns = d + f + i;
    let wall = mark.as_nanos() as f64;
    let u = if worker_ns > 0 && wall > 0.0 { worker_ns as f64 / (wall * procs) } else { markers as f64 / procs };
    (u - pacer::BACKGROUND_UTILIZATION).max(0.0)
}

/// Shades every root of `mutators` and the weak cells (Go: `markroot`).
/// The caller holds the registry (or the world stopped), so no root table is
/// handed over during the scan.
fn scan_roots(marker: &mut Marker<'_>, mutators: impl Iterator<Item = &'static mutator::Mutator>) {
    let _t = crate::exectrace::SliceGuard::new("mark", "mark: roots");
    use crate::fault::{self, Fault, Gate};
    for (i, m) in mutators.enumerate() {
        fault::gate(Gate::BeforeTable(i));
        if fault::active(Fault::RootScan) {
            // Test-only fault: skip the first, third, ... root of each table.
            let mut n = 0u64;
            // SAFETY: as below.
            unsafe {
                m.roots.for_each_root(|p| {
                    n += 1;
                    if n % 2 == 0 {
                        marker.shade(p);
                    }
                })
            };
            continue;
        }
        // SAFETY: per the contract, no hand-over runs meanwhile; the scan
        // reads each slot atomically beside its owner (roots.rs).
        unsafe { m.roots.for_each_root(|p| marker.shade(p)) };
    }
    // Weak cells of live objects are roots (Go: markrootSpans).
    crate::specials::for_each_weak_cell(|c| marker.shade(c));
    fault::note_root_scan();
    fault::gate(Gate::AfterRoots);
}

/// Flushes every mutator's barrier buffer and work cache to the global
/// lists (the per-mutator step of Go's ragged barrier); true if that
/// published grey objects.
fn flush_buffers(world: &StoppedWorld) -> bool {
    let _t = crate::exectrace::SliceGuard::new("stw", "ragged barrier: flush buffers");
    if crate::fault::active(crate::fault::Fault::TerminationFlush) {
        return false; // test-only fault: buffers and work caches stay put
    }
    let mut flushed = false;
    for m in world.mutators() {
        // SAFETY: the world is stopped; mutators' local state is ours.
        flushed |= unsafe { m.local() }.wbuf.flush_to_global();
    }
    flushed
}

/// Mark termination, with the world stopped (Go: `gcMarkTermination`); the
/// world restarts before it returns `(heap1, marked bytes, marked objects,
/// restart instant)`.
fn mark_termination(
    world: StoppedWorld,
    marker: Marker<'_>,
    bytes: u64,
    objects: u64,
    u_extra: f64,
) -> (u64, u64, u64, Instant) {
    let heap = heap();
    world.free_retired();
    mark::set_phase(Phase::MarkTermination);
    let heap1 = heap.heap_live.load(Ordering::Relaxed).max(0) as u64;
    // Everything still buffered is already black (Go: wbBuf.reset in gcMark),
    // but flush anyway: it is cheap and keeps the invariant checkable.
    flush_buffers(&world);
    for m in world.mutators() {
        // SAFETY: the world is stopped; mutators' local state is ours.
        let local = unsafe { m.local() };
        // SAFETY: as above; caches are released so every span is in a list
        // for the sweep (Go: prepareForSweep for every P).
        unsafe { local.cache.release_all(heap) };
        stats::add_allocs(core::mem::take(&mut local.cache.allocs), core::mem::take(&mut local.cache.alloc_bytes));
        local.assist_bytes = 0;
    }
    let mut leftover = Marker::new(&WORK);
    leftover.drain();
    assert_eq!(leftover.objects_marked, 0, "mark termination found unmarked grey work");
    let (extra_bytes, extra_objects) = stats::take_marked();
    let marked = marker.bytes_marked + bytes + extra_bytes;
    let marked_objects = marker.objects_marked + objects + extra_objects;

    if env::config().debug.gccheckmark {
        let mut roots = Vec::new();
        for m in world.mutators() {
            // SAFETY: the world is stopped.
            unsafe { m.roots.for_each_root(|p| roots.push(p)) };
        }
        checkmark::verify(heap, roots);
    }

    heap.heap_live.store(marked as isize, Ordering::Relaxed);
    mark::set_phase(Phase::Off);
    heap.sweepgen.fetch_add(2, Ordering::AcqRel);
    sweep::reset_cursor();
    pacer::end_cycle(marked, heap1, u_extra);
    let t_end = world.restart();
    (heap1, marked, marked_objects, t_end)
}

/// Go's `runtime.GC`: runs a full cycle, finishes sweeping, and returns once
/// the finalizer thread has run the drop glue and cleanups the sweep
/// queued (at once if called from that thread, as by a `Drop`).
pub fn collect() {
    run(Trigger::Forced);
    sweep::finish_sweep(true);
}
