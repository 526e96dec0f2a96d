// GC pointer fields must stay word-aligned. (A `Member` itself is already
// refused by rustc in a packed type, being an atomic; the derive also refuses
// pointers behind indirections, and says why.)
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
#[repr(C, packed)]
struct Packed {
    tag: u8,
    list: Vec<Member<Leaf>>,
}

// Fine: nothing to scan.
#[derive(Trace)]
#[trace(no_pointers)]
#[repr(packed(2))]
struct PackedPlain {
    tag: u8,
    v: u64,
}

fn main() {}
