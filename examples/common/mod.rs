//! The benchmark workloads' shared summary line (read by benches/compare.sh).

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
