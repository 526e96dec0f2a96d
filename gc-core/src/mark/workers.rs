//! Dedicated mark workers on OS threads (Go: `gcBgMarkWorker`, here without
//! the scheduler) and the termination detection they share (Go: `work.nwait`
//! / `work.nproc`, `gcMarkDone`).
//!
//! `GOMAXPROCS − 1` worker threads (at most 31) sleep until the collector
//! opens a mark round; then the first `helpers` of them and the collector's
//! own thread drain the global grey lists together, publishing half of their
//! local work whenever the global list runs dry (Go: `gcWork.balance`) — in a
//! background round even a lone marker does, so that assists find work.
//!
//! Two kinds of round: a *background* round runs beside the mutators with
//! Go's 25 % budget of markers (see [`background_markers`]); its scan work
//! is banked as credit for assists. A *stopped* round, with every worker,
//! finishes marking inside a pause when the ragged barrier keeps finding
//! work (the fallback of `cycle.rs`).
//!
//! Termination is `termination.rs` (Go's `nwait`/`nproc`), model-checked
//! with loom.
//!
//! Invariants: a round starts only while the phase is `Mark` (or the world is
//! stopped); `run_round` returns only after every participating worker has
//! left the round, so no worker holds grey objects once it returns.

use super::drain::{Marker, PrefetchRing, WORK};
use super::termination::{drain_until_done, MarkWork, Termination};
use crate::pacer;
use parking_lot::{Condvar, Mutex};
use std::sync::OnceLock;

struct Pool {
    workers: usize,
    round: Mutex<Round>,
    start: Condvar,
    finished: Condvar,
    term: Termination,
}

#[derive(Default)]
struct Round {
    epoch: u64,
    /// Workers with an index below this join the round.
    helpers: usize,
    background: bool,
    active: usize,
    bytes: u64,
    objects: u64,
}

static POOL: OnceLock<&'static Pool> = OnceLock::new();

fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        let workers = crate::env::config().max_procs.saturating_sub(1).min(31);
        let p: &'static Pool = Box::leak(Box::new(Pool {
            workers,
            round: Mutex::new(Round::default()),
            start: Condvar::new(),
            finished: Condvar::new(),
            term: Termination::new(),
        }));
        for i in 0..workers {
            std::thread::Builder::new()
                .name(format!("tricolor-gc-mark-{i}"))
                .spawn(move || worker(p, i))
                .expect("tricolor-gc: cannot start a mark worker thread");
        }
        p
    })
}

fn worker(p: &'static Pool, index: usize) {
    let mut seen = 0;
    loop {
        let background = {
            let mut r = p.round.lock();
            while r.epoch == seen || index >= r.helpers {
                if r.epoch != seen {
                    seen = r.epoch; // a round without us
                }
                p.start.wait(&mut r);
            }
            seen = r.epoch;
            r.background
        };
        let mut m = Marker::new(&WORK);
        drain_shared(p, &mut m, background);
        let mut r = p.round.lock();
        r.bytes += m.bytes_marked;
        r.objects += m.objects_marked;
        r.active -= 1;
        if r.active == 0 {
            p.finished.notify_all();
        }
    }
}

/// How many objects a marker scans between checks for starving peers.
const BALANCE_EVERY: u32 = 64;

/// A marker seen by the termination protocol: its `Marker` over the global
/// lists, plus the pacer's scan-work accounting.
struct Shared<'m, 'a> {
    m: &'m mut Marker<'a>,
    ring: PrefetchRing,
    nproc: usize,
    background: bool,
    flushed: u64,
}

impl MarkWork for Shared<'_, '_> {
    fn drain(&mut self) {
        let (nproc, background) = (self.nproc, self.background);
        let flushed = &mut self.flushed;
        self.m.drain_with(&mut self.ring, &mut |n, scan_work| {
            if n % BALANCE_EVERY != 0 {
                return false;
            }
            if background && scan_work - *flushed >= pacer::CREDIT_SLACK {
                pacer::add_scan_work(scan_work - *flushed, true);
                *flushed = scan_work;
            }
            // Only the work buffers are balanced; the ring stays local. A
            // lone background marker balances too (Go's gcDrain always
            // does): assisting mutators find work only on the global list,
            // and without it they cannot hold the heap to its goal.
            (nproc > 1 || background) && WORK.full_is_empty()
        });
        pacer::add_scan_work(self.m.scan_work - self.flushed, background);
        self.flushed = self.m.scan_work;
    }

    fn has_local(&self) -> bool {
        !self.m.gcw.is_empty()
    }

    fn publish(&mut self) {
        self.m.gcw.balance(&WORK);
    }

    fn global_empty(&self) -> bool {
        WORK.full_is_empty()
    }

    fn idle(&self, spins: u32) {
        if spins < 100 {
            core::hint::spin_loop();
        } else if spins < 1000 || !self.background {
            std::thread::yield_now();
        } else {
            // Beside running mutators an idle marker must not burn a core
            // they could use (Go parks idle workers).
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    }
}

fn drain_shared(p: &Pool, m: &mut Marker<'_>, background: bool) {
    let _t =
        crate::exectrace::SliceGuard::new("mark", if background { "mark worker" } else { "mark worker (in a stop)" });
    // A background marker owns its thread for the round: dedicated time
    // (Go: gcMarkWorkerDedicatedMode). Marking inside a stop is pause time.
    let _cpu = background.then(|| crate::gccpu::Timer::start(crate::gccpu::MarkWork::Dedicated));
    let flushed = m.scan_work;
    let mut w = Shared { m, ring: PrefetchRing::new(), nproc: p.term.nproc(), background, flushed };
    drain_until_done(&p.term, &mut w);
}

/// Markers a background round uses: Go's 25 % of GOMAXPROCS, rounded
/// (`dedicatedMarkWorkersNeeded`), at least one. Without a scheduler there
/// are no fractional or idle workers; a dedicated marker on an otherwise
/// idle core plays the idle worker's part.
pub fn background_markers() -> usize {
    let procs = crate::env::config().max_procs.max(1);
    ((procs as f64 * 0.25 + 0.5) as usize).clamp(1, pool().workers + 1)
}

/// Drains all grey work with the caller's `marker` plus `helpers` workers
/// (`usize::MAX`: all of them). Returns the bytes and objects the workers
/// marked (the caller's own marking is counted in `marker`). `background`:
/// the mutators are running, so scan work is banked as assist credit.
pub fn run_round(marker: &mut Marker<'_>, helpers: usize, background: bool) -> (u64, u64) {
    let p = pool();
    let helpers = helpers.min(p.workers);
    if helpers == 0 {
        p.term.open(1);
        drain_shared(p, marker, background);
        return (0, 0);
    }
    // Publish the roots' grey objects so workers can start at once.
    marker.gcw.balance(&WORK);
    p.term.open(helpers + 1);
    {
        let mut r = p.round.lock();
        r.epoch += 1;
        r.helpers = helpers;
        r.background = background;
        r.active = helpers;
        r.bytes = 0;
        r.objects = 0;
        p.start.notify_all();
    }
    drain_shared(p, marker, background);
    let mut r = p.round.lock();
    while r.active > 0 {
        p.finished.wait(&mut r);
    }
    (r.bytes, r.objects)
}
