//! Fourth outside attack: gc-core's `blocking` called from a G, and a
//! runtime whose last handle is dropped by one of its own Gs while its
//! mark workers may be running. Safe code only.
//!
//! Invariants of this file: each body runs alone in a child process with a
//! time limit (`tests/child/mod.rs`).

mod child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tricolor_gc::runtime::{go, gosched, Runtime};
use tricolor_gc::{Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    v: u64,
    next: Member<Node>,
}

fn list(n: u64) -> Gc<Node> {
    let mut head = Gc::new(Node { v: 0, next: Member::null() });
    for v in 1..n {
        head = Gc::new(Node { v, next: Member::new(&head) });
    }
    head
}

fn runtime(procs: usize) -> Runtime {
    // SAFETY: (the migration contract) no G holds anything thread-bound.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().unwrap()
}

/// THREAT: the facade exports two `blocking`s with Go's `entersyscall`
/// meaning: `tricolor_gc::runtime::blocking` leaves the P, but
/// `tricolor_gc::blocking` (gc-core's, "Runs f as a blocking section (Go:
/// entersyscall/exitsyscall)"; gc-core's mutator docs add "the scheduler
/// hands the thread's P to another thread here") only checks the pin and
/// calls `f`. A G that blocks inside gc-core's one keeps its P: on 1 P every
/// other G, and the mark workers, wait for the whole call. Expected: the
/// other G runs while the first one blocks (as with the runtime's
/// `blocking`), or gc-core's `blocking` is not presented as entersyscall.
#[test]
fn gc_core_blocking_in_a_g_lets_other_gs_run() {
    const NAME: &str = "gc_core_blocking_in_a_g_lets_other_gs_run";
    if !child::is_child(NAME) {
        child::run(NAME, &[], Duration::from_secs(60));
        return;
    }
    let rt = runtime(1);
    let ticks_during = rt.block_on(|| {
        let ticks = Arc::new(AtomicU64::new(0));
        let blocked = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (t2, b2, d2) = (ticks.clone(), blocked.clone(), done.clone());
        let ticker = go(move || {
            while !d2.load(Ordering::SeqCst) {
                if b2.load(Ordering::SeqCst) {
                    t2.fetch_add(1, Ordering::SeqCst);
                }
                gosched();
            }
        });
        let (t3, b3) = (ticks.clone(), blocked.clone());
        let blocker = go(move || {
            tricolor_gc::blocking(|| {
                b3.store(true, Ordering::SeqCst);
                let before = t3.load(Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(300));
                let after = t3.load(Ordering::SeqCst);
                b3.store(false, Ordering::SeqCst);
                after - before
            })
        });
        let during = blocker.join().unwrap();
        done.store(true, Ordering::SeqCst);
        ticker.join().unwrap();
        during
    });
    assert!(ticks_during > 0, "no other G ran while a G sat 300 ms in tricolor_gc::blocking on 1 P");
}

/// THREAT: the last handle of the host runtime is dropped by one of its own
/// Gs while other Gs allocate and a plain thread collects (shutdown from an
/// M of the runtime being shut down, with worker Gs possibly mid-turn).
/// Expected: no abort or hang; the plain thread's `collect()` keeps
/// returning and a runtime built afterwards works.
#[test]
fn a_runtime_dropped_by_its_own_g_mid_cycle() {
    const NAME: &str = "a_runtime_dropped_by_its_own_g_mid_cycle";
    if !child::is_child(NAME) {
        child::run(NAME, &[("GODEBUG", "gccheckmark=1,clobberfree=1")], Duration::from_secs(120));
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let collector = std::thread::spawn(move || {
        let big = list(100_000);
        let mut n = 0u64;
        while !s2.load(Ordering::Relaxed) {
            tricolor_gc::collect();
            n += 1;
        }
        let mut c = Some(big);
        let mut want = 99_999u64;
        while let Some(x) = c {
            assert_eq!(x.v, want);
            c = x.next.get();
            want = want.wrapping_sub(1);
        }
        n
    });
    for _ in 0..5 {
        let rt = Arc::new(runtime(2));
        let last = rt.clone();
        rt.block_on(move || {
            for _ in 0..3 {
                drop(go(|| {
                    let t0 = Instant::now();
                    while t0.elapsed() < Duration::from_millis(200) {
                        let _l = list(1000);
                    }
                }));
            }
            drop(go(move || {
                tricolor_gc::runtime::sleep(Duration::from_millis(20));
                drop(last); // the last handle, once the outer one is gone
            }));
        });
        drop(rt);
        std::thread::sleep(Duration::from_millis(60));
    }
    stop.store(true, Ordering::Relaxed);
    let n = collector.join().expect("the plain thread's list was damaged");
    assert!(n > 0);
    let rt = runtime(2);
    rt.block_on(|| {
        go(|| {
            let _l = list(10_000);
            tricolor_gc::collect();
        })
        .join()
        .unwrap()
    });
}

/// THREAT: `go` inside a gc-core pin. It is in the contract's list of
/// switching calls, but it checks the pin only in its trailing preemption
/// point, which switches only when sysmon flagged the time slice: the same
/// call succeeds in a short pin and panics ("called inside
/// tricolor_gc::pin") once the pin has run 10 ms, after the new G was
/// already queued (it runs detached; the caller's `JoinHandle` is lost in
/// the unwind). Expected: `go` in a pin behaves the same whatever the
/// time slice (always refused up front, as R16 did for the blocking
/// operations, or always allowed).
#[test]
fn go_inside_a_pin_does_not_depend_on_the_time_slice() {
    const NAME: &str = "go_inside_a_pin_does_not_depend_on_the_time_slice";
    if !child::is_child(NAME) {
        child::run(NAME, &[], Duration::from_secs(60));
        return;
    }
    let rt = runtime(1);
    let (short, long, ran) = rt.block_on(|| {
        let ran = Arc::new(AtomicU64::new(0));
        let spawn_in_pin = |spin: Duration| {
            let r = ran.clone();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tricolor_gc::pin(|_g| {
                    let t0 = Instant::now();
                    while t0.elapsed() < spin {
                        std::hint::spin_loop();
                    }
                    drop(go(move || {
                        r.fetch_add(1, Ordering::SeqCst);
                    }));
                })
            }))
            .is_ok()
        };
        let short = spawn_in_pin(Duration::ZERO);
        let long = spawn_in_pin(Duration::from_millis(40));
        tricolor_gc::runtime::sleep(Duration::from_millis(20));
        (short, long, ran.load(Ordering::SeqCst))
    });
    assert_eq!(
        short, long,
        "go() in a pin: short pin ok={short}, 40 ms pin ok={long} (Gs that ran: {ran}); the outcome depends on sysmon's flag"
    );
}

/// THREAT: mark-worker Gs are made by `Sched::new_g` with the runtime's
/// `Builder::stack_size`, so a runtime built with the smallest stacks (4
/// pages: 16 KiB) runs the collector's drain loop, its exec-trace slice and
/// the pacer's bookkeeping on 16 KiB. Go runs `gcDrain` on the system
/// stack. Expected: a cycle marking a deep, wide heap on such a runtime
/// completes (no "goroutine stack overflow" abort).
#[test]
fn mark_workers_on_a_runtime_with_minimal_stacks() {
    const NAME: &str = "mark_workers_on_a_runtime_with_minimal_stacks";
    if !child::is_child(NAME) {
        child::run(
            NAME,
            &[("GODEBUG", "gccheckmark=1,clobberfree=1"), ("TRICOLOR_TRACE", "/dev/null")],
            Duration::from_secs(120),
        );
        return;
    }
    // SAFETY: (the migration contract) no G holds anything thread-bound.
    let rt = unsafe { Runtime::builder().procs(2).stack_size(16 * 1024).allow_migration() }.build().unwrap();
    rt.block_on(|| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                go(|| {
                    let keep = list(200_000);
                    for _ in 0..3 {
                        let _tmp = list(50_000);
                        tricolor_gc::collect();
                    }
                    keep.v
                })
            })
            .collect();
        for h in hs {
            assert_eq!(h.join().unwrap(), 199_999);
        }
    });
}
