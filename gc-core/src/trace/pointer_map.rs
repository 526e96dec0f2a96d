//! Compile-time pointer maps: which words of a fixed-layout object hold a
//! `Member`.
//!
//! Invariants: when `exact` is true, bit `i` of `bits` is set exactly when the
//! 8-byte word at offset `8 * i` holds a `Member`; maps cover at most
//! [`PointerMap::MAX_WORDS`] words. Composition that cannot keep the map exact
//! (a pointer at an unaligned offset, or beyond the last word) degrades to
//! [`PointerMap::OPAQUE`], which makes the marker call `Trace::trace`.

const WORD: usize = core::mem::size_of::<usize>();

/// A fixed-width bitmap of the words that hold GC pointers (Go: the type's
/// `GCData` pointer mask), or the marker that the layout is not fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointerMap {
    bits: u128,
    exact: bool,
}

impl PointerMap {
    /// The widest object, in words, that a map can describe.
    pub const MAX_WORDS: usize = 128;
    /// No pointers at all.
    pub const EMPTY: PointerMap = PointerMap { bits: 0, exact: true };
    /// One pointer, in word 0 (a `Member`).
    pub const SINGLE: PointerMap = PointerMap { bits: 1, exact: true };
    /// Layout not fixed: scan with `Trace::trace`.
    pub const OPAQUE: PointerMap = PointerMap { bits: 0, exact: false };

    /// The map of a type whose pointers `trace` finds, given whether it has
    /// any pointers at all.
    pub const fn opaque_unless(no_pointers: bool) -> PointerMap {
        if no_pointers {
            Self::EMPTY
        } else {
            Self::OPAQUE
        }
    }

    /// Adds a field of map `field` at byte `offset` to this map.
    pub const fn with_field(self, offset: usize, field: PointerMap) -> PointerMap {
        if !self.exact || !field.exact {
            return Self::OPAQUE;
        }
        if field.bits == 0 {
            return self;
        }
        if offset % WORD != 0 {
            return Self::OPAQUE;
        }
        let shift = offset / WORD;
        let top = 128 - field.bits.leading_zeros() as usize; // highest bit + 1
        if shift + top > Self::MAX_WORDS {
            return Self::OPAQUE;
        }
        PointerMap { bits: self.bits | (field.bits << shift), exact: true }
    }

    /// The map of `[T; n]` given `T`'s map and size in bytes.
    pub const fn repeat(elem: PointerMap, elem_size: usize, n: usize) -> PointerMap {
        if !elem.exact {
            return Self::OPAQUE;
        }
        if elem.bits == 0 || n == 0 {
            return Self::EMPTY;
        }
        let mut map = Self::EMPTY;
        let mut i = 0;
        while i < n {
            map = map.with_field(i * elem_size, elem);
            if !map.exact {
                return Self::OPAQUE;
            }
            i += 1;
        }
        map
    }

    /// True if the map lists the pointers exactly.
    pub const fn is_exact(self) -> bool {
        self.exact
    }

    /// The bitmap (meaningful only when exact).
    pub const fn bits(self) -> u128 {
        self.bits
    }
}
