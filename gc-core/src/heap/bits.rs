//! Per-span bitmaps over atomic words (Go: `gcBits`, `allocBits`,
//! `gcmarkBits`).
//!
//! One bit per object slot. Mark bits are set concurrently by markers with
//! `fetch_or`; every other write (sweeping, clearing) happens while one
//! thread owns the span. Bits past `nelems` are always zero.
//!
//! The project's dependency list names `bitvec`; it is not used here because
//! the hot operations are word-level (`fetch_or` of one bit returning the old
//! word, loading 64 bits at once to refill the allocation cache, popcount of a
//! word) and a dozen lines of atomics state them directly (docs/design.md).

use core::sync::atomic::{AtomicU64, Ordering};

/// A fixed-size bitmap of atomic 64-bit words.
pub struct Bitmap {
    words: Box<[AtomicU64]>,
}

impl Bitmap {
    /// A zeroed bitmap for `n` bits.
    pub fn new(n: usize) -> Bitmap {
        Bitmap { words: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect() }
    }

    /// Sets bit `i`; returns true if it was already set.
    #[inline]
    pub fn set(&self, i: usize) -> bool {
        let w = &self.words[i / 64];
        let mask = 1u64 << (i % 64);
        // Cheap pre-check: most shades of an already-marked object stop here
        // without a locked instruction (Go's `isMarked` before `setMarked`).
        if w.load(Ordering::Relaxed) & mask != 0 {
            return true;
        }
        self.fetch_set(i)
    }

    /// Sets bit `i` with one locked OR and no pre-check, for a caller that
    /// has just read it clear; returns true if it was already set.
    ///
    /// Sequentially consistent: span-batched marking orders this store
    /// before its load of the span's owner flag, against the owner's release
    /// and re-read of the mark bits (`mark/span_scan.rs`). On x86 every
    /// locked OR is already a full fence.
    #[inline]
    pub fn fetch_set(&self, i: usize) -> bool {
        let mask = 1u64 << (i % 64);
        self.words[i / 64].fetch_or(mask, Ordering::SeqCst) & mask != 0
    }

    /// Sets bit `i`, known to be clear (Go: `gcmarknewobject`'s `setMarked`
    /// on a new object).
    #[inline]
    pub fn set_new(&self, i: usize) {
        let was = self.fetch_set(i);
        debug_assert!(!was, "set_new: bit {i} already set");
    }

    /// ORs `bits` into word `w`; returns the word's previous value.
    #[inline]
    pub fn or_word(&self, w: usize, bits: u64) -> u64 {
        self.words[w].fetch_or(bits, Ordering::AcqRel)
    }

    /// Reads bit `i`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        self.words[i / 64].load(Ordering::Acquire) & (1u64 << (i % 64)) != 0
    }

    /// Word `w` of the bitmap.
    #[inline]
    pub fn word(&self, w: usize) -> u64 {
        self.words[w].load(Ordering::Acquire)
    }

    /// Word `w`, sequentially consistent with `fetch_set` (see there).
    #[inline]
    pub fn word_seqcst(&self, w: usize) -> u64 {
        self.words[w].load(Ordering::SeqCst)
    }

    /// Word `w` for its owner, who alone writes it (no ordering needed).
    #[inline]
    pub fn word_owned(&self, w: usize) -> u64 {
        self.words[w].load(Ordering::Relaxed)
    }

    /// The atomic word `w` itself, for an owner doing its own
    /// read-modify-write.
    #[inline]
    pub fn word_ref(&self, w: usize) -> &AtomicU64 {
        &self.words[w]
    }

    /// Stores word `w` (owner only).
    #[inline]
    pub fn store_word(&self, w: usize, v: u64) {
        self.words[w].store(v, Ordering::Release);
    }

    /// Number of words.
    #[inline]
    pub fn nwords(&self) -> usize {
        self.words.len()
    }

    /// Clears every bit (owner only).
    pub fn clear(&self) {
        for w in self.words.iter() {
            w.store(0, Ordering::Relaxed);
        }
    }

    /// Number of set bits.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.load(Ordering::Relaxed).count_ones() as usize).sum()
    }
}
