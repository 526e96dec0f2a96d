//! tokio peer of the `sched` workload: the multi-thread runtime with
//! `worker_threads = GOMAXPROCS`. Every measurement runs inside a spawned task
//! (not in `block_on`'s future, which runs on the calling thread), so both
//! ends of the ping-pong and the spawner are on workers, as Go's main
//! goroutine is on a P. Channels: `tokio::sync::mpsc` bounded to 1 slot (tokio
//! has no rendezvous channel; with one token in flight it behaves as one).

use sched_peers::{main_for, status_kb, work, Measured, Parked, Sched, Span, SETTLE};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

struct Tokio;

fn runtime(procs: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(procs).enable_time().build().expect("tokio runtime")
}

/// Runs `f` as a task on a worker of a fresh runtime and returns its output.
fn on_worker<F>(procs: usize, f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = runtime(procs);
    rt.block_on(async { tokio::spawn(f).await.expect("benchmark task panicked") })
}

impl Sched for Tokio {
    const NAME: &'static str = "tokio";

    fn pingpong(procs: usize, n: u64) -> (Duration, u64) {
        on_worker(procs, async move {
            let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
            let echo = tokio::spawn(async move {
                while let Some(v) = ping_rx.recv().await {
                    if pong_tx.send(v).await.is_err() {
                        break;
                    }
                }
            });
            for i in 0..1000 {
                ping_tx.send(i).await.expect("echo task gone");
                pong_rx.recv().await.expect("echo task gone");
            }
            let t = Instant::now();
            let mut sum = 0u64;
            for i in 0..n {
                ping_tx.send(i).await.expect("echo task gone");
                sum += pong_rx.recv().await.expect("echo task gone");
            }
            let el = t.elapsed();
            drop(ping_tx);
            echo.await.expect("echo task panicked");
            (el, sum)
        })
    }

    fn spawn(procs: usize, n: u64) -> (Duration, u64) {
        on_worker(procs, async move {
            let t = Instant::now();
            let handles: Vec<_> = (0..n).map(|i| tokio::spawn(async move { 2 * i + 1 })).collect();
            let mut sum = 0u64;
            for h in handles {
                sum += h.await.expect("task panicked");
            }
            (t.elapsed(), sum)
        })
    }

    fn fanout(procs: usize, tasks: u64, iters: u64) -> (Measured, u64) {
        on_worker(procs, async move {
            let span = Span::start();
            let handles: Vec<_> = (0..tasks).map(|i| tokio::spawn(async move { work(i, iters) })).collect();
            let mut x = 0u64;
            for h in handles {
                x ^= h.await.expect("task panicked");
            }
            (span.finish(), x)
        })
    }

    fn parked(procs: usize, n: u64) -> Parked {
        let rt = runtime(procs);
        let base_kb = status_kb("VmRSS");
        rt.block_on(async move {
            tokio::spawn(async move {
                let started = Arc::new(AtomicU64::new(0));
                let mut txs = Vec::with_capacity(n as usize);
                let mut handles = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let (tx, mut rx) = mpsc::channel::<u64>(1);
                    txs.push(tx);
                    let started = Arc::clone(&started);
                    handles.push(tokio::spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        rx.recv().await.expect("sender dropped")
                    }));
                }
                while started.load(Ordering::Relaxed) < n {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::time::sleep(SETTLE).await;
                let hwm_kb = status_kb("VmHWM");
                let rss_kb = status_kb("VmRSS");
                for (i, tx) in txs.iter().enumerate() {
                    tx.send(i as u64).await.expect("task gone");
                }
                let mut sum = 0u64;
                for h in handles {
                    sum += h.await.expect("task panicked");
                }
                Parked { base_kb, hwm_kb, rss_kb, sum }
            })
            .await
            .expect("benchmark task panicked")
        })
    }
}

fn main() {
    main_for::<Tokio>();
}
