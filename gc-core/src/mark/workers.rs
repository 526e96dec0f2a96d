//! Dedicated mark workers on OS threads (Go: `gcBgMarkWorker`, here without
//! the scheduler) and the termination detection they share (Go: `work.nwait`
//! / `work.nproc`, `gcMarkDone`).
//!
//! `GOMAXPROCS − 1` worker threads (at most 31) sleep until the collector
//! opens a mark round; then they and the collector drain the global grey
//! lists together, publishing half of their local work whenever the global
//! list runs dry (Go: `gcWork.balance`).
//!
//! Termination: a marker that finds no work, locally or globally, increments
//! `nwait`; it decrements `nwait` *before* taking a newly published buffer.
//! The marker whose increment makes `nwait == nproc` and then sees the global
//! list empty declares the round done: at that instant every marker's local
//! buffers are empty and no buffer is published, so no grey object exists.
//!
//! Invariants: a round starts only with the world stopped and the barrier
//! buffers flushed; `run_round` returns only after every worker has left the
//! round, so markers never outlive the pause.

use super::drain::{Marker, PrefetchRing, WORK};
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
                .spawn(move || worker(p))
                .expect("tricolor-gc: cannot start a mark worker thread");
        }
        p
    })
}

fn worker(p: &'static Pool) {
    let mut seen = 0;
    loop {
        {
            let mut r = p.round.lock();
            while r.epoch == seen {
                p.start.wait(&mut r);
            }
            seen = r.epoch;
        }
        let mut m = Marker::new(&WORK);
        drain_shared(p, &mut m);
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

fn drain_shared(p: &Pool, m: &mut Marker<'_>) {
    let nproc = p.nproc.load(Ordering::Acquire);
    let mut ring = PrefetchRing::new();
    'work: loop {
        m.drain_with(&mut ring, &mut |n| {
            if n % BALANCE_EVERY == 0 && nproc > 1 && WORK.full_is_empty() {
                // Only the work buffers are balanced; the ring stays local.
                return true;
            }
            false
        });
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
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Drains all grey work with the collector's `marker` plus every worker.
/// Returns the bytes and objects the workers marked (the collector's own
/// marking is counted in `marker`). The world must be stopped.
pub fn run_round(marker: &mut Marker<'_>) -> (u64, u64) {
    let p = pool();
    if p.workers == 0 {
        marker.drain();
        return (0, 0);
    }
    // Publish the roots' grey objects so workers can start at once.
    marker.gcw.balance(&WORK);
    p.nproc.store(p.workers + 1, Ordering::Release);
    p.nwait.store(0, Ordering::Release);
    p.done.store(false, Ordering::Release);
    {
        let mut r = p.round.lock();
        r.epoch += 1;
        r.active = p.workers;
        r.bytes = 0;
        r.objects = 0;
        p.start.notify_all();
    }
    drain_shared(p, marker);
    let mut r = p.round.lock();
    while r.active > 0 {
        p.finished.wait(&mut r);
    }
    (r.bytes, r.objects)
}
