//! gc-core: the heap, marking, barriers, roots and sweeping of tricolor-gc.
//!
//! Most users depend on the facade crate `tricolor-gc`, which re-exports this
//! crate's public API together with `#[derive(Trace)]`.
//!
//! Layering (arrows point down): the API types (`Gc`, `Member`) → roots,
//! marking, heap; the cycle → marking, sweeping, pacer; marking and sweeping →
//! heap. The heap knows spans and bits, never the marking algorithm or the
//! phases.
//!
//! Crate-wide invariants:
//! * Safe code never obtains `&mut` to memory holding GC pointers once it is
//!   in the heap, so no pointer leaves the heap without the barrier.
//! * Every write to the pointer graph or to a root table happens inside a GC
//!   critical section of the writing thread (`mutator.rs`).
//! * A reachable object is never freed; `GODEBUG=gccheckmark=1` verifies the
//!   marking of every cycle.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate self as tricolor_gc;

// Internals are crate-private: what a safe caller of this crate reaches is
// the API below, and it is sound (docs/pointer-model.md row 47).
mod alloc;
mod cycle;
pub mod env;
pub mod exectrace;
// Public only with the test-only `fault-injection` feature.
#[cfg(feature = "bench-internals")]
pub mod bench_internals;
#[cfg(feature = "fault-injection")]
#[doc(hidden)]
pub mod fault;
#[cfg(not(feature = "fault-injection"))]
mod fault;
mod fence;
mod finalizer;
mod gc;
mod gccpu;
mod gctrace;
mod glock;
mod heap;
mod limiter;
mod mark;
mod member;
pub mod metrics;
mod mutator;
mod pacer;
mod pin;
mod roots;
pub mod sched;
mod specials;
mod stats;
mod sweep;
#[cfg(loom)]
pub mod sync;
#[cfg(not(loom))]
mod sync;
mod sysmon;
pub mod trace;
mod vec;
mod weak;

pub use gc::{Gc, GcPointee};
pub use member::Member;
pub use pin::{pin, Guard, Ref};
pub use stats::MemStats;
pub use trace::{NoGcPointers, PointerMap, Trace, TraceLayout, Tracer};
pub use vec::{GcVec, Iter as GcVecIter, PinnedIter as GcVecPinnedIter, PinnedMembers};
pub use weak::{Cleanup, Weak};

/// Go's `runtime.GC`: completes a full collection cycle, finishes sweeping
/// and runs the drop glue of the objects it freed before returning.
pub fn collect() {
    cycle::collect()
}

/// Go's `debug.FreeOSMemory`: runs a full collection, then returns every
/// free page of the heap to the OS. Returns the bytes released.
pub fn free_os_memory() -> usize {
    cycle::collect();
    // Two passes: the first only ages ranges freed since the last scavenge.
    sweep::scavenge_to(0) + sweep::scavenge_to(0)
}

/// A preemption point for long loops that never allocate: lets a pending
/// stop-the-world proceed and runs drop glue queued for this thread.
pub fn safepoint() {
    mutator::safepoint()
}

/// Runs `f` as a blocking section (Go: `entersyscall`/`exitsyscall`): the
/// collector never waits for this thread meanwhile.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    mutator::blocking(f)
}

/// For a scheduler (gc-runtime), before it parks or yields a G: panics
/// with a clear message if the calling thread is inside a `pin` or inside
/// the closure `GcVec::retain` runs under its lock, where a switch would
/// carry the pin's section or the lock to another G.
#[doc(hidden)]
#[track_caller]
pub fn assert_may_switch() {
    mutator::assert_may_switch()
}

/// For a scheduler: true if the calling thread may switch Gs now (not in a
/// `pin`, not in `GcVec::retain`'s closure); a preemption point skips the
/// switch when false.
#[doc(hidden)]
pub fn may_switch() -> bool {
    mutator::may_switch()
}

/// Go's `debug.SetGCPercent`: returns the previous value (-1 = off).
pub fn set_gc_percent(percent: i32) -> i32 {
    pacer::set_gc_percent(percent)
}

/// Go's `debug.SetMemoryLimit`: returns the previous limit; a negative
/// argument only reads it.
pub fn set_memory_limit(limit: i64) -> i64 {
    pacer::set_memory_limit(limit)
}

/// Go's `runtime.ReadMemStats`: stops the world briefly to fold per-thread
/// counters, like Go.
pub fn mem_stats() -> MemStats {
    let heap = heap::heap();
    let mut s = MemStats::default();
    {
        let world = mutator::stop_the_world();
        for m in world.mutators() {
            // SAFETY: the world is stopped, so mutators' local state is ours.
            let local = unsafe { m.local() };
            // SAFETY: as above.
            unsafe { local.cache.count_all() };
            stats::add_allocs(core::mem::take(&mut local.cache.allocs), core::mem::take(&mut local.cache.alloc_bytes));
            // SAFETY: the world is stopped.
            s.roots += unsafe { m.roots.count() } as u64;
        }
        let pages = heap.pages.lock();
        s.heap_sys = pages.sys_bytes as u64;
        s.heap_inuse = (pages.inuse_pages * heap::size_class::PAGE_SIZE) as u64;
        s.heap_idle = (pages.free_pages() * heap::size_class::PAGE_SIZE) as u64;
        s.heap_released = pages.released_bytes as u64;
    }
    stats::fill(&mut s);
    s.frees = heap.frees.load(core::sync::atomic::Ordering::Relaxed);
    s.heap_objects = s.mallocs.saturating_sub(s.frees);
    s.heap_alloc = s.total_alloc.saturating_sub(heap.freed_bytes.load(core::sync::atomic::Ordering::Relaxed));
    s.heap_marked = pacer::heap_marked();
    s.next_gc = pacer::goal();
    s.asymmetric_fence = fence::is_asymmetric();
    s
}

/// Hooks for tests of `Trace` implementations. Not part of the API (hidden,
/// and not re-exported by the facade): it may change in any release.
#[doc(hidden)]
pub mod testing {
    use crate::trace::tracer::SlotVisitor;
    use crate::trace::{Trace, Tracer};
    use core::sync::atomic::AtomicUsize;

    struct Count(usize);
    impl SlotVisitor for Count {
        fn visit(&mut self, _: &AtomicUsize) {
            self.0 += 1;
        }
    }

    /// Sets the period after which the monitor thread forces a cycle when
    /// none ran (Go's `forcegcperiod`, 2 minutes by default), so a test can
    /// see a periodic cycle in seconds. Process-wide; takes effect at once.
    pub fn set_forcegc_period(period: std::time::Duration) {
        crate::sysmon::set_period(period);
    }

    /// How many GC pointer slots `value.trace` visits.
    pub fn count_slots<T: Trace + ?Sized>(value: &T) -> usize {
        let mut c = Count(0);
        value.trace(&mut Tracer::new(&mut c));
        c.0
    }
}
