//! Scheduler behaviour tests: spawn/join, panics, fairness, stealing,
//! syscall handoff, preemption, timers, deadlock, G-local storage, drop.

use gc_runtime::{blocking, go, gosched, safepoint, sleep, GLocal, Runtime};
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rt(procs: usize) -> Runtime {
    // SAFETY: these tests hold no thread-local borrows, thread-bound guards
    // or gc-core handles across runtime calls.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().expect("runtime")
}

#[test]
fn build_requires_the_migration_contract() {
    let err = Runtime::builder().procs(1).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("allow_migration"), "{err}");
}

#[test]
fn block_on_returns_the_value() {
    let r = rt(2);
    assert_eq!(r.block_on(|| 6 * 7), 42);
    assert_eq!(r.block_on(|| "again".to_string()), "again");
}

#[test]
fn spawn_and_join_many() {
    let r = rt(2);
    let sum = r.block_on(|| {
        let hs: Vec<_> = (0..1000u64).map(|i| go(move || i * 2)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    assert_eq!(sum, 999 * 1000);
}

#[test]
fn nested_spawns_join_from_gs() {
    let r = rt(2);
    let n = r.block_on(|| {
        let outer: Vec<_> =
            (0..20).map(|_| go(|| (0..20).map(|j| go(move || j)).map(|h| h.join().unwrap()).sum::<i32>())).collect();
        outer.into_iter().map(|h| h.join().unwrap()).sum::<i32>()
    });
    assert_eq!(n, 20 * 190);
}

#[test]
fn panic_in_g_is_joined_as_err() {
    let r = rt(2);
    let msg = r.block_on(|| {
        let h = go(|| -> u32 { panic!("boom in a G") });
        let err = h.join().unwrap_err();
        // The runtime still works after the panic.
        assert_eq!(go(|| 5).join().unwrap(), 5);
        err.downcast_ref::<&str>().map(|s| s.to_string())
    });
    assert_eq!(msg.as_deref(), Some("boom in a G"));
}

#[test]
fn panic_in_main_g_is_reraised_by_block_on() {
    let r = rt(1);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.block_on(|| panic!("main G panics"))));
    assert!(res.is_err());
    assert_eq!(r.block_on(|| 1), 1);
}

#[test]
fn join_from_outside_blocks_the_thread() {
    let r = rt(2);
    let h = r.block_on(|| {
        go(|| {
            sleep(Duration::from_millis(20));
            7
        })
    });
    assert_eq!(h.join().unwrap(), 7);
}

#[test]
#[should_panic(expected = "gc_runtime::go called outside a runtime (use Runtime::block_on)")]
fn go_outside_a_runtime_panics() {
    let _ = go(|| ());
}

#[test]
fn fairness_two_gosched_spinners_on_one_p() {
    let r = rt(1);
    let (a, b) = r.block_on(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let spin = |stop: Arc<AtomicBool>| {
            go(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    gosched();
                }
                n
            })
        };
        let h1 = spin(stop.clone());
        let h2 = spin(stop.clone());
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(50) {
            gosched();
        }
        stop.store(true, Ordering::Relaxed);
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert!(a > 100 && b > 100, "both spinners progress: {a} {b}");
}

#[test]
fn stealing_spreads_work_over_ms() {
    let r = rt(2);
    let threads = r.block_on(|| {
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let hs: Vec<_> = (0..64)
            .map(|_| {
                let seen = seen.clone();
                go(move || {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_millis(3) {
                        std::hint::spin_loop();
                    }
                    seen.lock().unwrap().insert(std::thread::current().id());
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let n = seen.lock().unwrap().len();
        n
    });
    assert!(threads >= 2, "work spawned on one P ran on {threads} Ms");
}

/// Runs a timing scenario up to 3 times and returns the best result: the
/// machine these tests run on is shared (2 cores, often loaded), so one run
/// can be descheduled for tens of ms; the mechanism must work in at least
/// one of three.
fn best_of_3(mut f: impl FnMut() -> Duration) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        best = best.min(f());
        if best < Duration::from_millis(15) {
            break;
        }
    }
    best
}

#[test]
fn syscall_handoff_on_one_p() {
    let others = best_of_3(|| {
        let r = rt(1);
        let (others, blocked) = r.block_on(|| {
            let t0 = Instant::now();
            let b = go(move || {
                blocking(|| std::thread::sleep(Duration::from_millis(100)));
                t0.elapsed()
            });
            gosched(); // let it enter the syscall
            let hs: Vec<_> = (0..10).map(|i| go(move || i)).collect();
            for h in hs {
                h.join().unwrap();
            }
            let others = t0.elapsed();
            (others, b.join().unwrap())
        });
        assert!(blocked >= Duration::from_millis(100));
        others
    });
    assert!(others < Duration::from_millis(50), "other Gs waited {others:?} for a blocked G's P");
}

#[test]
fn blocking_fast_path_keeps_working() {
    let r = rt(2);
    let n = r.block_on(|| (0..1000).map(|i| blocking(move || i)).sum::<i32>());
    assert_eq!(n, 999 * 500);
}

#[test]
fn preemption_at_safepoints_does_not_delay_a_timer() {
    let late = best_of_3(|| {
        let r = rt(1);
        r.block_on(|| {
            let stop = Arc::new(AtomicBool::new(false));
            let s2 = stop.clone();
            let spinner = go(move || {
                while !s2.load(Ordering::Relaxed) {
                    safepoint();
                }
            });
            gosched(); // the spinner starts and holds the P
            let sleeper = go(|| {
                let t = Instant::now();
                sleep(Duration::from_millis(1));
                t.elapsed()
            });
            let late = sleeper.join().unwrap();
            stop.store(true, Ordering::Relaxed);
            spinner.join().unwrap();
            assert!(late >= Duration::from_millis(1));
            late
        })
    });
    assert!(late < Duration::from_millis(20), "1 ms timer fired after {late:?}");
}

#[test]
fn sleep_sleeps() {
    let r = rt(2);
    let d = r.block_on(|| {
        let t = Instant::now();
        let hs: Vec<_> = (0..100).map(|i| go(move || sleep(Duration::from_millis(10 + i % 5)))).collect();
        for h in hs {
            h.join().unwrap();
        }
        t.elapsed()
    });
    assert!(d >= Duration::from_millis(14) && d < Duration::from_millis(500), "{d:?}");
}

#[test]
fn no_deadlock_while_a_timer_is_pending() {
    let r = rt(1);
    r.block_on(|| sleep(Duration::from_millis(30)));
}

static COUNTER: GLocal<Cell<u32>> = GLocal::new(|| Cell::new(0));

struct DropFlag(Arc<AtomicUsize>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn g_local_values_are_per_g_and_dropped_at_g_end() {
    static FLAG: GLocal<Mutex<Option<DropFlag>>> = GLocal::new(|| Mutex::new(None));
    let r = rt(2);
    let dropped = Arc::new(AtomicUsize::new(0));
    let d2 = dropped.clone();
    let counts = r.block_on(move || {
        let hs: Vec<_> = (0..10u32)
            .map(|i| {
                let d = d2.clone();
                go(move || {
                    FLAG.with(|f| *f.lock().unwrap() = Some(DropFlag(d)));
                    for _ in 0..=i {
                        COUNTER.with(|c| c.set(c.get() + 1));
                        gosched();
                    }
                    COUNTER.with(Cell::get)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(counts, (1..=10).collect::<Vec<u32>>());
    assert_eq!(dropped.load(Ordering::SeqCst), 10);
}

#[test]
fn dropping_a_runtime_with_live_gs_abandons_them() {
    let r = rt(2);
    let parked = r.block_on(|| {
        // One G parked forever on a join, one sleeping long, one spinning.
        let forever = go(|| sleep(Duration::from_secs(3600)));
        let _waiter = go(move || forever.join().unwrap());
        let _spinner = go(|| loop {
            safepoint();
            std::thread::sleep(Duration::from_millis(1));
        });
        gosched();
        3
    });
    let t = Instant::now();
    drop(r);
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(parked, 3);
    // A new runtime works after the old one is gone.
    assert_eq!(rt(1).block_on(|| go(|| 1).join().unwrap()), 1);
}

#[test]
fn gomaxprocs_one_runs_everything() {
    let r = rt(1);
    assert_eq!(r.procs(), 1);
    let n = r.block_on(|| {
        (0..300).map(|i| go(move || i)).collect::<Vec<_>>().into_iter().map(|h| h.join().unwrap()).sum::<i32>()
    });
    assert_eq!(n, 299 * 150);
}

#[test]
fn schedtrace_line_has_gos_shape() {
    let r = rt(2);
    r.block_on(|| ());
    let line = r.sched_trace(false);
    assert!(line.starts_with("SCHED "), "{line}");
    for key in
        ["gomaxprocs=2", "idleprocs=", "threads=", "spinningthreads=", "needspinning=", "idlethreads=", "runqueue="]
    {
        assert!(line.contains(key), "{key} in {line}");
    }
    assert!(line.trim_end().ends_with(']'), "{line}");
    let detail = r.sched_trace(true);
    assert!(detail.contains("  P0: status=") && detail.contains("  P1: status="), "{detail}");
    assert!(detail.contains("  M1: p="), "{detail}");
}

fn rss_kib() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Many Gs spawned at once, then joined: every one runs exactly once, and
/// memory stays bounded (stacks are pooled; a G that has not started has
/// no stack). 10⁵ by default; `GC_RUNTIME_SPAWN=1000000` for the 10⁶ run.
#[test]
fn spawn_many_at_once_then_join() {
    let n: usize = std::env::var("GC_RUNTIME_SPAWN").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let r = rt(2);
    let before = rss_kib();
    let t = Instant::now();
    let (sum, peak) = r.block_on(move || {
        let hs: Vec<_> = (0..n).map(|i| go(move || i as u64)).collect();
        let peak = rss_kib();
        (hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>(), peak)
    });
    let n64 = n as u64;
    assert_eq!(sum, n64 * (n64 - 1) / 2);
    eprintln!(
        "spawn_many_at_once_then_join: {n} Gs in {:?} ({:.0} ns per G), RSS {before} KiB before, {peak} KiB after spawning",
        t.elapsed(),
        t.elapsed().as_nanos() as f64 / n as f64
    );
    // Bounded: well under one stack page per G (Gs that have not run yet
    // own no stack; finished ones return theirs to the pool).
    assert!(peak.saturating_sub(before) < n * 4, "RSS grew {} KiB for {n} Gs", peak - before);
}

/// Row "thread_local! across a yield": Gs really do move between Ms, so a
/// thread-local is per M, not per G (hence the contract signed in
/// `allow_migration`, and `GLocal` for per-G state).
#[test]
fn gs_migrate_between_ms() {
    let r = rt(2);
    let most = r.block_on(|| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                go(|| {
                    let mut seen = HashSet::new();
                    for _ in 0..40 {
                        seen.insert(std::thread::current().id());
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_micros(200) {
                            std::hint::spin_loop();
                        }
                        // Woken by a timer on whichever M runs it, then
                        // runnable on that M's P, where the other M steals.
                        sleep(Duration::from_micros(200));
                        seen.insert(std::thread::current().id());
                        gosched();
                    }
                    seen.len()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).max().unwrap()
    });
    assert!(most >= 2, "no G ran on more than one M");
}

/// gc-core handles are `Send`: a `Gc` created in a G that migrates and is
/// dropped on another M, with collections in between, stays valid.
#[test]
fn gc_handles_survive_migration() {
    let r = rt(2);
    let sum = r.block_on(|| {
        let hs: Vec<_> = (0..8u64)
            .map(|i| {
                go(move || {
                    let g = gc_core::Gc::new(i * 100);
                    let mut total = 0;
                    for _ in 0..50 {
                        gosched();
                        total += *g;
                    }
                    if i == 0 {
                        gc_core::collect();
                    }
                    total
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    assert_eq!(sum, 50 * 100 * 28);
}

/// A G switch inside a gc-core pin panics (the pin belongs to the M's
/// thread) instead of letting the pin span the switch.
#[test]
fn switching_inside_a_pin_panics() {
    let r = rt(1);
    let err = r.block_on(|| go(|| gc_core::pin(|_g| gosched())).join().unwrap_err());
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("inside tricolor_gc::pin"), "{msg}");
}

/// exitsyscall's slow path: on 1 P, while a G is in `blocking` its P is
/// retaken and kept busy by a spinner, so the returning G finds neither its
/// P nor an idle one; it must wait in the global queue (its M stops) and
/// run again, with its value, once the spinner yields at a safepoint.
#[test]
fn exitsyscall_slow_path_requeues_the_g() {
    let r = rt(1);
    let (v, back_after) = r.block_on(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let b = go(move || {
            let v = blocking(|| {
                std::thread::sleep(Duration::from_millis(30));
                41
            });
            (v + 1, Instant::now())
        });
        gosched(); // b enters the syscall
        let t = Instant::now();
        let spinner = go(move || {
            while !s2.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(5) {
                safepoint();
            }
        });
        let (v, back) = b.join().unwrap();
        stop.store(true, Ordering::Relaxed);
        spinner.join().unwrap();
        (v, back.duration_since(t))
    });
    assert_eq!(v, 42);
    assert!(back_after >= Duration::from_millis(25), "{back_after:?}");
    assert!(back_after < Duration::from_secs(2), "the requeued G waited {back_after:?}");
}
