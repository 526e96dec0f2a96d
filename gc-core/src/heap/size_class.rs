//! Size classes and span classes (Go: sizeclasses.go, msize.go, `spanClass`).
//!
//! The class table is Go's, 67 classes up to 32 KiB, each with the pages of the
//! span that holds it. The two lookup tables (`size_to_class8` for sizes up to
//! 1024 in 8-byte steps, `size_to_class128` above it in 128-byte steps) and the
//! division magic numbers are generated from that table at compile time, so
//! they can never disagree with it.
//!
//! Invariants (checked by the tests): class sizes increase strictly; every
//! size is a multiple of 8, and of 16 from 16 bytes on except 24; the class
//! chosen for a size is the smallest class that fits it; the rounding waste of
//! a request stays within Go's per-class bound; `div_magic` divides exactly for
//! every offset inside a span.

/// Objects above this size get a span of their own (Go: `_MaxSmallSize`).
pub const MAX_SMALL_SIZE: usize = 32768;
/// Number of size classes, class 0 meaning "large" (Go: `_NumSizeClasses`).
pub const NUM_SIZE_CLASSES: usize = 68;
/// Objects up to this size may go without a header (Go:
/// `minSizeForMallocHeader`, below which Go keeps pointer bits per span).
pub const MAX_HEADERLESS_SIZE: usize = 512;
/// Size classes that have headerless span classes (0 through the class of
/// [`MAX_HEADERLESS_SIZE`]).
pub const NUM_HEADERLESS_CLASSES: usize = size_to_class(MAX_HEADERLESS_SIZE) as usize + 1;
/// First index of the headerless span classes.
const HEADERLESS_BASE: usize = NUM_SIZE_CLASSES * 2;
/// Number of span classes: size class × {scan, noscan}, then the small size
/// classes again × {scan, noscan} for headerless objects (Go:
/// `numSpanClasses`, which has only the first part).
pub const NUM_SPAN_CLASSES: usize = HEADERLESS_BASE + NUM_HEADERLESS_CLASSES * 2;
const _: () = assert!(NUM_SPAN_CLASSES < u8::MAX as usize, "span classes must fit a u8 beside LARGE");
/// The runtime page (Go: `_PageShift` = 13).
pub const PAGE_SHIFT: usize = 13;
/// 8 KiB.
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// `(bytes, pages)` per class; index 0 is the large-object class.
pub const CLASSES: [(u32, u8); NUM_SIZE_CLASSES] = [
    (0, 0),
    (8, 1),
    (16, 1),
    (24, 1),
    (32, 1),
    (48, 1),
    (64, 1),
    (80, 1),
    (96, 1),
    (112, 1),
    (128, 1),
    (144, 1),
    (160, 1),
    (176, 1),
    (192, 1),
    (208, 1),
    (224, 1),
    (240, 1),
    (256, 1),
    (288, 1),
    (320, 1),
    (352, 1),
    (384, 1),
    (416, 1),
    (448, 1),
    (480, 1),
    (512, 1),
    (576, 1),
    (640, 1),
    (704, 1),
    (768, 1),
    (896, 1),
    (1024, 1),
    (1152, 1),
    (1280, 1),
    (1408, 2),
    (1536, 1),
    (1792, 2),
    (2048, 1),
    (2304, 2),
    (2688, 1),
    (3072, 3),
    (3200, 2),
    (3456, 3),
    (4096, 1),
    (4864, 3),
    (5376, 2),
    (6144, 3),
    (6528, 4),
    (6784, 5),
    (6912, 6),
    (8192, 1),
    (9472, 7),
    (9728, 6),
    (10240, 5),
    (10880, 4),
    (12288, 3),
    (13568, 5),
    (14336, 7),
    (16384, 2),
    (18432, 9),
    (19072, 7),
    (20480, 5),
    (21760, 8),
    (24576, 3),
    (27264, 10),
    (28672, 7),
    (32768, 4),
];

const SMALL_SIZE_MAX: usize = 1024;
const SMALL_SIZE_DIV: usize = 8;
const LARGE_SIZE_DIV: usize = 128;

const fn class_for(size: usize) -> u8 {
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        if CLASSES[c].0 as usize >= size {
            return c as u8;
        }
        c += 1;
    }
    0
}

const SIZE_TO_CLASS8: [u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1] = {
    let mut t = [0u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = class_for(i * SMALL_SIZE_DIV);
        i += 1;
    }
    t
};

const SIZE_TO_CLASS128: [u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1] = {
    let mut t = [0u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = class_for(SMALL_SIZE_MAX + i * LARGE_SIZE_DIV);
        i += 1;
    }
    t
};

const DIV_MAGIC: [u32; NUM_SIZE_CLASSES] = {
    let mut t = [0u32; NUM_SIZE_CLASSES];
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        t[c] = (u32::MAX / CLASSES[c].0) + 1;
        c += 1;
    }
    t
};

/// The size class for an object of `size` bytes, or 0 if it is large
/// (Go: `size_to_class8` / `size_to_class128` in `mallocgc`).
#[inline]
pub const fn size_to_class(size: usize) -> u8 {
    if size <= SMALL_SIZE_MAX {
        SIZE_TO_CLASS8[size.div_ceil(SMALL_SIZE_DIV)]
    } else if size <= MAX_SMALL_SIZE {
        SIZE_TO_CLASS128[(size - SMALL_SIZE_MAX).div_ceil(LARGE_SIZE_DIV)]
    } else {
        0
    }
}

/// Bytes per object of class `c` (Go: `class_to_size`).
#[inline]
pub const fn class_size(c: u8) -> usize {
    CLASSES[c as usize].0 as usize
}

/// Pages per span of class `c` (Go: `class_to_allocnpages`).
#[inline]
pub const fn class_pages(c: u8) -> usize {
    CLASSES[c as usize].1 as usize
}

/// Magic multiplier with `(off * magic) >> 32 == off / size` for every offset
/// inside a span of class `c` (Go: `class_to_divmagic`).
#[inline]
pub const fn div_magic(c: u8) -> u32 {
    DIV_MAGIC[c as usize]
}

/// A size class plus the noscan bit (Go: `spanClass`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanClass(pub u8);

impl SpanClass {
    /// Go: `makeSpanClass`.
    #[inline]
    pub const fn new(size_class: u8, noscan: bool) -> SpanClass {
        SpanClass((size_class << 1) | noscan as u8)
    }
    /// The span class of headerless objects of `size_class` (at most the
    /// class of [`MAX_HEADERLESS_SIZE`]): their type is not recorded per
    /// object; scan spans keep one pointer bit per word instead (Go's
    /// small-object heap bits).
    #[inline]
    pub const fn headerless(size_class: u8, noscan: bool) -> SpanClass {
        assert!((size_class as usize) < NUM_HEADERLESS_CLASSES);
        SpanClass(HEADERLESS_BASE as u8 + ((size_class << 1) | noscan as u8))
    }
    /// True for the span classes of headerless objects.
    #[inline]
    pub const fn is_headerless(self) -> bool {
        self.0 as usize >= HEADERLESS_BASE
    }
    /// The size class.
    #[inline]
    pub const fn size_class(self) -> u8 {
        if self.is_headerless() {
            (self.0 - HEADERLESS_BASE as u8) >> 1
        } else {
            self.0 >> 1
        }
    }
    /// True if objects in such spans hold no pointers and are never scanned.
    #[inline]
    pub const fn noscan(self) -> bool {
        self.0 & 1 != 0
    }
    /// Index into per-span-class arrays.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn classes_increase_and_align() {
        for c in 2..NUM_SIZE_CLASSES {
            let (prev, size) = (CLASSES[c - 1].0, CLASSES[c].0);
            assert!(size > prev, "class {c}");
            assert_eq!(size % 8, 0);
            if size >= 16 && size != 24 {
                assert_eq!(size % 16, 0, "class {c} size {size} breaks 16-byte alignment");
            }
            let span = CLASSES[c].1 as usize * PAGE_SIZE;
            assert!(span / size as usize >= 1);
            assert!(span / size as usize <= 1024, "at most 1024 objects per span (class 1: 8 B x 1024)");
        }
    }

    #[test]
    fn lookup_is_smallest_fit_for_every_size() {
        for size in 1..=MAX_SMALL_SIZE {
            let c = size_to_class(size);
            assert!(c > 0, "size {size}");
            assert!(class_size(c) >= size, "size {size}");
            assert!(c == 1 || class_size(c - 1) < size, "size {size} not smallest");
        }
        assert_eq!(size_to_class(MAX_SMALL_SIZE + 1), 0);
    }

    /// Go's sizeclasses.go header: worst-case waste per class when the request
    /// is the previous class's size + 1, counting span tail waste. Go's table
    /// reports at most 87.50% (class 1), 23.44% for class 6 (64 B), and below
    /// 20% from class 7 (80 B) on, the largest being 16.65% (class 45, 4864 B)
    /// past the first classes.
    #[test]
    fn rounding_waste_within_go_bound() {
        for c in 1..NUM_SIZE_CLASSES {
            let size = CLASSES[c].0 as f64;
            let prev = if c == 1 { 0.0 } else { CLASSES[c - 1].0 as f64 };
            let span = CLASSES[c].1 as f64 * PAGE_SIZE as f64;
            let n = (span / size).floor();
            let used = n * (prev + 1.0);
            let waste = (span - used) / span;
            assert!(waste <= 0.875 + 1e-9, "class {c}: {waste}");
            if c >= 7 {
                assert!(waste < 0.20, "class {c}: {waste}");
            }
            if c >= 10 {
                assert!(waste <= 0.1665 + 1e-4, "class {c}: {waste}");
            }
            let go_table = match c {
                1 => Some(87.50),
                6 => Some(23.44),
                45 => Some(16.65),
                _ => None,
            };
            if let Some(pct) = go_table {
                assert!((waste * 100.0 - pct).abs() < 0.01, "class {c}: {waste} vs Go's {pct}%");
            }
        }
    }

    #[test]
    fn div_magic_is_exact_inside_spans() {
        for c in 1..NUM_SIZE_CLASSES as u8 {
            let size = class_size(c);
            let span = class_pages(c) * PAGE_SIZE;
            for off in (0..span).step_by(8) {
                let q = ((off as u64 * div_magic(c) as u64) >> 32) as usize;
                assert_eq!(q, off / size, "class {c} off {off}");
            }
        }
    }

    #[rstest]
    #[case(1, 8)]
    #[case(8, 8)]
    #[case(9, 16)]
    #[case(17, 24)]
    #[case(25, 32)]
    #[case(33, 48)]
    #[case(1016, 1024)]
    #[case(1017, 1024)]
    #[case(1025, 1152)]
    #[case(4097, 4864)]
    #[case(32768, 32768)]
    fn rounding_examples(#[case] req: usize, #[case] rounded: usize) {
        assert_eq!(class_size(size_to_class(req)), rounded);
    }

    #[rstest]
    #[case(5, false, 10)]
    #[case(5, true, 11)]
    #[case(0, true, 1)]
    fn span_class_encoding(#[case] size_class: u8, #[case] noscan: bool, #[case] enc: u8) {
        let s = SpanClass::new(size_class, noscan);
        assert_eq!(s.0, enc);
        assert_eq!(s.size_class(), size_class);
        assert_eq!(s.noscan(), noscan);
    }
}
