// `#[trace(crate = "...")]` cannot redirect the derive's checks to another
// unsafe marker: with `Send` standing in for `NoGcPointers`, a `no_pointers`
// type holding a `Member` would be noscan (and the derive would write
// `unsafe impl Send` for it).
use tricolor_gc::{Member, Trace, TraceLayout};

mod as_send {
    pub use core::marker::Send as NoGcPointers;
    pub use tricolor_gc::{PointerMap, Trace, TraceLayout, Tracer};
}

mod as_sync {
    pub use core::marker::Sync as NoGcPointers;
    pub use tricolor_gc::{PointerMap, Trace, TraceLayout, Tracer};
}

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
#[trace(crate = "as_send", no_pointers)]
struct NotPlain {
    sneaky: Member<Leaf>,
}

#[derive(Trace)]
#[trace(crate = "as_sync", no_pointers)]
struct NotPlainGeneric<T> {
    value: T,
}

#[derive(Trace)]
#[trace(crate = "as_sync")]
struct SkipsMember {
    #[trace(skip)]
    hidden: Member<Leaf>,
}

fn needs_layout<T: TraceLayout>() {}

fn main() {
    needs_layout::<NotPlain>();
    needs_layout::<NotPlainGeneric<Member<Leaf>>>();
    needs_layout::<SkipsMember>();
}
