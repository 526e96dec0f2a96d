//! The heap: arenas, pages, spans, size classes and caches (Go: malloc.go,
//! mheap.go, mcentral.go, mcache.go).
//!
//! This layer knows spans and bits, never the marking algorithm or the phase
//! machine. Its global state is [`Heap`]:
//!
//! * `pages` — the page heap, behind one lock (off the fast path);
//! * `central` — one [`Central`] per span class;
//! * `sweepgen` — Go's `mheap.sweepgen`, bumped by 2 at each mark termination
//!   while the world is stopped (see `sweep.rs` for the state table);
//! * `heap_live` — Go's `heapLive`: bytes marked at the last cycle plus bytes
//!   handed to caches since (cached spans count as full).
//!
//! Lock order: a central lock may be held while taking the page lock, never
//! the reverse.
//!
//! Layering: nothing here imports marking, sweeping or mutators. Getting a
//! span with free slots sometimes means sweeping one (Go's
//! `mcentral.cacheSpan` and `mheap.reclaim` call `sweep`); the heap does
//! that through the [`Sweeper`] the sweeping layer installs at the first
//! cycle. Before it, no span is unswept, so nothing is lost without one.

pub mod arena;
pub mod bits;
pub mod cache;
pub mod central;
pub mod object;
pub mod pages;
pub mod size_class;
pub mod span;
pub mod span_pool;

use central::{Central, SpanPtr};
use core::sync::atomic::{AtomicIsize, AtomicU32, AtomicU64, Ordering};
use pages::PageHeap;
use parking_lot::Mutex;
use size_class::{class_pages, SpanClass, NUM_SPAN_CLASSES, PAGE_SIZE};
use span::Span;
use span_pool::SpanPool;
use std::sync::OnceLock;

/// How many unswept spans `cache_span` may sweep looking for a free slot
/// before growing the heap (Go: `spanBudget` in `mcentral.cacheSpan`).
const SPAN_BUDGET: usize = 100;

/// The global heap (Go: `mheap_`).
pub struct Heap {
    /// Free pages.
    pub pages: Mutex<PageHeap>,
    /// Per span class lists.
    pub central: Box<[Central]>,
    /// Go: `mheap.sweepgen`; written only while the world is stopped.
    pub(crate) sweepgen: AtomicU32,
    /// Go: `gcController.heapLive`.
    pub heap_live: AtomicIsize,
    /// Objects freed by sweeping (Go: `MemStats.Frees`).
    pub frees: AtomicU64,
    /// Bytes freed by sweeping.
    pub freed_bytes: AtomicU64,
    /// Spans in use (for stats and checkmark walks).
    pub spans_in_use: AtomicU64,
    /// Descriptors of freed spans, for reuse.
    spans: SpanPool,
}

static HEAP: OnceLock<Heap> = OnceLock::new();

/// What the heap asks of the sweeping layer (`sweep.rs` implements it).
pub(crate) trait Sweeper: Sync {
    /// Sweeps `span` (Go: `mspan.sweep`); returns the slots still allocated.
    ///
    /// # Safety
    /// The caller owns the span (won its sweep CAS, or owns a stale cached
    /// span) and is inside a critical section or holds the world stopped.
    unsafe fn sweep_span(&self, heap: &Heap, span: &Span) -> usize;

    /// Sweeps one unswept span of any class (Go: `sweepone`); false when
    /// none is left.
    ///
    /// # Safety
    /// The caller is inside a critical section.
    unsafe fn sweep_one(&self) -> bool;
}

static SWEEPER: OnceLock<&'static dyn Sweeper> = OnceLock::new();

/// Installs the sweeper (once; later calls change nothing). Called before
/// the first cycle starts, so before any span can be unswept.
pub(crate) fn install_sweeper(s: &'static dyn Sweeper) {
    let _ = SWEEPER.set(s);
}

/// The installed sweeper, or `None` before the first cycle (when no span
/// can need sweeping).
#[inline]
fn sweeper() -> Option<&'static dyn Sweeper> {
    SWEEPER.get().copied()
}

/// The process heap.
#[inline]
pub fn heap() -> &'static Heap {
    HEAP.get_or_init(|| Heap {
        pages: Mutex::new(PageHeap::default()),
        central: (0..NUM_SPAN_CLASSES).map(|_| Central::default()).collect(),
        sweepgen: AtomicU32::new(4),
        heap_live: AtomicIsize::new(0),
        frees: AtomicU64::new(0),
        freed_bytes: AtomicU64::new(0),
        spans_in_use: AtomicU64::new(0),
        spans: SpanPool::default(),
    })
}

/// Prints a clear message and aborts: the heap cannot continue when the OS
/// refuses memory (Go: `throw("out of memory")`).
#[cold]
pub fn out_of_memory(what: &str, err: &str) -> ! {
    eprintln!("tricolor-gc: fatal error: out of memory allocating {what}: {err}");
    std::process::abort()
}

/// Refuses, with a panic the caller can catch, a request of `bytes` that no
/// allocation on this machine could satisfy (more than its RAM and swap).
/// Called on sizes from user input before any critical section, so the
/// panic loses nothing; without it the zeroing of the new object would
/// fault in pages until the kernel's OOM killer ends the process.
#[track_caller]
pub(crate) fn check_request(bytes: usize, what: &str) {
    let limit = arena::os_memory_bytes();
    if bytes > limit {
        panic!(
            "tricolor-gc: out of memory: {what} needs {bytes} bytes, more than this machine's {limit} bytes of RAM and swap"
        );
    }
}

impl Heap {
    /// A span of class `spc` with at least one free slot, swept and owned by
    /// the caller's cache (Go: `mcentral.cacheSpan`). The caller is inside
    /// a critical section.
    pub(crate) fn cache_span(&self, spc: SpanClass) -> SpanPtr {
        let sg = self.sweepgen.load(Ordering::Acquire);
        let c = &self.central[spc.index()];
        if let Some(s) = c.pop_partial_swept(sg) {
            s.get().sweepgen.store(sg.wrapping_add(3), Ordering::Release);
            return s;
        }
        // Without an installed sweeper (no cycle ever ran) nothing is unswept.
        if let Some(sweeper) = sweeper() {
            for _ in 0..SPAN_BUDGET {
                let Some(s) = c.pop_unswept(sg) else { break };
                let span = s.get();
                if span
                    .sweepgen
                    .compare_exchange(sg.wrapping_sub(2), sg.wrapping_sub(1), Ordering::AcqRel, Ordering::Relaxed)
                    .is_err()
                {
                    continue;
                }
                // SAFETY: this thread won the sweep CAS and owns the span;
                // the caller is inside a critical section.
                let live = unsafe { sweeper.sweep_span(self, span) };
                if live < span.nelems {
                    span.sweepgen.store(sg.wrapping_add(3), Ordering::Release);
                    return s;
                }
                span.sweepgen.store(sg, Ordering::Release);
                c.push_swept(sg, s, false);
            }
        }
        let npages = class_pages(spc.size_class());
        self.reclaim(npages);
        SpanPtr(self.new_span(npages, spc, sg.wrapping_add(3)))
    }

    /// Before new pages are taken, sweeps spans of any class while the
    /// sweep is unfinished, until `npages` pages are free (Go:
    /// `mheap.reclaim`): the pages the last cycle freed are reused before
    /// untouched ones, so the resident set follows the heap goal instead of
    /// growing whenever the mutator out-allocates the background sweeper.
    /// Runs inside the caller's critical section, like every sweep.
    /// Like Go's, it has no budget: it stops when enough pages are free or
    /// nothing is left to sweep (a budget of 64 spans left peak RSS 10–20 %
    /// higher on binary-trees).
    fn reclaim(&self, npages: usize) {
        let Some(sweeper) = sweeper() else { return };
        loop {
            if self.pages.lock().free_pages() >= npages {
                return;
            }
            // SAFETY: the caller is inside a critical section (module doc
            // of `alloc.rs`).
            if !unsafe { sweeper.sweep_one() } {
                return;
            }
        }
    }

    /// Takes a span back from a cache (Go: `mcentral.uncacheSpan`).
    ///
    /// # Safety
    /// The caller's cache owns `s`.
    pub(crate) unsafe fn uncache_span(&self, s: SpanPtr) {
        let span = s.get();
        // SAFETY: the cache owns the span until it is pushed below.
        let (bytes, objects) = unsafe { span.finish_black() };
        if objects != 0 {
            crate::stats::add_marked(bytes, objects);
        }
        let sg = self.sweepgen.load(Ordering::Acquire);
        // SAFETY: the cache owns the span.
        let free = span.nelems - unsafe { span.alloc_count() };
        // Undo the pessimistic count of `refill` for the slots never used.
        self.heap_live.fetch_sub((free * span.elemsize) as isize, Ordering::Relaxed);
        if span.sweepgen.load(Ordering::Acquire) == sg.wrapping_add(1) {
            // Cached before this sweep phase began: it still needs sweeping.
            span.sweepgen.store(sg.wrapping_sub(1), Ordering::Release);
            let sweeper = sweeper().expect("a span cached before a sweep phase implies a cycle, so a sweeper");
            // SAFETY: the span is owned (sweepgen sg-1 set by us), and the
            // caller owns the cache: in its critical section or the world
            // stopped.
            let live = unsafe { sweeper.sweep_span(self, span) };
            span.sweepgen.store(sg, Ordering::Release);
            self.central[span.class.index()].push_swept(sg, s, live < span.nelems);
            return;
        }
        span.sweepgen.store(sg, Ordering::Release);
        self.central[span.class.index()].push_swept(sg, s, free > 0);
    }

    fn new_span(&self, npages: usize, spc: SpanClass, sweepgen: u32) -> *const Span {
        let mut pages = self.pages.lock();
        let base = match pages.alloc(npages) {
            Ok(b) => b,
            Err(e) => {
                drop(pages);
                out_of_memory(&format!("{npages} pages"), &e)
            }
        };
        drop(pages);
        let s = Box::into_raw(self.spans.take(base, npages, spc, sweepgen));
        arena::set_span(base, npages, s);
        self.spans_in_use.fetch_add(1, Ordering::Relaxed);
        s
    }

    /// Allocates a large object's span of `npages` (Go: `mcache.allocLarge`)
    /// and returns the object's slot address. The span goes straight to its
    /// central full list as swept. The caller is inside a critical section.
    pub(crate) fn alloc_large(&self, npages: usize, noscan: bool) -> (usize, &'static Span) {
        self.reclaim(npages);
        let sg = self.sweepgen.load(Ordering::Acquire);
        let spc = SpanClass::new(0, noscan);
        let s = self.new_span(npages, spc, sg);
        // SAFETY: the span is new and not yet published in any list.
        let span = unsafe { &*s };
        // SAFETY: as above, we own it.
        let slot = unsafe { span.next_free() }.expect("a new large span has its slot free");
        self.heap_live.fetch_add((npages * PAGE_SIZE) as isize, Ordering::Relaxed);
        self.central[spc.index()].push_swept(sg, SpanPtr(s), false);
        (slot, span)
    }

    /// Returns an empty, owned span's pages to the page heap (Go:
    /// `mheap.freeSpan`).
    ///
    /// # Safety
    /// The caller owns `span`, it holds no live object and is in no list.
    pub(crate) unsafe fn free_span(&self, span: &'static Span) {
        let mut pages = self.pages.lock();
        arena::set_span(span.base, span.npages, core::ptr::null());
        pages.free(span.base, span.npages);
        drop(pages);
        self.spans_in_use.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: spans are allocated by `new_span` with `Box`, and no list,
        // cache or index entry refers to this one any more.
        self.spans.give(unsafe { Box::from_raw(span as *const Span as *mut Span) });
    }

    /// Takes the descriptors of large spans freed since the last call, for
    /// the caller to drop. Called while no critical section runs (the world
    /// is stopped): a thread inside one may still read a descriptor it
    /// looked up before the span was freed (`span_pool.rs`); dropping them
    /// can wait until after the restart.
    pub(crate) fn take_retired_descriptors(&self) -> span_pool::Retired {
        self.spans.take_retired()
    }

    /// Calls `f` for every span in a central list. With the world stopped and
    /// caches flushed this is every in-use span.
    pub fn for_each_span(&self, mut f: impl FnMut(&'static Span)) {
        for c in self.central.iter() {
            c.for_each(|s| f(s.get()));
        }
    }
}
