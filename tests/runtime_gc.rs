//! The collector with its mutators and mark workers on a gc-runtime
//! (issue 12): workers really are Gs, a G inside `blocking` through whole
//! cycles, Gs that migrate holding handles and reading `Member`s, a runtime
//! dropped while a cycle marks, two runtimes alive at once. Each test runs
//! in a child process (the collector is process-wide), under the checkmark
//! and clobberfree detectors.

mod child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tricolor_gc::metrics::{self, Sample, Value};
use tricolor_gc::runtime::{blocking, go, gosched, Runtime};
use tricolor_gc::{Gc, GcVec, Member, Trace};

const DETECTORS: (&str, &str) = ("GODEBUG", "gccheckmark=1,clobberfree=1");
const LIMIT: Duration = Duration::from_secs(120);

#[derive(Trace)]
struct Node {
    next: Member<Node>,
    val: u64,
}

fn list(n: u64) -> Gc<Node> {
    let mut head: Option<Gc<Node>> = None;
    for val in 0..n {
        head = Some(Gc::new(Node { next: Member::from_opt(head.as_ref()), val }));
    }
    head.expect("n > 0")
}

fn sum(mut cur: Option<Gc<Node>>) -> u64 {
    let mut s = 0;
    while let Some(n) = cur {
        s += n.val;
        cur = n.next.get();
    }
    s
}

/// The current OS thread, read afresh after a possible switch (the
/// migration contract's accessor pattern: never inlined, behind a compiler
/// fence, so no thread-local address is reused from before a switch).
#[inline(never)]
fn thread_id() -> std::thread::ThreadId {
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    std::thread::current().id()
}

fn runtime(procs: usize) -> Runtime {
    // SAFETY: (the migration contract) these tests hold no thread-local
    // borrow or thread-bound guard across an allocation or a runtime call.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().expect("runtime")
}

fn metric(name: &'static str) -> f64 {
    let mut s = [Sample::new(name)];
    metrics::read(&mut s);
    match s[0].value {
        Value::Float64(v) => v,
        Value::Uint64(v) => v as f64,
        ref v => panic!("{name}: {v:?}"),
    }
}

/// Garbage until `cycles` more cycles completed.
fn churn_until(cycles: u64) {
    let end = tricolor_gc::mem_stats().num_gc + cycles;
    let t0 = Instant::now();
    while tricolor_gc::mem_stats().num_gc < end {
        assert_eq!(sum(Some(list(2000))), 1999 * 2000 / 2);
        assert!(t0.elapsed() < Duration::from_secs(60), "cycles did not complete");
    }
}

#[test]
fn workers_are_gs_idle_marking_happens_only_on_the_runtime() {
    if child::is_child("workers_are_gs_idle_marking_happens_only_on_the_runtime") {
        // Thread mode first: no idle marking exists without a scheduler.
        churn_until(3);
        assert_eq!(metric("/cpu/classes/gc/mark/idle:cpu-seconds"), 0.0, "idle marking without a runtime");
        let rt = runtime(2);
        // A live heap big enough that marking outlasts a fractional turn.
        rt.block_on(|| {
            let keep = list(300_000);
            churn_until(6);
            drop(keep);
        });
        // One mutator G on two Ps: the other P marks as an idle worker G.
        assert!(metric("/cpu/classes/gc/mark/idle:cpu-seconds") > 0.0, "no idle worker G ran");
        return;
    }
    child::run("workers_are_gs_idle_marking_happens_only_on_the_runtime", &[DETECTORS], LIMIT);
}

#[test]
fn a_g_in_blocking_through_whole_cycles_keeps_its_handles() {
    if child::is_child("a_g_in_blocking_through_whole_cycles_keeps_its_handles") {
        let rt = runtime(2);
        rt.block_on(|| {
            let done = Arc::new(AtomicBool::new(false));
            let d2 = done.clone();
            let held = go(move || {
                let l = list(5000);
                let n0 = tricolor_gc::mem_stats().num_gc;
                // In a syscall for as long as three cycles take.
                blocking(|| {
                    while !d2.load(Ordering::Acquire) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                assert!(tricolor_gc::mem_stats().num_gc >= n0 + 3);
                sum(Some(l))
            });
            for _ in 0..3 {
                churn_until(1);
                tricolor_gc::collect();
            }
            done.store(true, Ordering::Release);
            assert_eq!(held.join().unwrap(), 4999 * 5000 / 2);
        });
        return;
    }
    child::run("a_g_in_blocking_through_whole_cycles_keeps_its_handles", &[DETECTORS], LIMIT);
}

#[test]
fn gs_migrate_holding_handles_and_reading_members() {
    if child::is_child("gs_migrate_holding_handles_and_reading_members") {
        let migrations = Arc::new(AtomicUsize::new(0));
        let rt = runtime(2);
        let m2 = migrations.clone();
        rt.block_on(move || {
            let hs: Vec<_> = (0..4u64)
                .map(|g| {
                    let m = m2.clone();
                    go(move || {
                        let keep = list(500 + g);
                        let mut last = thread_id();
                        for i in 0..400u64 {
                            // Handles made here are dropped after switches,
                            // often on another M.
                            let mut cur = keep.next.get();
                            let mut steps = 0;
                            while let Some(n) = cur {
                                steps += 1;
                                if steps % 64 == 0 {
                                    gosched();
                                }
                                cur = n.next.get();
                            }
                            let _garbage = list(2000 + i % 7);
                            let now = thread_id();
                            if now != last {
                                m.fetch_add(1, Ordering::Relaxed);
                                last = now;
                            }
                        }
                        sum(Some(keep))
                    })
                })
                .collect();
            for (g, h) in hs.into_iter().enumerate() {
                let n = 500 + g as u64;
                assert_eq!(h.join().unwrap(), (n - 1) * n / 2);
            }
        });
        assert!(migrations.load(Ordering::Relaxed) > 0, "no G migrated: the test tested nothing");
        assert!(tricolor_gc::mem_stats().num_gc >= 2, "no cycle ran beside the Gs");
        return;
    }
    child::run("gs_migrate_holding_handles_and_reading_members", &[DETECTORS, ("GOGC", "20")], LIMIT);
}

#[test]
fn a_runtime_dropped_while_its_workers_mark_hands_the_cycle_back() {
    if child::is_child("a_runtime_dropped_while_its_workers_mark_hands_the_cycle_back") {
        let keep = list(200_000);
        for _ in 0..20 {
            let rt = runtime(2);
            // Start a cycle on the runtime's workers, then drop the runtime
            // while it marks (the G returns as soon as marking started).
            rt.block_on(|| {
                let _l = list(20_000);
                let n0 = tricolor_gc::mem_stats().num_gc;
                std::thread::spawn(tricolor_gc::collect);
                let t0 = Instant::now();
                while tricolor_gc::mem_stats().num_gc == n0 && t0.elapsed() < Duration::from_millis(2) {
                    gosched();
                }
            });
            drop(rt);
            // Plain thread: must finish on gc-core's own threads.
            tricolor_gc::collect();
        }
        assert_eq!(sum(Some(keep)), 199_999 * 200_000 / 2);
        return;
    }
    child::run("a_runtime_dropped_while_its_workers_mark_hands_the_cycle_back", &[DETECTORS], LIMIT);
}

#[test]
fn two_runtimes_share_one_heap() {
    if child::is_child("two_runtimes_share_one_heap") {
        let (a, b) = (runtime(2), runtime(1));
        let shared = list(1000);
        let (s1, s2) = (shared.clone(), shared.clone());
        let t = std::thread::spawn(move || {
            b.block_on(move || (0..30).map(|_| sum(Some(s2.clone())) + sum(Some(list(300)))).sum::<u64>())
        });
        let x = a.block_on(move || {
            churn_until(3);
            tricolor_gc::collect();
            sum(Some(s1))
        });
        drop(a); // the host goes first; cycles continue without it
        assert_eq!(x, 999 * 1000 / 2);
        let y = t.join().unwrap();
        assert_eq!(y, 30 * (999 * 1000 / 2 + 299 * 300 / 2));
        tricolor_gc::collect();
        return;
    }
    child::run("two_runtimes_share_one_heap", &[DETECTORS], LIMIT);
}

/// R19: a G switch inside `GcVec::retain`'s closure (which runs under the
/// vector's lock) panics naming `retain`, before anything parks; the
/// vector stays usable.
#[test]
fn a_g_switch_inside_retain_is_refused() {
    let rt = runtime(1);
    rt.block_on(|| {
        let v: GcVec<Node> = GcVec::new();
        v.push(&list(3));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.retain(|_| {
                gosched();
                true
            })
        }));
        let msg = match r {
            Ok(()) => panic!("the switch inside retain was allowed"),
            Err(p) => p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        };
        assert!(msg.contains("GcVec::retain"), "{msg}");
        v.push(&list(2));
        assert_eq!(v.len(), 2);
        v.retain(|n| n.val == 1);
        assert_eq!(v.len(), 1);
    });
}

/// The process's OS threads now (`Threads:` of /proc/self/status).
fn os_threads() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = s.lines().find(|l| l.starts_with("Threads:")).expect("a Threads line");
    line["Threads:".len()..].trim().parse().expect("a thread count")
}

/// Row R25: a G waiting in `collect()` parks (Go's `gcWaitOnMark`) instead
/// of blocking its OS thread: 200 Gs calling `collect()` at once on 2 Ps
/// start a handful of threads, not one each (before the fix: one each, as
/// every wait was an `entersyscallblock`). And a lone G parked in
/// `collect()` on 1 P is not a deadlock.
#[test]
fn many_gs_in_collect_park_instead_of_holding_threads() {
    if child::is_child("many_gs_in_collect_park_instead_of_holding_threads") {
        {
            let rt = runtime(1);
            let keep = list(50_000);
            rt.block_on(|| {
                for _ in 0..5 {
                    tricolor_gc::collect();
                }
            });
            assert_eq!(sum(Some(keep)), 49_999 * 50_000 / 2);
        }
        let rt = runtime(2);
        // Warm up: the runtime's Ms, sysmon and the collector's threads.
        rt.block_on(|| {
            let hs: Vec<_> = (0..4).map(|_| go(tricolor_gc::collect)).collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
        let base = os_threads();
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicUsize::new(base));
        let sampler = {
            let (done, peak) = (done.clone(), peak.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Acquire) {
                    peak.fetch_max(os_threads(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_micros(500));
                }
            })
        };
        const GS: u64 = 200;
        let total = rt.block_on(|| {
            let keep = list(20_000);
            let hs: Vec<_> = (0..GS)
                .map(|i| {
                    go(move || {
                        tricolor_gc::collect();
                        i
                    })
                })
                .collect();
            let total: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(sum(Some(keep)), 19_999 * 20_000 / 2);
            total
        });
        done.store(true, Ordering::Release);
        sampler.join().unwrap();
        assert_eq!(total, GS * (GS - 1) / 2);
        let grew = peak.load(Ordering::Relaxed) - base;
        eprintln!("{GS} Gs in collect(): {base} threads before, peak {} (+{grew})", base + grew);
        // The sampler itself is one; the rest would be Ms started while Gs
        // block (R25 had one per G).
        assert!(grew <= 16, "{GS} Gs waiting in collect() started {grew} OS threads");
        return;
    }
    let err = child::run("many_gs_in_collect_park_instead_of_holding_threads", &[DETECTORS], LIMIT);
    if let Some(l) = err.lines().find(|l| l.contains("Gs in collect()")) {
        eprintln!("{l}");
    }
}

/// Row R21, the `GcVec` case: a plain thread holds a vector's writer lock
/// (inside `retain`'s closure) and calls `collect()`, whose marking runs
/// on the runtime's only P, while a G wants the same lock. The G parks on
/// the lock instead of blocking its M with the P (which would leave the
/// mark workers no P, and `collect()` would never return), then writes.
#[test]
fn a_g_waiting_for_a_gcvec_lock_held_across_collect_parks() {
    if child::is_child("a_g_waiting_for_a_gcvec_lock_held_across_collect_parks") {
        let rt = runtime(1);
        let v: Arc<GcVec<Node>> = Arc::new(GcVec::new());
        for i in 0..4 {
            v.push(&Gc::new(Node { next: Member::null(), val: i }));
        }
        let keep = list(50_000);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let v2 = v.clone();
        let holder = std::thread::spawn(move || {
            let mut first = true;
            v2.retain(|n| {
                if first {
                    first = false;
                    tx.send(()).unwrap();
                    // Let the G reach the lock, then collect while holding it.
                    std::thread::sleep(Duration::from_millis(50));
                    tricolor_gc::collect();
                }
                n.val != 0
            });
        });
        let v3 = v.clone();
        rt.block_on(move || {
            blocking(|| rx.recv().unwrap());
            let w = go(move || {
                v3.push(&Gc::new(Node { next: Member::null(), val: 9 }));
                v3.len()
            });
            assert_eq!(w.join().unwrap(), 4, "three kept by retain, then the push");
        });
        holder.join().unwrap();
        let vals: Vec<u64> = v.iter().map(|n| n.val).collect();
        assert_eq!(vals, [1, 2, 3, 9]);
        assert_eq!(sum(Some(keep)), 49_999 * 50_000 / 2);
        return;
    }
    child::run("a_g_waiting_for_a_gcvec_lock_held_across_collect_parks", &[DETECTORS], LIMIT);
}
