// A type aligned above a page (8192 bytes, the alignment of a large span)
// cannot be a GC object: the error comes at compile time, where the type is
// first allocated, not as an abort inside a critical section (issue 10).
use tricolor_gc::{Gc, Trace};

#[derive(Trace)]
#[trace(no_pointers)]
#[repr(align(16384))]
struct Huge(u8);

fn main() {
    let g = Gc::new(Huge(1));
    let _ = g.0;
}
