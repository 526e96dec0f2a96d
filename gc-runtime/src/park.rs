//! Park/ready: the contract between the scheduler and the blocking
//! primitives (Go: `gopark`/`goready`), plus one-shot timers
//! (Go: `addtimer`/`deltimer`). See /work/prompts/park_contract.md.
//!
//! Two backends behind one API:
//!
//! * **Inside a runtime** (the caller is a running G): [`park`] is Go's
//!   `gopark`. The G switches to its M's g0, and only then does g0 call
//!   `commit` with the [`Unparker`] (Go's `park_m` calling `unlockf`). The
//!   closure is moved off the G's stack onto g0's stack before it runs, so
//!   a concurrent `unpark` that resumes the G on another M at once never
//!   races with g0 reading the G's stack. [`Unparker::unpark`] is `goready`:
//!   the G goes to the current P's `runnext` (when called on an M of the
//!   same runtime), else to the global queue, then `wakep`.
//! * **A G that is unwinding** (`std::thread::panicking()`, say a `Drop`
//!   that sends on a channel during a panic, or a panic hook that parks)
//!   must not change OS thread: std's panic count is per thread (row R14).
//!   [`park`] runs `commit` on the G's own stack and then blocks the M,
//!   which hands its P to others first; the Unparker wakes that M, which
//!   takes a P again on its own thread (`proc::park_keeping_m`).
//! * **Outside a runtime** (a plain thread, or a G inside `blocking`, which
//!   owns its OS thread then): [`park`] parks the OS thread on a flag:
//!   `commit` runs first, then the thread waits until the flag is set;
//!   `thread::park`'s token absorbs an `unpark` that comes before the wait.
//!
//! Invariants: `commit` is called exactly once per `park`; it must not
//! block, park or panic (a panic there aborts the process, as a throw on
//! g0 would in Go); if it returns false the park is cancelled, the Unparker
//! it got was dropped unused, and `park` returns at once. An `Unparker`
//! wakes its waiter at most once (`unpark` consumes it); dropping one
//! without calling it leaves the waiter parked, which the deadlock check
//! reports when nothing else can run.

use crate::proc::{self, GRef, KeptM, Sched};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::Thread;

pub(crate) use crate::timer::TimerHandle;

/// Why a G waits (Go's waitReason); shown by scheddetail and the deadlock report.
// Part of the park contract: chan's primitives construct the variants
// this crate does not (until its branch is merged they look unused).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitReason {
    ChanSend,
    ChanRecv,
    Select,
    SelectNoCases,
    Sleep,
    WaitGroup,
    Mutex,
    Join,
    GcWorker,
    GcCycle,
    GcVecLock,
}

impl WaitReason {
    /// Every reason, in discriminant order.
    pub(crate) const ALL: [WaitReason; 11] = [
        WaitReason::ChanSend,
        WaitReason::ChanRecv,
        WaitReason::Select,
        WaitReason::SelectNoCases,
        WaitReason::Sleep,
        WaitReason::WaitGroup,
        WaitReason::Mutex,
        WaitReason::Join,
        WaitReason::GcWorker,
        WaitReason::GcCycle,
        WaitReason::GcVecLock,
    ];

    /// Go's `waitReasonStrings` text.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WaitReason::ChanSend => "chan send",
            WaitReason::ChanRecv => "chan receive",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::Sleep => "sleep",
            WaitReason::WaitGroup => "sync.WaitGroup.Wait",
            WaitReason::Mutex => "sync.Mutex.Lock",
            WaitReason::Join => "JoinHandle.join",
            WaitReason::GcWorker => "GC worker (idle)",
            WaitReason::GcCycle => "wait for GC cycle",
            WaitReason::GcVecLock => "GcVec writer lock",
        }
    }
}

/// An OS thread parked outside any runtime.
struct ThreadWaiter {
    woken: AtomicBool,
    thread: Thread,
}

enum Target {
    G(GRef),
    Thread(Arc<ThreadWaiter>),
    /// A G that parked while unwinding: it stays on its M, which blocks
    /// (R14; `proc::park_keeping_m`).
    KeptM(Arc<KeptM>, Arc<Sched>),
}

/// A handle that makes one parked waiter runnable again (Go: the *g handed to goready).
/// Send + 'static. Calling `unpark` more than once per park, or on a waiter that
/// did not park, is a bug the implementation may debug_assert; dropping it without
/// calling unpark leaves the waiter parked (a deadlock the detector reports).
pub(crate) struct Unparker {
    target: Target,
}

// SAFETY: the G pointer is an owning handle to a parked G (see proc.rs's
// invariants); moving it to another thread moves that ownership, and
// `ready` may run on any thread.
unsafe impl Send for Unparker {}

impl std::fmt::Debug for Unparker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            // SAFETY: the G is parked and owned by this Unparker; its id is immutable.
            Target::G(g) => write!(f, "Unparker(G{})", unsafe { g.as_ref() }.id),
            Target::Thread(w) => write!(f, "Unparker({:?})", w.thread.id()),
            Target::KeptM(..) => write!(f, "Unparker(unwinding G)"),
        }
    }
}

impl Unparker {
    pub(crate) fn for_g(g: GRef) -> Unparker {
        Unparker { target: Target::G(g) }
    }

    /// The parked G itself, for a caller that runs it directly instead of
    /// queueing it (the GC worker pool); `None` for a thread waiter.
    pub(crate) fn into_g(self) -> Option<GRef> {
        match self.target {
            Target::G(g) => Some(g),
            Target::Thread(_) | Target::KeptM(..) => None,
        }
    }

    /// Makes the waiter runnable (Go: `goready`).
    pub(crate) fn unpark(self) {
        match self.target {
            Target::G(g) => proc::ready(g),
            Target::Thread(w) => {
                w.woken.store(true, Ordering::Release);
                w.thread.unpark();
            }
            Target::KeptM(w, s) => w.ready(&s),
        }
    }
}

/// Moves the commit closure at `src` onto this (g0's) stack and runs it.
///
/// # Safety
/// `src` points to a live `F` that nobody else reads or drops.
unsafe fn trampoline<F: FnOnce(Unparker) -> bool>(src: *mut u8, u: Unparker) -> bool {
    // SAFETY: caller's contract; the G keeps its copy in a ManuallyDrop.
    let f = unsafe { std::ptr::read(src.cast::<F>()) };
    f(u)
}

/// Parks the current G (inside a runtime) or the current OS thread (outside one).
/// `commit` is called exactly once, *after* the G has stopped running on its stack
/// (on g0, Go's park_m calling unlockf), with the Unparker for this park; typically it
/// pushes the Unparker on a wait queue and releases the primitive's lock. If `commit`
/// returns false the park is cancelled and the caller resumes at once (the Unparker
/// was dropped unused). `commit` must not block, must not park, must not panic.
/// Returns when somebody called `unpark` (or commit returned false).
pub(crate) fn park(reason: WaitReason, commit: impl FnOnce(Unparker) -> bool) {
    park_impl(reason, commit);
}

fn park_impl<F: FnOnce(Unparker) -> bool>(reason: WaitReason, commit: F) {
    if let Some((m, g)) = proc::current_running_g() {
        proc::assert_not_pinned();
        if std::thread::panicking() {
            // Unwinding: the G must stay on this OS thread (R14). The commit
            // runs here, on the G's stack, which no other M can resume.
            let w = KeptM::new();
            if commit(Unparker { target: Target::KeptM(w.clone(), m.sched.clone()) }) {
                proc::park_keeping_m(m, g, reason, &w);
            }
            return;
        }
        let mut slot = std::mem::ManuallyDrop::new(commit);
        let src: *mut F = &mut *slot;
        // SAFETY: g is the running G of this thread; `slot` lives on its
        // stack until it resumes and is read exactly once by the trampoline
        // (hence ManuallyDrop: we never drop our copy).
        unsafe { proc::gopark(g, reason, trampoline::<F>, src.cast()) };
        return;
    }
    let w = Arc::new(ThreadWaiter { woken: AtomicBool::new(false), thread: std::thread::current() });
    if !commit(Unparker { target: Target::Thread(w.clone()) }) {
        return;
    }
    while !w.woken.load(Ordering::Acquire) {
        std::thread::park();
    }
}

/// One-shot timer on the current P's timer heap (outside a runtime: a process-wide
/// timer thread). `f` runs on a scheduler thread, must not block or park; it
/// typically calls `Unparker::unpark` or a non-blocking channel send.
pub(crate) fn add_timer(when: std::time::Instant, f: Box<dyn FnOnce() + Send>) -> TimerHandle {
    if let Some(m) = proc::current_m() {
        let (p, has_p) = match (m.p.get(), m.oldp.get()) {
            (Some(p), _) => (p, true),
            (None, Some(p)) => (p, false),
            (None, None) => (0, false),
        };
        let s = &m.sched;
        let h = s.procs[p].timers.add(when, f, &s.ntimers);
        s.timer_added(when, has_p);
        return h;
    }
    crate::timer::add_outside(when, f)
}

#[cfg(test)]
mod tests {
    //! The park/ready contract driven directly (crate-internal API): a
    //! WaitGroup-like primitive, cancelled parks, wake-ups from plain
    //! threads, the deadlock report, and 10⁵ parked Gs.
    use super::*;
    use crate::{go, Runtime};
    use parking_lot::Mutex;
    use std::time::{Duration, Instant};

    fn rt(procs: usize) -> Runtime {
        // SAFETY: these tests hold nothing thread-bound across runtime calls.
        unsafe { Runtime::builder().procs(procs).allow_migration() }.build().unwrap()
    }

    /// A WaitGroup built on park/ready: `wait` parks until the count is 0.
    struct Group {
        state: Mutex<(usize, Vec<Unparker>)>,
    }

    impl Group {
        fn new(n: usize) -> Arc<Group> {
            Arc::new(Group { state: Mutex::new((n, Vec::new())) })
        }

        fn done(&self) {
            let waiters = {
                let mut st = self.state.lock();
                st.0 -= 1;
                if st.0 == 0 {
                    std::mem::take(&mut st.1)
                } else {
                    Vec::new()
                }
            };
            for u in waiters {
                u.unpark();
            }
        }

        fn wait(&self) {
            let st = self.state.lock();
            if st.0 == 0 {
                return;
            }
            let mut st = st;
            park(WaitReason::WaitGroup, move |u| {
                st.1.push(u);
                drop(st);
                true
            });
        }
    }

    #[test]
    fn waitgroup_on_park_ready() {
        let r = rt(2);
        let n = r.block_on(|| {
            let start = Group::new(1);
            let finished = Group::new(100);
            let count = Arc::new(AtomicUsize::new(0));
            for _ in 0..100 {
                let (s, f, c) = (start.clone(), finished.clone(), count.clone());
                drop(go(move || {
                    s.wait();
                    c.fetch_add(1, Ordering::SeqCst);
                    f.done();
                }));
            }
            start.done();
            finished.wait();
            count.load(Ordering::SeqCst)
        });
        assert_eq!(n, 100);
    }

    use std::sync::atomic::AtomicUsize;

    #[test]
    fn cancelled_park_resumes_at_once() {
        let r = rt(1);
        let ran = r.block_on(|| {
            let mut ran = false;
            park(WaitReason::Select, |_u| {
                ran = true;
                false
            });
            ran
        });
        assert!(ran);
        // Outside a runtime too.
        let mut ran = false;
        park(WaitReason::Select, |_u| {
            ran = true;
            false
        });
        assert!(ran);
    }

    #[test]
    fn unpark_from_a_plain_thread_and_thread_backend() {
        let r = rt(2);
        let v = r.block_on(|| {
            let slot: Arc<Mutex<Option<Unparker>>> = Arc::new(Mutex::new(None));
            let s2 = slot.clone();
            // The waker is a G inside `blocking`: it owns its OS thread, and
            // it counts as in a syscall, so the deadlock check stays quiet.
            // (A waker on a thread outside the runtime is invisible to that
            // check, as in Go, which has no such threads.)
            let t = go(move || {
                crate::blocking(move || loop {
                    if let Some(u) = s2.lock().take() {
                        u.unpark();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                })
            });
            park(WaitReason::ChanRecv, |u| {
                *slot.lock() = Some(u);
                true
            });
            t.join().unwrap();
            // And from a plain thread, while the main G waits on a timer.
            let slot2: Arc<Mutex<Option<Unparker>>> = Arc::new(Mutex::new(None));
            let s3 = slot2.clone();
            let th = std::thread::spawn(move || loop {
                if let Some(u) = s3.lock().take() {
                    u.unpark();
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            });
            let _keepalive = add_timer(Instant::now() + Duration::from_secs(60), Box::new(|| ()));
            park(WaitReason::ChanRecv, |u| {
                *slot2.lock() = Some(u);
                true
            });
            th.join().unwrap();
            5
        });
        assert_eq!(v, 5);
        // The OS-thread backend: an early unpark (inside commit) is not lost.
        park(WaitReason::ChanRecv, |u| {
            u.unpark();
            true
        });
    }

    #[test]
    #[should_panic(expected = "all goroutines are asleep - deadlock!")]
    fn deadlock_panics() {
        let r = rt(2);
        r.block_on(|| {
            // Go's `select {}` in main, with a second G blocked too.
            drop(go(|| park(WaitReason::ChanRecv, |_u| true)));
            park(WaitReason::SelectNoCases, |_u| true);
        });
    }

    #[test]
    fn timers_fire_and_stop() {
        let r = rt(1);
        let (fired, stopped) = r.block_on(|| {
            let fired = Arc::new(AtomicUsize::new(0));
            let f2 = fired.clone();
            let h = add_timer(
                Instant::now() + Duration::from_secs(3600),
                Box::new(move || {
                    f2.fetch_add(1, Ordering::SeqCst);
                }),
            );
            let stopped = h.stop();
            assert!(!h.stop(), "a stopped timer stops once");
            let f3 = fired.clone();
            let h2 = add_timer(
                Instant::now(),
                Box::new(move || {
                    f3.fetch_add(10, Ordering::SeqCst);
                }),
            );
            crate::sleep(Duration::from_millis(5));
            assert!(!h2.stop(), "a fired timer cannot be stopped");
            (fired.load(Ordering::SeqCst), stopped)
        });
        assert_eq!((fired, stopped), (10, true));
        // Outside a runtime: the timer thread.
        let (tx, rx) = std::sync::mpsc::channel();
        let _h = add_timer(Instant::now() + Duration::from_millis(2), Box::new(move || tx.send(1).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 1);
    }

    /// Two Gs pass a baton through park/unpark (a channel's handshake in
    /// miniature); pairs run concurrently on 2 Ps, some through `blocking`
    /// and timers, so wake-ups race with parks on other Ms. A lost wake-up
    /// hangs (and the deadlock check would fire).
    #[test]
    fn baton_ping_pong_loses_no_wakeup() {
        struct Baton {
            st: Mutex<(u8, Option<Unparker>)>,
        }
        fn take_turn(b: &Baton, me: u8) {
            let mut st = b.st.lock();
            while st.0 != me {
                park(WaitReason::ChanRecv, move |u| {
                    st.1 = Some(u);
                    drop(st);
                    true
                });
                st = b.st.lock();
            }
        }
        fn pass(b: &Baton, to: u8) {
            let w = {
                let mut st = b.st.lock();
                st.0 = to;
                st.1.take()
            };
            if let Some(u) = w {
                u.unpark();
            }
        }
        let rounds: u32 = std::env::var("GC_RUNTIME_BATON").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
        let r = rt(2);
        let t = Instant::now();
        r.block_on(move || {
            let hs: Vec<_> = (0..8u32)
                .flat_map(|pair| {
                    let b = Arc::new(Baton { st: Mutex::new((0, None)) });
                    (0..2u8).map(move |me| {
                        let b = b.clone();
                        go(move || {
                            for i in 0..rounds {
                                take_turn(&b, me);
                                if i % 1000 == 7 && pair % 2 == 0 {
                                    crate::blocking(std::thread::yield_now);
                                }
                                if i % 1000 == 11 && pair % 4 == 1 {
                                    crate::sleep(Duration::from_micros(50));
                                }
                                pass(&b, 1 - me);
                            }
                        })
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        });
        let per = t.elapsed().as_nanos() as f64 / f64::from(rounds * 8 * 2);
        eprintln!("baton_ping_pong: {rounds} rounds x 8 pairs in {:?} ({per:.0} ns per hand-off)", t.elapsed());
    }

    fn rss_kib() -> usize {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// 10⁵ Gs parked at once (GC_RUNTIME_PARKED overrides the count).
    #[test]
    fn many_parked_gs() {
        let n: usize = std::env::var("GC_RUNTIME_PARKED").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
        let r = rt(2);
        let before = rss_kib();
        let (during, woke) = r.block_on(move || {
            let gate = Group::new(1);
            let parked = Arc::new(AtomicUsize::new(0));
            let all = Group::new(n);
            for _ in 0..n {
                let (g, p, a) = (gate.clone(), parked.clone(), all.clone());
                drop(go(move || {
                    p.fetch_add(1, Ordering::SeqCst);
                    g.wait();
                    a.done();
                }));
            }
            while parked.load(Ordering::SeqCst) < n || gate.state.lock().1.len() < n {
                crate::sleep(Duration::from_millis(1));
            }
            let during = rss_kib();
            gate.done();
            all.wait();
            (during, parked.load(Ordering::SeqCst))
        });
        assert_eq!(woke, n);
        eprintln!(
            "many_parked_gs: {n} parked Gs, RSS {} KiB before, {during} KiB parked ({:.2} KiB per G)",
            before,
            (during.saturating_sub(before)) as f64 / n as f64
        );
    }
}
