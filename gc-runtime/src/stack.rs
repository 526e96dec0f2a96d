//! Goroutine stacks: one mmap'd reservation per G, a guard page at its low
//! end, touched lazily, pooled for reuse (Go: `stackalloc`/`stackfree` and
//! the `gFree` lists that keep a dead G's stack).
//!
//! Invariants:
//!
//! * A [`GStack`] owns `len` bytes at `low` (`MAP_PRIVATE | MAP_ANONYMOUS |
//!   MAP_NORESERVE`); the lowest page is a guard page, the rest is read-write
//!   and only the pages a G actually touches become resident.
//! * The guard is installed with `madvise(MADV_GUARD_INSTALL)` (Linux ≥ 6.13),
//!   which marks the page in the page tables **without splitting the VMA**:
//!   with `vm.max_map_count` = 65530 an `mprotect`'d guard (2 VMAs per stack)
//!   would cap a process near 32 000 Gs, the guard-install form allows one
//!   VMA per stack (and the kernel merges neighbours). If the kernel answers
//!   `EINVAL` (older kernels), every later stack falls back to
//!   `mprotect(PROT_NONE)`; [`guard_kind`] reports which is in use.
//! * A stack is unmapped only when it is dropped, which happens only for a
//!   stack no G is running on: a dead G's stack goes back to the pool
//!   ([`StackPool::put`]); the stack of a G that never finishes (abandoned
//!   by a dropped runtime) is leaked, never freed under running code.
//! * The pool keeps at most [`POOL_MAX`] stacks; those beyond the first
//!   [`POOL_WARM`] have their usable pages released with
//!   `MADV_DONTNEED` when returned, so a burst of 10⁵ Gs does not stay
//!   resident after it ends.

use parking_lot::Mutex;
use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// Linux's `MADV_GUARD_INSTALL` (include/uapi/asm-generic/mman-common.h).
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Stacks kept for reuse.
const POOL_MAX: usize = 4096;
/// Stacks kept resident in the pool; the rest are `MADV_DONTNEED`'d.
const POOL_WARM: usize = 64;

/// How guard pages are installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardKind {
    /// `madvise(MADV_GUARD_INSTALL)`: one VMA per stack.
    GuardInstall,
    /// `mprotect(PROT_NONE)`: two VMAs per stack.
    Mprotect,
}

/// 0: not probed yet; 1: guard-install works; 2: use mprotect.
static GUARD_MODE: AtomicU8 = AtomicU8::new(0);

/// Which guard mechanism this process uses (probes once if needed).
pub fn guard_kind() -> GuardKind {
    if GUARD_MODE.load(Ordering::Relaxed) == 0 {
        // Probing maps and drops one stack.
        drop(GStack::map(4 * page_size()));
    }
    if GUARD_MODE.load(Ordering::Relaxed) == 2 {
        GuardKind::Mprotect
    } else {
        GuardKind::GuardInstall
    }
}

/// The system page size.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096))
}

/// One G stack: `[low, low + page)` is the guard, `[low + page, low + len)`
/// is usable; the stack grows down from `low + len`.
#[derive(Debug)]
pub(crate) struct GStack {
    low: usize,
    len: usize,
}

// SAFETY: a GStack is a plain range of process memory with no thread
// affinity; whoever owns the value owns the range.
unsafe impl Send for GStack {}

impl GStack {
    /// Maps a stack with `usable` bytes (rounded up to pages) plus a guard.
    pub(crate) fn map(usable: usize) -> io::Result<GStack> {
        let page = page_size();
        let usable = usable.max(4 * page).div_ceil(page) * page;
        let len = usable + page;
        // SAFETY: an anonymous private mapping at an address the kernel picks
        // aliases nothing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = GStack { low: p as usize, len };
        stack.install_guard()?;
        Ok(stack)
    }

    fn install_guard(&self) -> io::Result<()> {
        let page = page_size();
        let base = self.low as *mut libc::c_void;
        if GUARD_MODE.load(Ordering::Relaxed) != 2 {
            // SAFETY: the first page of our own mapping; nothing lives there.
            if unsafe { libc::madvise(base, page, MADV_GUARD_INSTALL) } == 0 {
                GUARD_MODE.store(1, Ordering::Relaxed);
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINVAL) {
                return Err(err);
            }
            GUARD_MODE.store(2, Ordering::Relaxed);
        }
        // SAFETY: as above; the page becomes inaccessible.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The guard page's address range `[lo, hi)`.
    pub(crate) fn guard(&self) -> (usize, usize) {
        (self.low, self.low + page_size())
    }

    /// Releases the usable pages (they read as zero when touched again).
    fn release_pages(&self) {
        let page = page_size();
        // SAFETY: the usable part of our own mapping; no G runs on it (the
        // caller owns the stack, which is only the case for a free stack).
        unsafe {
            libc::madvise((self.low + page) as *mut libc::c_void, self.len - page, libc::MADV_DONTNEED);
        }
    }
}

impl Drop for GStack {
    fn drop(&mut self) {
        // SAFETY: we own the mapping and nothing runs on it (see the module
        // invariants: only free stacks are dropped).
        unsafe {
            libc::munmap(self.low as *mut libc::c_void, self.len);
        }
    }
}

// SAFETY: base and limit delimit our own mapping, page-aligned (so aligned
// to STACK_ALIGNMENT); the limit includes the guard page, as the trait asks.
// The memory stays mapped for as long as the value lives.
unsafe impl corosensei::stack::Stack for GStack {
    fn base(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.low + self.len).expect("stack base is non-null")
    }

    fn limit(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.low).expect("stack limit is non-null")
    }
}

/// A free list of stacks of one size (Go: the stack and `gFree` caches).
#[derive(Debug)]
pub(crate) struct StackPool {
    size: usize,
    free: Mutex<Vec<GStack>>,
}

impl StackPool {
    /// A pool of stacks with `size` usable bytes.
    pub(crate) fn new(size: usize) -> StackPool {
        StackPool { size, free: Mutex::new(Vec::new()) }
    }

    /// A stack: a pooled one, else a new mapping.
    pub(crate) fn get(&self) -> io::Result<GStack> {
        if let Some(s) = self.free.lock().pop() {
            return Ok(s);
        }
        GStack::map(self.size)
    }

    /// Returns a stack no G runs on any more.
    pub(crate) fn put(&self, stack: GStack) {
        let mut free = self.free.lock();
        if free.len() >= POOL_MAX {
            drop(free);
            drop(stack);
            return;
        }
        if free.len() >= POOL_WARM {
            stack.release_pages();
        }
        free.push(stack);
    }

    /// Stacks currently pooled.
    pub(crate) fn pooled(&self) -> usize {
        self.free.lock().len()
    }
}

/// The bare context-switch cost: `iters` resume+suspend pairs of one
/// corosensei coroutine on a [`GStack`] (for `benches/switch.rs`).
#[doc(hidden)]
pub fn bench_raw_switch(iters: u64) -> std::time::Duration {
    use corosensei::{Coroutine, CoroutineResult, Yielder};
    let stack = GStack::map(64 * 1024).expect("stack");
    let mut co = Coroutine::with_stack(stack, |y: &Yielder<(), ()>, ()| loop {
        y.suspend(());
    });
    let t = std::time::Instant::now();
    for _ in 0..iters {
        if let CoroutineResult::Return(()) = co.resume(()) {
            unreachable!()
        }
    }
    let d = t.elapsed();
    std::mem::forget(co); // never resumed again: leak rather than unwind it
    d
}
