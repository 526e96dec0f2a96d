// Malformed `#[trace(...)]` attributes are errors at the attribute.
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
#[trace(unknown)]
struct UnknownOnType {
    v: u64,
}

#[derive(Trace)]
#[trace(skip)]
struct SkipOnType {
    v: u64,
}

#[derive(Trace)]
struct UnknownOnField {
    #[trace(ignore)]
    v: u64,
}

#[derive(Trace)]
struct BareOnField {
    #[trace]
    v: u64,
}

#[derive(Trace)]
struct NoPointersOnField {
    #[trace(no_pointers)]
    v: u64,
}

#[derive(Trace)]
#[trace(crate = "not a path")]
struct BadCratePath {
    v: u64,
}

#[derive(Trace)]
#[trace(no_pointers, no_pointers)]
struct Duplicate {
    v: u64,
}

#[derive(Trace)]
enum OnVariant {
    #[trace(skip)]
    A(Member<Leaf>),
}

#[derive(Trace)]
#[trace(no_pointers)]
struct RedundantSkip {
    #[trace(skip)]
    v: u64,
}

fn main() {}
