// An `Arc` is traceable only over pointer-free, `Send + Sync` contents:
// code outside the heap shares them, so a GC pointer in them would escape
// the barrier. Removing `#[trace(no_pointers)]` cannot help, and the
// message must not suggest it.
use std::cell::Cell;
use std::sync::Arc;
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
#[trace(no_pointers)]
struct SharesAPointer {
    shared: Arc<Member<Leaf>>,
}

#[derive(Trace)]
#[trace(no_pointers)]
struct SharesACell {
    counter: Arc<Cell<u64>>,
}

#[derive(Trace)]
struct TracedArc {
    shared: Arc<Member<Leaf>>,
}

fn main() {}
