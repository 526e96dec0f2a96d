//! The page heap: free page ranges with coalescing (Go: `mheap`, `pageAlloc`).
//!
//! Go keeps a radix tree of bitmaps; here free ranges live in two ordered maps
//! under one lock: by address (to coalesce with neighbours in O(log n)) and by
//! (length, address) (best fit in O(log n)). Spans are allocated a few pages at
//! a time from mcentral refills, so this lock is off the allocation fast path.
//!
//! Invariants, under the lock:
//! * `by_addr` and `by_size[0] ∪ by_size[1]` describe the same set of
//!   ranges; a range is in `by_size[1]` exactly when it is released.
//! * No two free ranges are adjacent (they are merged on free).
//! * A free range never overlaps an in-use span.
//! * Free ranges are returned to the OS with `madvise(MADV_DONTNEED)` by
//!   [`PageHeap::scavenge_to`] when the heap retains more than its goal plus
//!   10 % (Go's background scavenger), called by the background sweeper once
//!   a cycle's sweep is done; `released` records which ranges are returned.

use super::arena::{self, ARENA_BYTES};
use super::size_class::PAGE_SIZE;
use std::collections::{BTreeMap, BTreeSet};

/// A free range.
#[derive(Clone, Copy, Debug)]
struct Range {
    npages: usize,
    /// True if its memory was returned to the OS (reads as zero).
    released: bool,
    /// The scavenge epoch in which it last became free.
    freed: u32,
}

/// Free page ranges of the whole heap.
#[derive(Default)]
pub struct PageHeap {
    by_addr: BTreeMap<usize, Range>,
    /// Best-fit indexes: `[0]` ranges still backed by memory, `[1]` ranges
    /// returned to the OS. Allocation prefers backed ranges, so scavenged
    /// pages are faulted back in only when nothing backed fits.
    by_size: [BTreeSet<(usize, usize)>; 2],
    /// Bytes reserved from the OS (Go: `HeapSys`).
    pub sys_bytes: usize,
    /// Pages in in-use spans (Go: `HeapInuse` / 8 KiB).
    pub inuse_pages: usize,
    /// Bytes returned to the OS and not reused since (Go: `HeapReleased`).
    pub released_bytes: usize,
    /// Scavenge epoch: advanced by each `scavenge_to`; only ranges free since
    /// an earlier epoch are released, so pages that every cycle frees and
    /// reuses are not returned and faulted back in over and over.
    epoch: u32,
}

impl PageHeap {
    /// Allocates `npages` contiguous pages, growing the heap if needed.
    /// Returns the base address, or an error if the OS refuses memory.
    pub fn alloc(&mut self, npages: usize) -> Result<usize, String> {
        let fit = |h: &Self| {
            h.by_size[0].range((npages, 0)..).next().or_else(|| h.by_size[1].range((npages, 0)..).next()).copied()
        };
        let (len, base) = match fit(self) {
            Some(r) => r,
            None => {
                self.grow(npages)?;
                fit(self).expect("grown heap has room")
            }
        };
        let range = self.remove(base, len);
        if len > npages {
            self.insert(base + npages * PAGE_SIZE, Range { npages: len - npages, ..range });
        }
        if range.released {
            self.released_bytes -= npages * PAGE_SIZE;
        }
        self.inuse_pages += npages;
        Ok(base)
    }

    /// Returns `npages` pages at `base` to the free set, merging neighbours.
    pub fn free(&mut self, base: usize, npages: usize) {
        self.inuse_pages -= npages;
        let mut start = base;
        let mut len = npages;
        let mut released_pages = 0;
        if let Some((&pbase, &prev)) = self.by_addr.range(..base).next_back() {
            if pbase + prev.npages * PAGE_SIZE == base {
                self.remove(pbase, prev.npages);
                if prev.released {
                    released_pages += prev.npages;
                }
                start = pbase;
                len += prev.npages;
            }
        }
        let end = base + npages * PAGE_SIZE;
        if let Some(&next) = self.by_addr.get(&end) {
            self.remove(end, next.npages);
            if next.released {
                released_pages += next.npages;
            }
            len += next.npages;
        }
        // A merged range is "not released" as a whole; its released parts stay
        // counted until the next scavenge re-releases the whole range.
        self.released_bytes -= released_pages * PAGE_SIZE;
        self.insert(start, Range { npages: len, released: false, freed: self.epoch });
    }

    /// Returns free ranges to the OS, largest first, until the memory the
    /// heap retains (in-use pages plus free pages not yet returned) is at most
    /// `retain` bytes (Go's background scavenger goal, `gcPercentGoal` ×
    /// 1.1). Ranges freed since the previous call are kept (they are likely
    /// to be reused right away). Returns the bytes released.
    pub fn scavenge_to(&mut self, retain: usize) -> usize {
        let free_unreleased: usize = self.by_addr.values().filter(|r| !r.released).map(|r| r.npages).sum();
        let mut retained = (self.inuse_pages + free_unreleased) * PAGE_SIZE;
        if retained <= retain {
            return 0;
        }
        let mut released = 0;
        let epoch = self.epoch;
        self.epoch = self.epoch.wrapping_add(1);
        let candidates: Vec<(usize, usize)> =
            self.by_size[0].iter().rev().copied().filter(|&(_, b)| self.by_addr[&b].freed != epoch).collect();
        for (npages, base) in candidates {
            if retained <= retain {
                break;
            }
            arena::release_pages(base, npages * PAGE_SIZE);
            self.by_size[0].remove(&(npages, base));
            self.by_size[1].insert((npages, base));
            self.by_addr.get_mut(&base).expect("listed range").released = true;
            released += npages * PAGE_SIZE;
            retained -= npages * PAGE_SIZE;
        }
        self.released_bytes += released;
        released
    }

    /// Free pages (Go: `HeapIdle` / 8 KiB).
    pub fn free_pages(&self) -> usize {
        self.by_addr.values().map(|r| r.npages).sum()
    }

    fn grow(&mut self, npages: usize) -> Result<(), String> {
        let bytes = (npages * PAGE_SIZE).div_ceil(ARENA_BYTES) * ARENA_BYTES;
        let base = arena::reserve_arenas(bytes / ARENA_BYTES)?;
        self.sys_bytes += bytes;
        // Fresh mappings read as zero: account them as released.
        self.released_bytes += bytes;
        self.inuse_pages += bytes / PAGE_SIZE; // `free` subtracts it again
        let npages = bytes / PAGE_SIZE;
        self.free_released(base, npages);
        Ok(())
    }

    fn free_released(&mut self, base: usize, npages: usize) {
        self.inuse_pages -= npages;
        self.insert(base, Range { npages, released: true, freed: self.epoch });
    }

    fn insert(&mut self, base: usize, r: Range) {
        self.by_addr.insert(base, r);
        self.by_size[r.released as usize].insert((r.npages, base));
    }

    fn remove(&mut self, base: usize, npages: usize) -> Range {
        let r = self.by_addr.remove(&base).expect("free range present");
        self.by_size[r.released as usize].remove(&(npages, base));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_free_coalesces_back_to_one_range() {
        let mut h = PageHeap::default();
        let a = h.alloc(1).unwrap();
        let b = h.alloc(3).unwrap();
        let c = h.alloc(2).unwrap();
        assert_eq!(b, a + PAGE_SIZE);
        assert_eq!(c, b + 3 * PAGE_SIZE);
        h.free(b, 3);
        h.free(a, 1);
        h.free(c, 2);
        assert_eq!(h.by_addr.len(), 1, "all ranges merged");
        assert_eq!(h.inuse_pages, 0);
        assert_eq!(h.free_pages() * PAGE_SIZE, h.sys_bytes);
    }

    #[test]
    fn best_fit_reuses_hole() {
        let mut h = PageHeap::default();
        let a = h.alloc(4).unwrap();
        let _b = h.alloc(1).unwrap();
        h.free(a, 4);
        let c = h.alloc(2).unwrap();
        assert_eq!(c, a, "the 4-page hole is the best fit for 2 pages");
    }

    #[test]
    fn large_requests_span_arenas() {
        let mut h = PageHeap::default();
        let pages = ARENA_BYTES / PAGE_SIZE + 10;
        let a = h.alloc(pages).unwrap();
        assert_eq!(a % ARENA_BYTES, 0);
        assert!(h.sys_bytes >= pages * PAGE_SIZE);
        h.free(a, pages);
    }
}

#[cfg(test)]
mod scavenge_tests {
    use super::*;

    #[test]
    fn scavenge_releases_largest_free_ranges_down_to_the_target() {
        let mut h = PageHeap::default();
        let a = h.alloc(100).unwrap();
        let b = h.alloc(1).unwrap();
        let c = h.alloc(50).unwrap();
        let _d = h.alloc(1).unwrap();
        // Reuse makes them unreleased; free two ranges.
        h.free(a, 100);
        h.free(c, 50);
        let before = h.released_bytes;
        // Retain in-use (2 pages) plus 60 free pages: releases the 100-page
        // range only (the largest), which is enough... unless the arena tail
        // is unreleased too; the target is met either way.
        let retain = (2 + 60) * PAGE_SIZE;
        assert_eq!(h.scavenge_to(retain), 0, "ranges freed in this epoch are kept");
        let released = h.scavenge_to(retain);
        assert!(released >= 100 * PAGE_SIZE);
        assert_eq!(h.released_bytes, before + released);
        let free_unreleased: usize = h.by_addr.values().filter(|r| !r.released).map(|r| r.npages).sum();
        assert!((h.inuse_pages + free_unreleased) * PAGE_SIZE <= retain);
        assert_eq!(h.scavenge_to(retain), 0, "nothing more to do");
        let _ = b;
    }
}
