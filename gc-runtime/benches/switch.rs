//! Scheduler micro-benchmarks: a bare context switch (corosensei resume +
//! suspend on our stack type), a `gosched` round trip (G → g0 → global
//! queue → findRunnable → G) on 1 P, and spawn+join of an empty G.
//!
//! Run: `cargo bench -p gc-runtime --bench switch`

use criterion::{criterion_group, criterion_main, Criterion};
use gc_runtime::{go, gosched, Runtime};
use std::time::{Duration, Instant};

fn rt(procs: usize) -> Runtime {
    // SAFETY: the benchmark bodies hold nothing thread-bound.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().unwrap()
}

fn benches(c: &mut Criterion) {
    c.bench_function("raw_switch_resume_suspend", |b| b.iter_custom(gc_runtime::bench_raw_switch));
    let one = rt(1);
    c.bench_function("gosched_round_trip_1p", |b| {
        b.iter_custom(|iters| {
            one.block_on(move || {
                let t = Instant::now();
                for _ in 0..iters {
                    gosched();
                }
                t.elapsed()
            })
        })
    });
    for procs in [1, 2] {
        let r = rt(procs);
        c.bench_function(&format!("spawn_join_{procs}p"), |b| {
            b.iter_custom(|iters| {
                r.block_on(move || {
                    let t = Instant::now();
                    for _ in 0..iters {
                        go(|| ()).join().unwrap();
                    }
                    t.elapsed()
                })
            })
        });
        c.bench_function(&format!("spawn_1000_then_join_{procs}p_per_g"), |b| {
            b.iter_custom(|iters| {
                r.block_on(move || {
                    let mut total = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let n = left.min(1000);
                        let t = Instant::now();
                        let hs: Vec<_> = (0..n).map(|_| go(|| ())).collect();
                        for h in hs {
                            h.join().unwrap();
                        }
                        total += t.elapsed();
                        left -= n;
                    }
                    total
                })
            })
        });
    }
}

criterion_group! {
    name = switch;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(20);
    targets = benches
}
criterion_main!(switch);
