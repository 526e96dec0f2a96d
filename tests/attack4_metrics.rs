//! Fourth outside attack: what gc-core reports as GOMAXPROCS once its mark
//! workers run on a runtime built with `Builder::procs(n)`. Safe code only.
//!
//! Invariants of this file: each body runs alone in a child process whose
//! environment sets GOMAXPROCS to a value other than the runtime's
//! (`tests/child/mod.rs`).

mod child;
use std::time::Duration;
use tricolor_gc::metrics::{read, Sample, Value};
use tricolor_gc::runtime::{go, Runtime};
use tricolor_gc::Gc;

/// THREAT: the host runtime runs the collector's workers on 1 P
/// (`Builder::procs(1)`, which overrides the `GOMAXPROCS` environment
/// variable for the scheduler), but gc-core still takes GOMAXPROCS from the
/// environment: `/sched/gomaxprocs:threads` reads 4, Go's gctrace line says
/// `4 P`, and every per-P denominator (`/cpu/classes/total:cpu-seconds`,
/// the pause CPU `wall × GOMAXPROCS`, the CPU limiter's bucket capacity,
/// the pacer's utilisation) is 4× what the machine the workers run on
/// offers. Expected: while a runtime hosts the workers, its P count is
/// gc-core's GOMAXPROCS (the scheduler already tells gc-core, through
/// `Hooks::procs`).
#[test]
fn gomaxprocs_seen_by_the_collector_is_the_host_runtimes() {
    const NAME: &str = "gomaxprocs_seen_by_the_collector_is_the_host_runtimes";
    if !child::is_child(NAME) {
        let stderr = child::run(NAME, &[("GOMAXPROCS", "4"), ("GODEBUG", "gctrace=1")], Duration::from_secs(120));
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("gc ")).collect();
        assert!(!lines.is_empty(), "no gctrace line:\n{stderr}");
        for l in &lines {
            assert!(l.contains(", 1 P"), "gctrace counts the environment's GOMAXPROCS, not the runtime's 1 P: {l}");
        }
        return;
    }
    // SAFETY: (the migration contract) no G holds anything thread-bound.
    let rt = unsafe { Runtime::builder().procs(1).allow_migration() }.build().unwrap();
    assert_eq!(rt.procs(), 1);
    let procs = rt.block_on(|| {
        go(|| {
            for _ in 0..3 {
                let _keep: Vec<Gc<u64>> = (0..10_000).map(Gc::new).collect();
                tricolor_gc::collect();
            }
        })
        .join()
        .unwrap();
        let mut s = [Sample::new("/sched/gomaxprocs:threads")];
        read(&mut s);
        s[0].value.clone()
    });
    assert_eq!(procs, Value::Uint64(1), "the collector's GOMAXPROCS is not the runtime's");
}

/// A float that is often NaN or infinite (what a trace file or a caller's
/// arithmetic can produce).
fn odd_f64() -> impl proptest::strategy::Strategy<Value = f64> {
    use proptest::prelude::*;
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        -1e6f64..1e6,
        proptest::num::f64::ANY,
    ]
}

proptest::proptest! {
    /// THREAT: `tricolor_gc::trace::mmu` (public; the gc-trace tool feeds it
    /// numbers read from a trace file) panics inside `f64::clamp` when the
    /// run's start is NaN (`clamp(NaN, _)` panics), e.g.
    /// `mmu(&[(1.0, 2.0)], (NaN, 10.0), 1.0)`. Expected: any input gives a
    /// value in [0, 1] (or NaN), never a panic.
    #[test]
    fn mmu_never_panics_on_odd_floats(
        pauses in proptest::collection::vec((odd_f64(), odd_f64()), 0..4),
        start in odd_f64(),
        end in odd_f64(),
        window in odd_f64(),
    ) {
        let r = std::panic::catch_unwind(|| tricolor_gc::trace::mmu(&pauses, (start, end), window));
        proptest::prop_assert!(r.is_ok(), "mmu panicked on pauses {:?}, span ({}, {}), window {}", pauses, start, end, window);
        let u = r.unwrap();
        proptest::prop_assert!(u.is_nan() || (0.0..=1.0).contains(&u), "mmu = {}", u);
    }
}

/// The concrete case of the property above: a NaN start with one ordinary
/// pause panics in `f64::clamp`.
#[test]
fn mmu_with_a_nan_start_does_not_panic() {
    let r = std::panic::catch_unwind(|| tricolor_gc::trace::mmu(&[(1.0, 2.0)], (f64::NAN, 10.0), 1.0));
    assert!(r.is_ok(), "mmu panicked on a NaN start");
}
