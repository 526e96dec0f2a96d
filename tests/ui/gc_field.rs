// `Gc<T>` is a root handle, not a heap pointer: it cannot live inside a GC
// object (store a `Member<T>` instead).
use tricolor_gc::{Gc, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
struct HoldsRoot {
    root: Gc<Leaf>,
}

#[derive(Trace)]
enum HoldsRootEnum {
    Empty,
    Root(Gc<Leaf>),
}

fn main() {}
