//! Dedicated mark workers on OS threads (Go: `gcBgMarkWorker`, here without
//! the scheduler) and the termination detection they share (Go: `work.nwait`
//! / `work.nproc`, `gcMarkDone`).
//!
//! `GOMAXPROCS − 1` worker threads (at most 31) sleep until the collector
//! opens a mark round; then the first `helpers` of them and the collector's
//! own thread drain the global grey lists together, publishing half of their
//! local work whenever the global list runs dry (Go: `gcWork.balance`).
//!
//! Two kinds of round: a *background* round runs beside the mutators with
//! Go's 25 % budget of markers (see [`background_markers`]); its scan work
//! is banked as credit for assists. A *stopped* round, with every worker,
//! finishes marking inside a pause when the ragged barrier keeps finding
//! work (the fallback of `cycle.rs`).
//!
//! Termination: a marker that finds no work, locally or globally, increments
//! `nwait`; it decrements `nwait` *before* taking a newly published buffer.
//! The marker whose increment makes `nwait == nproc` and then sees the global
//! list empty declares the round done: at that instant every marker's local
//! buffers are empty and no buffer is published, so no grey object exists.
//!
//! Invariants: a round starts only while the phase is `Mark` (or the world is
//! stopped); `run_round` returns only after every participating worker has
//! left the round, so no worker holds grey objects once it returns.

use super::drain::{Marker, PrefetchRing, WORK};
use crate::pacer;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

struct Pool {
    workers: usize,
    round: Mutex<Round>,
    start: Condvar,
    finished: Condvar,
    nwait: AtomicUsize,
    nproc: AtomicUsize,
    done: AtomicBool,
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
            nwait: AtomicUsize::new(0),
            nproc: AtomicUsize::new(1),
            done: AtomicBool::new(false),
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

fn drain_shared(p: &Pool, m: &mut Marker<'_>, background: bool) {
    let nproc = p.nproc.load(Ordering::Acquire);
    let mut ring = PrefetchRing::new();
    let mut flushed = m.scan_work;
    'work: loop {
        m.drain_with(&mut ring, &mut |n, scan_work| {
            if n % BALANCE_EVERY != 0 {
                return false;
            }
            if background && scan_work - flushed >= pacer::CREDIT_SLACK {
                pacer::add_scan_work(scan_work - flushed, true);
                flushed = scan_work;
            }
            // Only the work buffers are balanced; the ring stays local.
            nproc > 1 && WORK.full_is_empty()
        });
        pacer::add_scan_work(m.scan_work - flushed, background);
        flushed = m.scan_work;
        if !m.gcw.is_empty() {
            m.gcw.balance(&WORK);
            continue 'work;
        }
        // No work here or in the global list.
        if p.nwait.fetch_add(1, Ordering::AcqRel) + 1 == nproc && WORK.full_is_empty() {
            p.done.store(true, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        loop {
            if p.done.load(Ordering::Acquire) {
                return;
            }
            if !WORK.full_is_empty() {
                p.nwait.fetch_sub(1, Ordering::AcqRel);
                continue 'work;
            }
            spins += 1;
            if spins < 100 {
                core::hint::spin_loop();
            } else if spins < 1000 || !background {
                std::thread::yield_now();
            } else {
                // Beside running mutators an idle marker must not burn a
                // core they could use (Go parks idle workers).
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
        }
    }
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
        p.nproc.store(1, Ordering::Release);
        p.nwait.store(0, Ordering::Release);
        p.done.store(false, Ordering::Release);
        drain_shared(p, marker, background);
        return (0, 0);
    }
    // Publish the roots' grey objects so workers can start at once.
    marker.gcw.balance(&WORK);
    p.nproc.store(helpers + 1, Ordering::Release);
    p.nwait.store(0, Ordering::Release);
    p.done.store(false, Ordering::Release);
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
