//! The benchmark workloads' shared summary line (read by benches/compare.sh).
#![allow(dead_code)] // each example uses part of this module

use std::time::Instant;

/// Prints `RESULT system=tricolor workload=... wall_ms=... max_pause_us=...
/// p99_pause_us=... gc_pauses=... gcs=...` plus `extra`, from `mem_stats()`
/// (its pause list holds the last 256 stop-the-world pauses, one per stop;
/// `gc_pauses` counts those, as Go's pause histogram does).
pub fn result(workload: &str, start: Instant, extra: &str) {
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let s = tricolor_gc::mem_stats();
    let mut p: Vec<f64> = s.pauses.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    p.sort_by(f64::total_cmp);
    let p99 = p.get(((p.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    println!(
        "RESULT system=tricolor workload={workload} wall_ms={wall_ms:.3} max_pause_us={:.3} p99_pause_us={p99:.3} gc_pauses={} gcs={}{extra}",
        s.pause_max.as_secs_f64() * 1e6,
        p.len(),
        s.num_gc,
    );
}

/// True if `TRICOLOR_RUNTIME=1`: the workload's mutators run as Gs on the
/// gc-runtime scheduler (GOMAXPROCS Ps) instead of OS threads.
pub fn use_runtime() -> bool {
    std::env::var_os("TRICOLOR_RUNTIME").is_some_and(|v| v == "1")
}

/// Runs `f` as the main G of a runtime when [`use_runtime`], else on this
/// thread.
pub fn run<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    if !use_runtime() {
        return f();
    }
    // SAFETY: (the migration contract) the workloads keep no thread-local
    // borrow or thread-bound guard across an allocation or a runtime call.
    let rt = unsafe { tricolor_gc::runtime::Runtime::builder().allow_migration() }
        .build()
        .expect("cannot start the runtime");
    rt.block_on(f)
}

/// Runs `n` copies of `f` at once, as Gs under the runtime or as threads,
/// and returns their results in order.
pub fn fan_out<R: Send + 'static>(n: usize, f: impl Fn(usize) -> R + Send + Sync + 'static) -> Vec<R> {
    let f = std::sync::Arc::new(f);
    if tricolor_gc::runtime::in_runtime() {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let f = f.clone();
                tricolor_gc::runtime::go(move || f(i))
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("a mutator G panicked")).collect()
    } else {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let f = f.clone();
                std::thread::spawn(move || f(i))
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("a mutator thread panicked")).collect()
    }
}
