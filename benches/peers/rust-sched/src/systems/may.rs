//! may peer of the `sched` workload: stackful coroutines on
//! `may::config().set_workers(GOMAXPROCS)` worker threads, may's default
//! coroutine stack size, `may::sync::mpsc` channels (unbounded; ping-pong keeps
//! one token in flight, parked tasks each wait on their own channel). Every
//! measurement runs inside a coroutine so the spawner is on a worker.
//!
//! Spawning goes through `may::go!`, which wraps may's `unsafe` spawn: may's
//! contract is that a coroutine must not hold a thread-local across a yield
//! (it may resume on another worker). The closures here touch no
//! thread-local of their own.

use may::sync::mpsc;
use sched_peers::{main_for, status_kb, work, Measured, Parked, Sched, Span, SETTLE};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct May;

/// Configures the workers once and runs `f` in a coroutine, returning its
/// output. may's configuration is global and read when the scheduler starts,
/// so a process measures one procs value (the harness runs one per process).
fn on_worker<T: Send + 'static>(procs: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    may::config().set_workers(procs);
    may::go!(f).join().expect("benchmark coroutine panicked")
}

impl Sched for May {
    const NAME: &'static str = "may";

    fn pingpong(procs: usize, n: u64) -> (Duration, u64) {
        on_worker(procs, move || {
            let (ping_tx, ping_rx) = mpsc::channel::<u64>();
            let (pong_tx, pong_rx) = mpsc::channel::<u64>();
            let echo = may::go!(move || {
                while let Ok(v) = ping_rx.recv() {
                    if pong_tx.send(v).is_err() {
                        break;
                    }
                }
            });
            for i in 0..1000 {
                ping_tx.send(i).expect("echo gone");
                pong_rx.recv().expect("echo gone");
            }
            let t = Instant::now();
            let mut sum = 0u64;
            for i in 0..n {
                ping_tx.send(i).expect("echo gone");
                sum += pong_rx.recv().expect("echo gone");
            }
            let el = t.elapsed();
            drop(ping_tx);
            echo.join().expect("echo panicked");
            (el, sum)
        })
    }

    fn spawn(procs: usize, n: u64) -> (Duration, u64) {
        on_worker(procs, move || {
            let t = Instant::now();
            let handles: Vec<_> = (0..n).map(|i| may::go!(move || 2 * i + 1)).collect();
            let mut sum = 0u64;
            for h in handles {
                sum += h.join().expect("coroutine panicked");
            }
            (t.elapsed(), sum)
        })
    }

    fn fanout(procs: usize, tasks: u64, iters: u64) -> (Measured, u64) {
        on_worker(procs, move || {
            let span = Span::start();
            let handles: Vec<_> = (0..tasks).map(|i| may::go!(move || work(i, iters))).collect();
            let mut x = 0u64;
            for h in handles {
                x ^= h.join().expect("coroutine panicked");
            }
            (span.finish(), x)
        })
    }

    fn parked(procs: usize, n: u64) -> Parked {
        may::config().set_workers(procs);
        // Start the scheduler before the base reading, as the other systems do.
        may::go!(|| ()).join().expect("coroutine panicked");
        let base_kb = status_kb("VmRSS");
        on_worker(procs, move || {
            let started = Arc::new(AtomicU64::new(0));
            let mut txs = Vec::with_capacity(n as usize);
            let mut handles = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let (tx, rx) = mpsc::channel::<u64>();
                txs.push(tx);
                let started = Arc::clone(&started);
                handles.push(may::go!(move || {
                    started.fetch_add(1, Ordering::Relaxed);
                    rx.recv().expect("sender dropped")
                }));
            }
            while started.load(Ordering::Relaxed) < n {
                may::coroutine::sleep(Duration::from_millis(1));
            }
            may::coroutine::sleep(SETTLE);
            let hwm_kb = status_kb("VmHWM");
            let rss_kb = status_kb("VmRSS");
            for (i, tx) in txs.iter().enumerate() {
                tx.send(i as u64).expect("coroutine gone");
            }
            let mut sum = 0u64;
            for h in handles {
                sum += h.join().expect("coroutine panicked");
            }
            Parked { base_kb, hwm_kb, rss_kb, sum }
        })
    }
}

fn main() {
    main_for::<May>();
}
