// `#[trace(crate = "...")]` cannot redirect the derive's checks: a module that
// re-exports the real traits beside its own `NoGcPointers`, true of every
// type, must not let `#[trace(skip)]` sit on a `Member`.
use tricolor_gc::{Member, Trace};

mod lookalike {
    pub use tricolor_gc::{PointerMap, Trace, TraceLayout, Tracer};

    pub trait NoGcPointers {}
    impl<T: ?Sized> NoGcPointers for T {}
}

#[derive(Trace)]
struct Leaf {
    v: u64,
}

// A concrete skipped field (checked by an assertion at the definition).
#[derive(Trace)]
#[trace(crate = "lookalike")]
struct SkipsMember {
    kept: Member<Leaf>,
    #[trace(skip)]
    hidden: Member<Leaf>,
}

// A generic skipped field (checked by a where-predicate on the impls).
#[derive(Trace)]
#[trace(crate = "crate::lookalike")]
struct SkipsGeneric<T> {
    #[trace(skip)]
    hidden: T,
}

fn needs_trace<T: Trace>() {}

fn main() {
    needs_trace::<SkipsMember>();
    needs_trace::<SkipsGeneric<Member<Leaf>>>();
}
