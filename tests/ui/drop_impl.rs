// A type that derives `Trace` (and so may hold GC pointers) must not
// implement `Drop`: the sweeper frees it without running code that could
// reach freed objects or move a pointer out of the dead object.
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Node {
    next: Member<Node>,
}

impl Drop for Node {
    fn drop(&mut self) {}
}

#[derive(Trace)]
struct Generic<T> {
    value: T,
}

impl<T> Drop for Generic<T> {
    fn drop(&mut self) {}
}

fn main() {}
