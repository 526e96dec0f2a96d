//! Fourth outside attack (issue 12, the collector on the scheduler): safe
//! code that keeps the written contract of `Builder::allow_migration` and
//! still breaks gc-core once its mutators are Gs. Every test here is RED
//! at the commit it was written on (h-attack4); each names the threat it
//! shows. Hangs are caught by running the body in a child process with a
//! time limit (`tests/child/mod.rs`).
//!
//! Invariants of this file: every body runs alone in its own child process
//! (process-wide runtime and collector state), so a red test neither hangs
//! the harness nor disturbs another test.

mod child;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tricolor_gc::runtime::{go, gosched, Runtime};
use tricolor_gc::{Gc, GcVec, Member, Trace};

/// A list cell: marking a list is a chain of grey objects, so it needs mark
/// workers (leaf objects are blackened by the root scan alone).
#[derive(Trace)]
struct Cell {
    next: Member<Cell>,
}

fn list(n: usize) -> Gc<Cell> {
    let mut head = Gc::new(Cell { next: Member::null() });
    for _ in 1..n {
        head = Gc::new(Cell { next: Member::new(&head) });
    }
    head
}

fn runtime(procs: usize) -> Runtime {
    // SAFETY: (the migration contract) the test bodies hold no thread-local
    // borrow or thread-bound guard across a call the contract lists.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().expect("runtime")
}

/// Runs `body` in a child process when called from the parent.
fn in_child(name: &str, env: &[(&str, &str)], limit_s: u64, body: impl FnOnce()) {
    if child::is_child(name) {
        body();
    } else {
        child::run(name, env, Duration::from_secs(limit_s));
    }
}
/// THREAT: as above, but the closure makes no runtime call at all: it only
/// allocates, and allocation is now a preemption point (sysmon's 10 ms
/// flag). A closure that allocates for longer than a time slice is switched
/// out holding the vector's writer lock; a G that writes the vector next
/// hits the same spurious panic or M-blocking deadlock.
#[test]
fn retain_closure_that_allocates_lets_another_g_write_the_vector() {
    in_child("retain_closure_that_allocates_lets_another_g_write_the_vector", &[], 60, || {
        let rt = runtime(1);
        let len = rt.block_on(|| {
            let v: Arc<GcVec<u64>> = Arc::new((0..4u64).map(Gc::new).collect());
            let started = Arc::new(AtomicBool::new(false));
            let pushed = Arc::new(AtomicBool::new(false));
            let (v1, s1, p1) = (v.clone(), started.clone(), pushed.clone());
            let a = go(move || {
                v1.retain(|x| {
                    s1.store(true, Ordering::SeqCst);
                    // Allocate (only) until the other G has had its turn, or
                    // for at most 1 s: several 10 ms slices.
                    let t0 = Instant::now();
                    let mut keep = Vec::new();
                    while !p1.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(1) {
                        keep.push(Gc::new(**x));
                        if keep.len() > 1000 {
                            keep.clear();
                        }
                    }
                    true
                });
            });
            let (v2, s2, p2) = (v.clone(), started.clone(), pushed.clone());
            let b = go(move || {
                while !s2.load(Ordering::SeqCst) {
                    gosched();
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| v2.push(&Gc::new(100))));
                p2.store(true, Ordering::SeqCst);
                r
            });
            a.join().expect("the retaining G failed");
            let rb = b.join().expect("the pushing G failed");
            if let Err(p) = rb {
                let msg = p.downcast_ref::<String>().cloned().unwrap_or_default();
                panic!("the other G's push panicked although it never ran inside a retain closure: {msg}");
            }
            v.len()
        });
        assert_eq!(len, 5);
    });
}

thread_local! {
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}
/// THREAT: the collector's marking now needs a P of the host runtime, but
/// gc-core's own `safepoint()` (docs/tuning.md: "a preemption point for long
/// loops that never call into the GC") is not a scheduler preemption point.
/// A G on a 1-P host that loops calling `tricolor_gc::safepoint()` while a
/// plain thread runs `collect()` keeps its P for ever: no mark worker ever
/// runs and the plain thread's `collect()` never returns (before issue 12
/// the mark ran on the collector's threads and it returned at once).
#[test]
fn gc_safepoint_loop_in_a_g_does_not_starve_a_plain_threads_collect() {
    in_child("gc_safepoint_loop_in_a_g_does_not_starve_a_plain_threads_collect", &[], 60, || {
        let rt = runtime(1);
        let done = Arc::new(AtomicBool::new(false));
        let d2 = done.clone();
        let waited = rt.block_on(move || {
            // Something to mark, rooted by this G.
            let keep = list(100_000);
            let d3 = d2.clone();
            let t = std::thread::spawn(move || {
                let t0 = Instant::now();
                tricolor_gc::collect();
                d3.store(true, Ordering::SeqCst);
                t0.elapsed()
            });
            let t0 = Instant::now();
            // A long loop that never allocates, with gc-core's preemption
            // point in it, bounded at 5 s so that the test reports.
            while !d2.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(5) {
                tricolor_gc::safepoint();
                std::hint::spin_loop();
            }
            drop(keep);
            let ok = d2.load(Ordering::SeqCst);
            let w = if ok { t.join().unwrap() } else { t0.elapsed() };
            (ok, w)
        });
        assert!(
            waited.0,
            "collect() on a plain thread did not finish in {:?} while a G looped on safepoint()",
            waited.1
        );
        assert!(done.load(Ordering::SeqCst));
    });
}
/// Control for the two tests above: with the runtime's own preemption
/// point the same loop lets `collect()` finish (green).
#[test]
fn control_runtime_safepoint_loop_lets_collect_finish() {
    in_child("control_runtime_safepoint_loop_lets_collect_finish", &[], 60, || {
        let rt = runtime(1);
        let ok = rt.block_on(|| {
            let keep = list(100_000);
            let d = Arc::new(AtomicBool::new(false));
            let d2 = d.clone();
            let t = std::thread::spawn(move || {
                tricolor_gc::collect();
                d2.store(true, Ordering::SeqCst);
            });
            let t0 = Instant::now();
            while !d.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(20) {
                tricolor_gc::runtime::safepoint();
                std::hint::spin_loop();
            }
            drop(keep);
            let ok = d.load(Ordering::SeqCst);
            if ok {
                t.join().unwrap();
            }
            ok
        });
        assert!(ok);
    });
}
