//! Mutators: the threads that use the heap, their GC critical sections and
//! the stop-the-world handshake.
//!
//! Any std thread becomes a mutator on its first GC operation. A mutator owns
//! a span cache, a root table and a write-barrier buffer (Go keeps these per
//! P; without `gc-runtime` they are per thread, like a TLAB).
//!
//! # Critical sections
//!
//! Every operation that writes the heap's pointer graph or a root table —
//! allocation, adoption, root registration, `Member::get`/`set`, sweeping —
//! runs inside a GC critical section. Outside one, a thread is at a safepoint:
//! a stop does not wait for it, however long it runs plain Rust code.
//!
//! * `state` — written by the owner (`OUTSIDE`/`INSIDE`), read by the
//!   collector. Entering stores `INSIDE`, runs the light fence, then loads
//!   `STOP`; the collector stores `STOP`, runs the heavy fence, then waits for
//!   every `state` to be `OUTSIDE` (see `fence.rs`). Leaving is a Release
//!   store, so the collector sees all heap writes of the section.
//! * `local` — owned by the owner inside a section, by the collector while
//!   the world is stopped, and by the exiting thread under the registry lock.
//!
//! No library-run user code executes inside a section: drop glue and
//! cleanups run on the finalizer thread, `retain` closures outside the
//! section. A panic inside a section is a bug of this crate (every size and
//! index from user input is checked before a section begins): it aborts
//! with a message naming the operation, since an unwind would leave the
//! section's heap update half done, and a section left `INSIDE` would hang
//! every later stop.
//!
//! # Pins
//!
//! A stop runs in two phases. First it sets `PIN_STOP` and waits for every
//! `PINNED` state to clear — a pin may run for milliseconds, and meanwhile
//! other threads keep running short sections (only new pins wait). Then it
//! sets `STOP` and waits for the short sections as above. The pause, the
//! time during which no mutator may enter a section, starts at `STOP`; the
//! first phase is reported apart as pin wait. Both phases are the same
//! Dekker handshake (`PINNED`/`PIN_STOP` and `INSIDE`/`STOP`).
//!
//! `pin` (`pin.rs`) holds one critical section open around user code, so
//! that unrooted references (`Ref`) stay valid: no stop, hence no cycle
//! boundary, can happen while a thread is pinned. `pin_depth` (owner-only)
//! counts nested pins; while it is non-zero `with_critical` runs its closure
//! in the open section instead of entering a new one, and everything that
//! would stop the world or wait
//! for a stop from this thread is deferred (heap-triggered cycles, the
//! retired-slot grace period) or refused with a panic (`collect`,
//! `mem_stats`, `safepoint`, `blocking`, `GcVec` writers), since the stop
//! would wait for this very thread.
//!
//!
//! # The ragged barrier
//!
//! Each mutator also carries a flush request (`flush`, protocol in
//! `mark/ragged.rs`): the collector's ragged barrier asks every mutator to
//! flush its barrier buffer without stopping the world. Every section entry
//! (`enter`, `enter_pinned`, and each operation inside a pin) loads it after
//! its fence, beside `STOP`, and serves it; the collector serves it for
//! mutators outside their sections (`flush.rs`).
//!
//! Submodules, one concern each: `handshake` (stopping and restarting the
//! world), `flush` (the ragged barrier), `registry` (the list of mutators,
//! thread registration and exit, the fallback mutator), `stall` (the
//! collector's wait for one thread and the warning when it lasts).

mod flush;
mod handshake;
mod registry;
mod stall;

pub(crate) use flush::ragged_flush;
pub(crate) use handshake::{stop_the_world, StoppedWorld};
#[cfg(feature = "bench-internals")]
pub(crate) use registry::fallback_segments;
use registry::{current_or_register, with_fallback, EXITED};
pub(crate) use registry::{current_ptr, lock_registry, set_threads_migrate};

use crate::fence;
use crate::heap::cache::MCache;
use crate::mark::barrier::WbBuf;
use crate::mark::ragged::FlushRequest;
use crate::roots::RootTable;
use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use handshake::{wait_while, PIN_STOP, STOP};

const OUTSIDE: u32 = 0;
const INSIDE: u32 = 1;
/// Inside a pin's section (which may last long).
const PINNED: u32 = 2;

/// State the owner touches only inside a critical section.
pub struct Local {
    /// The span cache.
    pub cache: MCache,
    /// The write-barrier buffer.
    pub wbuf: WbBuf,
    /// Root slots swapped out of shared pending `Member`s, freed at the next
    /// stop (see `member.rs`).
    pub retired: Vec<&'static AtomicUsize>,
    /// Assist credit in bytes, negative when in debt (Go: `gcAssistBytes`);
    /// reset at each cycle start.
    pub assist_bytes: i64,
}

/// One mutator thread's GC state.
pub struct Mutator {
    state: AtomicU32,
    local: UnsafeCell<Local>,
    /// Roots held by this thread's `Gc` handles.
    pub roots: RootTable,
    /// Nesting depth of `pin` on this thread; owner-only.
    pin_depth: Cell<u32>,
    /// Nesting depth of library code that runs user closures while holding
    /// a lock of this thread (`GcVec::retain`); owner-only. A G switch
    /// there is refused: the lock would be held across it.
    no_switch: Cell<u32>,
    /// The ragged barrier's request (`flush.rs`, `mark/ragged.rs`).
    flush: FlushRequest,
}

// SAFETY: `local` is accessed under the ownership rules of the module doc;
// all other fields are atomics or internally synchronised.
unsafe impl Sync for Mutator {}
// SAFETY: as above.
unsafe impl Send for Mutator {}

impl Mutator {
    fn new() -> Mutator {
        Mutator {
            state: AtomicU32::new(OUTSIDE),
            local: UnsafeCell::new(Local {
                cache: MCache::default(),
                wbuf: WbBuf::new(),
                retired: Vec::new(),
                assist_bytes: 0,
            }),
            roots: RootTable::new(),
            pin_depth: Cell::new(0),
            no_switch: Cell::new(0),
            flush: FlushRequest::new(),
        }
    }

    #[inline(always)]
    fn enter(&self) {
        self.state.store(INSIDE, Ordering::Relaxed);
        fence::light();
        // Acquire: a mutator that reads the collector's final `false` must
        // see everything the collector wrote during the stop (found by the
        // loom handshake model; free on x86). The flush request is loaded
        // after the same fence (mark/ragged.rs).
        if STOP.load(Ordering::Acquire) | self.flush.pending() {
            self.enter_slow();
        }
    }

    /// `enter` found a stop or a flush request: waits out the stop, serves
    /// the request (or waits while the collector serves it), and enters.
    #[cold]
    #[inline(never)]
    fn enter_slow(&self) {
        loop {
            if STOP.load(Ordering::Acquire) {
                self.state.store(OUTSIDE, Ordering::Release);
                wait_while(&STOP);
            } else if !self.flush.pending() || self.answer_flush() {
                return;
            } else {
                self.state.store(OUTSIDE, Ordering::Release);
                self.wait_flush_served();
            }
            self.state.store(INSIDE, Ordering::Relaxed);
            fence::light();
        }
    }

    /// Opens a pin's section: as `enter`, against `PIN_STOP` and the flush
    /// request.
    fn enter_pinned(&self) {
        loop {
            self.state.store(PINNED, Ordering::Relaxed);
            fence::light();
            // Acquire, as in `enter`. PIN_STOP covers the whole stop.
            if PIN_STOP.load(Ordering::Acquire) {
                self.state.store(OUTSIDE, Ordering::Release);
                wait_while(&PIN_STOP);
            } else if !self.flush.pending() || self.answer_flush() {
                return;
            } else {
                self.state.store(OUTSIDE, Ordering::Release);
                self.wait_flush_served();
            }
        }
    }

    /// Inside a pin's open section, before an operation: serves a flush
    /// request that came during the pin (a long pin must not hold off the
    /// ragged barrier while it keeps using the heap). The collector never
    /// claims a pinned mutator's request, so the owner always can.
    #[inline(always)]
    pub(crate) fn in_pin_check(&self) {
        if self.flush.pending() {
            let served = self.answer_flush();
            debug_assert!(served, "the collector claimed the flush request of a pinned mutator");
        }
    }

    #[inline(always)]
    fn exit(&self) {
        self.state.store(OUTSIDE, Ordering::Release);
    }

    /// The section-owned state.
    ///
    /// # Safety
    /// The caller is the owner inside a critical section, or holds the world
    /// stopped, or is the exiting owner holding the registry lock.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    pub unsafe fn local(&self) -> &mut Local {
        // SAFETY: exclusive access per the contract.
        unsafe { &mut *self.local.get() }
    }
}

/// Runs `f` inside a GC critical section of the calling thread's mutator.
/// `f` is library code that cannot panic by construction; if it does, the
/// process aborts naming it (module doc).
#[inline(always)]
pub fn with_critical<R, F: FnOnce(&'static Mutator) -> R>(f: F) -> R {
    let p = current_or_register();
    if p == EXITED {
        return with_fallback(f);
    }
    // SAFETY: registered mutators are leaked until thread exit, and this is
    // the owning thread, still alive.
    let m: &'static Mutator = unsafe { &*p };
    if m.pin_depth.get() != 0 {
        // Already inside the pin's section.
        m.in_pin_check();
        return in_section::<R, F>(m, f);
    }
    m.enter();
    let r = in_section::<R, F>(m, f);
    m.exit();
    r
}

/// Runs the section body `f`, aborting with its name if it unwinds. The
/// guard is zero-sized (the name comes from its type parameter), so the
/// fast path neither stores nor reloads anything for it.
#[inline(always)]
fn in_section<R, F: FnOnce(&'static Mutator) -> R>(m: &'static Mutator, f: F) -> R {
    struct AbortOnUnwind<F>(core::marker::PhantomData<F>);
    impl<F> Drop for AbortOnUnwind<F> {
        #[cold]
        fn drop(&mut self) {
            section_panicked(core::any::type_name::<F>());
        }
    }
    let guard = AbortOnUnwind::<F>(core::marker::PhantomData);
    let r = f(m);
    core::mem::forget(guard);
    r
}

#[cold]
fn section_panicked(what: &str) -> ! {
    eprintln!(
        "tricolor-gc: fatal error: panic inside a GC critical section ({what}); the heap update it was making \
         cannot be left half done"
    );
    std::process::abort()
}

/// Retired slots a mutator may hold before it forces a grace period.
const RETIRE_LIMIT: usize = 4096;

/// After a section that may have retired root slots: if this thread holds
/// many, stops the world briefly (no marking) to free them all.
#[inline]
pub fn retire_check() {
    let p = current_ptr();
    if p.is_null() || p == EXITED {
        return;
    }
    // SAFETY: our own live mutator.
    if unsafe { (*p).pin_depth.get() } != 0 {
        // The stop would wait for this thread; the pin's end checks again.
        return;
    }
    // SAFETY: our own mutator; reading the length of our own list outside a
    // section races only with the collector's drain, which only shrinks it.
    let n = unsafe { (*(*p).local.get()).retired.len() };
    if n >= RETIRE_LIMIT {
        stop_the_world().free_retired();
    }
}

/// Go's preemption point for code that never allocates: if a stop is
/// pending, waits for it to end.
pub fn safepoint() {
    assert_not_pinned("safepoint()", "use Guard::repin to let a stop through");
    if STOP.load(Ordering::Acquire) {
        wait_while(&STOP);
    }
    // Under a scheduler also a preemption point (a G looping here must let
    // the mark workers have its P).
    if crate::sched::preempt_pending() {
        crate::sched::preempt_slow();
    }
}

/// Runs `f`, which may block (Go: `entersyscall`/`exitsyscall`). Outside a
/// critical section a thread is already at a safepoint, and no stop ever
/// waits for it, so without the scheduler this only checks that the thread
/// is not pinned (a pinned thread that blocks holds off every stop); the
/// scheduler (`gc-runtime`) hands the thread's P to another thread here.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    assert_not_pinned("blocking()", "a pinned thread cannot block: every stop waits for it");
    let mut f = Some(f);
    let mut r = None;
    crate::sched::block_on_collector(|| {
        if let Some(f) = f.take() {
            r = Some(f());
        }
    });
    r.expect("the block hook runs its argument once")
}

/// While alive, the calling thread may not switch Gs (`GcVec::retain` runs
/// its closure holding the vector's writer lock: a G parked there would
/// hold the lock while other Gs block their Ms on it).
pub(crate) struct NoSwitch(*const Mutator);

impl NoSwitch {
    pub(crate) fn enter() -> NoSwitch {
        let p = current_or_register();
        if p == EXITED {
            return NoSwitch(core::ptr::null());
        }
        // SAFETY: our own live mutator; the field is owner-only.
        let m = unsafe { &*p };
        m.no_switch.set(m.no_switch.get() + 1);
        NoSwitch(p)
    }
}

impl Drop for NoSwitch {
    fn drop(&mut self) {
        // SAFETY: the mutator we incremented, on the same thread (no switch
        // happened while this guard lived).
        if let Some(m) = unsafe { self.0.as_ref() } {
            m.no_switch.set(m.no_switch.get() - 1);
        }
    }
}

/// True if the calling thread may switch Gs: not pinned, not inside a
/// closure that `GcVec::retain` runs under its lock.
#[inline]
pub fn may_switch() -> bool {
    let p = current_ptr();
    // SAFETY: a registered, not exited, mutator is ours and alive.
    p.is_null() || p == EXITED || unsafe { (*p).pin_depth.get() == 0 && (*p).no_switch.get() == 0 }
}

/// Panics with a clear message if the calling thread may not switch Gs
/// (what a scheduler calls before it parks or yields a G).
#[track_caller]
pub fn assert_may_switch() {
    assert_not_pinned("a G switch (a channel operation, a lock, sleep, gosched)", "end the pin first");
    if !may_switch() {
        panic!(
            "tricolor-gc: a G switch (a channel operation, a lock, sleep, gosched) inside the closure of \
             GcVec::retain, which holds the vector's writer lock: other Gs would block their threads on it"
        );
    }
}

/// True if a stop of the world is waiting for the threads inside short
/// critical sections (a long section, an assist, should end soon).
#[inline]
pub fn stop_pending() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// True if the calling thread is inside `pin`.
#[inline]
pub fn pinned() -> bool {
    let p = current_ptr();
    // SAFETY: a registered, not exited, mutator is ours and alive.
    !p.is_null() && p != EXITED && unsafe { (*p).pin_depth.get() } != 0
}

/// Panics with a clear message if the calling thread is pinned: `what`
/// would stop the world or wait for a stop, and that stop would wait for
/// this thread's pin: a deadlock.
#[track_caller]
#[inline]
pub fn assert_not_pinned(what: &str, instead: &str) {
    if pinned() {
        panic!(
            "tricolor-gc: {what} called inside tricolor_gc::pin; a stop of the world waits for every pin to end, \
             so this would deadlock ({instead})"
        );
    }
}

/// Opens (or nests) the calling thread's pin and returns its mutator.
pub(crate) fn pin_enter() -> &'static Mutator {
    let p = current_or_register();
    if p == EXITED {
        panic!(
            "tricolor-gc: tricolor_gc::pin called from a thread-local destructor after this thread's GC state \
             was torn down; use rooted `Gc` handles there"
        );
    }
    // SAFETY: registered mutators are leaked until thread exit, and this is
    // the owning thread, still alive.
    let m: &'static Mutator = unsafe { &*p };
    let d = m.pin_depth.get();
    if d == 0 {
        m.enter_pinned();
    }
    m.pin_depth.set(d + 1);
    m
}

/// Closes one level of `m`'s pin. At the outermost level, leaves the
/// section and does what the pin deferred: a heap-triggered cycle and the
/// retired-slot check. While unwinding only the section is left.
///
/// `repin`: the caller re-enters the pin at once with the same `Guard`,
/// which holds this thread's mutator; so the G must not switch here (under
/// a scheduler it could resume on another M), and the preemption point of
/// the allocation path is skipped.
pub(crate) fn pin_exit(m: &'static Mutator, repin: bool) {
    let d = m.pin_depth.get() - 1;
    m.pin_depth.set(d);
    if d != 0 {
        return;
    }
    m.exit();
    if std::thread::panicking() {
        return;
    }
    if repin {
        crate::cycle::maybe_trigger();
    } else {
        crate::cycle::maybe_collect();
    }
    retire_check();
}

/// The depth of `m`'s pin (owner only).
pub(crate) fn pin_depth(m: &Mutator) -> u32 {
    m.pin_depth.get()
}

#[cfg(test)]
mod tests {
    /// Row 46: a body that unwinds inside a section aborts the process with
    /// the operation's name, instead of leaving the section held for every
    /// later stop to wait on (run in a child process: this test binary).
    #[test]
    fn a_panic_inside_a_section_aborts_naming_it() {
        const CHILD: &str = "TRICOLOR_SECTION_PANIC_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let _ = std::panic::catch_unwind(|| super::with_critical(|_| panic!("a bug inside a section")));
            // Not reached: the unwind aborts.
            std::process::exit(0);
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["mutator::tests::a_panic_inside_a_section_aborts_naming_it", "--exact", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), None, "the child exited instead of aborting; stderr:\n{stderr}");
        assert!(
            stderr.contains("panic inside a GC critical section (gc_core::mutator::tests::"),
            "missing the message naming the section: {stderr}"
        );
    }
}
