//! The scheduler core (Go: proc.go, runtime2.go): Gs, Ms, Ps, the run
//! queues, `schedule`/`findRunnable`, `wakep`/`startm`/`stopm`/`handoffp`,
//! `ready`, `entersyscall`/`exitsyscall` and `checkdead`.
//!
//! Objects:
//!
//! * **G** ([`G`]): a stackful goroutine: a corosensei coroutine on a
//!   [`GStack`](crate::stack::GStack), created lazily the first time the G
//!   runs (a spawned-but-not-started G costs its struct only). States as Go's
//!   `_Grunnable`, `_Grunning`, `_Gsyscall`, `_Gwaiting`, `_Gdead`.
//! * **M** ([`M`]): an OS thread; its native stack is its g0, which runs
//!   [`schedule`]. The `M` value lives on that stack and is reached through a
//!   thread-local pointer, always re-read after a G switch (never cached
//!   across one: a G may resume on another M).
//! * **P** ([`P`]): GOMAXPROCS of them, fixed at build. Each has a
//!   [`Ring`] of 256 plus `runnext`, a timer heap, and the ticks sysmon
//!   watches. Statuses `_Pidle`, `_Prunning`, `_Psyscall`.
//!
//! Ownership invariants (what makes the raw `GRef` pointers sound):
//!
//! * A `GRef` is a `Box<G>` turned raw at spawn and freed exactly once, by
//!   the M that resumed the G when its coroutine returned. At any time
//!   exactly one place holds a G: a run queue slot, `runnext`, the global
//!   queue, an M (running it, `m.curg`), or an [`Unparker`] (waiting).
//!   Handing it on (runqput, park's commit, unpark) moves that ownership.
//! * A G's coroutine is resumed only by the M that took it from a queue or
//!   from a failed park, so never by two threads at once; `G::coro` is
//!   touched only by that M's g0.
//! * Park: the G stores its commit closure's address and a typed trampoline
//!   in `m.park_commit`, then suspends. Only after `resume` returned (the G
//!   stopped running, its registers saved) does g0 call the trampoline, which
//!   first **moves the closure onto g0's stack** and then hands it the
//!   Unparker; so once another thread can resume the G, g0 no longer reads
//!   the G's stack. (Go: `park_m` calling `unlockf` on g0.)
//! * `sched.lock` guards the global queue, the idle-P and idle-M lists and
//!   the timer sleeper; `npidle`, `nmspinning`, `runqsize`, `nsyscall` are
//!   atomics written under it (except `nmspinning`, which follows Go's
//!   "publish work → barrier → check nmspinning" and "nmspinning-- →
//!   barrier → recheck" protocol with `SeqCst`).
//! * Deadlock (`checkdead`): under `sched.lock`, every P idle, no G in a
//!   syscall, an empty global queue, no pending timer, and at least one live
//!   G. Each condition is kept by whoever changes it under the same lock or
//!   before releasing a P, so the check never sees a runnable G missing
//!   (a G that leaves a syscall stops counting in `nsyscall` only once it
//!   holds a P or sits on the global queue).
//! * An unwinding G (`std::thread::panicking()`) never leaves its M (row
//!   R14: std's panic count is per OS thread). It parks by blocking the M
//!   after handing the P off (`park_keeping_m`; asleep for `checkdead`
//!   until readied), and yields or leaves a syscall without a free P by
//!   waiting on its M for one (`acquire_p_keeping_m`, counted in
//!   `nsyscall` meanwhile). Such an M waits in `Locked::pwait`; a P that
//!   comes free goes to it first (`pidleput_locked`), and every M lends
//!   its P to it after running a G (`schedule`), so it cannot starve
//!   behind Gs that never block. It is never queued, so no other M can
//!   resume it.
//!
//! Not here (documented in docs/runtime.md): netpoll (no network poller),
//! async (signal) preemption, changing GOMAXPROCS after build, and the GC
//! worker, whose slot in [`find_runnable`] issue 12 fills.

use crate::park::{Unparker, WaitReason};
use crate::runq::Ring;
use crate::stack::{GStack, StackPool};
use crate::timer;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use parking_lot::{Condvar, Mutex};
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::collections::{BTreeMap, VecDeque};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---- G ----

/// `_Grunnable`: on a run queue, not running.
pub(crate) const G_RUNNABLE: u32 = 1;
/// `_Grunning`: running on an M that holds a P.
pub(crate) const G_RUNNING: u32 = 2;
/// `_Gsyscall`: running inside `blocking` on an M without a P.
pub(crate) const G_SYSCALL: u32 = 3;
/// `_Gwaiting`: parked; an Unparker holds it.
pub(crate) const G_WAITING: u32 = 4;
/// `_Gdead`: finished (transient: the struct is then freed).
pub(crate) const G_DEAD: u32 = 6;

/// Why a G left its stack for g0 (Go: the mcall targets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Switch {
    /// `gosched_m`: back to the global queue.
    Gosched,
    /// `gopreempt_m`: preempted at a safepoint; back to the global queue.
    Preempt,
    /// `park_m`: run the commit on g0.
    Park,
    /// `exitsyscall0`: no P was free on syscall exit.
    ExitSyscall,
}

type Coro = Coroutine<(), Switch, (), GStack>;

/// A goroutine (Go: `g`).
pub(crate) struct G {
    pub(crate) id: u64,
    /// Go's `atomicstatus`.
    pub(crate) status: AtomicU32,
    /// The last `WaitReason` as its index in `WaitReason::ALL` (255 none).
    wait_reason: AtomicU8,
    /// The runtime the G belongs to (kept alive by the G).
    pub(crate) sched: Arc<Sched>,
    /// The body, until the G first runs.
    entry: UnsafeCell<Option<Box<dyn FnOnce() + Send>>>,
    /// The coroutine, once started; taken out by the resuming M.
    coro: UnsafeCell<Option<Coro>>,
    /// The guard range of the G's stack (for the overflow handler).
    guard: Cell<(usize, usize)>,
    /// The coroutine's yielder (lives on the G's stack).
    yielder: Cell<*const Yielder<(), Switch>>,
    /// G-local storage: one slot per `GLocal` key, boxed so references stay
    /// valid while the vector grows. Touched only by the G itself.
    pub(crate) locals: UnsafeCell<Vec<Option<LocalBox>>>,
}

/// One G-local value: a leaked `Box` held as a raw pointer, so that
/// references into it stay valid while the slot vector is reborrowed and
/// grows (a `Box` would assert uniqueness on every move).
pub(crate) struct LocalBox(NonNull<dyn Any>);

impl LocalBox {
    pub(crate) fn new(v: Box<dyn Any>) -> LocalBox {
        LocalBox(NonNull::from(Box::leak(v)))
    }

    pub(crate) fn as_ptr(&self) -> *const dyn Any {
        self.0.as_ptr()
    }
}

impl Drop for LocalBox {
    fn drop(&mut self) {
        // SAFETY: made from Box::leak in `new`, dropped once, here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// An owning pointer to a G (see the module invariants).
pub(crate) type GRef = NonNull<G>;

impl G {
    /// Why the G waits, or waited last (for scheddetail's G lines).
    pub(crate) fn wait_reason(&self) -> Option<WaitReason> {
        WaitReason::ALL.get(usize::from(self.wait_reason.load(Ordering::Relaxed))).copied()
    }
}

/// Go's `gopark` from the running G: stores the commit and switches to g0.
/// Caller: the running G, on `m`'s thread, `m.curg == g`.
///
/// # Safety
/// `g` is the running G of the current M, `src` points to a live `F` on the
/// G's stack that `tramp` reads exactly once.
pub(crate) unsafe fn gopark(g: GRef, reason: WaitReason, tramp: CommitFn, src: *mut u8) {
    let m = current_m().expect("gopark on an M");
    m.park_commit.set(Some((tramp, src)));
    // SAFETY: g is live: we are running on it.
    let gr = unsafe { g.as_ref() };
    gr.wait_reason.store(reason as u8, Ordering::Relaxed);
    // SAFETY: g is the running G (caller's contract), so its yielder is set.
    unsafe { suspend(g, Switch::Park) };
}

/// The type-erased commit of a park: moves the closure at `*mut u8` onto
/// g0's stack and calls it.
pub(crate) type CommitFn = unsafe fn(*mut u8, Unparker) -> bool;

/// Switches from the running G `g` to its M's g0 with `why`.
///
/// # Safety
/// `g` is the G running on this thread.
unsafe fn suspend(g: GRef, why: Switch) {
    // SAFETY: the yielder was set when the coroutine started and stays valid
    // while it lives; we are on its stack.
    let y = unsafe { &*g.as_ref().yielder.get() };
    y.suspend(why);
}

// ---- P ----

pub(crate) const P_IDLE: u32 = 0;
pub(crate) const P_RUNNING: u32 = 1;
pub(crate) const P_SYSCALL: u32 = 2;

/// A processor (Go: `p`).
pub(crate) struct P {
    /// `_Pidle` / `_Prunning` / `_Psyscall`; written by the owner, CAS'd by
    /// sysmon (retake) and by the syscall exit.
    pub(crate) status: AtomicU32,
    pub(crate) runq: Ring<G>,
    /// Go's `runnext`: CAS'd by the owner and by thieves.
    pub(crate) runnext: AtomicPtr<G>,
    /// Incremented by the owner per new time slice; read by sysmon.
    pub(crate) schedtick: AtomicU32,
    /// Incremented by the owner per syscall exit; read by sysmon.
    pub(crate) syscalltick: AtomicU32,
    /// Set by sysmon (the G ran 10 ms); cleared by the owner.
    pub(crate) preempt: AtomicBool,
    pub(crate) timers: timer::Heap,
    /// The M id holding this P, -1 none (for scheddetail).
    pub(crate) m_id: AtomicI64,
    /// The collector's per-P mark state (Go: `p.gcFractionalMarkTime`).
    pub(crate) gc_mark: gc_core::sched::PMark,
}

// ---- M ----

/// What an idle M is woken with.
#[derive(Default)]
struct Wake {
    notified: bool,
    nextp: Option<usize>,
    spinning: bool,
}

/// The part of an M other threads see (Go: the `m` fields read by `startm`,
/// sysmon and schedtrace).
pub(crate) struct MShared {
    pub(crate) id: usize,
    wake: Mutex<Wake>,
    cv: Condvar,
    /// For scheddetail: spinning, P id (-1), current G id (0).
    pub(crate) spinning: AtomicBool,
    pub(crate) p: AtomicI64,
    pub(crate) curg: AtomicU64,
}

/// An M's private state, on its g0 stack; reached via [`current_m`].
pub(crate) struct M {
    pub(crate) sched: Arc<Sched>,
    pub(crate) shared: Arc<MShared>,
    pub(crate) p: Cell<Option<usize>>,
    /// The P left behind in a syscall (Go: `m.oldp`).
    pub(crate) oldp: Cell<Option<usize>>,
    pub(crate) curg: Cell<Option<GRef>>,
    spinning: Cell<bool>,
    park_commit: Cell<Option<(CommitFn, *mut u8)>>,
    rng: Cell<u64>,
}

thread_local! {
    static CURRENT_M: Cell<*const M> = const { Cell::new(ptr::null()) };
}

/// The current thread's M, if it is one. Never inlined, and the call
/// starts with a compiler fence (an effect the optimizer cannot rule out,
/// so it never merges two calls), so the thread-local is read afresh on
/// every call: a caller on a G stack may have migrated since its last call
/// (R13).
#[inline(never)]
pub(crate) fn current_m() -> Option<&'static M> {
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    let p = CURRENT_M.with(Cell::get);
    // SAFETY: CURRENT_M is set only by mstart to its own `M`, which outlives
    // every use on this thread (it is cleared before mstart returns).
    unsafe { p.as_ref() }
}

/// The running G of this thread if it is in `G_RUNNING` (not in a syscall).
pub(crate) fn current_running_g() -> Option<(&'static M, GRef)> {
    let m = current_m()?;
    let g = m.curg.get()?;
    // SAFETY: curg is the live G this M runs.
    (unsafe { g.as_ref() }.status.load(Ordering::Relaxed) == G_RUNNING).then_some((m, g))
}

impl M {
    fn rand(&self) -> u64 {
        // xorshift64*
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn proc(&self) -> &P {
        &self.sched.procs[self.p.get().expect("M holds a P")]
    }
}

// ---- sched ----

/// The fields guarded by `Sched::lock` (Go: `sched.lock`).
pub(crate) struct Locked {
    pub(crate) runq: VecDeque<GRef>,
    pidle: Vec<usize>,
    midle: Vec<Arc<MShared>>,
    timer_sleeper: Option<Arc<MShared>>,
    main_waiters: Vec<Arc<MainWaiter>>,
    /// Ms whose G is unwinding and runnable again, waiting for a P they
    /// can take on their own thread (R14), first come first served.
    pwait: VecDeque<Arc<KeptM>>,
}

/// The block_on waiter of a main G.
pub(crate) struct MainWaiter {
    pub(crate) state: Mutex<MainState>,
    pub(crate) cv: Condvar,
}

pub(crate) enum MainState {
    Pending,
    Done(std::thread::Result<Box<dyn Any + Send>>),
    Deadlock,
}

/// `GODEBUG` keys the scheduler honours.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Debug {
    pub(crate) schedtrace: u32,
    pub(crate) scheddetail: bool,
}

/// The scheduler (Go: `sched` plus `allp`).
pub(crate) struct Sched {
    pub(crate) procs: Box<[P]>,
    pub(crate) lock: Mutex<Locked>,
    pub(crate) runqsize: AtomicUsize,
    pub(crate) npidle: AtomicUsize,
    pub(crate) nmspinning: AtomicUsize,
    pub(crate) needspinning: AtomicBool,
    pub(crate) nmidle: AtomicUsize,
    /// Gs inside `blocking` that do not yet hold a P again, and unwinding
    /// Gs that are runnable but wait for a P on their own M (R14).
    pub(crate) nsyscall: AtomicUsize,
    /// Gs parked until a GC cycle ends (`collect()`): the collector wakes
    /// them, so while any waits nothing is deadlocked.
    pub(crate) ngcwait: AtomicUsize,
    /// `Locked::pwait`'s length, read without the lock by `schedule`.
    npwait: AtomicUsize,
    /// Live Gs (spawned, not yet dead).
    pub(crate) ngs: AtomicUsize,
    /// Pending timers on the Ps' heaps.
    pub(crate) ntimers: Arc<AtomicUsize>,
    /// Deadline (ns since epoch) the timer-sleeping M waits for; MAX none.
    timer_sleep: AtomicU64,
    pub(crate) shutdown: AtomicBool,
    pub(crate) stacks: StackPool,
    pub(crate) epoch: Instant,
    next_gid: AtomicU64,
    next_mid: AtomicUsize,
    pub(crate) allm: Mutex<Vec<Arc<MShared>>>,
    coprimes: Vec<usize>,
    pub(crate) sysmon_note: (Mutex<bool>, Condvar),
    pub(crate) debug: Debug,
    /// Go's `allgs`, kept only with `GODEBUG=scheddetail=1` (for its G
    /// lines): id → live G. A G is removed under this lock before it is
    /// freed, so a reader holding the lock reads only live Gs.
    pub(crate) allgs: Option<Mutex<BTreeMap<u64, GRef>>>,
    /// True while this runtime hosts the collector's mark workers.
    pub(crate) gc_host: AtomicBool,
    /// Parked mark-worker Gs (Go: `gcBgMarkWorkerPool`).
    pub(crate) gc_pool: Mutex<Vec<crate::gcworker::Worker>>,
}

// SAFETY: the raw GRefs inside (global queue) are owning pointers moved
// between threads under the lock; G is designed to be handed between
// threads (see the module invariants).
unsafe impl Send for Sched {}
// SAFETY: as above; all shared state is atomic or locked.
unsafe impl Sync for Sched {}
// SAFETY: a G is only touched by the thread that owns it at the time
// (module invariants); its closure and result are Send.
unsafe impl Send for G {}
// SAFETY: the fields other threads read (status, wait_reason, id) are
// atomic or immutable; the cells are touched only by the owner.
unsafe impl Sync for G {}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Sched {
    pub(crate) fn new(nprocs: usize, stack_size: usize, debug: Debug) -> Arc<Sched> {
        let epoch = Instant::now();
        let procs: Box<[P]> = (0..nprocs)
            .map(|_| P {
                status: AtomicU32::new(P_IDLE),
                runq: Ring::new(),
                runnext: AtomicPtr::new(ptr::null_mut()),
                schedtick: AtomicU32::new(0),
                syscalltick: AtomicU32::new(0),
                preempt: AtomicBool::new(false),
                timers: timer::Heap::new(epoch),
                m_id: AtomicI64::new(-1),
                gc_mark: gc_core::sched::PMark::default(),
            })
            .collect();
        Arc::new(Sched {
            procs,
            lock: Mutex::new(Locked {
                runq: VecDeque::new(),
                pidle: (0..nprocs).rev().collect(),
                midle: Vec::new(),
                timer_sleeper: None,
                main_waiters: Vec::new(),
                pwait: VecDeque::new(),
            }),
            runqsize: AtomicUsize::new(0),
            npidle: AtomicUsize::new(nprocs),
            nmspinning: AtomicUsize::new(0),
            needspinning: AtomicBool::new(false),
            nmidle: AtomicUsize::new(0),
            nsyscall: AtomicUsize::new(0),
            ngcwait: AtomicUsize::new(0),
            npwait: AtomicUsize::new(0),
            ngs: AtomicUsize::new(0),
            ntimers: Arc::new(AtomicUsize::new(0)),
            timer_sleep: AtomicU64::new(u64::MAX),
            shutdown: AtomicBool::new(false),
            stacks: StackPool::new(stack_size),
            epoch,
            next_gid: AtomicU64::new(1),
            next_mid: AtomicUsize::new(1),
            allm: Mutex::new(Vec::new()),
            // Go's randomOrder: every k <= n coprime to n.
            coprimes: (1..=nprocs).filter(|&k| gcd(k, nprocs) == 1).collect(),
            sysmon_note: (Mutex::new(false), Condvar::new()),
            debug,
            allgs: debug.scheddetail.then(|| Mutex::new(BTreeMap::new())),
            gc_host: AtomicBool::new(false),
            gc_pool: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn nprocs(&self) -> usize {
        self.procs.len()
    }

    fn ns(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    // ---- global queue (Go: globrunqput, globrunqget) ----

    pub(crate) fn globrunqput(&self, g: GRef) {
        let mut l = self.lock.lock();
        l.runq.push_back(g);
        self.runqsize.store(l.runq.len(), Ordering::SeqCst);
    }

    fn globrunqput_batch(&self, batch: Vec<GRef>) {
        let mut l = self.lock.lock();
        l.runq.extend(batch);
        self.runqsize.store(l.runq.len(), Ordering::SeqCst);
    }

    /// Go's `globrunqget`: one G to run, and up to a fair share more moved
    /// into `p`'s ring (which the caller knows has room when `max == 0`).
    fn globrunqget_locked(&self, l: &mut Locked, p: &P, max: usize) -> Option<GRef> {
        let len = l.runq.len();
        if len == 0 {
            return None;
        }
        let mut n = len.min(len / self.nprocs() + 1).min(crate::runq::CAPACITY as usize / 2);
        if max > 0 {
            n = n.min(max);
        }
        let g = l.runq.pop_front();
        for _ in 1..n {
            let Some(x) = l.runq.pop_front() else { break };
            let runq = &mut l.runq;
            p.runq.push(x, |batch| runq.extend(batch));
        }
        self.runqsize.store(l.runq.len(), Ordering::SeqCst);
        g
    }

    fn globrunqget(&self, p: &P, max: usize) -> Option<GRef> {
        if self.runqsize.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut l = self.lock.lock();
        self.globrunqget_locked(&mut l, p, max)
    }

    // ---- idle Ps (pidleput, pidleget) ----

    fn pidleput_locked(&self, l: &mut Locked, p: usize) {
        if self.give_p_to_kept_m_locked(l, p) {
            return;
        }
        self.procs[p].status.store(P_IDLE, Ordering::SeqCst);
        self.procs[p].m_id.store(-1, Ordering::Relaxed);
        l.pidle.push(p);
        self.npidle.fetch_add(1, Ordering::SeqCst);
    }

    /// Hands the free P `p` to the first M in `pwait` (an unwinding G
    /// waiting to run on its own thread, R14), unless the runtime is shutting
    /// down. The P stays `_Prunning`: it goes from one owner to the next
    /// without being idle, so `checkdead` never sees it idle meanwhile.
    fn give_p_to_kept_m_locked(&self, l: &mut Locked, p: usize) -> bool {
        if l.pwait.is_empty() || self.shutdown.load(Ordering::SeqCst) {
            return false;
        }
        let Some(w) = l.pwait.pop_front() else { return false };
        self.npwait.fetch_sub(1, Ordering::SeqCst);
        self.procs[p].status.store(P_RUNNING, Ordering::SeqCst);
        let mut st = w.st.lock();
        st.p = Some(p);
        w.cv.notify_one();
        true
    }

    fn pidleget_locked(&self, l: &mut Locked) -> Option<usize> {
        let p = l.pidle.pop()?;
        if self.npidle.fetch_sub(1, Ordering::SeqCst) == self.nprocs() {
            self.wake_sysmon();
        }
        // Owned now; the taker marks it running in acquirep.
        self.procs[p].status.store(P_RUNNING, Ordering::SeqCst);
        Some(p)
    }

    pub(crate) fn wake_sysmon(&self) {
        let (m, cv) = &self.sysmon_note;
        let mut w = m.lock();
        if *w {
            *w = false;
            cv.notify_one();
        }
    }

    // ---- Ms (startm, newm, wakep, handoffp) ----

    /// Go's `startm`: runs `p` (or an idle P) on an idle M, or a new one.
    pub(crate) fn startm(self: &Arc<Self>, p: Option<usize>, spinning: bool) {
        let mut l = self.lock.lock();
        let p = match p {
            Some(p) => p,
            None => match self.pidleget_locked(&mut l) {
                Some(p) => p,
                None => {
                    if spinning {
                        // Go's pidlegetSpinning: ask the next idler to spin.
                        self.needspinning.store(true, Ordering::SeqCst);
                        self.nmspinning.fetch_sub(1, Ordering::SeqCst);
                    }
                    return;
                }
            },
        };
        if self.shutdown.load(Ordering::SeqCst) {
            self.pidleput_locked(&mut l, p);
            if spinning {
                self.nmspinning.fetch_sub(1, Ordering::SeqCst);
            }
            return;
        }
        if let Some(ms) = l.midle.pop() {
            self.nmidle.fetch_sub(1, Ordering::SeqCst);
            drop(l);
            let mut w = ms.wake.lock();
            w.notified = true;
            w.nextp = Some(p);
            w.spinning = spinning;
            ms.cv.notify_one();
            return;
        }
        drop(l);
        self.newm(p, spinning);
    }

    fn newm(self: &Arc<Self>, p: usize, spinning: bool) {
        let id = self.next_mid.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(MShared {
            id,
            wake: Mutex::new(Wake::default()),
            cv: Condvar::new(),
            spinning: AtomicBool::new(spinning),
            p: AtomicI64::new(p as i64),
            curg: AtomicU64::new(0),
        });
        self.allm.lock().push(shared.clone());
        let sched = self.clone();
        let r = std::thread::Builder::new()
            .name(format!("gc-runtime-m{id}"))
            .spawn(move || mstart(sched, shared, p, spinning));
        if let Err(e) = r {
            fatal(&format!("newm: cannot start an OS thread: {e}"));
        }
    }

    /// Go's `wakep`: starts a spinning M if there is an idle P and nobody
    /// spins yet.
    pub(crate) fn wakep(self: &Arc<Self>) {
        if self.npidle.load(Ordering::SeqCst) == 0 {
            return;
        }
        if self.nmspinning.load(Ordering::SeqCst) != 0
            || self.nmspinning.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_err()
        {
            return;
        }
        self.startm(None, true);
    }

    /// Go's `handoffp`: `p` lost its M (a retaken syscall).
    pub(crate) fn handoffp(self: &Arc<Self>, p: usize) {
        let pp = &self.procs[p];
        if !pp.runq.is_empty()
            || !pp.runnext.load(Ordering::SeqCst).is_null()
            || self.runqsize.load(Ordering::SeqCst) > 0
        {
            self.startm(Some(p), false);
            return;
        }
        // GC mark work waiting: an M runs the P for its workers.
        if self.gc_host.load(Ordering::Relaxed) && gc_core::sched::mark_work_available() {
            self.startm(Some(p), false);
            return;
        }
        if self.nmspinning.load(Ordering::SeqCst) + self.npidle.load(Ordering::SeqCst) == 0
            && self.nmspinning.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_ok()
        {
            self.startm(Some(p), true);
            return;
        }
        if pp.timers.has_any() {
            // Go puts the P idle and wakes the netpoller for its timers; we
            // have no poller, so an M runs the P and sleeps on its timers.
            self.startm(Some(p), false);
            return;
        }
        let mut l = self.lock.lock();
        if self.runqsize.load(Ordering::SeqCst) > 0 {
            drop(l);
            self.startm(Some(p), false);
            return;
        }
        self.pidleput_locked(&mut l, p);
    }

    // ---- timers ----

    /// Earliest pending timer over all Ps.
    fn earliest_timer(&self) -> Option<Instant> {
        self.procs.iter().filter(|p| p.timers.has_any()).filter_map(|p| p.timers.earliest()).min()
    }

    /// Go's `wakeNetPoller(when)`: a timer at `when` was added; make sure an
    /// M will be awake for it.
    pub(crate) fn timer_added(&self, when: Instant, caller_has_p: bool) {
        let when_ns = self.ns(when);
        let sleeping = self.timer_sleep.load(Ordering::SeqCst);
        if when_ns >= sleeping {
            return; // the sleeper wakes earlier anyway
        }
        if sleeping == u64::MAX && caller_has_p {
            return; // our M will see it when it goes idle
        }
        let mut l = self.lock.lock();
        let ms = if let Some(s) = l.timer_sleeper.take() {
            self.timer_sleep.store(u64::MAX, Ordering::SeqCst);
            // It is in midle too: take it out, we notify it.
            if let Some(i) = l.midle.iter().position(|m| Arc::ptr_eq(m, &s)) {
                l.midle.swap_remove(i);
                self.nmidle.fetch_sub(1, Ordering::SeqCst);
                Some(s)
            } else {
                None // popped by startm meanwhile: it is waking anyway
            }
        } else if self.npidle.load(Ordering::SeqCst) > 0 {
            let m = l.midle.pop();
            if m.is_some() {
                self.nmidle.fetch_sub(1, Ordering::SeqCst);
            }
            m
        } else {
            None
        };
        drop(l);
        if let Some(ms) = ms {
            let mut w = ms.wake.lock();
            w.notified = true;
            ms.cv.notify_one();
        }
    }

    // ---- deadlock (checkdead) ----

    fn checkdead_locked(&self, l: &mut Locked) {
        if self.npidle.load(Ordering::SeqCst) == self.nprocs()
            && self.nsyscall.load(Ordering::SeqCst) == 0
            && self.ngcwait.load(Ordering::SeqCst) == 0
            && l.runq.is_empty()
            && self.ntimers.load(Ordering::SeqCst) == 0
            && self.ngs.load(Ordering::SeqCst) > 0
        {
            for w in l.main_waiters.drain(..) {
                let mut s = w.state.lock();
                if matches!(*s, MainState::Pending) {
                    *s = MainState::Deadlock;
                }
                w.cv.notify_all();
            }
        }
    }

    pub(crate) fn add_main_waiter(&self, w: Arc<MainWaiter>) {
        self.lock.lock().main_waiters.push(w);
    }

    pub(crate) fn remove_main_waiter(&self, w: &Arc<MainWaiter>) {
        self.lock.lock().main_waiters.retain(|x| !Arc::ptr_eq(x, w));
    }

    /// Stops the runtime: idle Ms exit; running ones exit at their next
    /// schedule. Gs not finished are abandoned (leaked, never freed). Timers
    /// still pending move to the process-wide timer thread, so they fire
    /// (an `after` receiver may outlive the runtime, R15).
    pub(crate) fn shut_down(self: &Arc<Self>) {
        crate::gcworker::uninstall(self);
        self.shutdown.store(true, Ordering::SeqCst);
        for p in self.procs.iter() {
            crate::timer::adopt_outside(p.timers.take_pending());
        }
        let mut l = self.lock.lock();
        let idle: Vec<_> = l.midle.drain(..).collect();
        self.nmidle.store(0, Ordering::SeqCst);
        l.timer_sleeper = None;
        drop(l);
        for ms in idle {
            let mut w = ms.wake.lock();
            w.notified = true;
            ms.cv.notify_one();
        }
        let (m, cv) = &self.sysmon_note;
        *m.lock() = false;
        cv.notify_all();
    }

    // ---- G creation (newproc) ----

    /// Makes a G for `f` (not queued yet).
    pub(crate) fn new_g(self: &Arc<Self>, f: Box<dyn FnOnce() + Send>) -> GRef {
        let g = Box::new(G {
            id: self.next_gid.fetch_add(1, Ordering::Relaxed),
            status: AtomicU32::new(G_RUNNABLE),
            wait_reason: AtomicU8::new(255),
            sched: self.clone(),
            entry: UnsafeCell::new(Some(f)),
            coro: UnsafeCell::new(None),
            guard: Cell::new((0, 0)),
            yielder: Cell::new(ptr::null()),
            locals: UnsafeCell::new(Vec::new()),
        });
        self.ngs.fetch_add(1, Ordering::SeqCst);
        let id = g.id;
        let g = NonNull::from(Box::leak(g));
        if let Some(all) = &self.allgs {
            all.lock().insert(id, g);
        }
        g
    }
}

/// Go's `runqput(pp, gp, next)` on the current M's P.
fn runqput(s: &Sched, p: &P, g: GRef, next: bool) {
    let mut g = g;
    if next {
        let old = p.runnext.swap(g.as_ptr(), Ordering::AcqRel);
        match NonNull::new(old) {
            None => return,
            Some(o) => g = o,
        }
    }
    p.runq.push(g, |batch| s.globrunqput_batch(batch));
}

/// Go's `runqget`: runnext first (inheriting the time slice), then the ring.
fn runqget(p: &P) -> Option<(GRef, bool)> {
    let next = p.runnext.load(Ordering::Acquire);
    if !next.is_null() && p.runnext.compare_exchange(next, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed).is_ok()
    {
        return NonNull::new(next).map(|g| (g, true));
    }
    p.runq.pop().map(|g| (g, false))
}

/// Queues a new G: on the current P's runnext inside this runtime, else
/// on the global queue; then `wakep`.
pub(crate) fn newproc(s: &Arc<Sched>, g: GRef) {
    match current_m() {
        Some(m) if Arc::ptr_eq(&m.sched, s) && m.p.get().is_some() => runqput(s, m.proc(), g, true),
        _ => s.globrunqput(g),
    }
    s.wakep();
}

/// Go's `ready`: a waiting G becomes runnable (called by `Unparker::unpark`).
pub(crate) fn ready(g: GRef) {
    // SAFETY: the Unparker owned g, which is parked and live.
    let gr = unsafe { g.as_ref() };
    let prev = gr.status.swap(G_RUNNABLE, Ordering::AcqRel);
    debug_assert_eq!(prev, G_WAITING, "unpark of a G that is not waiting");
    let s = gr.sched.clone();
    if s.shutdown.load(Ordering::SeqCst) {
        return; // abandoned with its runtime: leaked, never resumed
    }
    match current_m() {
        Some(m) if Arc::ptr_eq(&m.sched, &s) && m.p.get().is_some() => runqput(&s, m.proc(), g, true),
        _ => s.globrunqput(g),
    }
    s.wakep();
}

// ---- the M: mstart, schedule, findRunnable, execute ----

fn mstart(sched: Arc<Sched>, shared: Arc<MShared>, p: usize, spinning: bool) {
    crate::signal::install();
    let _alt = crate::signal::AltStack::ensure();
    let seed = (shared.id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let m = M {
        sched,
        shared,
        p: Cell::new(None),
        oldp: Cell::new(None),
        curg: Cell::new(None),
        spinning: Cell::new(spinning),
        park_commit: Cell::new(None),
        rng: Cell::new(seed),
    };
    CURRENT_M.with(|c| c.set(&m));
    acquirep(&m, p);
    schedule(&m);
    if let Some(p) = m.p.take() {
        let mut l = m.sched.lock.lock();
        m.sched.pidleput_locked(&mut l, p);
    }
    m.sched.allm.lock().retain(|x| !Arc::ptr_eq(x, &m.shared));
    CURRENT_M.with(|c| c.set(ptr::null()));
}

fn acquirep(m: &M, p: usize) {
    m.p.set(Some(p));
    let pp = &m.sched.procs[p];
    pp.status.store(P_RUNNING, Ordering::SeqCst);
    pp.m_id.store(m.shared.id as i64, Ordering::Relaxed);
    m.shared.p.store(p as i64, Ordering::Relaxed);
}

fn releasep(m: &M) -> usize {
    m.shared.p.store(-1, Ordering::Relaxed);
    m.p.take().expect("releasep without a P")
}

fn set_spinning(m: &M, on: bool) {
    m.spinning.set(on);
    m.shared.spinning.store(on, Ordering::Relaxed);
}

/// Go's `schedule`: the g0 loop. Returns when the runtime shuts down.
fn schedule(m: &M) {
    while let Some((g, inherit)) = find_runnable(m) {
        if m.spinning.get() {
            // Go's resetspinning: keep one searcher while there is work.
            set_spinning(m, false);
            m.sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
            m.sched.wakep();
        }
        execute(m, g, inherit);
        // An unwinding G waiting for a P can run on its own M only: it
        // goes before everything this M could run next (R14).
        if m.sched.npwait.load(Ordering::SeqCst) > 0 {
            lend_p_to_kept_m(m);
        }
    }
}

/// Gives this M's P to the first M waiting in `pwait` and parks this M
/// (`stopm`) until it is handed a P again.
fn lend_p_to_kept_m(m: &M) {
    let s = &m.sched;
    if m.p.get().is_none() {
        return; // shutting down
    }
    let mut l = s.lock.lock();
    if l.pwait.is_empty() {
        return;
    }
    let p = releasep(m);
    if !s.give_p_to_kept_m_locked(&mut l, p) {
        drop(l);
        acquirep(m, p); // shutting down: keep it, schedule sees the flag
        return;
    }
    drop(l);
    stopm(m);
}

/// Go's `findRunnable` (facts card §10.4). Returns `None` on shutdown.
fn find_runnable(m: &M) -> Option<(GRef, bool)> {
    let s = &m.sched;
    'top: loop {
        if s.shutdown.load(Ordering::Relaxed) {
            return None;
        }
        let p = m.proc();
        // 2. timers due on this P (Go: checkTimers).
        p.timers.run_due(Instant::now());
        // 4. GC worker: gcController.findRunnableGCWorker.
        if s.gc_host.load(Ordering::Relaxed) {
            if let Some(mode) = gc_core::sched::find_worker(&p.gc_mark, Instant::now()) {
                return Some((crate::gcworker::take(s, mode), false));
            }
        }
        // 5. fairness: one G from the global queue every 61 ticks.
        if p.schedtick.load(Ordering::Relaxed) % 61 == 0 {
            if let Some(g) = s.globrunqget(p, 1) {
                return Some((g, false));
            }
        }
        // 7. local run queue, runnext first.
        if let Some(r) = runqget(p) {
            return Some(r);
        }
        // 8. global queue (batch).
        if let Some(g) = s.globrunqget(p, 0) {
            return Some((g, false));
        }
        // 9. netpoll: none in this runtime.
        // 10. steal, if spinning or few enough spin already.
        let busy = s.nprocs() - s.npidle.load(Ordering::SeqCst);
        if m.spinning.get() || 2 * s.nmspinning.load(Ordering::SeqCst) < busy {
            if !m.spinning.get() {
                set_spinning(m, true);
                s.nmspinning.fetch_add(1, Ordering::SeqCst);
            }
            if let Some(g) = steal_work(m) {
                return Some((g, false));
            }
        }
        // 11. idle-priority GC worker: mark rather than give up the P.
        if s.gc_host.load(Ordering::Relaxed) && gc_core::sched::idle_worker_wanted() {
            return Some((crate::gcworker::take(s, gc_core::sched::WorkerMode::Idle), false));
        }
        // 13. give up the P.
        let mut l = s.lock.lock();
        if let Some(g) = s.globrunqget_locked(&mut l, p, 0) {
            return Some((g, false));
        }
        if !m.spinning.get() && s.needspinning.swap(false, Ordering::SeqCst) {
            set_spinning(m, true);
            s.nmspinning.fetch_add(1, Ordering::SeqCst);
            drop(l);
            continue 'top;
        }
        let pid = releasep(m);
        s.pidleput_locked(&mut l, pid);
        drop(l);
        // 14. a spinning M going idle rechecks every source (StoreLoad).
        if m.spinning.get() {
            set_spinning(m, false);
            s.nmspinning.fetch_sub(1, Ordering::SeqCst);
            let work = s.runqsize.load(Ordering::SeqCst) > 0
                || s.procs.iter().any(|q| !q.runq.is_empty() || !q.runnext.load(Ordering::SeqCst).is_null());
            if work {
                let mut l = s.lock.lock();
                if let Some(np) = s.pidleget_locked(&mut l) {
                    drop(l);
                    acquirep(m, np);
                    set_spinning(m, true);
                    s.nmspinning.fetch_add(1, Ordering::SeqCst);
                    continue 'top;
                }
            }
        }
        // 16. stopm (with the timer sleep of step 15).
        stopm(m);
        // Without a P only on shutdown.
        m.p.get()?;
    }
}

/// Go's `stealWork`: 4 passes over all Ps in a random coprime order; the
/// last pass also runs their due timers and may take their runnext.
fn steal_work(m: &M) -> Option<GRef> {
    let s = &m.sched;
    let n = s.nprocs();
    let me = m.p.get().expect("M holds a P");
    let mine = &s.procs[me];
    for pass in 0..4 {
        let last = pass == 3;
        let r = m.rand() as usize;
        let step = s.coprimes[(r / n) % s.coprimes.len()];
        let mut pos = r % n;
        for _ in 0..n {
            let victim = pos;
            pos = (pos + step) % n;
            if victim == me {
                continue;
            }
            let v = &s.procs[victim];
            if last && v.timers.run_due(Instant::now()) > 0 {
                // Gs readied by those timers went to our own queue.
                if let Some((g, _)) = runqget(mine) {
                    return Some(g);
                }
            }
            if v.status.load(Ordering::SeqCst) == P_IDLE {
                continue;
            }
            if let Some(g) = v.runq.steal_into(&mine.runq) {
                return Some(g);
            }
            if last {
                let mut next = v.runnext.load(Ordering::Acquire);
                if !next.is_null() && v.status.load(Ordering::SeqCst) == P_RUNNING {
                    // Go's runqgrab: the victim is about to run its runnext
                    // (a G it just readied, typically the partner of a
                    // hand-off); give it ~3 µs rather than bounce the pair
                    // between Ms.
                    std::thread::sleep(Duration::from_micros(3));
                    next = v.runnext.load(Ordering::Acquire);
                }
                if !next.is_null()
                    && v.runnext.compare_exchange(next, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed).is_ok()
                {
                    return NonNull::new(next);
                }
            }
        }
    }
    None
}

/// Go's `stopm`, with the timed sleep of `findRunnable` step 15: parks the
/// M until `startm` hands it a P, or (the one timer-sleeping M) until the
/// earliest timer, then takes an idle P. Returns with a P, or without one
/// on shutdown.
fn stopm(m: &M) {
    let s = &m.sched;
    loop {
        let mut l = s.lock.lock();
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        s.checkdead_locked(&mut l);
        let mut deadline = None;
        if l.timer_sleeper.is_none() && s.npidle.load(Ordering::SeqCst) > 0 {
            if let Some(when) = s.earliest_timer() {
                deadline = Some(when);
                l.timer_sleeper = Some(m.shared.clone());
                s.timer_sleep.store(s.ns(when), Ordering::SeqCst);
            }
        }
        *m.shared.wake.lock() = Wake::default();
        l.midle.push(m.shared.clone());
        s.nmidle.fetch_add(1, Ordering::SeqCst);
        drop(l);

        let mut w = m.shared.wake.lock();
        let mut timed_out = false;
        while !w.notified {
            match deadline {
                Some(d) => {
                    if m.shared.cv.wait_until(&mut w, d).timed_out() && !w.notified {
                        timed_out = true;
                        break;
                    }
                }
                None => m.shared.cv.wait(&mut w),
            }
        }
        drop(w);
        if deadline.is_some() {
            let mut l = s.lock.lock();
            if l.timer_sleeper.as_ref().is_some_and(|x| Arc::ptr_eq(x, &m.shared)) {
                l.timer_sleeper = None;
                s.timer_sleep.store(u64::MAX, Ordering::SeqCst);
            }
        }
        if timed_out {
            let mut l = s.lock.lock();
            if let Some(i) = l.midle.iter().position(|x| Arc::ptr_eq(x, &m.shared)) {
                l.midle.swap_remove(i);
                s.nmidle.fetch_sub(1, Ordering::SeqCst);
            } else {
                // Someone popped us and is about to notify: wait for it.
                drop(l);
                let mut w = m.shared.wake.lock();
                while !w.notified {
                    m.shared.cv.wait(&mut w);
                }
            }
        }
        let (nextp, spinning) = {
            let mut w = m.shared.wake.lock();
            (w.nextp.take(), w.spinning)
        };
        if let Some(p) = nextp {
            acquirep(m, p);
            set_spinning(m, spinning);
            return;
        }
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // Woken for a timer: take an idle P and look.
        let mut l = s.lock.lock();
        if let Some(p) = s.pidleget_locked(&mut l) {
            drop(l);
            acquirep(m, p);
            return;
        }
    }
}

/// Go's `execute` + the g0 half of every mcall: runs `g` until it yields,
/// parks or ends, and handles why.
fn execute(m: &M, g: GRef, inherit: bool) {
    let s = &m.sched;
    {
        let p = m.proc();
        if !inherit {
            p.schedtick.store(p.schedtick.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
            p.preempt.store(false, Ordering::Relaxed);
        }
    }
    // SAFETY: we own g (taken from a queue); it is live until freed below.
    let gr = unsafe { g.as_ref() };
    loop {
        m.curg.set(Some(g));
        gr.status.store(G_RUNNING, Ordering::Release);
        m.shared.curg.store(gr.id, Ordering::Relaxed);
        // SAFETY: only the M that owns g touches `coro` (module invariants).
        let mut co = match unsafe { (*gr.coro.get()).take() } {
            Some(co) => co,
            None => start_coroutine(s, g),
        };
        crate::signal::set_guard(gr.guard.get());
        let r = co.resume(());
        crate::signal::set_guard((0, 0));
        m.curg.set(None);
        m.shared.curg.store(0, Ordering::Relaxed);
        match r {
            CoroutineResult::Return(()) => {
                gr.status.store(G_DEAD, Ordering::Release);
                s.stacks.put(co.into_stack());
                s.ngs.fetch_sub(1, Ordering::SeqCst);
                if let Some(all) = &s.allgs {
                    all.lock().remove(&gr.id);
                }
                // SAFETY: the G is dead; we own the only pointer (it came
                // from Box::leak in new_g).
                drop(unsafe { Box::from_raw(g.as_ptr()) });
                return;
            }
            CoroutineResult::Yield(why) => {
                // SAFETY: as above: we own g and its coro slot.
                unsafe { *gr.coro.get() = Some(co) };
                match why {
                    Switch::Gosched | Switch::Preempt => {
                        gr.status.store(G_RUNNABLE, Ordering::Release);
                        s.globrunqput(g);
                        return;
                    }
                    Switch::Park => {
                        let (tramp, src) = m.park_commit.take().expect("park without a commit");
                        gr.status.store(G_WAITING, Ordering::Release);
                        let guard = AbortOnUnwind("a park commit panicked");
                        // SAFETY: src points to the commit closure on the
                        // stopped G's stack, read exactly once by tramp,
                        // which moves it to our stack before giving away the
                        // Unparker.
                        let parked = unsafe { tramp(src, Unparker::for_g(g)) };
                        std::mem::forget(guard);
                        if parked {
                            return;
                        }
                        // Cancelled: nobody else has g; run it again.
                        continue;
                    }
                    Switch::ExitSyscall => {
                        // Go's exitsyscall0: an idle P, else the global queue.
                        gr.status.store(G_RUNNABLE, Ordering::Release);
                        let mut l = s.lock.lock();
                        if let Some(p) = s.pidleget_locked(&mut l) {
                            s.nsyscall.fetch_sub(1, Ordering::SeqCst);
                            drop(l);
                            acquirep(m, p);
                            continue;
                        }
                        l.runq.push_back(g);
                        s.runqsize.store(l.runq.len(), Ordering::SeqCst);
                        s.nsyscall.fetch_sub(1, Ordering::SeqCst);
                        drop(l);
                        stopm(m);
                        return;
                    }
                }
            }
        }
    }
}

/// Creates the coroutine of a G that runs for the first time.
fn start_coroutine(s: &Sched, g: GRef) -> Coro {
    let stack = match s.stacks.get() {
        Ok(st) => st,
        Err(e) => fatal(&format!("cannot allocate a goroutine stack: {e}")),
    };
    // SAFETY: we own g.
    let gr = unsafe { g.as_ref() };
    gr.guard.set(stack.guard());
    let gp = g.as_ptr() as usize;
    Coroutine::with_stack(stack, move |y: &Yielder<(), Switch>, ()| {
        let g = gp as *mut G;
        // SAFETY: the G outlives its coroutine (freed only after Return);
        // the fields touched here belong to the running G.
        unsafe {
            (*g).yielder.set(y);
            let f = (*(*g).entry.get()).take().expect("G body");
            // The body catches the user's panic itself (JoinHandle); a panic
            // escaping here would cross the coroutine boundary: abort.
            let guard = AbortOnUnwind("a panic escaped a goroutine");
            f();
            drop_locals(g);
            std::mem::forget(guard);
        }
    })
}

/// Drops the running G's locals now (before its result is published, so
/// a joiner sees them dropped, as `std::thread`'s join waits for TLS
/// destructors). A destructor that panics aborts, as in std.
pub(crate) fn drop_current_g_locals() {
    if let Some(g) = current_m().and_then(|m| m.curg.get()) {
        let guard = AbortOnUnwind("a GLocal destructor panicked");
        // SAFETY: g is the running G, in its body's epilogue: no GLocal
        // borrow is live.
        unsafe { drop_locals(g.as_ptr()) };
        std::mem::forget(guard);
    }
}

/// Drops a finishing G's locals (destructors may create new ones).
///
/// # Safety
/// `g` is the running G, at its end.
unsafe fn drop_locals(g: *mut G) {
    for _ in 0..8 {
        // SAFETY: only the running G touches its locals; no borrow of them
        // is live at the G's end.
        let v = std::mem::take(unsafe { &mut *(*g).locals.get() });
        if v.is_empty() {
            return;
        }
        drop(v);
    }
}

// ---- syscalls: entersyscall / exitsyscall ----

/// Go's `entersyscall`: the running G keeps its M but leaves its P in
/// `_Psyscall`, where sysmon may retake it.
pub(crate) fn entersyscall(m: &M, g: GRef) {
    let p = m.p.take().expect("entersyscall without a P");
    m.oldp.set(Some(p));
    m.shared.p.store(-1, Ordering::Relaxed);
    m.sched.nsyscall.fetch_add(1, Ordering::SeqCst);
    // SAFETY: g is the running G.
    unsafe { g.as_ref() }.status.store(G_SYSCALL, Ordering::Release);
    m.sched.procs[p].status.store(P_SYSCALL, Ordering::SeqCst);
}

/// Go's `entersyscallblock`: as [`entersyscall`], but the P is handed off
/// at once, for a call known to block (a wait on the collector).
pub(crate) fn entersyscallblock(m: &M, g: GRef) {
    entersyscall(m, g);
    let p = m.oldp.get().expect("just entered");
    if m.sched.procs[p].status.compare_exchange(P_SYSCALL, P_IDLE, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        m.sched.handoffp(p);
    }
}

/// Go's `exitsyscall`: fast path re-takes the old P, else an idle P, else
/// the G goes to the global queue and this M stops (`exitsyscall0`).
pub(crate) fn exitsyscall(m: &M, g: GRef) {
    let s = m.sched.clone();
    let oldp = m.oldp.take().expect("exitsyscall without oldp");
    // SAFETY: g is the running G.
    let gr = unsafe { g.as_ref() };
    let pp = &s.procs[oldp];
    if pp.status.compare_exchange(P_SYSCALL, P_RUNNING, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        acquirep(m, oldp);
        pp.syscalltick.store(pp.syscalltick.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        gr.status.store(G_RUNNING, Ordering::Release);
        s.nsyscall.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    {
        let mut l = s.lock.lock();
        if let Some(p) = s.pidleget_locked(&mut l) {
            s.nsyscall.fetch_sub(1, Ordering::SeqCst);
            drop(l);
            acquirep(m, p);
            gr.status.store(G_RUNNING, Ordering::Release);
            return;
        }
    }
    if std::thread::panicking() {
        // An unwinding G must not change thread (R14): wait for a P here,
        // still counted in `nsyscall` until it holds one.
        acquire_p_keeping_m(m, &KeptM::new());
        gr.status.store(G_RUNNING, Ordering::Release);
        return;
    }
    // Slow path on g0; we resume later, maybe elsewhere, with a P.
    gr.status.store(G_RUNNING, Ordering::Release);
    // SAFETY: g is the G running on this thread.
    unsafe { suspend(g, Switch::ExitSyscall) };
}

// ---- unwinding Gs keep their M (R14) ----

/// An M whose G is unwinding (`std::thread::panicking()`) and so must not
/// leave its OS thread: std keeps the panic count, and the "inside the
/// panic hook" flag, per thread, so a G that resumed on another M would
/// take its count along in the wrong way: Gs that never panicked would see
/// `panicking() == true` (and `std::sync::Mutex` poison, or miss a
/// poison), and the count would end unbalanced on both threads. Such a G
/// never switches: it blocks its M, on this, when it parks, and waits on
/// it for a P when it yields or leaves a syscall without one.
///
/// One `KeptM` per episode. `woken` is set once, by the Unparker of a park;
/// `p` is set by whoever hands this M a P while it is in `Locked::pwait`.
pub(crate) struct KeptM {
    st: Mutex<KeptState>,
    cv: Condvar,
}

#[derive(Default)]
struct KeptState {
    woken: bool,
    p: Option<usize>,
}

impl KeptM {
    pub(crate) fn new() -> Arc<KeptM> {
        Arc::new(KeptM { st: Mutex::new(KeptState::default()), cv: Condvar::new() })
    }

    /// The parked G is runnable again (the Unparker's side; any thread).
    /// It counts in `nsyscall` from here until it holds a P, so `checkdead`
    /// never takes it for asleep while it waits for one. After shutdown it
    /// is abandoned, as every parked G: it stays blocked.
    pub(crate) fn ready(&self, s: &Sched) {
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        s.nsyscall.fetch_add(1, Ordering::SeqCst);
        let mut st = self.st.lock();
        debug_assert!(!st.woken, "an unwinding G readied twice");
        st.woken = true;
        self.cv.notify_one();
    }
}

/// Go's `park_m` for an unwinding G (R14): its commit has run (on the G's
/// own stack: no other M can resume this G, so nothing reads that stack
/// behind us). Hands the P off as `entersyscall` + `handoffp` do, so the
/// other Gs keep running; while no one has readied it, the G counts as
/// asleep (not in `nsyscall`), so `checkdead` still reports a deadlock it
/// takes part in — hence the check here, where this M stops running Gs.
/// Then blocks the thread until the G is readied and takes a P on this M.
///
/// Caller: the running G `g` of `m`, on `m`'s thread, which is panicking.
pub(crate) fn park_keeping_m(m: &M, g: GRef, reason: WaitReason, w: &Arc<KeptM>) {
    let s = &m.sched;
    // SAFETY: g is the running G of this M.
    let gr = unsafe { g.as_ref() };
    gr.wait_reason.store(reason as u8, Ordering::Relaxed);
    gr.status.store(G_WAITING, Ordering::Release);
    if w.st.lock().woken {
        // Readied before we let go of the P: keep it.
        s.nsyscall.fetch_sub(1, Ordering::SeqCst);
        gr.status.store(G_RUNNING, Ordering::Release);
        return;
    }
    let p = releasep(m);
    s.handoffp(p);
    {
        let mut l = s.lock.lock();
        s.checkdead_locked(&mut l);
    }
    {
        let mut st = w.st.lock();
        while !st.woken {
            w.cv.wait(&mut st);
        }
    }
    gr.status.store(G_SYSCALL, Ordering::Release);
    acquire_p_keeping_m(m, w);
    gr.status.store(G_RUNNING, Ordering::Release);
}

/// `gosched` and preemption for an unwinding G (R14): the G keeps its M
/// but gives up its P, so every other G gets its turn (a `Drop` that
/// yields while waiting for another G would otherwise spin for ever on
/// GOMAXPROCS=1), then takes a P again on this M.
///
/// Caller: the running G `g` of `m`, on `m`'s thread, which is panicking.
pub(crate) fn yield_keeping_m(m: &M, g: GRef) {
    let s = &m.sched;
    // SAFETY: g is the running G of this M.
    let gr = unsafe { g.as_ref() };
    // Runnable and on no queue: counted in nsyscall before the P can go idle.
    s.nsyscall.fetch_add(1, Ordering::SeqCst);
    gr.status.store(G_SYSCALL, Ordering::Release);
    let p = releasep(m);
    s.handoffp(p);
    acquire_p_keeping_m(m, &KeptM::new());
    gr.status.store(G_RUNNING, Ordering::Release);
}

/// Takes a P for the unwinding G of this M (counted in `nsyscall`, which
/// this decrements once it holds one): an idle P now, else the first P
/// that comes free (`pidleput_locked`) or that an M lends after its G
/// (`schedule`). Never queues the G: only this M may resume it. After
/// shutdown the G is abandoned and this thread stays blocked.
fn acquire_p_keeping_m(m: &M, w: &Arc<KeptM>) {
    let s = &m.sched;
    {
        let mut l = s.lock.lock();
        if !s.shutdown.load(Ordering::SeqCst) {
            if let Some(p) = s.pidleget_locked(&mut l) {
                drop(l);
                acquirep(m, p);
                s.nsyscall.fetch_sub(1, Ordering::SeqCst);
                return;
            }
            l.pwait.push_back(w.clone());
            s.npwait.fetch_add(1, Ordering::SeqCst);
        }
    }
    let p = {
        let mut st = w.st.lock();
        loop {
            if let Some(p) = st.p.take() {
                break p;
            }
            w.cv.wait(&mut st);
        }
    };
    acquirep(m, p);
    s.nsyscall.fetch_sub(1, Ordering::SeqCst);
}

/// Refuses a G switch inside a gc-core pin (the pin's critical section
/// belongs to this OS thread's mutator, so it must not span a switch: the
/// G could resume on another M while this M runs other Gs "inside" the
/// pin, and every stop of the world would wait for it) and inside the
/// closure `GcVec::retain` runs under the vector's lock (R19). Panics with
/// gc-core's message, before anything is parked.
#[inline]
pub(crate) fn assert_not_pinned() {
    gc_core::assert_may_switch();
}

/// Yields the running G `g` to the global queue (Go: `goschedImpl`).
///
/// # Safety
/// `g` is the G running on this thread (status `G_RUNNING`).
pub(crate) unsafe fn yield_now(g: GRef, preempted: bool) {
    assert_not_pinned();
    if std::thread::panicking() {
        let m = current_m().expect("yield on an M");
        yield_keeping_m(m, g);
        return;
    }
    // SAFETY: caller's contract.
    unsafe { suspend(g, if preempted { Switch::Preempt } else { Switch::Gosched }) };
}

/// Aborts the process if dropped during unwinding (armed around code that
/// must not unwind).
struct AbortOnUnwind(&'static str);

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        fatal(self.0);
    }
}

/// Go's `throw`: prints `fatal error: ...` and aborts.
pub(crate) fn fatal(msg: &str) -> ! {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "fatal error: {msg}");
    std::process::abort();
}

/// Sleeps `d` on the sysmon note, or until woken.
pub(crate) fn sysmon_sleep(s: &Sched, d: Option<Duration>) {
    let (m, cv) = &s.sysmon_note;
    let mut w = m.lock();
    if s.shutdown.load(Ordering::SeqCst) {
        return;
    }
    *w = true;
    match d {
        Some(d) => {
            cv.wait_for(&mut w, d);
        }
        None => cv.wait(&mut w),
    }
    *w = false;
}
