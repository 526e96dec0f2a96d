//! Pointer-model row R14: a G that parks, yields or leaves a syscall while
//! it unwinds (`std::thread::panicking()`) stays on its OS thread. std keeps
//! the panic count, and the "inside the panic hook" flag, per thread; a G
//! that resumed on another M took its panic along the wrong way: Gs that
//! never panicked saw `panicking() == true`, `std::sync::Mutex` poisoned
//! without a panic or missed a poison, and a later panic on the old M
//! aborted the process ("panicked while processing panic").
//!
//! Every scenario runs in a child process (this test binary re-executed
//! with `GC_RUNTIME_UNWIND_CHILD` naming it), so that an abort or a hang
//! fails only its own test, and a process-wide panic hook stays in its
//! child. The child prints `child ok` at the end.
//!
//! * `drop_sends_during_unwind_on_1_p` / `_on_2_ps`: Drops that do an
//!   unbuffered send during a panic, beside Gs that lock a std `Mutex` and
//!   check `panicking()`;
//! * `panic_hook_that_parks`: a hook that sleeps and yields on Gs, while
//!   many Gs panic;
//! * `many_unwinding_parkers_beside_busy_gs`: hundreds of unwinding Gs that
//!   send, yield, sleep and call `blocking` in their Drops, while CPU-bound
//!   Gs keep every P busy (the waiting Ms must still get a P);
//! * `deadlock_reported_while_an_unwinding_g_waits_for_ever`: a Drop that
//!   sends to nobody; the deadlock detector still fires.

use gc_runtime::chan::{channel, Sender};
use gc_runtime::{blocking, go, gosched, sleep, Runtime};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::atomic::{compiler_fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

const CHILD: &str = "GC_RUNTIME_UNWIND_CHILD";

/// The panics the scenarios raise on purpose.
const EXPECTED: [&str; 4] = ["unwinding G ", "hook test ", "again ", "stuck"];

fn rt(procs: usize) -> Runtime {
    // SAFETY: these Gs hold nothing thread-bound across a switch, and read
    // std's thread-locals only through the fenced accessors below (std's
    // panic machinery and `Mutex` poisoning read theirs in std's own
    // out-of-line functions; R14 keeps an unwinding G on its thread).
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().expect("runtime")
}

/// `thread::current().id()` through a fenced accessor (the migration
/// contract: `thread::current` reads a thread-local).
#[inline(never)]
fn thread_id() -> ThreadId {
    compiler_fence(Ordering::SeqCst);
    thread::current().id()
}

/// `thread::panicking()` through a fenced accessor.
#[inline(never)]
fn panicking() -> bool {
    compiler_fence(Ordering::SeqCst);
    thread::panicking()
}

/// True on a gc-runtime M (by its thread name), through a fenced accessor.
#[inline(never)]
fn on_an_m() -> bool {
    compiler_fence(Ordering::SeqCst);
    thread::current().name().is_some_and(|n| n.starts_with("gc-runtime-m"))
}

/// Runs the scenario `name` in a child process, or (in the child) runs it.
fn in_child(name: &str, scenario: impl FnOnce()) {
    if std::env::var(CHILD).is_ok_and(|v| v == name) {
        // Quiet the panics made on purpose (thousands); report the others.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p.downcast_ref::<String>().map(String::as_str).or(p.downcast_ref::<&str>().copied());
            if !msg.is_some_and(|m| EXPECTED.iter().any(|e| m.starts_with(e))) {
                default(info);
            }
        }));
        scenario();
        eprintln!("child ok");
        return;
    }
    let t = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A hang is a failure too: give the child 60 s.
    let limit = Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match status {
        None => panic!("{name}: child hung for {limit:?}; stderr:\n{stderr}"),
        Some(st) => {
            assert!(st.success() && stderr.contains("child ok"), "{name}: child failed ({st}); stderr:\n{stderr}")
        }
    }
}

/// What the Gs of a scenario saw go wrong.
#[derive(Default)]
struct Faults {
    /// A G that never panicked saw `panicking() == true`.
    observer_saw_panicking: AtomicUsize,
    /// An unwinding G ran on another OS thread after a park, yield or
    /// syscall than before it.
    moved: AtomicUsize,
    /// An unwinding G no longer saw `panicking()` after a park.
    lost_panicking: AtomicUsize,
    /// A std `Mutex` held by a G that panicked was not poisoned.
    not_poisoned: AtomicUsize,
}

impl Faults {
    fn check(&self) {
        let o = self.observer_saw_panicking.load(Ordering::SeqCst);
        let m = self.moved.load(Ordering::SeqCst);
        let l = self.lost_panicking.load(Ordering::SeqCst);
        let p = self.not_poisoned.load(Ordering::SeqCst);
        assert_eq!(
            (o, m, l, p),
            (0, 0, 0, 0),
            "observers saw panicking(): {o}; unwinding Gs moved: {m}; lost panicking(): {l}; mutexes held across a \
             panic not poisoned: {p}"
        );
    }
}

/// Gs that never panic: lock the shared std `Mutex`, check `panicking()`,
/// count, unlock, yield; until `stop`.
fn spawn_observers(
    n: usize,
    shared: &Arc<Mutex<u64>>,
    stop: &Arc<AtomicBool>,
    f: &Arc<Faults>,
) -> Vec<gc_runtime::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let (shared, stop, f) = (shared.clone(), stop.clone(), f.clone());
            go(move || {
                while !stop.load(Ordering::SeqCst) {
                    {
                        let mut g = shared.lock().unwrap_or_else(PoisonError::into_inner);
                        if panicking() {
                            f.observer_saw_panicking.fetch_add(1, Ordering::SeqCst);
                        }
                        *g += 1;
                    }
                    gosched();
                }
            })
        })
        .collect()
}

/// Runs `step` during an unwind and records whether the G stayed on its
/// thread and still sees itself panicking.
fn during_unwind(f: &Faults, step: impl FnOnce()) {
    let before: ThreadId = thread_id();
    step();
    if thread_id() != before {
        f.moved.fetch_add(1, Ordering::SeqCst);
    }
    if !panicking() {
        f.lost_panicking.fetch_add(1, Ordering::SeqCst);
    }
}

/// Dropped during the unwind: sends on an unbuffered channel (parks until
/// the receiver comes), then optionally yields, sleeps and blocks.
struct SendOnDrop {
    tx: Option<Sender<u64>>,
    value: u64,
    extra: bool,
    faults: Arc<Faults>,
}

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        assert!(panicking(), "SendOnDrop is dropped by the unwind");
        let f = self.faults.clone();
        let tx = self.tx.take().expect("sender");
        during_unwind(&f, || tx.send(self.value));
        if self.extra {
            during_unwind(&f, gosched);
            during_unwind(&f, || sleep(Duration::from_micros(20)));
            during_unwind(&f, || blocking(|| thread::sleep(Duration::from_micros(20))));
            during_unwind(&f, gc_runtime::safepoint);
        }
    }
}

/// Spawns `n` Gs that each lock their own std `Mutex`, then panic while a
/// `SendOnDrop` is live: the send parks during the unwind, and the guard,
/// dropped after it, must poison the mutex (the unwind is still on).
fn spawn_unwinders(
    n: u64,
    tx: &Sender<u64>,
    extra: bool,
    f: &Arc<Faults>,
) -> Vec<(Arc<Mutex<()>>, gc_runtime::JoinHandle<()>)> {
    (0..n)
        .map(|i| {
            let held = Arc::new(Mutex::new(()));
            let (h2, tx, f) = (held.clone(), tx.clone(), f.clone());
            let j = go(move || {
                let _guard = h2.lock().unwrap();
                let _d = SendOnDrop { tx: Some(tx), value: i, extra, faults: f };
                panic!("unwinding G {i}");
            });
            (held, j)
        })
        .collect()
}

/// Joins the unwinders: each ended in its own panic, and each one's mutex
/// must be poisoned, as it would be on a plain thread (counted in `f`).
fn join_unwinders(hs: Vec<(Arc<Mutex<()>>, gc_runtime::JoinHandle<()>)>, f: &Faults) {
    for (i, (held, j)) in hs.into_iter().enumerate() {
        let p = j.join().expect_err("the G panicked");
        assert_eq!(p.downcast_ref::<String>().map(String::as_str), Some(format!("unwinding G {i}").as_str()));
        if !held.is_poisoned() {
            f.not_poisoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A panic and catch on a fresh G after the scenario: the counts are
/// balanced (a G that moved left -1 on one M and +1 on another, and a later
/// panic on such an M aborted or was not caught).
fn panic_again_on_every_m(procs: usize) {
    let hs: Vec<_> = (0..4 * procs)
        .map(|i| {
            go(move || {
                assert!(!panicking());
                let r = catch_unwind(AssertUnwindSafe(|| panic!("again {i}")));
                assert!(r.is_err());
                assert!(!panicking());
                gosched();
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

fn drop_sends_during_unwind(procs: usize) {
    let r = rt(procs);
    r.block_on(move || {
        let f = Arc::new(Faults::default());
        let shared = Arc::new(Mutex::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let observers = spawn_observers(4, &shared, &stop, &f);
        let (tx, rx) = channel::<u64>(0);
        let n = 64;
        let unwinders = spawn_unwinders(n, &tx, false, &f);
        drop(tx);
        // The receiver comes late, so every send parks first.
        let receiver = go(move || {
            let mut sum = 0;
            for k in 0..n {
                for _ in 0..(k % 5) {
                    gosched();
                }
                sleep(Duration::from_micros(50));
                sum += rx.recv().expect("a value");
            }
            sum
        });
        assert_eq!(receiver.join().unwrap(), n * (n - 1) / 2);
        join_unwinders(unwinders, &f);
        stop.store(true, Ordering::SeqCst);
        for o in observers {
            o.join().expect("an observer panicked");
        }
        f.check();
        assert!(!shared.is_poisoned(), "a mutex no G panicked with is poisoned");
        assert!(!panicking());
        panic_again_on_every_m(procs);
    });
}

#[test]
fn drop_sends_during_unwind_on_1_p() {
    in_child("drop_sends_during_unwind_on_1_p", || drop_sends_during_unwind(1));
}

#[test]
fn drop_sends_during_unwind_on_2_ps() {
    in_child("drop_sends_during_unwind_on_2_ps", || drop_sends_during_unwind(2));
}

/// A panic hook that parks (a sleep on the P's timers, a yield) on Gs,
/// while 64 Gs panic 8 times each on 2 Ps. The hook runs with std's
/// per-thread "in the panic hook" flag set: on the old code a second G
/// panicking on the hook's M aborted the process.
#[test]
fn panic_hook_that_parks() {
    in_child("panic_hook_that_parks", || {
        static HOOK_PARKS: AtomicUsize = AtomicUsize::new(0);
        std::panic::set_hook(Box::new(|_| {
            if on_an_m() {
                HOOK_PARKS.fetch_add(1, Ordering::Relaxed);
                sleep(Duration::from_micros(30));
                gosched();
            }
        }));
        let r = rt(2);
        r.block_on(|| {
            let f = Arc::new(Faults::default());
            let shared = Arc::new(Mutex::new(0u64));
            let stop = Arc::new(AtomicBool::new(false));
            let observers = spawn_observers(4, &shared, &stop, &f);
            let hs: Vec<_> = (0..64)
                .map(|i| {
                    let f = f.clone();
                    go(move || {
                        for k in 0..8 {
                            let before = thread_id();
                            let r = catch_unwind(AssertUnwindSafe(|| panic!("hook test {i}.{k}")));
                            assert!(r.is_err());
                            if thread_id() != before {
                                f.moved.fetch_add(1, Ordering::SeqCst);
                            }
                            assert!(!panicking());
                            gosched();
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().expect("a panicking G was not caught");
            }
            stop.store(true, Ordering::SeqCst);
            for o in observers {
                o.join().expect("an observer panicked");
            }
            f.check();
            assert!(!shared.is_poisoned(), "a mutex no G panicked with is poisoned");
        });
        assert_eq!(HOOK_PARKS.load(Ordering::Relaxed), 64 * 8);
    });
}

/// 300 unwinding Gs whose Drops send, yield, sleep, call `blocking` and
/// reach a safepoint, while 4 CPU-bound Gs keep both Ps busy (they only
/// yield): the unwinding Gs wait for a P on their own M, and get one. No
/// abort, no hang, no G moved, every mutex poisoned.
#[test]
fn many_unwinding_parkers_beside_busy_gs() {
    in_child("many_unwinding_parkers_beside_busy_gs", || {
        let r = rt(2);
        r.block_on(|| {
            let f = Arc::new(Faults::default());
            let shared = Arc::new(Mutex::new(0u64));
            let stop = Arc::new(AtomicBool::new(false));
            let observers = spawn_observers(4, &shared, &stop, &f);
            let spinners: Vec<_> = (0..4)
                .map(|_| {
                    let stop = stop.clone();
                    go(move || {
                        let mut x = 0u64;
                        while !stop.load(Ordering::SeqCst) {
                            for _ in 0..10_000 {
                                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                            }
                            gosched();
                        }
                        x
                    })
                })
                .collect();
            let (tx, rx) = channel::<u64>(0);
            let n = 300;
            let unwinders = spawn_unwinders(n, &tx, true, &f);
            let receivers: Vec<_> = (0..3)
                .map(|_| {
                    let rx = rx.clone();
                    go(move || {
                        let mut got = 0;
                        while let Some(v) = rx.recv() {
                            got += v;
                            if v % 7 == 0 {
                                sleep(Duration::from_micros(10));
                            }
                        }
                        got
                    })
                })
                .collect();
            drop(rx);
            join_unwinders(unwinders, &f);
            tx.close(); // every value was sent: let the receivers end
            let total: u64 = receivers.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(total, n * (n - 1) / 2);
            stop.store(true, Ordering::SeqCst);
            for s in spinners {
                s.join().unwrap();
            }
            for o in observers {
                o.join().expect("an observer panicked");
            }
            f.check();
            assert!(!shared.is_poisoned(), "a mutex no G panicked with is poisoned");
            panic_again_on_every_m(2);
        });
    });
}

/// An unwinding G whose Drop sends on a channel nobody will ever receive
/// from: every other G finishes or waits, so the runtime is deadlocked and
/// `block_on` must say so (Go: "all goroutines are asleep"), on 1 and on 2
/// Ps. While the G waits, its M runs nothing else: the observers that run
/// meanwhile must not see `panicking()`. (The waiting G's M stays blocked
/// after the report, an abandoned G; this is why it is a child process.)
#[test]
fn deadlock_reported_while_an_unwinding_g_waits_for_ever() {
    in_child("deadlock_reported_while_an_unwinding_g_waits_for_ever", || {
        for procs in [1, 2] {
            let f = Arc::new(Faults::default());
            let f2 = f.clone();
            let r = rt(procs);
            let err = catch_unwind(AssertUnwindSafe(|| {
                r.block_on(move || {
                    let (tx, rx) = channel::<u64>(0);
                    let f3 = f2.clone();
                    let stuck = go(move || {
                        let _d = SendOnDrop { tx: Some(tx), value: 1, extra: false, faults: f3 };
                        panic!("stuck");
                    });
                    // Observers that run while `stuck` waits, then end.
                    let hs: Vec<_> = (0..4)
                        .map(|_| {
                            let f = f2.clone();
                            go(move || {
                                for _ in 0..2_000 {
                                    if panicking() {
                                        f.observer_saw_panicking.fetch_add(1, Ordering::SeqCst);
                                    }
                                    gosched();
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.join().unwrap();
                    }
                    let _keep = rx; // the receiver lives, but nobody receives
                    let _ = stuck.join();
                    unreachable!("the stuck G never finishes");
                })
            }))
            .expect_err("block_on must report the deadlock");
            let msg = err.downcast_ref::<&str>().copied().or(err.downcast_ref::<String>().map(String::as_str));
            assert_eq!(msg, Some("all goroutines are asleep - deadlock!"), "procs={procs}");
            f.check();
            // The stuck G's M stays blocked: leak the runtime's Arc instead
            // of waiting for anything.
            drop(r);
        }
    });
}
