// `GcVec::set` reports an index out of bounds by returning `false` (a shared
// vector may shrink between `len()` and `set`); ignoring that result is a
// warning (`#[must_use]`), an error here. Write `assert!(v.set(i, &x))` to
// treat it as a bug, or handle the `false`.
#![deny(unused_must_use)]
use tricolor_gc::{Gc, GcVec};

fn main() {
    let v: GcVec<u64> = GcVec::new();
    v.set(0, &Gc::new(1));
}
