//! Channel benchmarks (criterion), outside a runtime: the tasks are OS
//! threads, so a park is a futex sleep and a wakeup a futex wake. Once the
//! scheduler is merged, the same bodies run on Gs (see the `tests/common`
//! note); the ping-pong there measures a G switch instead.
//!
//! * `pingpong_rtt`: two unbuffered channels, one round trip per iteration
//!   between two threads (Go: the `sched` workload's ping-pong).
//! * `buffered_throughput/<cap>`: one producer, one consumer, 10^4 values
//!   per iteration through a channel of capacity `cap`.
//! * `uncontended`: a send and a receive on a buffered channel, one thread
//!   (the lock and queue cost alone).
//! * `select2_ready`: a `select!` over two ready channels.
//! * `mutex_uncontended`: lock and unlock of `sync::Mutex`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_runtime::chan::channel;
use gc_runtime::select;
use gc_runtime::sync::Mutex;
use std::hint::black_box;

fn pingpong(c: &mut Criterion) {
    let (ping_tx, ping_rx) = channel::<u64>(0);
    let (pong_tx, pong_rx) = channel::<u64>(0);
    let echo = std::thread::spawn(move || {
        while let Some(v) = ping_rx.recv() {
            pong_tx.send(v + 1);
        }
    });
    c.bench_function("pingpong_rtt", |b| {
        b.iter(|| {
            ping_tx.send(black_box(1));
            black_box(pong_rx.recv())
        })
    });
    ping_tx.close();
    echo.join().unwrap();
}

fn buffered(c: &mut Criterion) {
    const N: u64 = 10_000;
    let mut g = c.benchmark_group("buffered_throughput");
    g.throughput(Throughput::Elements(N));
    for cap in [1usize, 64, 1024] {
        g.bench_with_input(BenchmarkId::from_parameter(cap), &cap, |b, &cap| {
            b.iter(|| {
                let (tx, rx) = channel::<u64>(cap);
                let p = std::thread::spawn(move || {
                    for i in 0..N {
                        tx.send(i);
                    }
                    tx.close();
                });
                let mut sum = 0;
                for v in &rx {
                    sum += v;
                }
                p.join().unwrap();
                assert_eq!(sum, N * (N - 1) / 2);
            })
        });
    }
    g.finish();
}

fn single_thread(c: &mut Criterion) {
    let (tx, rx) = channel::<u64>(16);
    c.bench_function("uncontended_send_recv", |b| {
        b.iter(|| {
            tx.send(black_box(3));
            black_box(rx.recv())
        })
    });
    let (tx1, rx1) = channel::<u64>(1);
    let (tx2, rx2) = channel::<u64>(1);
    tx1.send(1);
    tx2.send(2);
    c.bench_function("select2_ready", |b| {
        b.iter(|| {
            select! {
                recv(rx1) -> v => tx1.send(v.unwrap()),
                recv(rx2) -> v => tx2.send(v.unwrap()),
            }
        })
    });
    let m = Mutex::new(0u64);
    c.bench_function("mutex_uncontended", |b| {
        b.iter(|| {
            *m.lock().unwrap() += 1;
        })
    });
}

criterion_group!(benches, pingpong, buffered, single_thread);
criterion_main!(benches);
