// `Cell` and `RefCell` would let a GC pointer be replaced through `&self`
// without the write barrier: they are not `Trace`.
use std::cell::{Cell, RefCell};
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
struct InCell {
    slot: Cell<Member<Leaf>>,
}

#[derive(Trace)]
struct InRefCell {
    slot: RefCell<Member<Leaf>>,
}

fn main() {}
