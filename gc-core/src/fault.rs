//! Test-only fault injection: switches that each remove one defence of the
//! collector, so that a test can show the detectors (`GODEBUG=gccheckmark=1`,
//! `GODEBUG=clobberfree=1`) catch the bug that defence prevents
//! (`gc-core/tests/detectors.rs`), plus the probes and pause points such a
//! test needs to make the bug happen every time.
//!
//! The faults are chosen at run time by `TRICOLOR_FAULT`, a comma-separated
//! list of [`Fault`] names (`TRICOLOR_FAULT=barrier-dijkstra`), read once.
//!
//! Invariants:
//! * **Compiled only with the `fault-injection` cargo feature**, which is
//!   test-only and never a default. Without it [`active`] is a `const fn`
//!   returning `false` and every probe and gate is an empty
//!   `#[inline(always)]` function, so each `if fault::active(..)` hook folds
//!   away and the fast paths are the same code as without the hooks: no
//!   load, no branch, no environment read.
//! * With the feature, the fault set is read from the environment at the
//!   first check and never changes afterwards; an unknown name aborts, so a
//!   misspelt fault can never make a test pass vacuously.
//! * Each fault drops exactly one defence at the one place it lives (listed
//!   on [`Fault`]); with `TRICOLOR_FAULT` unset the feature build behaves as
//!   the normal build, apart from the probes' counters.
//! * Gates pause only the background mark thread, only in the concurrent
//!   mark (never inside a stop of the world), and only when a test armed
//!   them; each armed gate pauses once.

/// One removable defence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// `barrier-yuasa`: the write barrier does not record the old (deleted)
    /// referent (`mark/barrier.rs`, `WbBuf::record`).
    BarrierYuasa,
    /// `barrier-dijkstra`: the write barrier does not record the new
    /// referent (`WbBuf::record`).
    BarrierDijkstra,
    /// `black-alloc`: objects allocated while marking are not black: a
    /// small object's span gets no allocated-black range
    /// (`Span::start_black`), a large object no mark bit (`alloc.rs`).
    BlackAlloc,
    /// `root-scan`: the root scan skips every other root of each table (the
    /// first, third, ...; `cycle.rs`, `scan_roots`); checkmark's own root
    /// walk is unaffected.
    RootScan,
    /// `root-shade`: a root registered while the barrier is on is not
    /// shaded by its registrar (`gc.rs::root`, through
    /// `WbBuf::record_root`).
    RootShade,
    /// `termination-flush`: the ragged barrier and mark termination do not
    /// flush the mutators' barrier buffers and work caches (`cycle.rs`,
    /// `flush_buffers`).
    TerminationFlush,
    /// `exit-flush`: a thread exiting while the barrier is on drops its
    /// barrier buffer and work cache instead of publishing them
    /// (`WbBuf::discard_if_off`).
    ExitFlush,
}

#[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 7] = [
        Fault::BarrierYuasa,
        Fault::BarrierDijkstra,
        Fault::BlackAlloc,
        Fault::RootScan,
        Fault::RootShade,
        Fault::TerminationFlush,
        Fault::ExitFlush,
    ];

    /// The name `TRICOLOR_FAULT` uses.
    pub const fn name(self) -> &'static str {
        match self {
            Fault::BarrierYuasa => "barrier-yuasa",
            Fault::BarrierDijkstra => "barrier-dijkstra",
            Fault::BlackAlloc => "black-alloc",
            Fault::RootScan => "root-scan",
            Fault::RootShade => "root-shade",
            Fault::TerminationFlush => "termination-flush",
            Fault::ExitFlush => "exit-flush",
        }
    }
}

/// A point of the background mark thread where a test can pause it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// In the concurrent root scan, before the `n`-th table (in registry
    /// order) is scanned; the registry lock is held meanwhile, so no thread
    /// may start or exit until the gate is released.
    BeforeTable(usize),
    /// After the root scan (every table and the weak cells), before any
    /// grey object is scanned.
    AfterRoots,
    /// After the markers found no work, before the ragged barrier.
    BeforeTermination,
    /// Right after a ragged barrier (every mutator's buffer flushed, no
    /// stop), before the collector looks at what it published.
    AfterRagged,
}

/// True if `f` is switched on. Without the `fault-injection` feature this is
/// `false` at compile time.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub const fn active(_f: Fault) -> bool {
    false
}

/// Pause point `g` of the background mark thread (no-op without the
/// feature).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn gate(_g: Gate) {}

/// Counts a completed concurrent root scan (no-op without the feature).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn note_root_scan() {}

/// The probe between a pending `Member`'s word load and its slot load
/// (`Member::target`): runs the callback a test armed, once (no-op without
/// the feature).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn pending_slot_read() {}

/// The probe in a remote root-slot free between the slot's link store and
/// the compare-exchange onto its segment's list (`roots.rs`,
/// `push_remote`): runs the callback a test armed, once (no-op without the
/// feature).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn remote_free() {}

#[cfg(feature = "fault-injection")]
pub use imp::*;

#[cfg(feature = "fault-injection")]
mod imp {
    use super::{Fault, Gate};
    use crate::heap::arena::{arena_of, span_of};
    use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use parking_lot::{Condvar, Mutex};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// The environment variable naming the active faults.
    pub const ENV: &str = "TRICOLOR_FAULT";

    fn mask() -> u32 {
        static MASK: OnceLock<u32> = OnceLock::new();
        *MASK.get_or_init(|| {
            let Some(v) = std::env::var_os(ENV) else { return 0 };
            let v = v.to_string_lossy();
            let mut m = 0;
            for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match Fault::ALL.iter().find(|f| f.name() == name) {
                    Some(f) => m |= 1 << *f as u32,
                    None => {
                        let known: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                        eprintln!("tricolor-gc: unknown fault {name:?} in {ENV}; known: {}", known.join(", "));
                        std::process::abort();
                    }
                }
            }
            if m != 0 {
                eprintln!("tricolor-gc: fault injection on: {v}");
            }
            m
        })
    }

    /// True if `f` is switched on (`TRICOLOR_FAULT`).
    #[inline]
    pub fn active(f: Fault) -> bool {
        mask() & (1 << f as u32) != 0
    }

    // ---- probes ----

    static ROOT_SCANS: AtomicU64 = AtomicU64::new(0);

    /// Counts a completed concurrent root scan.
    pub fn note_root_scan() {
        ROOT_SCANS.fetch_add(1, Ordering::SeqCst);
    }

    /// Concurrent root scans completed so far in this process.
    pub fn root_scans() -> u64 {
        ROOT_SCANS.load(Ordering::SeqCst)
    }

    /// True if the object at (or containing) `p` is black or grey this
    /// cycle: its mark bit is set, or it lies in its span's
    /// allocated-black range. `p` must be a live object's address
    /// (`Gc::as_ptr`).
    pub fn is_marked(p: usize) -> bool {
        let s = span_of(p);
        assert!(!s.is_null(), "fault::is_marked: {p:#x} is not in an in-use span");
        // SAFETY: the arena index maps pages of in-use spans to their live
        // descriptors, which are never freed while the span is in use.
        let span = unsafe { &*s };
        let i = span.obj_index(p);
        span.mark_bits.get(i) || span.is_black_alloc(i)
    }

    /// Reads the heap word at `addr` (8-aligned, inside a GC arena), for
    /// looking at a freed slot. Arenas are never unmapped, so the read is
    /// sound even after the slot (or its whole span) was freed; a page
    /// returned to the OS reads as zero.
    pub fn read_word(addr: usize) -> usize {
        assert!(addr % 8 == 0 && arena_of(addr).is_some(), "fault::read_word: {addr:#x} is not a GC heap word");
        // SAFETY: per the arena invariants the word is mapped for the life
        // of the process; the access is atomic, so racing the sweeper or an
        // allocator is not undefined behaviour.
        unsafe { &*(addr as *const AtomicUsize) }.load(Ordering::Acquire)
    }

    /// Overwrites the header word of the live object at `p` (which must
    /// have one) with `word` (e.g. [`CLOBBER`], what a use after free of a
    /// slot freed with clobberfree sees): only for making checkmark report
    /// on a garbage header.
    ///
    /// # Safety
    /// Nothing may read the object's header afterwards except checkmark's
    /// error path: the process must abort before the marker, the sweeper or
    /// drop glue looks at the object.
    pub unsafe fn overwrite_header(p: usize, word: usize) {
        let s = span_of(p);
        assert!(!s.is_null(), "fault::overwrite_header: {p:#x} is not in an in-use span");
        // SAFETY: as in `is_marked`.
        let span = unsafe { &*s };
        assert!(!span.class.is_headerless(), "fault::overwrite_header: {p:#x} has no header");
        let slot = span.slot_addr(span.obj_index(p));
        // SAFETY: `p` is an allocated object in a span with headers (checked
        // above), so its slot starts with its header word.
        unsafe { crate::heap::object::header(slot) }.store(word, Ordering::Release);
    }

    /// The position of the calling thread's mutator in the registry, which
    /// is the order the root scan visits tables in ([`Gate::BeforeTable`]);
    /// registers the thread if it is not yet.
    pub fn registry_index() -> usize {
        crate::mutator::with_critical(|_| ());
        let me = crate::mutator::current_ptr();
        let reg = crate::mutator::lock_registry();
        let i = reg.mutators().position(|m| core::ptr::eq(m, me));
        i.expect("fault::registry_index: the calling thread is not registered")
    }

    /// The word `GODEBUG=clobberfree=1` fills freed slots with.
    pub const CLOBBER: usize = 0xdead_beef_dead_beef;

    // ---- the mutator-side probes ----

    type Hook = Box<dyn FnOnce() + Send>;

    /// A one-shot callback a test arms at a point of library code.
    struct Probe {
        hook: Mutex<Option<Hook>>,
        armed: core::sync::atomic::AtomicBool,
    }

    impl Probe {
        const fn new() -> Probe {
            Probe { hook: Mutex::new(None), armed: core::sync::atomic::AtomicBool::new(false) }
        }

        fn arm(&self, f: Hook) {
            *self.hook.lock() = Some(f);
            self.armed.store(true, Ordering::Release);
        }

        /// Runs the armed callback once (the lock is released first, so the
        /// callback may reach the probe's own site again).
        #[inline]
        fn fire(&self) {
            if self.armed.load(Ordering::Relaxed) && self.armed.swap(false, Ordering::Acquire) {
                let f = self.hook.lock().take();
                if let Some(f) = f {
                    f();
                }
            }
        }
    }

    static PENDING_SLOT_READ: Probe = Probe::new();
    static REMOTE_FREE: Probe = Probe::new();

    /// Arms the probe between a pending `Member`'s word load and its slot
    /// load: the next such read, on whatever thread, runs `f` there, once
    /// (where the fixed code reads it inside a critical section, `f` runs
    /// inside that section; it must not wait for a stop without a bound).
    pub fn arm_pending_slot_read(f: impl FnOnce() + Send + 'static) {
        PENDING_SLOT_READ.arm(Box::new(f));
    }

    /// The probe itself (see [`arm_pending_slot_read`]).
    #[inline]
    pub fn pending_slot_read() {
        PENDING_SLOT_READ.fire();
    }

    /// Arms the probe inside a remote root-slot free, between the slot's
    /// link store and the compare-exchange that puts it on its segment's
    /// list: the next such free runs `f` there, once, outside any critical
    /// section.
    pub fn arm_remote_free(f: impl FnOnce() + Send + 'static) {
        REMOTE_FREE.arm(Box::new(f));
    }

    /// The probe itself (see [`arm_remote_free`]).
    #[inline]
    pub fn remote_free() {
        REMOTE_FREE.fire();
    }

    // ---- gates ----

    struct Gates {
        armed: Vec<Gate>,
        paused: Option<Gate>,
    }

    static GATES: Mutex<Gates> = Mutex::new(Gates { armed: Vec::new(), paused: None });
    static GATES_CV: Condvar = Condvar::new();

    /// Arms `g`: the next time the background mark thread reaches it, it
    /// pauses there until [`release`].
    pub fn arm(g: Gate) {
        GATES.lock().armed.push(g);
    }

    /// Waits up to `timeout` for the mark thread to pause at `g`; true if
    /// it did.
    pub fn wait_paused(g: Gate, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = GATES.lock();
        while s.paused != Some(g) {
            if GATES_CV.wait_until(&mut s, deadline).timed_out() {
                return s.paused == Some(g);
            }
        }
        true
    }

    /// Lets the mark thread go on from `g`.
    pub fn release(g: Gate) {
        let mut s = GATES.lock();
        assert_eq!(s.paused, Some(g), "fault::release: the mark thread is not paused at {g:?}");
        s.paused = None;
        GATES_CV.notify_all();
    }

    /// Pause point `g` of the background mark thread.
    pub fn gate(g: Gate) {
        if crate::env::config().debug.gcstoptheworld > 0 {
            return; // inside a stop: a paused marker would hang the test
        }
        let mut s = GATES.lock();
        let Some(i) = s.armed.iter().position(|&a| a == g) else { return };
        s.armed.swap_remove(i);
        s.paused = Some(g);
        GATES_CV.notify_all();
        while s.paused == Some(g) {
            GATES_CV.wait(&mut s);
        }
    }
}
