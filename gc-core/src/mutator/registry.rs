//! The registry of mutators: thread registration, thread exit and the
//! fallback mutator.
//!
//! A lock over the list of mutators. The collector holds it for the whole
//! stop, so a thread cannot join or leave while the world is stopped; a thread
//! that exits flushes its cache and hands its root segments to the fallback
//! table under the same lock. Threads that use the heap from a thread-local
//! destructor after their own mutator is gone use the fallback mutator, one at
//! a time.
//!
//! Invariants:
//! * A mutator is never freed, only reused: a thread's exit hands its root
//!   segments and retired slots to the fallback mutator, empties its cache
//!   and barrier buffer, and parks the struct on a free list, all under the
//!   registry lock, which a stop holds throughout; a thread that registers
//!   later takes it from there under the same lock. So a struct is owned by
//!   at most one live thread, and everything its last owner did happens
//!   before its next owner's first use (the lock orders them): in particular
//!   the next owner sees the segments retagged to the fallback and never
//!   takes a slot of theirs as its own.
//! * At every stop, the fallback table's segments whose slots are all free
//!   go to the spare list for new threads' tables (`reclaim_exited`), so an
//!   exited thread costs no memory once its handles are gone.
//! * Once a scheduler whose tasks migrate exists (`THREADS_MIGRATE`), the
//!   thread-locals (`CURRENT`, `GUARD`) are touched only inside functions
//!   that are never inlined (`current_ptr_fresh`, `register`) or at thread
//!   exit (the exit guard's drop, never on a G), and no reference to them
//!   is held past a return, so a caller that changed OS thread between two
//!   calls (a gc-runtime G that switched) reaches its current thread's slot
//!   (pointer-model R13).

use super::{in_section, Mutator};
use crate::fence;
use crate::heap::heap;
use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{compiler_fence, AtomicBool, Ordering};
use parking_lot::{Mutex, MutexGuard};

struct MutPtr(*const Mutator);
// SAFETY: mutators are shared by design (see `Mutator`'s Sync impl).
unsafe impl Send for MutPtr {}

/// All live mutators.
static REGISTRY: Mutex<Vec<MutPtr>> = Mutex::new(Vec::new());
/// Mutators of exited threads, reset and ready for reuse. Only touched
/// under the registry lock.
static FREE: Mutex<Vec<MutPtr>> = Mutex::new(Vec::new());

/// Marker for "this thread's mutator has been torn down".
pub(super) const EXITED: *const Mutator = 1 as *const Mutator;

thread_local! {
    static CURRENT: Cell<*const Mutator> = const { Cell::new(ptr::null()) };
    static GUARD: ExitGuard = const { ExitGuard };
}

/// The mutator for threads whose own one was torn down, used under a lock.
static FALLBACK: std::sync::OnceLock<&'static Mutator> = std::sync::OnceLock::new();
static FALLBACK_LOCK: Mutex<()> = Mutex::new(());

fn fallback() -> &'static Mutator {
    FALLBACK.get_or_init(|| {
        fence::init();
        let m: &'static Mutator = Box::leak(Box::new(Mutator::new()));
        REGISTRY.lock().push(MutPtr(m));
        m
    })
}

/// Set (never cleared) before the first caller can move between OS threads
/// in mid-function: by a scheduler whose tasks migrate (gc-runtime's
/// `Builder::build`, through `sched::threads_migrate`), before it runs any.
static THREADS_MIGRATE: AtomicBool = AtomicBool::new(false);

/// Tells the mutator layer that from now on a caller may resume on another
/// OS thread after a call (a gc-runtime G switch). Sticky.
pub(crate) fn set_threads_migrate() {
    THREADS_MIGRATE.store(true, Ordering::SeqCst);
}

/// The calling thread's mutator pointer: null if not yet registered,
/// `EXITED` after teardown.
///
/// The optimizer assumes a function stays on one thread, so an inlined
/// access lets it compute `CURRENT`'s address once and reuse it after a
/// call that, under gc-runtime, switched the calling G to another OS thread
/// (row R13); the G would then use the previous thread's mutator while
/// that thread runs another G on it. So once threads migrate, the read is
/// a call that is never inlined and starts with a compiler fence
/// ([`current_ptr_fresh`]): one the optimizer cannot see into nor merge
/// with an earlier one. Before that (no scheduler in the process), the
/// inlined load is sound: a function that started on a plain thread never
/// continues on another, and every G starts after the flag was set (the
/// scheduler sets it before it runs one, and hands Gs over with
/// release/acquire), so a G never takes the inlined branch.
#[inline(always)]
pub fn current_ptr() -> *const Mutator {
    if THREADS_MIGRATE.load(Ordering::Relaxed) {
        current_ptr_fresh()
    } else {
        CURRENT.try_with(|c| c.get()).unwrap_or(EXITED)
    }
}

/// [`current_ptr`] for callers that may migrate: one call, one load.
#[inline(never)]
fn current_ptr_fresh() -> *const Mutator {
    compiler_fence(Ordering::SeqCst);
    CURRENT.try_with(|c| c.get()).unwrap_or(EXITED)
}

/// Registers the calling thread. Never inlined (like `current_ptr_fresh`,
/// and for the same reason: it touches `CURRENT` and `GUARD`).
#[cold]
#[inline(never)]
fn register() -> *const Mutator {
    fence::init();
    let mut reg = REGISTRY.lock();
    // SAFETY: a freed mutator is leaked, reset by its last owner's exit
    // under this lock, and owned by nobody until we take it.
    let m: &'static Mutator = match FREE.lock().pop() {
        Some(p) => unsafe { &*p.0 },
        None => Box::leak(Box::new(Mutator::new())),
    };
    reg.push(MutPtr(m));
    drop(reg);
    CURRENT.with(|c| c.set(m));
    // Touch the guard so its destructor runs at thread exit.
    GUARD.with(|_| {});
    m
}

/// The calling thread's mutator pointer, registering the thread on its
/// first GC operation (`EXITED` after teardown). Reads `CURRENT` only
/// through [`current_ptr`] (and `register`, a call of its own).
#[inline(always)]
pub(super) fn current_or_register() -> *const Mutator {
    let p = current_ptr();
    if p.is_null() {
        register()
    } else {
        p
    }
}

#[cold]
pub(super) fn with_fallback<R, F: FnOnce(&'static Mutator) -> R>(f: F) -> R {
    let m = fallback();
    let _g = FALLBACK_LOCK.lock();
    m.enter();
    let r = in_section::<R, F>(m, f);
    m.exit();
    r
}

struct ExitGuard;
impl Drop for ExitGuard {
    fn drop(&mut self) {
        let p = CURRENT.with(|c| c.replace(EXITED));
        if p.is_null() || p == EXITED {
            return;
        }
        // SAFETY: our own mutator, leaked at registration.
        let m: &'static Mutator = unsafe { &*p };
        let fb = fallback();
        let mut reg = REGISTRY.lock();
        // A ragged barrier may have asked before we took the lock; none can
        // ask while we hold it.
        m.settle_flush_for_exit();
        // SAFETY: holding the registry lock excludes a stop and a new flush
        // request, the pending one is settled, and the thread is not in a
        // critical section; so its local state is ours.
        let local = unsafe { m.local() };
        // SAFETY: as above, we own the cache.
        unsafe { local.cache.release_all(heap()) };
        crate::stats::add_allocs(
            core::mem::take(&mut local.cache.allocs),
            core::mem::take(&mut local.cache.alloc_bytes),
        );
        local.wbuf.discard_if_off();
        // Holding the registry lock excludes a stop, but another thread may
        // still be inside a section reading one of these slots: hand them to
        // the fallback mutator, whose list the next stop frees.
        let retired = core::mem::take(&mut local.retired);
        {
            let _fg = FALLBACK_LOCK.lock();
            m.roots.hand_over(&fb.roots, fb);
            // SAFETY: the fallback's local state is guarded by FALLBACK_LOCK
            // outside a stop, and the registry lock excludes a stop.
            unsafe { fb.local() }.retired.extend(retired);
        }
        local.assist_bytes = 0;
        debug_assert_eq!(m.pin_depth.get(), 0, "a thread exits inside a pin");
        reg.retain(|x| x.0 != p);
        // The struct is empty now (no segment, no free slot, no cache span,
        // no buffered pointer, nothing retired): a later thread reuses it.
        FREE.lock().push(MutPtr(m));
        drop(reg);
    }
}

/// At a stop: moves the fallback table's segments whose slots are all free
/// (those of exited threads whose handles are gone) to the spare list, for
/// new threads' tables. Skipped when a thread holds the fallback lock (it
/// may be waiting to enter a section; the next stop tries again).
pub(super) fn reclaim_exited(_stopped: &Registry) -> usize {
    let Some(fb) = FALLBACK.get() else { return 0 };
    let Some(_fg) = FALLBACK_LOCK.try_lock() else { return 0 };
    // SAFETY: the world is stopped (the caller holds a `StoppedWorld`, whose
    // registry guard is `_stopped`), so no section runs and no scan runs;
    // the fallback lock gives us the fallback table's owner-side state.
    unsafe { fb.roots.reclaim_free_segments() }
}

/// Segments in the fallback table (tests: exited threads' tables).
#[cfg(feature = "bench-internals")]
pub(crate) fn fallback_segments() -> usize {
    let _reg = REGISTRY.lock();
    let _fg = FALLBACK_LOCK.lock();
    // SAFETY: the registry lock keeps hand-overs (and, with it held, the
    // stops that reclaim) away, so the list is stable.
    FALLBACK.get().map_or(0, |fb| unsafe { fb.roots.segment_count() })
}

/// The registry, locked: no thread joins or leaves while it is held, so no
/// root table is handed over (a concurrent root scan holds it).
pub struct Registry {
    reg: MutexGuard<'static, Vec<MutPtr>>,
}

impl Registry {
    /// Every mutator, including the fallback.
    pub fn mutators(&self) -> impl Iterator<Item = &'static Mutator> + '_ {
        // SAFETY: registered mutators are leaked, so the references live.
        self.reg.iter().map(|p| unsafe { &*p.0 })
    }
}

/// Locks the registry. The caller must not stop the world while holding it.
pub fn lock_registry() -> Registry {
    fallback();
    Registry { reg: REGISTRY.lock() }
}
