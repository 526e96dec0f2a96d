// Row 33 of docs/pointer-model.md: neither a `Ref` nor the `Guard` can move
// to another thread (which is not pinned, and whose mutator is not the
// guard's).
use tricolor_gc::{pin, Member, Trace};

#[derive(Trace)]
struct Node {
    next: Member<Node>,
}

fn main() {
    pin(|g| {
        let r = g.alloc(Node { next: Member::null() });
        std::thread::scope(|s| {
            s.spawn(move || r.next.is_null());
            s.spawn(|| g.alloc(Node { next: Member::null() }).next.is_null());
        });
    });
}
