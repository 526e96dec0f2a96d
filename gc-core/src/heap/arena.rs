//! Heap arenas and the address → span index (Go: `heapArena`, `mheap.arenas`,
//! `spanOf`).
//!
//! Memory is reserved from the OS in 64 MiB arenas aligned to 64 MiB, with
//! `mmap(MAP_NORESERVE)`: a page costs RSS only once touched. The index is
//! Go's single-level map on 64-bit Linux: 2^22 entries, one per possible arena
//! in a 48-bit address space, itself an untouched `MAP_NORESERVE` mapping so
//! that only the entries in use cost memory.
//!
//! Invariants:
//! * An arena's metadata is published in the index before any span in it is
//!   handed out, and is never removed (arenas are never unmapped; idle pages
//!   are returned with `madvise`).
//! * `spans[page]` holds the span owning that page for every page of an
//!   in-use span; it is written only under the page-heap lock and read
//!   lock-free by the marker, which only looks up addresses of allocated
//!   objects, whose span cannot be freed while they are live.

use super::size_class::{PAGE_SHIFT, PAGE_SIZE};
use super::span::Span;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

/// log2 of the arena size (Go: `logHeapArenaBytes`).
pub const ARENA_SHIFT: usize = 26;
/// 64 MiB.
pub const ARENA_BYTES: usize = 1 << ARENA_SHIFT;
/// Pages per arena (Go: `pagesPerArena`).
pub const PAGES_PER_ARENA: usize = ARENA_BYTES / PAGE_SIZE;
const ADDR_BITS: usize = 48;
const INDEX_ENTRIES: usize = 1 << (ADDR_BITS - ARENA_SHIFT);

/// Per-arena metadata (Go: `heapArena`).
pub struct ArenaMeta {
    /// Page → owning span; null for free pages.
    pub spans: Box<[AtomicPtr<Span>]>,
}

struct Index {
    entries: *const AtomicPtr<ArenaMeta>,
}
// SAFETY: the entries are atomics in a mapping that lives for the process.
unsafe impl Send for Index {}
// SAFETY: as above.
unsafe impl Sync for Index {}

static INDEX: OnceLock<Index> = OnceLock::new();

fn index() -> &'static Index {
    INDEX.get_or_init(|| {
        let bytes = INDEX_ENTRIES * core::mem::size_of::<AtomicPtr<ArenaMeta>>();
        let p = os_reserve(bytes)
            .unwrap_or_else(|e| panic!("tricolor-gc: cannot reserve the {} MiB arena index: {e}", bytes >> 20));
        Index { entries: p as *const AtomicPtr<ArenaMeta> }
    })
}

#[inline]
fn entry(addr: usize) -> Option<&'static AtomicPtr<ArenaMeta>> {
    let i = addr >> ARENA_SHIFT;
    if i >= INDEX_ENTRIES {
        return None;
    }
    // SAFETY: `i` is in bounds of the index mapping, which is zero-initialised
    // (null entries) and lives for the process.
    Some(unsafe { &*index().entries.add(i) })
}

/// The arena metadata for `addr`, if it lies in the GC heap.
#[inline]
pub fn arena_of(addr: usize) -> Option<&'static ArenaMeta> {
    let p = entry(addr)?.load(Ordering::Acquire);
    // SAFETY: published metadata is leaked and never freed.
    unsafe { p.as_ref() }
}

/// The span owning `addr`, or null if `addr` is not in an in-use span
/// (Go: `spanOf`).
#[inline]
pub fn span_of(addr: usize) -> *const Span {
    match arena_of(addr) {
        Some(a) => a.spans[(addr & (ARENA_BYTES - 1)) >> PAGE_SHIFT].load(Ordering::Acquire),
        None => ptr::null(),
    }
}

/// Records `span` as the owner of `npages` pages from `base` (null to clear).
/// Caller holds the page-heap lock.
pub fn set_span(base: usize, npages: usize, span: *const Span) {
    let mut addr = base;
    for _ in 0..npages {
        let a = arena_of(addr).expect("page outside the heap");
        a.spans[(addr & (ARENA_BYTES - 1)) >> PAGE_SHIFT].store(span as *mut Span, Ordering::Release);
        addr += PAGE_SIZE;
    }
}

/// Reserves `n` contiguous arenas (64 MiB each, 64 MiB-aligned) and publishes
/// their metadata. Returns the base, or an error message if the OS refuses.
pub fn reserve_arenas(n: usize) -> Result<usize, String> {
    let bytes = n * ARENA_BYTES;
    // Over-reserve by one arena so an aligned block fits, then trim.
    let raw = os_reserve(bytes + ARENA_BYTES)?;
    let base = (raw + ARENA_BYTES - 1) & !(ARENA_BYTES - 1);
    let head = base - raw;
    let tail = (raw + bytes + ARENA_BYTES) - (base + bytes);
    // SAFETY: both ranges lie inside the mapping just created and are unused.
    unsafe {
        if head > 0 {
            libc::munmap(raw as *mut libc::c_void, head);
        }
        if tail > 0 {
            libc::munmap((base + bytes) as *mut libc::c_void, tail);
        }
    }
    for i in 0..n {
        let a = base + i * ARENA_BYTES;
        let meta =
            Box::new(ArenaMeta { spans: (0..PAGES_PER_ARENA).map(|_| AtomicPtr::new(ptr::null_mut())).collect() });
        let e = entry(a).ok_or_else(|| format!("arena at {a:#x} is beyond the 48-bit address space"))?;
        e.store(Box::into_raw(meta), Ordering::Release);
    }
    Ok(base)
}

/// The machine's RAM plus swap in bytes (`sysinfo`), or `usize::MAX` where
/// it cannot be read: the most one object could ever occupy. Arenas are
/// `MAP_NORESERVE`, so the kernel never refuses a reservation; a request
/// above this is refused here instead, as the kernel's heuristic overcommit
/// refuses it for Go's `sysMap` and for `Vec`'s allocation.
pub fn os_memory_bytes() -> usize {
    static BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: `sysinfo` fills the struct it is given; zeroed is a
            // valid initial value for it.
            let mut si: libc::sysinfo = unsafe { core::mem::zeroed() };
            // SAFETY: `si` is a valid, writable `sysinfo`.
            if unsafe { libc::sysinfo(&mut si) } == 0 {
                let unit = (si.mem_unit as usize).max(1);
                return (si.totalram as usize).saturating_add(si.totalswap as usize).saturating_mul(unit);
            }
        }
        usize::MAX
    })
}

/// Returns the physical pages of `[addr, addr+len)` to the OS (Go:
/// `sysUnused`): with `MADV_DONTNEED` (the default on Linux, as in Go) they
/// leave RSS at once and read as zero; with `GODEBUG=madvdontneed=0`,
/// `MADV_FREE` lets the kernel take them lazily, under memory pressure, and
/// they may keep their old contents. Nothing in the heap relies on released
/// pages reading as zero: every object is written before it is published.
pub fn release_pages(addr: usize, len: usize) {
    #[cfg(target_os = "linux")]
    let advice = if crate::env::config().debug.madvdontneed { libc::MADV_DONTNEED } else { libc::MADV_FREE };
    #[cfg(not(target_os = "linux"))]
    let advice = libc::MADV_DONTNEED;
    // SAFETY: the range is page-aligned, inside a heap arena and free; the
    // mapping stays reserved, only its contents are dropped.
    unsafe {
        libc::madvise(addr as *mut libc::c_void, len, advice);
    }
}

fn os_reserve(bytes: usize) -> Result<usize, String> {
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choice; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(format!("mmap of {} MiB failed: {}", bytes >> 20, std::io::Error::last_os_error()));
    }
    Ok(p as usize)
}
