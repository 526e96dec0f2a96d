//! tricolor-gc side of the `sched` workload: gc-runtime's G/M/P scheduler
//! (stackful Gs, `GOMAXPROCS` Ps), its channels and WaitGroup. Built only with
//! `--features tricolor`; it needs the scheduler of issue 11 in gc-runtime.
//!
//! Every measurement runs in the main G of `Runtime::block_on`, which is a G
//! on a P like Go's main goroutine. Channels are unbuffered (rendezvous), as
//! in the Go peer (`gc_runtime::chan::channel(0)`).

use gc_runtime::chan::{channel, Receiver, Sender};
use gc_runtime::sync::WaitGroup;
use gc_runtime::{go, Runtime};
use sched_peers::{main_for, status_kb, work, Measured, Parked, Sched, Span, SETTLE};
use std::time::{Duration, Instant};

struct Tricolor;

fn runtime(procs: usize) -> Runtime {
    // SAFETY: the migration contract of `Builder::allow_migration`: no G of
    // this program holds a thread-local reference, a thread-bound guard or a
    // gc-core handle across a switch point; the Gs touch only their own
    // locals, channels, WaitGroups and `status_kb`'s file read.
    let b = unsafe { Runtime::builder().allow_migration() };
    b.procs(procs).build().expect("gc-runtime: Runtime::build failed")
}

/// An unbuffered (rendezvous) channel.
fn unbuffered<T: Send + 'static>() -> (Sender<T>, Receiver<T>) {
    channel(0)
}

impl Sched for Tricolor {
    const NAME: &'static str = "tricolor";

    fn pingpong(procs: usize, n: u64) -> (Duration, u64) {
        runtime(procs).block_on(move || {
            let (ping_tx, ping_rx) = unbuffered::<u64>();
            let (pong_tx, pong_rx) = unbuffered::<u64>();
            let echo = go(move || {
                while let Some(v) = ping_rx.recv() {
                    pong_tx.send(v);
                }
            });
            for i in 0..1000 {
                ping_tx.send(i);
                pong_rx.recv().expect("echo G gone");
            }
            let t = Instant::now();
            let mut sum = 0u64;
            for i in 0..n {
                ping_tx.send(i);
                sum += pong_rx.recv().expect("echo G gone");
            }
            let el = t.elapsed();
            ping_tx.close();
            echo.join().expect("echo G panicked");
            (el, sum)
        })
    }

    fn spawn(procs: usize, n: u64) -> (Duration, u64) {
        runtime(procs).block_on(move || {
            let t = Instant::now();
            let handles: Vec<_> = (0..n).map(|i| go(move || 2 * i + 1)).collect();
            let mut sum = 0u64;
            for h in handles {
                sum += h.join().expect("G panicked");
            }
            (t.elapsed(), sum)
        })
    }

    fn fanout(procs: usize, tasks: u64, iters: u64) -> (Measured, u64) {
        runtime(procs).block_on(move || {
            let span = Span::start();
            let handles: Vec<_> = (0..tasks).map(|i| go(move || work(i, iters))).collect();
            let mut x = 0u64;
            for h in handles {
                x ^= h.join().expect("G panicked");
            }
            (span.finish(), x)
        })
    }

    fn parked(procs: usize, n: u64) -> Parked {
        let rt = runtime(procs);
        rt.block_on(|| ());
        let base_kb = status_kb("VmRSS");
        rt.block_on(move || {
            let started = WaitGroup::new();
            started.add(n as isize);
            let mut txs = Vec::with_capacity(n as usize);
            let mut handles = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let (tx, rx) = unbuffered::<u64>();
                txs.push(tx);
                let started = started.clone();
                handles.push(go(move || {
                    started.done();
                    rx.recv().expect("channel closed")
                }));
            }
            started.wait();
            gc_runtime::sleep(SETTLE);
            let hwm_kb = status_kb("VmHWM");
            let rss_kb = status_kb("VmRSS");
            for (i, tx) in txs.iter().enumerate() {
                tx.send(i as u64);
            }
            let mut sum = 0u64;
            for h in handles {
                sum += h.join().expect("G panicked");
            }
            Parked { base_kb, hwm_kb, rss_kb, sum }
        })
    }
}

fn main() {
    main_for::<Tricolor>();
}
