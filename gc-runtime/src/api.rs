//! The public API: [`Runtime`] and its [`Builder`], [`go`], [`JoinHandle`],
//! [`gosched`], [`safepoint`], [`sleep`], [`blocking`] and [`GLocal`].
//!
//! Invariants:
//!
//! * Everything a G runs is `Send + 'static` and so is what it returns
//!   ([`go`]'s bounds, like `std::thread::spawn`): a G may run on any M.
//! * A user panic is caught at the G's entry and handed to the joiner
//!   ([`JoinHandle::join`] → `Err`, [`Runtime::block_on`] re-raises it);
//!   it never unwinds through the scheduler.
//! * A runtime exists only after the user accepted the migration contract
//!   in `unsafe` ([`Builder::allow_migration`]); see its doc.
//! * G-only operations outside a G: [`go`] panics with a clear message;
//!   [`gosched`], [`sleep`], [`blocking`] and [`safepoint`] fall back to
//!   the calling OS thread (yield, `thread::sleep`, a plain call, nothing);
//!   [`GLocal::with`] panics; [`JoinHandle::join`] blocks the thread.

use crate::park::{self, Unparker, WaitReason};
use crate::proc::{self, LocalBox, MainState, MainWaiter, Sched};
use parking_lot::{Condvar, Mutex};
use std::any::Any;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default usable stack size of a G: 256 KiB, reserved and touched lazily.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// Configures a [`Runtime`].
#[derive(Clone, Debug)]
pub struct Builder {
    procs: Option<usize>,
    stack_size: usize,
    migration: bool,
}

impl Builder {
    /// The number of Ps (GOMAXPROCS). Default: the `GOMAXPROCS` environment
    /// variable, parsed as gc-core parses it (a bad value warns once and
    /// falls back to the CPU count). At least 1.
    pub fn procs(mut self, n: usize) -> Builder {
        self.procs = Some(n.max(1));
        self
    }

    /// Usable bytes of each G stack (rounded up to pages, at least 4
    /// pages); a guard page is added below. Default [`DEFAULT_STACK_SIZE`].
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = bytes;
        self
    }

    /// Accepts the migration contract, which [`Builder::build`] requires.
    ///
    /// # Safety
    ///
    /// A G runs on whichever M (OS thread) picks it, and may resume on a
    /// different one after any runtime call that can switch (every
    /// blocking primitive, [`gosched`], [`safepoint`], [`sleep`], [`go`],
    /// [`JoinHandle::join`], the end of a [`blocking`] call) and after any
    /// gc-core allocation (`Gc::new` and the other constructors, `GcVec`
    /// pushes, `Weak` creation), the end of a `pin`,
    /// `tricolor_gc::safepoint` and `tricolor_gc::blocking`: an allocation
    /// is a preemption point once sysmon flagged the G's slice. The compiler,
    /// though, assumes a function never changes thread: after inlining it
    /// may compute a `thread_local!`'s address once and use it on both
    /// sides of such a call, so the G would read and write the previous
    /// M's slot while that M runs another G on it — a data race even when
    /// no reference is held across the call (pointer-model R13). The
    /// caller promises, for all code that runs in a G:
    ///
    /// * **A thread-local is accessed only inside a fenced accessor**: a
    ///   function that is `#[inline(never)]`, starts with
    ///   `compiler_fence(Ordering::SeqCst)`, makes no switching call
    ///   itself, and returns only owned values (no reference into the
    ///   thread-local, no guard). Such a call is compiled on its own and
    ///   never merged with an earlier one, so every thread-local address
    ///   computed inside it is the current M's. This covers thread-locals
    ///   that libraries use too — std's `thread::current()`,
    ///   `RandomState::new()` (so `HashMap::new()`), `io::stdout().lock()`
    ///   (so `println!`) each touch one, and a library's code may be
    ///   inlined into the G's own function (with LTO std's as well) — so
    ///   call such functions through an accessor (example below). gc-core
    ///   and this crate read their own thread-locals this way.
    /// * **Nothing tied to the thread is held across a switch**: a
    ///   reference from `LocalKey::with`, a value another G could reach
    ///   through a thread-local (an `Rc` clone stored in one), a guard
    ///   whose lock records its owner thread (`std::io::StdoutLock` and
    ///   other reentrant locks) or must be released on the thread that
    ///   took it (`std::sync::MutexGuard`), a raw `pthread_self` identity,
    ///   a thread's signal mask, `errno` read after the switch.
    ///
    /// Per-G state belongs in a [`GLocal`], which follows the G from M to
    /// M. gc-core's values need no promise: `Gc` handles are `Send` (a
    /// root slot may be released from any thread), its thread-locals are
    /// read through accessors as above, and a G switch inside a `pin`
    /// (whose `Guard` and `Ref`s are bound to the thread's mutator) panics
    /// before anything switches. A G that switches while it unwinds stays
    /// on its M (std's panic count is per thread; R14), so the panic
    /// machinery itself needs no promise either.
    ///
    /// Breaking the promise lets safe code race, which is undefined
    /// behaviour.
    ///
    /// ```
    /// use gc_runtime::{go, gosched, Runtime};
    /// use std::collections::HashMap;
    /// use std::sync::atomic::{compiler_fence, Ordering};
    ///
    /// /// A thread-local touched only here: never inlined, fenced, no
    /// /// switch inside, an owned result.
    /// #[inline(never)]
    /// fn new_map() -> HashMap<u32, u32> {
    ///     compiler_fence(Ordering::SeqCst);
    ///     HashMap::new() // RandomState::new() reads a thread-local
    /// }
    ///
    /// // SAFETY: every thread-local access in these Gs goes through
    /// // `new_map`, and nothing thread-bound is held across a switch.
    /// let rt = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
    /// let n = rt.block_on(|| {
    ///     let hs: Vec<_> = (0..4)
    ///         .map(|i| {
    ///             go(move || {
    ///                 let mut m = new_map();
    ///                 m.insert(i, i);
    ///                 gosched(); // may resume on another M
    ///                 let mut m2 = new_map(); // that M's keys: safe
    ///                 m2.extend(m);
    ///                 m2.len()
    ///             })
    ///         })
    ///         .collect();
    ///     hs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
    /// });
    /// assert_eq!(n, 4);
    /// ```
    pub unsafe fn allow_migration(mut self) -> Builder {
        self.migration = true;
        self
    }

    /// Builds the runtime: its Ps, and sysmon's thread (Ms start on demand).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if [`Builder::allow_migration`] was not called; the
    /// error of the OS if sysmon's thread cannot start.
    pub fn build(self) -> io::Result<Runtime> {
        // A G's stack plus its guard page must fit the address space; a
        // size that overflows the page rounding would map only the guard.
        const MAX_STACK: usize = 1 << 40;
        if self.stack_size > MAX_STACK {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("gc_runtime: stack_size {} is above the largest supported stack (1 TiB)", self.stack_size),
            ));
        }
        if !self.migration {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "gc_runtime: Gs migrate between OS threads; accept the thread-local contract once with \
                 `unsafe { Runtime::builder().allow_migration() }` (see docs/runtime.md, \"Migration\")",
            ));
        }
        let procs = self.procs.unwrap_or_else(|| gc_core::env::config().max_procs).max(1);
        // Before any G exists: gc-core reads its thread-locals through
        // unmergeable calls from now on (R13).
        gc_core::sched::threads_migrate();
        let sched = Sched::new(procs, self.stack_size, godebug());
        crate::signal::install();
        crate::sysmon::start(sched.clone())?;
        crate::gcworker::install(&sched);
        Ok(Runtime { sched })
    }
}

/// The scheduler's `GODEBUG` keys (`schedtrace=X`, `scheddetail=1`), parsed
/// as Go's `parsegodebug`: comma-separated `key=value` items, later ones
/// win, unknown keys ignored; a bad number warns once and keeps the default.
fn godebug() -> proc::Debug {
    let mut d = proc::Debug::default();
    let Ok(v) = std::env::var("GODEBUG") else { return d };
    for item in v.split(',') {
        let Some((key, value)) = item.split_once('=') else { continue };
        if key != "schedtrace" && key != "scheddetail" {
            continue;
        }
        match value.parse::<u32>() {
            Ok(n) if key == "schedtrace" => d.schedtrace = n,
            Ok(n) => d.scheddetail = n > 0,
            Err(_) => {
                warn_once(&format!("tricolor-gc: ignoring GODEBUG {key}={value:?}: not a decimal integer; using 0"))
            }
        }
    }
    d
}

fn warn_once(line: &str) {
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock();
    if !seen.iter().any(|s| s == line) {
        seen.push(line.to_string());
        eprintln!("{line}");
    }
}

/// A G/M/P scheduler. Dropping it stops its Ms at their next scheduling
/// point and abandons the Gs that have not finished: they never run
/// again, their stacks and everything they own are leaked (never freed
/// while code could still run on them); a G running at that moment keeps
/// running until it next yields or parks. Go instead exits the process when
/// `main` returns.
pub struct Runtime {
    sched: Arc<Sched>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("procs", &self.sched.nprocs()).finish()
    }
}

impl Runtime {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder { procs: None, stack_size: DEFAULT_STACK_SIZE, migration: false }
    }

    /// GOMAXPROCS of this runtime. It is fixed at build: changing it needs
    /// a stop-the-world (Go's `procresize` under `stopTheWorldGC`), which
    /// issue 12 brings; until then there is no `set_procs`.
    pub fn procs(&self) -> usize {
        self.sched.nprocs()
    }

    /// Runs `f` as the main G and blocks the calling thread until it
    /// returns. The calling thread does not run Gs itself: it waits, while
    /// the runtime's Ms run `f` and every G it spawns.
    ///
    /// # Panics
    ///
    /// Re-raises a panic of `f`. Panics with Go's `all goroutines are
    /// asleep - deadlock!` when every G of the runtime is parked, none is
    /// runnable or inside [`blocking`], and no timer is pending. Panics if
    /// called from a G or scheduler thread (it would block an M).
    pub fn block_on<F, T>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        assert!(proc::current_m().is_none(), "Runtime::block_on called from inside a runtime (it would block an M)");
        let waiter = Arc::new(MainWaiter { state: Mutex::new(MainState::Pending), cv: Condvar::new() });
        self.sched.add_main_waiter(waiter.clone());
        let w2 = waiter.clone();
        let g = self.sched.new_g(Box::new(move || {
            let r = catch_unwind(AssertUnwindSafe(f)).map(|v| Box::new(v) as Box<dyn Any + Send>);
            proc::drop_current_g_locals();
            let mut st = w2.state.lock();
            *st = MainState::Done(r);
            w2.cv.notify_all();
        }));
        proc::newproc(&self.sched, g);
        let mut st = waiter.state.lock();
        let r = loop {
            match std::mem::replace(&mut *st, MainState::Pending) {
                MainState::Pending => waiter.cv.wait(&mut st),
                MainState::Done(r) => break r,
                MainState::Deadlock => {
                    drop(st);
                    self.sched.remove_main_waiter(&waiter);
                    panic!("all goroutines are asleep - deadlock!");
                }
            }
        };
        drop(st);
        self.sched.remove_main_waiter(&waiter);
        match r {
            Ok(v) => *v.downcast::<T>().expect("block_on result type"),
            Err(p) => resume_unwind(p),
        }
    }

    /// Go's `schedtrace` text for this runtime, as `GODEBUG=schedtrace`
    /// prints it (`detailed`: as with `scheddetail=1`).
    pub fn sched_trace(&self, detailed: bool) -> String {
        crate::sysmon::schedtrace(&self.sched, self.sched.epoch, detailed)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.sched.shut_down();
    }
}

struct PacketState<T> {
    result: Option<std::thread::Result<T>>,
    waiter: Option<Unparker>,
}

struct Packet<T> {
    state: Mutex<PacketState<T>>,
}

/// An owned permission to join a G (like `std::thread::JoinHandle`).
/// Dropping it detaches the G.
pub struct JoinHandle<T> {
    packet: Arc<Packet<T>>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle").field("finished", &self.is_finished()).finish()
    }
}

impl<T> JoinHandle<T> {
    /// Waits for the G to finish: from a G this parks the G (its M runs
    /// others); from any other thread it blocks the thread. Returns the G's
    /// value, or `Err` with its panic payload, as `std::thread` does.
    pub fn join(self) -> std::thread::Result<T> {
        let mut st = self.packet.state.lock();
        if let Some(r) = st.result.take() {
            return r;
        }
        park::park(WaitReason::Join, move |u| {
            st.waiter = Some(u);
            drop(st);
            true
        });
        let r = self.packet.state.lock().result.take();
        r.expect("a joined G left its result")
    }

    /// Whether the G has finished.
    pub fn is_finished(&self) -> bool {
        self.packet.state.lock().result.is_some()
    }
}

/// Starts a new G running `f` (Go: `go f()`), queued on the current P's
/// `runnext`. Like `std::thread::spawn`, `f` and its result must be
/// `Send + 'static`.
///
/// ```
/// use gc_runtime::{go, Runtime};
/// // SAFETY: nothing thread-bound is held across runtime calls.
/// let rt = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
/// let squares = rt.block_on(|| {
///     let hs: Vec<_> = (0..10u64).map(|i| go(move || i * i)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
/// });
/// assert_eq!(squares, 285);
/// ```
///
/// A `!Send` capture does not compile (a G may run on any M):
///
/// ```compile_fail
/// let rc = std::rc::Rc::new(1);
/// let _ = gc_runtime::go(move || drop(rc));
/// ```
///
/// Nor does a `!Send` result:
///
/// ```compile_fail
/// let _ = gc_runtime::go(|| std::rc::Rc::new(1));
/// ```
///
/// # Panics
///
/// Outside a runtime: "gc_runtime::go called outside a runtime (use
/// Runtime::block_on)".
pub fn go<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let Some(m) = proc::current_m() else {
        panic!("gc_runtime::go called outside a runtime (use Runtime::block_on)");
    };
    let s = m.sched.clone();
    let packet = Arc::new(Packet { state: Mutex::new(PacketState { result: None, waiter: None }) });
    let p2 = packet.clone();
    let g = s.new_g(Box::new(move || {
        let r = catch_unwind(AssertUnwindSafe(f));
        proc::drop_current_g_locals();
        let waiter = {
            let mut st = p2.state.lock();
            st.result = Some(r);
            st.waiter.take()
        };
        if let Some(u) = waiter {
            u.unpark();
        }
    }));
    proc::newproc(&s, g);
    safepoint();
    JoinHandle { packet }
}

/// Yields the processor (Go: `runtime.Gosched`): the G goes to the global
/// run queue and runs again later. Outside a G: `std::thread::yield_now`.
pub fn gosched() {
    match proc::current_running_g() {
        // SAFETY: g is the G running on this thread.
        Some((_, g)) => unsafe { proc::yield_now(g, false) },
        None => std::thread::yield_now(),
    }
}

/// True if the caller runs as a G of some runtime (not on a plain thread,
/// and not inside `blocking`).
pub fn in_runtime() -> bool {
    proc::current_running_g().is_some()
}

/// A preemption point: if sysmon flagged this G's time slice as used up
/// (10 ms), yields as [`gosched`] does; otherwise returns at once. Every
/// runtime call includes one. Outside a G it does nothing.
#[inline]
pub fn safepoint() {
    if let Some((m, g)) = proc::current_running_g() {
        if let Some(p) = m.p.get() {
            let pp = &m.sched.procs[p];
            // Inside a gc-core pin (or GcVec::retain's closure) the G may
            // not switch: the preemption waits for the next safepoint
            // outside it, so `go` and the like behave the same there
            // whatever the time slice.
            if pp.preempt.load(Ordering::Relaxed) && gc_core::may_switch() {
                pp.preempt.store(false, Ordering::Relaxed);
                // SAFETY: g is the G running on this thread.
                unsafe { proc::yield_now(g, true) };
            }
        }
    }
}

/// Parks the G for at least `d` on its P's timer heap (Go: `time.Sleep`).
/// Outside a G: `std::thread::sleep`.
pub fn sleep(d: Duration) {
    if proc::current_running_g().is_none() {
        std::thread::sleep(d);
        return;
    }
    if d.is_zero() {
        safepoint();
        return;
    }
    let when = Instant::now().checked_add(d).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 40));
    park::park(WaitReason::Sleep, move |u| {
        drop(park::add_timer(when, Box::new(move || u.unpark())));
        true
    });
}

/// Runs `f`, which may block its OS thread (a system call, a blocking
/// read), without holding up other Gs (Go: `entersyscall`/`exitsyscall`).
/// The G keeps its M but leaves its P; if `f` is slow, sysmon hands the P
/// to another M; on return the G takes back its P, or any idle P, or waits
/// in the global queue. Inside `f` the G owns its thread: runtime calls
/// there block the thread instead of parking. Outside a G: calls `f`.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let Some((m, g)) = proc::current_running_g() else {
        return f();
    };
    proc::assert_not_pinned();
    proc::entersyscall(m, g);
    let r = catch_unwind(AssertUnwindSafe(f));
    // Same thread: a G in a syscall never switches.
    let m = proc::current_m().expect("still on the M");
    proc::exitsyscall(m, g);
    match r {
        Ok(v) => v,
        Err(p) => resume_unwind(p),
    }
}

static NEXT_KEY: AtomicUsize = AtomicUsize::new(1);

/// A G-local storage key: each G sees its own value, created by `init` on
/// first use in that G and dropped when the G ends (the G-level analogue
/// of `thread_local!`, which is per M here). Values are dropped when the G
/// ends, before its `JoinHandle::join` returns.
///
/// ```
/// use gc_runtime::{go, gosched, GLocal, Runtime};
/// use std::cell::Cell;
///
/// static COUNTER: GLocal<Cell<u32>> = GLocal::new(|| Cell::new(0));
/// // SAFETY: nothing thread-bound is held across runtime calls.
/// let rt = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
/// let counts = rt.block_on(|| {
///     let hs: Vec<_> = (1..=3)
///         .map(|n| {
///             go(move || {
///                 for _ in 0..n {
///                     COUNTER.with(|c| c.set(c.get() + 1));
///                     gosched(); // may resume on another M: the value follows the G
///                 }
///                 COUNTER.with(Cell::get)
///             })
///         })
///         .collect();
///     hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
/// });
/// assert_eq!(counts, [1, 2, 3]);
/// ```
pub struct GLocal<T: 'static> {
    init: fn() -> T,
    /// 0 = no key yet; else key + 1.
    key: AtomicUsize,
}

impl<T: 'static> GLocal<T> {
    /// A key whose per-G value starts as `init()`.
    pub const fn new(init: fn() -> T) -> GLocal<T> {
        GLocal { init, key: AtomicUsize::new(0) }
    }

    fn key(&self) -> usize {
        let k = self.key.load(Ordering::Acquire);
        if k != 0 {
            return k - 1;
        }
        let new = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        match self.key.compare_exchange(0, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => new - 1,
            Err(k) => k - 1,
        }
    }

    /// Runs `f` with this G's value.
    ///
    /// # Panics
    ///
    /// Outside a G. (`init` must not use its own key: that recursion
    /// overflows the G's stack, which aborts.)
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        let g = proc::current_m().and_then(|m| m.curg.get());
        let Some(g) = g else { panic!("gc_runtime::GLocal::with called outside a G") };
        let key = self.key();
        // SAFETY: only the running G touches its locals; the &mut borrows
        // below are short and never overlap a reference handed out (those
        // point into the separately allocated values, see LocalBox).
        let locals = unsafe { &*g.as_ref().locals.get() };
        let existing = locals.get(key).and_then(|s| s.as_ref()).map(LocalBox::as_ptr);
        let ptr = match existing {
            Some(p) => p,
            None => {
                let v: Box<dyn Any> = Box::new((self.init)());
                // SAFETY: as above; `init` has returned, no borrow is live.
                let locals = unsafe { &mut *g.as_ref().locals.get() };
                if locals.len() <= key {
                    locals.resize_with(key + 1, || None);
                }
                assert!(locals[key].is_none(), "GLocal initializer used its own key");
                let b = LocalBox::new(v);
                let p = b.as_ptr();
                locals[key] = Some(b);
                p
            }
        };
        // SAFETY: the value lives until the G ends (slots are never
        // cleared before), and the G is running `f` now.
        let any = unsafe { &*ptr };
        f(any.downcast_ref::<T>().expect("GLocal value type"))
    }
}

/// A channel that receives the current time once, `d` from now (Go:
/// `time.After`): a one-shot timer on the current P's heap (outside a
/// runtime, the timer thread) whose callback does a non-blocking send into
/// a buffer of one.
pub fn after(d: Duration) -> crate::chan::Receiver<Instant> {
    let (tx, rx) = crate::chan::channel(1);
    let when = Instant::now().checked_add(d).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 40));
    drop(park::add_timer(
        when,
        Box::new(move || {
            let _ = tx.try_send(Instant::now());
        }),
    ));
    rx
}
