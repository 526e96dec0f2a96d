//! The collector's mark workers as Gs (Go: `gcBgMarkWorker`,
//! `gcBgMarkStartWorkers`, `findRunnableGCWorker`'s pick of a worker G) and
//! the hooks this runtime gives gc-core (`gc_core::sched`).
//!
//! One runtime at a time hosts the collector's workers: the first one
//! built, until it is dropped (then the next runtime built takes over; a
//! cycle in flight finishes on gc-core's own threads). A worker G is parked
//! in the pool between turns; `find_runnable` takes one, sets its mode and
//! runs it directly, as Go runs `gcBgMarkWorker` Gs from
//! `gcBgMarkWorkerPool`. Its turn is `gc_core::sched::run_worker`; then it
//! parks back in the pool.
//!
//! Invariants:
//! * Worker Gs are system Gs: they are not counted in `Sched::ngs`, so they
//!   never make `checkdead` see a live G, and a runtime with only parked
//!   workers is idle, not deadlocked.
//! * A worker G never parks or yields inside its turn, so a turn always ends
//!   on the M that started it and `run_worker`'s "nothing grey held on
//!   exit" holds whatever the scheduler does next.
//! * A G that allocates yields at that allocation if sysmon flagged its P
//!   (`preempt`, installed as gc-core's preemption hook): allocation is a
//!   safepoint, as in Go.

use crate::park::{park, WaitReason};
use crate::proc::{self, GRef, Sched, G_RUNNABLE, G_WAITING};
use gc_core::sched::{Hooks, WorkerMode};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// The runtime hosting the collector's workers.
static HOST: Mutex<Option<Arc<Sched>>> = Mutex::new(None);
/// Its GOMAXPROCS, for the `procs` hook, which gc-core calls under its own
/// hooks lock: reading it must not take `HOST`, which `install` holds while
/// it takes gc-core's lock (the lock order found by the fourth attack).
static HOST_PROCS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

static HOOKS: Hooks = Hooks { wake_workers, procs };

/// A parked (or never started) worker G and its mode cell.
pub(crate) struct Worker {
    g: GRef,
    mode: Arc<AtomicU8>,
}

// SAFETY: `g` is the owning pointer of a parked or not-yet-started G (the
// pool is the one place that holds it, proc.rs's invariants).
unsafe impl Send for Worker {}

/// Makes `s` the collector's worker host if none is; installs the
/// allocation preemption hook (process-wide, once).
pub(crate) fn install(s: &Arc<Sched>) {
    gc_core::sched::set_preempt_hook(preempt);
    gc_core::sched::set_block_hook(block);
    gc_core::sched::set_park_hook(park_for_collector);
    let mut h = HOST.lock();
    if h.is_none() {
        HOST_PROCS.store(s.nprocs(), Ordering::SeqCst);
    }
    if h.is_none() && gc_core::sched::install(&HOOKS) {
        s.gc_host.store(true, Ordering::SeqCst);
        *h = Some(s.clone());
    }
}

/// Called when `s` shuts down: hands the collector's workers back.
pub(crate) fn uninstall(s: &Arc<Sched>) {
    let mut h = HOST.lock();
    if h.as_ref().is_some_and(|x| Arc::ptr_eq(x, s)) {
        s.gc_host.store(false, Ordering::SeqCst);
        *h = None;
        drop(h);
        gc_core::sched::uninstall(&HOOKS);
    }
}

fn host() -> Option<Arc<Sched>> {
    HOST.lock().clone()
}

fn wake_workers(n: usize) {
    if let Some(s) = host() {
        for _ in 0..n.min(s.npidle.load(Ordering::SeqCst)).max(1) {
            s.wakep();
        }
    }
}

fn procs() -> usize {
    HOST_PROCS.load(Ordering::SeqCst).max(1)
}

fn encode(m: WorkerMode) -> u8 {
    match m {
        WorkerMode::Dedicated => 0,
        WorkerMode::Fractional => 1,
        WorkerMode::Idle => 2,
    }
}

fn decode(v: u8) -> WorkerMode {
    match v {
        0 => WorkerMode::Dedicated,
        1 => WorkerMode::Fractional,
        _ => WorkerMode::Idle,
    }
}

/// A worker G to run now in `mode`: a parked one from the pool, or a new
/// one (Go starts one per P at the first cycle; here they are made on
/// demand, so at most as many exist as ever ran at once).
pub(crate) fn take(s: &Arc<Sched>, mode: WorkerMode) -> GRef {
    let w = s.gc_pool.lock().pop();
    let w = match w {
        Some(w) => w,
        None => new_worker(s),
    };
    w.mode.store(encode(mode), Ordering::Relaxed);
    // SAFETY: the pool owned the G; it is parked (waiting) or not started.
    let gr = unsafe { w.g.as_ref() };
    let _ = gr.status.compare_exchange(G_WAITING, G_RUNNABLE, Ordering::AcqRel, Ordering::Relaxed);
    w.g
}

fn new_worker(s: &Arc<Sched>) -> Worker {
    let mode = Arc::new(AtomicU8::new(0));
    let (s2, m2) = (s.clone(), mode.clone());
    let g = s.new_g(Box::new(move || worker_loop(s2, m2)));
    // A system G (module invariants).
    s.ngs.fetch_sub(1, Ordering::SeqCst);
    Worker { g, mode }
}

/// The body of a worker G: one turn per pick, parked in between.
fn worker_loop(s: Arc<Sched>, mode: Arc<AtomicU8>) {
    loop {
        let m = proc::current_m().expect("a worker G runs on an M");
        let pi = m.p.get().expect("a worker G holds a P");
        let p = &s.procs[pi];
        let mode_now = decode(mode.load(Ordering::Relaxed));
        let mut stop = || {
            // sysmon flagged this P (10 ms): an idle or fractional turn ends
            // (Go: gcDrainUntilPreempt), a dedicated one goes on; either way
            // the flag is consumed, so that the process-wide hint does not
            // stay set and make every allocation elsewhere call `preempt`.
            if p.preempt.load(Ordering::Relaxed) {
                p.preempt.store(false, Ordering::Relaxed);
                clear_hint_unless_flagged(&s);
                if mode_now != WorkerMode::Dedicated {
                    return true;
                }
            }
            s.shutdown.load(Ordering::Relaxed)
                || (mode_now == WorkerMode::Idle
                    && (!p.runq.is_empty()
                        || !p.runnext.load(Ordering::Relaxed).is_null()
                        || s.runqsize.load(Ordering::Relaxed) > 0))
        };
        gc_core::sched::run_worker(&p.gc_mark, mode_now, &mut stop);
        let (s2, m2) = (s.clone(), mode.clone());
        park(WaitReason::GcWorker, move |u| {
            let g = u.into_g().expect("a worker G parks as a G");
            s2.gc_pool.lock().push(Worker { g, mode: m2 });
            true
        });
    }
}

/// Clears gc-core's preemption hint once no P of `s` is flagged.
fn clear_hint_unless_flagged(s: &Sched) {
    if !s.procs.iter().any(|p| p.preempt.load(Ordering::Relaxed)) {
        gc_core::sched::set_preempt_pending(false);
    }
}

/// gc-core's preemption hook: the running G yields if sysmon flagged its P.
fn preempt() {
    let Some((m, g)) = proc::current_running_g() else { return };
    let Some(pi) = m.p.get() else { return };
    let s = &m.sched;
    let flagged = s.procs[pi].preempt.swap(false, Ordering::Relaxed);
    clear_hint_unless_flagged(s);
    if flagged {
        // SAFETY: g is the G running on this thread, outside every gc-core
        // section and pin (the hook's contract).
        unsafe { proc::yield_now(g, true) };
    }
}

/// gc-core's block hook: a G that waits on the collector (`collect()`)
/// gives up its P for the wait, so mark workers can use it (Go parks the G
/// in `gcWaitOnMark`; here the wait is a thread wait, so the G is in a
/// syscall whose P is handed off at once).
/// gc-core's park hook: parks the running G until its waker is called
/// (Go: `gcWaitOnMark` for a cycle, `sync.Mutex` for a `GcVec` lock).
/// Counted in `ngcwait` meanwhile: what it waits for is running (the
/// collector, a lock holder that may not park), so `checkdead` must not
/// call it a deadlock.
fn park_for_collector(
    reason: gc_core::sched::ParkReason,
    commit: fn(gc_core::sched::Waker, u64) -> bool,
    arg: u64,
) -> bool {
    let Some((m, _)) = proc::current_running_g() else { return false };
    let s = m.sched.clone();
    let why = match reason {
        gc_core::sched::ParkReason::Cycle => WaitReason::GcCycle,
        gc_core::sched::ParkReason::Lock => WaitReason::GcVecLock,
    };
    s.ngcwait.fetch_add(1, Ordering::SeqCst);
    park(why, move |u| commit(Box::new(move || u.unpark()), arg));
    s.ngcwait.fetch_sub(1, Ordering::SeqCst);
    true
}

fn block(wait: &mut dyn FnMut()) {
    let Some((m, g)) = proc::current_running_g() else { return wait() };
    proc::entersyscallblock(m, g);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(wait));
    // Same thread: a G in a syscall never switches.
    let m = proc::current_m().expect("still on the M");
    proc::exitsyscall(m, g);
    if let Err(p) = r {
        std::panic::resume_unwind(p);
    }
}
