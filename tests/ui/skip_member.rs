// A skipped field is never traced, so it must not hold GC pointers.
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
struct SkipsPointer {
    kept: Member<Leaf>,
    #[trace(skip)]
    hidden: Member<Leaf>,
}

#[derive(Trace)]
struct SkipsPointers {
    #[trace(skip)]
    hidden: Vec<Option<Member<Leaf>>>,
}

// Generic skipped field: fine to declare, but only pointer-free `T`s make it
// `Trace`.
#[derive(Trace)]
struct SkipsGeneric<T> {
    #[trace(skip)]
    hidden: T,
}

fn needs_trace<T: Trace>() {}

fn main() {
    needs_trace::<SkipsGeneric<u64>>();
    needs_trace::<SkipsGeneric<Member<Leaf>>>();
}
