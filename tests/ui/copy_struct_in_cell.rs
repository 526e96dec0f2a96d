// A `Copy` struct holds no GC pointers, but it is `NoGcPointers` (and so
// allowed in an `AtomicCell` or a lock) only when declared so: the message
// must say to write `#[trace(no_pointers)]` on it.
use tricolor_gc::{AtomicCell, Trace};

#[derive(Trace, Clone, Copy)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Trace)]
struct Sprite {
    at: AtomicCell<Point>,
}

fn main() {}
