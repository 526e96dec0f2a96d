//! The finalizer thread: where the user code the collector defers runs —
//! drop glue of dead pointer-free objects and cleanups (Go runs finalizers
//! on one goroutine, `runfinq`, and 1.24's cleanups on another, never
//! inside an allocation or the sweeper).
//!
//! The sweeper finds an object dead inside a critical section, often in the
//! middle of another thread's `Gc::new`, or while the world is stopped. User
//! code must not run there: a `Drop` that takes a lock the allocating thread
//! holds, or calls `collect()`, would deadlock it. So the sweeper only
//! queues a [`Task`], and this module's thread runs it.
//!
//! Invariants:
//! * `queue` never runs user code and takes only this module's queue lock,
//!   a leaf lock never held while a task runs; so it may be called inside a
//!   critical section or with the world stopped.
//! * Tasks run in the order queued on the finalizer thread (a second one
//!   exists only while the first is stuck, below), outside every critical section and collector lock; they may
//!   call any API (allocate, `collect()`, take any lock). A panic in one
//!   aborts the process with the task's name (an unwind would leave a
//!   header `DROPPING` forever, or lose a cleanup).
//! * A task that blocks does not stop the queue: when every finalizer
//!   thread has run its task for `STUCK` and tasks wait, another thread
//!   starts (at most `MAX_WORKERS`), so the drop glue behind a blocked
//!   `Drop` — often no user code at all, a `String` field — still runs and
//!   its objects are freed (a blocked Go finalizer delays only other
//!   finalizers; here every drop glue shares the queue, so the queue must
//!   keep moving). Checked by `wait` and after each background sweep.
//! * `wait` returns once every task queued before it was called has run,
//!   except tasks that have run for `STUCK` (1 s): a `Drop` that blocks —
//!   on a lock a `retain` holds, on a thread that is itself in `collect()`
//!   — must not hang that `collect()` or any later one (Go's `runtime.GC`
//!   never waits for finalizers at all). It warns once per stuck task,
//!   naming it. Tasks that run long but finish keep `collect()` waiting:
//!   they make progress. On a finalizer thread `wait` returns at once
//!   (waiting would be waiting for itself).

use crate::sweep::PendingDrop;
use core::sync::atomic::{AtomicU64, Ordering};
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A cleanup closure (`Gc::add_cleanup`).
pub(crate) type CleanupFn = Box<dyn FnOnce() + Send + 'static>;

/// User code the collector deferred.
pub(crate) enum Task {
    /// Drop glue of a dead object.
    Drop(PendingDrop),
    /// A cleanup of a dead object.
    Cleanup(CleanupFn),
}

struct Queue {
    tasks: VecDeque<Task>,
    /// Tasks ever queued.
    queued: u64,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue { tasks: VecDeque::new(), queued: 0 });
/// Signals the finalizer thread that tasks are queued.
static READY: Condvar = Condvar::new();
/// Tasks ever finished.
static DONE: AtomicU64 = AtomicU64::new(0);
static DONE_LOCK: Mutex<()> = Mutex::new(());
/// Signals waiters that `DONE` grew.
static DONE_CV: Condvar = Condvar::new();
static STARTED: std::sync::Once = std::sync::Once::new();

/// How long a task may run before it counts as stuck: `wait` stops waiting
/// for it, and the queue gets another thread.
const STUCK: Duration = Duration::from_secs(1);
/// Most finalizer threads (all but the first start only when the others
/// are stuck).
const MAX_WORKERS: usize = 8;
/// What each finalizer thread is running, indexed by thread: when the task
/// started (`None` between tasks), what it is, and a sequence number
/// unique over all tasks. Each entry is written by its thread only.
static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());
/// Sequence numbers of tasks.
static SEQ: AtomicU64 = AtomicU64::new(0);
/// The sequence number of the last task `wait` warned about (0: none).
static WARNED: AtomicU64 = AtomicU64::new(0);

struct Running {
    since: Option<Instant>,
    what: (&'static str, &'static str),
    seq: u64,
}

/// Starts finalizer thread number `index` (its `RUNNING` entry).
fn spawn_worker(index: usize) {
    let name = if index == 0 { "tricolor-gc-finalizer".to_string() } else { format!("tricolor-gc-finalizer-{index}") };
    std::thread::Builder::new()
        .name(name)
        .spawn(move || run(index))
        .expect("tricolor-gc: cannot start a finalizer thread");
}

/// The running tasks that are stuck, and whether every thread is stuck.
fn stuck(now: Instant) -> (u64, bool, Option<(&'static str, &'static str, u64)>) {
    let r = RUNNING.lock();
    let mut n = 0;
    let mut first = None;
    for w in r.iter() {
        if let Some(t) = w.since {
            if now.saturating_duration_since(t) >= STUCK {
                n += 1;
                first.get_or_insert((w.what.0, w.what.1, w.seq));
            }
        }
    }
    (n, !r.is_empty() && n as usize == r.len(), first)
}

/// If every finalizer thread is stuck and tasks wait behind them, starts
/// another thread (up to `MAX_WORKERS`). Called outside every critical
/// section and collector lock (`wait`, the background sweeper).
pub(crate) fn keep_queue_moving() {
    if !STARTED.is_completed() || QUEUE.lock().tasks.is_empty() {
        return;
    }
    let (_, all_stuck, _) = stuck(Instant::now());
    if !all_stuck {
        return;
    }
    let index = {
        let mut r = RUNNING.lock();
        if r.len() >= MAX_WORKERS {
            return;
        }
        r.push(Running { since: None, what: ("", ""), seq: 0 });
        r.len() - 1
    };
    spawn_worker(index);
}

thread_local! {
    static ON_FINALIZER_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Starts the finalizer thread if it is not running. Cycles call it before
/// their first stop, so the spawn happens outside every critical section.
pub(crate) fn start() {
    STARTED.call_once(|| {
        RUNNING.lock().push(Running { since: None, what: ("", ""), seq: 0 });
        spawn_worker(0);
    });
}

/// Queues `tasks` for the finalizer thread.
pub(crate) fn queue(tasks: impl IntoIterator<Item = Task>) {
    let mut q = QUEUE.lock();
    let before = q.tasks.len();
    q.tasks.extend(tasks);
    let n = q.tasks.len() - before;
    if n == 0 {
        return;
    }
    q.queued += n as u64;
    drop(q);
    // A cycle ran before any object could die, so the thread is normally
    // running already; this only guards direct callers.
    start();
    READY.notify_one();
}

/// True on the finalizer thread (so inside a `Drop` or a cleanup the
/// collector runs). Never inlined, behind a compiler fence: the caller may
/// be a gc-runtime G that changed thread since its last call (R13).
#[inline(never)]
pub(crate) fn on_finalizer_thread() -> bool {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    ON_FINALIZER_THREAD.with(|c| c.get())
}

/// True if some task queued so far has not run yet ([`wait`] would wait;
/// false on a finalizer thread, where it never does).
pub(crate) fn pending() -> bool {
    !on_finalizer_thread() && DONE.load(Ordering::Acquire) < QUEUE.lock().queued
}

/// Waits until every task queued before this call has run, except tasks
/// that have run for `STUCK` (warned about once each): those delay neither
/// `collect()` nor, through `keep_queue_moving`, the tasks behind them.
/// Returns at once on a finalizer thread. The caller holds no collector
/// lock.
pub(crate) fn wait() {
    if on_finalizer_thread() {
        return;
    }
    let target = QUEUE.lock().queued;
    loop {
        let done = DONE.load(Ordering::Acquire);
        if done >= target {
            return;
        }
        let now = Instant::now();
        let (stuck_n, all_stuck, first) = stuck(now);
        if done + stuck_n >= target || (all_stuck && RUNNING.lock().len() >= MAX_WORKERS) {
            // What is left is stuck: warn once per task and stop waiting.
            if let Some((what, ty, seq)) = first {
                if WARNED.swap(seq, Ordering::Relaxed) != seq {
                    eprintln!(
                        "tricolor-gc: {what}{ty} has run for over {} s on a finalizer thread; collect() no longer \
                         waits for it (Drop code and cleanups should not block: hand long work to a thread)",
                        STUCK.as_secs()
                    );
                }
            }
            return;
        }
        keep_queue_moving();
        let mut g = DONE_LOCK.lock();
        if DONE.load(Ordering::Acquire) == done {
            DONE_CV.wait_for(&mut g, Duration::from_millis(100));
        }
    }
}

/// Aborts, naming the running task (what it is, and of which type), if
/// it unwinds.
struct AbortOnUnwind(&'static str, &'static str);
impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!("tricolor-gc: fatal error: panic while running {}{}", self.0, self.1);
        std::process::abort();
    }
}

fn run(index: usize) {
    ON_FINALIZER_THREAD.with(|c| c.set(true));
    loop {
        let task = {
            let mut q = QUEUE.lock();
            loop {
                if let Some(t) = q.tasks.pop_front() {
                    break t;
                }
                READY.wait(&mut q);
            }
        };
        // What the task is: for the stuck warning, the abort on unwind and
        // the trace slice.
        let what = match &task {
            Task::Drop(d) => ("the drop glue of ", d.type_name()),
            Task::Cleanup(_) => ("a cleanup", ""),
        };
        let start = Instant::now();
        {
            let mut r = RUNNING.lock();
            let me = &mut r[index];
            me.seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
            me.what = what;
            me.since = Some(start);
        }
        let guard = AbortOnUnwind(what.0, what.1);
        match task {
            Task::Drop(d) => d.run(),
            Task::Cleanup(f) => f(),
        }
        core::mem::forget(guard);
        if crate::exectrace::on() {
            let name = if what.1.is_empty() { "cleanup" } else { what.1 };
            crate::exectrace::slice("finalizer", name, start, Instant::now());
        }
        RUNNING.lock()[index].since = None;
        DONE.fetch_add(1, Ordering::Release);
        let _g = DONE_LOCK.lock();
        DONE_CV.notify_all();
    }
}
