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
//! * Tasks run one at a time, in the order queued, on the finalizer
//!   thread, outside every critical section and collector lock; they may
//!   call any API (allocate, `collect()`, take any lock). A panic in one
//!   aborts the process with the task's name (an unwind would leave a
//!   header `DROPPING` forever, or lose a cleanup).
//! * `wait` returns once every task queued before it was called has run,
//!   or once the running task has run for `STUCK` (1 s): a `Drop` that
//!   blocks — on a lock a `retain` holds, on a thread that is itself in
//!   `collect()` — must not hang every later `collect()` (Go's
//!   `runtime.GC` never waits for finalizers; a blocked finalizer there only
//!   delays the finalizers behind it, as here). The first such wait warns
//!   once per stuck task, naming it. On the finalizer thread itself `wait`
//!   returns at once (waiting would be waiting for itself).

use crate::sweep::PendingDrop;
use core::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::collections::VecDeque;

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

/// How long the running task may take before `wait` stops waiting for it.
const STUCK: Duration = Duration::from_secs(1);
/// The running task: when it started (`None` between tasks), what it is,
/// and its sequence number. Written by the finalizer thread only.
static RUNNING: Mutex<Running> = Mutex::new(Running { since: None, what: ("", ""), seq: 0 });
/// The sequence number of the last task `wait` warned about (0: none).
static WARNED: AtomicU64 = AtomicU64::new(0);

struct Running {
    since: Option<Instant>,
    what: (&'static str, &'static str),
    seq: u64,
}

thread_local! {
    static ON_FINALIZER_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Starts the finalizer thread if it is not running. Cycles call it before
/// their first stop, so the spawn happens outside every critical section.
pub(crate) fn start() {
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("tricolor-gc-finalizer".into())
            .spawn(run)
            .expect("tricolor-gc: cannot start the finalizer thread");
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
/// collector runs).
pub(crate) fn on_finalizer_thread() -> bool {
    ON_FINALIZER_THREAD.with(|c| c.get())
}

/// Waits until every task queued before this call has run, or until the
/// running task has run for `STUCK` (then warns once for that task and
/// returns: the tasks behind it wait for it, `collect()` does not). Returns
/// at once on the finalizer thread. The caller holds no collector lock.
pub(crate) fn wait() {
    if on_finalizer_thread() {
        return;
    }
    let target = QUEUE.lock().queued;
    let mut g = DONE_LOCK.lock();
    while DONE.load(Ordering::Acquire) < target {
        let (ran, what, seq) = {
            let r = RUNNING.lock();
            (r.since.map(|t| t.elapsed()), r.what, r.seq)
        };
        match ran {
            Some(ran) if ran >= STUCK => {
                if WARNED.swap(seq, Ordering::Relaxed) != seq {
                    eprintln!(
                        "tricolor-gc: {}{} has run for over {} s on the finalizer thread; collect() no longer \
                         waits for it or for the drops and cleanups queued behind it (Drop code and cleanups \
                         should not block: hand long work to a thread)",
                        what.0,
                        what.1,
                        STUCK.as_secs()
                    );
                }
                return;
            }
            Some(ran) => {
                DONE_CV.wait_for(&mut g, STUCK - ran);
            }
            None => {
                DONE_CV.wait_for(&mut g, STUCK);
            }
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

fn run() {
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
        {
            let mut r = RUNNING.lock();
            r.seq += 1;
            r.what = match &task {
                Task::Drop(d) => ("the drop glue of ", d.type_name()),
                Task::Cleanup(_) => ("a cleanup", ""),
            };
            r.since = Some(Instant::now());
        }
        let t0 = crate::exectrace::on().then(std::time::Instant::now);
        let traced = match &task {
            Task::Drop(d) => d.type_name(),
            Task::Cleanup(_) => "cleanup",
        };
        match task {
            Task::Drop(d) => {
                let guard = AbortOnUnwind("the drop glue of ", d.type_name());
                d.run();
                core::mem::forget(guard);
            }
            Task::Cleanup(f) => {
                let guard = AbortOnUnwind("a cleanup", "");
                f();
                core::mem::forget(guard);
            }
        }
        if let Some(t0) = t0 {
            crate::exectrace::slice("finalizer", traced, t0, std::time::Instant::now());
        }
        RUNNING.lock().since = None;
        DONE.fetch_add(1, Ordering::Release);
        let _g = DONE_LOCK.lock();
        DONE_CV.notify_all();
    }
}
