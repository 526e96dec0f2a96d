//! Mark workers that run as the scheduler's Gs (Go: `gcBgMarkWorker`,
//! `gcController.findRunnableGCWorker`, `gcDrain`'s dedicated, fractional
//! and idle modes, mgcpacer.go's worker budget).
//!
//! When a scheduler is installed (`sched.rs`), the cycle's coordinator
//! (`cycle.rs`) does not drain grey objects itself: it opens a *round*
//! ([`run_round`]) and waits, while the scheduler's Ps pick workers:
//! * **dedicated**: `round(0.25 × GOMAXPROCS)` of them when that is within
//!   30 % of the 25 % goal; each drains until no work is left;
//! * **fractional**: otherwise, each P may run a worker for its share of the
//!   remainder (`fractional_goal`, 0.25 per P at GOMAXPROCS = 2, that is 25 %
//!   of the machine); the worker leaves once its P's mark time this cycle
//!   exceeds 1.2 × that share of the time since marking began;
//! * **idle**: a P with nothing else to run drains until it has.
//!
//! Invariants:
//! * A worker drains only inside the round's gate (`round.rs`, checked with
//!   loom): either it sees the round closed and backs out, or the
//!   coordinator's close sees it active and waits for it.
//! * A worker that leaves `run_worker` holds no grey object: it publishes
//!   its local work to the global lists first. So when the coordinator sees
//!   `active == 0` after closing the round, every grey object is in the
//!   global lists or in a mutator's buffers, which the ragged-barrier stop
//!   flushes.
//! * The round is done when no worker is active and the global list is
//!   empty (Go: `work.nwait == work.nproc && !gcMarkWorkAvailable`).

use super::drain::{Marker, PrefetchRing, WORK};
use super::round::RoundGate;
use crate::pacer;
use core::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use parking_lot::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How a worker G drains (Go: `gcMarkWorkerMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerMode {
    /// Drains until no work is left (Go: `gcMarkWorkerDedicatedMode`).
    Dedicated,
    /// Drains until its P exceeds its share (Go: `gcMarkWorkerFractionalMode`).
    Fractional,
    /// Drains until its P has something else to run (Go: `gcMarkWorkerIdleMode`).
    Idle,
}

/// A P's per-cycle mark state, kept by the scheduler in its P (Go:
/// `p.gcFractionalMarkTime`).
#[derive(Default)]
pub struct PMark {
    cycle: AtomicU64,
    fractional_ns: AtomicU64,
}

impl PMark {
    /// This P's fractional mark time in the current cycle.
    fn fractional_ns(&self, cycle: u64) -> u64 {
        if self.cycle.load(Ordering::Relaxed) == cycle {
            self.fractional_ns.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    fn add_fractional(&self, cycle: u64, ns: u64) {
        if self.cycle.swap(cycle, Ordering::Relaxed) != cycle {
            self.fractional_ns.store(0, Ordering::Relaxed);
        }
        self.fractional_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// Who may drain (Go: `gcBlackenEnabled` for the scheduler's workers, and
/// `work.nwait`): the protocol of `round.rs`.
static GATE: RoundGate = RoundGate::from_parts(AtomicBool::new(false), AtomicUsize::new(0));
/// Set when the scheduler uninstalled during a round.
static LOST: AtomicBool = AtomicBool::new(false);
/// Dedicated slots not yet taken (Go: `dedicatedMarkWorkersNeeded`).
static DEDICATED_LEFT: AtomicIsize = AtomicIsize::new(0);
/// Idle workers running, and the most allowed (Go: `idleMarkWorkers`).
static IDLE: AtomicUsize = AtomicUsize::new(0);
static IDLE_MAX: AtomicUsize = AtomicUsize::new(0);
/// Per-P fractional share, as f64 bits (Go: `fractionalUtilizationGoal`).
static FRACTIONAL_GOAL: AtomicU64 = AtomicU64::new(0);
/// The cycle the round belongs to, and when its marking began (ns since
/// `EPOCH`; Go: `markStartTime`).
static CYCLE: AtomicU64 = AtomicU64::new(0);
static MARK_START_NS: AtomicU64 = AtomicU64::new(0);
/// Marked by workers in the current round.
static BYTES: AtomicU64 = AtomicU64::new(0);
static OBJECTS: AtomicU64 = AtomicU64::new(0);
/// Worker CPU time in the current cycle by mode (dedicated, fractional,
/// idle), for the pacer and the statistics.
static MODE_NS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

static WAIT_LOCK: Mutex<()> = Mutex::new(());
static WAIT_CV: Condvar = Condvar::new();
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn now_ns(t: Instant) -> u64 {
    t.saturating_duration_since(*EPOCH.get_or_init(Instant::now)).as_nanos() as u64
}

/// When the current cycle's marking began, if a round is open.
pub fn mark_start() -> Option<Instant> {
    let ns = MARK_START_NS.load(Ordering::Acquire);
    (GATE.is_open() && ns != 0).then(|| *EPOCH.get_or_init(Instant::now) + Duration::from_nanos(ns))
}

/// Go's `startCycle` worker budget for `procs` Ps: dedicated workers and
/// the per-P fractional goal.
pub(crate) fn budget(procs: usize) -> (usize, f64) {
    let procs = procs.max(1) as f64;
    let total = procs * pacer::BACKGROUND_UTILIZATION;
    let mut dedicated = (total + 0.5) as usize;
    let err = dedicated as f64 / total - 1.0;
    if !(-0.3..=0.3).contains(&err) {
        if dedicated as f64 > total {
            dedicated -= 1;
        }
        (dedicated, (total - dedicated as f64) / procs)
    } else {
        (dedicated, 0.0)
    }
}

/// Starts a cycle's worker accounting (the coordinator, before the first
/// round of cycle `n`).
pub(crate) fn begin_cycle(n: u64) {
    CYCLE.store(n, Ordering::Relaxed);
    MARK_START_NS.store(now_ns(Instant::now()).max(1), Ordering::Release);
    for m in &MODE_NS {
        m.store(0, Ordering::Relaxed);
    }
}

/// Worker CPU this cycle: (dedicated, fractional, idle) in ns.
pub(crate) fn cycle_mode_ns() -> (u64, u64, u64) {
    (MODE_NS[0].load(Ordering::Relaxed), MODE_NS[1].load(Ordering::Relaxed), MODE_NS[2].load(Ordering::Relaxed))
}

/// The scheduler was uninstalled: wake the coordinator so it takes the
/// round over.
pub(crate) fn host_lost() {
    if GATE.is_open() {
        LOST.store(true, Ordering::SeqCst);
        let _g = WAIT_LOCK.lock();
        WAIT_CV.notify_all();
    }
}

/// Go's `findRunnableGCWorker` for the P whose state is `p`: the mode a
/// worker should run in now, or `None`. A returned mode reserves its slot:
/// the caller must call [`run_worker`] with it.
pub fn find_worker(p: &PMark, now: Instant) -> Option<WorkerMode> {
    if !GATE.is_open() || WORK.full_is_empty() {
        return None;
    }
    if DEDICATED_LEFT.fetch_sub(1, Ordering::AcqRel) > 0 {
        return Some(WorkerMode::Dedicated);
    }
    DEDICATED_LEFT.fetch_add(1, Ordering::AcqRel);
    let goal = f64::from_bits(FRACTIONAL_GOAL.load(Ordering::Relaxed));
    if goal == 0.0 {
        return None;
    }
    let delta = now_ns(now).saturating_sub(MARK_START_NS.load(Ordering::Acquire));
    let mine = p.fractional_ns(CYCLE.load(Ordering::Relaxed));
    if delta > 0 && mine as f64 / delta as f64 > goal {
        return None;
    }
    Some(WorkerMode::Fractional)
}

/// True if a round is open and grey work waits in the global lists (Go:
/// `gcMarkWorkAvailable`); reserves nothing.
pub fn mark_work_available() -> bool {
    GATE.is_open() && !WORK.full_is_empty()
}

/// True if a P with nothing else to run should run an idle worker (Go:
/// `gcMarkWorkAvailable` and `addIdleMarkWorker` in `findRunnable`). A
/// true return reserves the idle slot: the caller must call [`run_worker`]
/// with [`WorkerMode::Idle`].
pub fn idle_worker_wanted() -> bool {
    if !GATE.is_open() || WORK.full_is_empty() {
        return false;
    }
    let max = IDLE_MAX.load(Ordering::Relaxed);
    let mut n = IDLE.load(Ordering::Relaxed);
    loop {
        if n >= max {
            return false;
        }
        match IDLE.compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(x) => n = x,
        }
    }
}

/// Objects scanned between checks of `should_stop` and of the round.
const CHECK_EVERY: u32 = 64;

/// Runs one worker G's turn in `mode` on the P whose state is `p` (Go:
/// `gcBgMarkWorker`'s body around `gcDrain`). `should_stop` is the
/// scheduler's own reason to give the P back (an idle worker: other Gs are
/// runnable; any worker: shutdown); the fractional budget is checked here.
/// Returns the time it ran.
pub fn run_worker(p: &PMark, mode: WorkerMode, should_stop: &mut dyn FnMut() -> bool) -> Duration {
    let t0 = Instant::now();
    let entered = GATE.enter();
    if entered {
        // CPU accounting by mode (Go's per-mode mark time; a Timer, since a
        // dedicated turn may last the whole mark).
        let _cpu = crate::gccpu::Timer::start_at(
            match mode {
                WorkerMode::Dedicated => crate::gccpu::MarkWork::Dedicated,
                WorkerMode::Fractional => crate::gccpu::MarkWork::Fractional,
                WorkerMode::Idle => crate::gccpu::MarkWork::Idle,
            },
            t0,
        );
        let _t = crate::exectrace::SliceGuard::new(
            "mark",
            match mode {
                WorkerMode::Dedicated => "mark worker (dedicated)",
                WorkerMode::Fractional => "mark worker (fractional)",
                WorkerMode::Idle => "mark worker (idle)",
            },
        );
        drain(p, mode, t0, should_stop);
    }
    let d = t0.elapsed();
    let ns = d.as_nanos() as u64;
    let cycle = CYCLE.load(Ordering::Relaxed);
    match mode {
        WorkerMode::Dedicated => {
            DEDICATED_LEFT.fetch_add(1, Ordering::AcqRel);
        }
        WorkerMode::Fractional => p.add_fractional(cycle, ns),
        WorkerMode::Idle => {
            IDLE.fetch_sub(1, Ordering::AcqRel);
        }
    }
    MODE_NS[mode as usize].fetch_add(ns, Ordering::Relaxed);
    if entered && GATE.leave() && WORK.full_is_empty() {
        let _g = WAIT_LOCK.lock();
        WAIT_CV.notify_all();
    }
    d
}

fn drain(p: &PMark, mode: WorkerMode, t0: Instant, should_stop: &mut dyn FnMut() -> bool) {
    let mut m = Marker::new(&WORK);
    let mut ring = PrefetchRing::new();
    let cycle = CYCLE.load(Ordering::Relaxed);
    let goal = f64::from_bits(FRACTIONAL_GOAL.load(Ordering::Relaxed));
    let start = MARK_START_NS.load(Ordering::Acquire);
    let before = p.fractional_ns(cycle);
    let mut flushed = 0u64;
    let mut stop = false;
    loop {
        m.drain_with(&mut ring, &mut |n, scan_work| {
            if n % CHECK_EVERY != 0 {
                return false;
            }
            if scan_work - flushed >= pacer::CREDIT_SLACK {
                pacer::add_scan_work(scan_work - flushed, true);
                flushed = scan_work;
            }
            if !GATE.is_open() || should_stop() {
                stop = true;
                return true;
            }
            if mode == WorkerMode::Fractional {
                // Go's pollFractionalWorkerExit.
                let now = Instant::now();
                let delta = now_ns(now).saturating_sub(start);
                let mine = before + now.duration_since(t0).as_nanos() as u64;
                if delta == 0 || mine as f64 / delta as f64 > 1.2 * goal {
                    stop = true;
                    return true;
                }
            }
            // Publish half when others starve (Go: gcDrain's balance).
            WORK.full_is_empty()
        });
        if stop || m.gcw.is_empty() {
            break;
        }
        m.gcw.balance(&WORK);
    }
    // Leave nothing grey behind (module invariants).
    m.gcw.dispose(&WORK);
    pacer::add_scan_work(m.scan_work - flushed, true);
    BYTES.fetch_add(m.bytes_marked, Ordering::Relaxed);
    OBJECTS.fetch_add(m.objects_marked, Ordering::Relaxed);
}

/// The coordinator's background round on the scheduler's workers: publishes
/// `marker`'s grey objects, opens the round, and waits until it is done.
/// Returns the bytes and objects the workers marked, or `None` if no
/// scheduler is installed or it was uninstalled meanwhile (then the caller
/// finishes the round on its own threads; nothing grey is held by a worker).
pub(crate) fn run_round(marker: &mut Marker<'_>) -> Option<(u64, u64)> {
    let procs;
    let h = {
        let _g = crate::sched::HOOKS_LOCK.lock();
        let h = crate::sched::hooks()?;
        procs = (h.procs)().max(1);
        let (dedicated, goal) =
            if crate::env::config().debug.gcstoptheworld > 0 { (procs, 0.0) } else { budget(procs) };
        DEDICATED_LEFT.store(dedicated as isize, Ordering::Relaxed);
        FRACTIONAL_GOAL.store(goal.to_bits(), Ordering::Relaxed);
        IDLE_MAX.store(procs - dedicated.min(procs), Ordering::Relaxed);
        LOST.store(false, Ordering::SeqCst);
        GATE.open();
        h
    };
    marker.gcw.dispose(&WORK);
    (h.wake_workers)(procs);
    let mut g = WAIT_LOCK.lock();
    loop {
        if LOST.load(Ordering::SeqCst) {
            break;
        }
        if GATE.active() == 0 && WORK.full_is_empty() {
            break;
        }
        WAIT_CV.wait_for(&mut g, Duration::from_millis(1));
        let active = GATE.active();
        if !WORK.full_is_empty() && active < procs && !LOST.load(Ordering::SeqCst) {
            // Go's enlistWorker: work is waiting and a P may be idle.
            drop(g);
            (h.wake_workers)(1);
            g = WAIT_LOCK.lock();
        }
    }
    drop(g);
    // Workers that entered before the close stop at their next check and
    // publish what they hold.
    GATE.close(|spins| {
        if spins < 100 {
            core::hint::spin_loop();
        } else {
            std::thread::sleep(Duration::from_micros(20));
        }
    });
    let r = (BYTES.swap(0, Ordering::Relaxed), OBJECTS.swap(0, Ordering::Relaxed));
    if LOST.load(Ordering::SeqCst) {
        // Fold what the lost workers marked into the caller's counts.
        marker.bytes_marked += r.0;
        marker.objects_marked += r.1;
        return None;
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::budget;

    /// Go's startCycle: GOMAXPROCS 1..=3 get only a fractional worker, 4 one
    /// dedicated, 6 round(1.5) = 2 is off by 33 % so one dedicated plus a
    /// fractional share.
    #[test]
    fn worker_budget_is_gos() {
        assert_eq!(budget(1), (0, 0.25));
        assert_eq!(budget(2), (0, 0.25));
        let (d, f) = budget(3);
        assert_eq!(d, 0);
        assert!((f - 0.25).abs() < 1e-12);
        assert_eq!(budget(4), (1, 0.0));
        let (d, f) = budget(6);
        assert_eq!(d, 1);
        assert!((f - 0.5 / 6.0).abs() < 1e-12);
        assert_eq!(budget(8), (2, 0.0));
    }
}
