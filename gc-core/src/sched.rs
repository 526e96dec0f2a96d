//! The interface through which a scheduler (gc-runtime) plugs into the
//! collector. gc-core never imports the scheduler: the scheduler installs
//! [`Hooks`] and calls the entry points below from its `findRunnable`.
//!
//! Without a scheduler (or while none is installed) the collector runs its
//! mark on OS threads, as it always did (`mark/workers.rs`). With one, each
//! cycle's concurrent mark is done by the scheduler's mark-worker Gs in Go's
//! three modes (`mark/gworker.rs`): `findRunnable` asks [`find_worker`] for a
//! dedicated or fractional worker before it looks at its run queues, and
//! [`idle_worker_wanted`] before it gives up its P; the worker G then calls
//! [`run_worker`].
//!
//! Invariants:
//! * At most one scheduler is installed at a time (the first runtime that
//!   asks; the others' Gs are still mutators, only not mark workers). It
//!   uninstalls itself before its Ms stop, and a cycle whose workers were on
//!   it finishes on the collector's own threads (`gworker::run_round`
//!   returns `None`), so a dropped runtime never leaves a cycle unfinished.
//! * [`preempt_pending`] is only a hint: it may be set while no G needs to
//!   yield (the hook then returns at once), and the hook runs only where a
//!   G may switch: after an allocation, outside every critical section and
//!   pin.

use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use parking_lot::Mutex;

pub use crate::mark::gworker::{
    find_worker, idle_worker_wanted, mark_start, mark_work_available, run_worker, PMark, WorkerMode,
};

/// What gc-core calls in the scheduler.
pub struct Hooks {
    /// Marking work is waiting and up to `n` more workers could run: wake
    /// idle Ps to look for it (Go: the `wakep` calls of `gcStart` and of
    /// `enlistWorker`).
    pub wake_workers: fn(n: usize),
    /// The scheduler's GOMAXPROCS.
    pub procs: fn() -> usize,
}

static HOOKS: AtomicPtr<Hooks> = AtomicPtr::new(core::ptr::null_mut());
/// Serialises install and uninstall with the start of a mark round.
pub(crate) static HOOKS_LOCK: Mutex<()> = Mutex::new(());
static PREEMPT: AtomicBool = AtomicBool::new(false);
static PREEMPT_HOOK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets the function an allocating G calls while [`preempt_pending`] is
/// set: it yields the G if its P was asked to (Go: the preemption check in
/// `mallocgc`'s stack check). Called outside every critical section and
/// pin, never while the thread is unwinding. Process-wide and set once
/// (later calls are ignored): the function finds its scheduler itself.
pub fn set_preempt_hook(f: fn()) {
    let _ = PREEMPT_HOOK.set(f);
}

/// Installs `h` as the collector's scheduler. Returns false (and changes
/// nothing) if another scheduler is installed.
pub fn install(h: &'static Hooks) -> bool {
    let _g = HOOKS_LOCK.lock();
    HOOKS
        .compare_exchange(core::ptr::null_mut(), h as *const Hooks as *mut Hooks, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Uninstalls `h` if it is installed. A mark round that `h`'s workers were
/// serving is taken over by the collector's threads; once this returns no
/// new worker starts on `h`'s scheduler ([`find_worker`] and
/// [`idle_worker_wanted`] refuse), and workers already running stop at
/// their next check.
pub fn uninstall(h: &'static Hooks) {
    {
        let _g = HOOKS_LOCK.lock();
        let _ = HOOKS.compare_exchange(
            h as *const Hooks as *mut Hooks,
            core::ptr::null_mut(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }
    crate::mark::gworker::host_lost();
}

/// The installed scheduler, if any.
pub(crate) fn hooks() -> Option<&'static Hooks> {
    // SAFETY: only `&'static Hooks` are ever stored.
    unsafe { HOOKS.load(Ordering::Acquire).as_ref() }
}

static BLOCK_HOOK: std::sync::OnceLock<fn(&mut dyn FnMut())> = std::sync::OnceLock::new();

/// Sets the function through which gc-core runs a wait that only the
/// collector can end (`collect()` waiting for mark termination or for the
/// finalizer): the scheduler must give up the caller's P for the wait (Go's
/// `entersyscallblock`), or the mark workers that would end it could be
/// left without a P. Process-wide and set once; outside a G the function
/// just calls its argument.
pub fn set_block_hook(f: fn(&mut dyn FnMut())) {
    let _ = BLOCK_HOOK.set(f);
}

/// Runs `wait` (which blocks the thread until the collector makes progress)
/// with the caller's P handed off, if a scheduler says how.
pub(crate) fn block_on_collector(mut wait: impl FnMut()) {
    match BLOCK_HOOK.get() {
        Some(f) => f(&mut wait),
        None => wait(),
    }
}

/// Makes a G that the park hook parked runnable again (Go: `goready`).
pub type Waker = Box<dyn FnOnce() + Send>;

/// What a G parked through the park hook waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkReason {
    /// A collection cycle to end (`collect()`; Go: `gcWaitOnMark`).
    Cycle,
    /// A `GcVec`'s writer lock (Go: `sync.Mutex`), held by a thread or G
    /// that is running (a holder never parks while holding it).
    Lock,
}

/// The park hook: parks the calling G and, once it is off its stack, calls
/// `commit(waker, arg)`, which either files the waker and returns true (the
/// G stays parked until someone calls the waker) or returns false (the
/// park is cancelled). Returns false at once, doing nothing, if the caller
/// is not a G.
pub type ParkHook = fn(reason: ParkReason, commit: fn(Waker, u64) -> bool, arg: u64) -> bool;

static PARK_HOOK: std::sync::OnceLock<ParkHook> = std::sync::OnceLock::new();

/// Sets the function through which gc-core parks a G that waits for the
/// collector (`collect()` waiting for a cycle to end, as Go's `runtime.GC`
/// parks its goroutine) or for a `GcVec` writer lock, so that such a G
/// holds neither a P nor an OS thread. `commit` is a plain function and
/// `arg` a number, so nothing on the parked G's stack is read once it is
/// off it; `commit` takes a short lock and never blocks. Whoever a parked G
/// waits for is running (the collector, a lock holder that may not park),
/// so a scheduler must not count such a G as deadlocked. Process-wide and
/// set once.
pub fn set_park_hook(f: ParkHook) {
    let _ = PARK_HOOK.set(f);
}

/// Parks the calling G through the park hook; false if there is none or
/// the caller may not park here (not a G, inside a pin or `retain`'s
/// closure), and the caller then waits on its thread.
pub(crate) fn park_g(reason: ParkReason, commit: fn(Waker, u64) -> bool, arg: u64) -> bool {
    if !crate::mutator::may_switch() {
        return false;
    }
    match PARK_HOOK.get() {
        Some(f) => f(reason, commit, arg),
        None => false,
    }
}

/// GOMAXPROCS as the collector should count it: the hosting scheduler's
/// while one is installed (`Builder::procs` may differ from the
/// environment), else the environment's (`GOMAXPROCS`, default the CPUs).
pub(crate) fn procs() -> usize {
    match hooks() {
        Some(h) => (h.procs)().max(1),
        None => crate::env::config().max_procs.max(1),
    }
}

/// Asks every G that allocates to call the scheduler's `preempt` hook
/// (`true`), or stops asking (`false`). The scheduler sets it when it flags
/// a P for preemption and clears it when no P is flagged.
pub fn set_preempt_pending(on: bool) {
    PREEMPT.store(on, Ordering::Relaxed);
}

/// True if some P may have been asked to preempt its G.
#[inline(always)]
pub fn preempt_pending() -> bool {
    PREEMPT.load(Ordering::Relaxed)
}

/// The allocation path's preemption point (outside every section and pin).
#[cold]
#[inline(never)]
pub(crate) fn preempt_slow() {
    if !crate::mutator::may_switch() || std::thread::panicking() {
        return;
    }
    if let Some(f) = PREEMPT_HOOK.get() {
        f();
    }
}

/// Declares that callers may from now on resume on another OS thread after
/// a call (a scheduler's task switch). gc-core then reads its per-thread
/// mutator pointer through a call the optimizer cannot merge with an
/// earlier one, instead of an inlined load (pointer-model R13). Call it
/// before the first task runs; it cannot be undone. gc-runtime calls it in
/// `Builder::build`.
///
/// ```
/// // A scheduler calls this once, before its first task runs.
/// gc_core::sched::threads_migrate();
/// ```
pub fn threads_migrate() {
    crate::mutator::set_threads_migrate();
}
