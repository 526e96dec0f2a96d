// `#[trace(no_pointers)]` is checked: every field must be `NoGcPointers`.
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
#[trace(no_pointers)]
struct NotReallyPlain {
    count: u64,
    sneaky: Member<Leaf>,
}

#[derive(Trace)]
#[trace(no_pointers)]
enum NotReallyPlainEnum {
    A(u32),
    B { inner: Box<Member<Leaf>> },
}

#[derive(Trace)]
#[trace(no_pointers)]
struct PlainGeneric<T> {
    value: T,
}

fn needs_trace<T: Trace>() {}

fn main() {
    needs_trace::<PlainGeneric<String>>();
    needs_trace::<PlainGeneric<Member<Leaf>>>();
}
