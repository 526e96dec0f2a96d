// Row 34 of docs/pointer-model.md: `repin` leaves the critical section, so
// no `Ref` may be live across it.
use tricolor_gc::{pin, Member, Trace};

#[derive(Trace)]
struct Node {
    next: Member<Node>,
}

fn main() {
    pin(|g| {
        let r = g.alloc(Node { next: Member::null() });
        g.repin();
        r.next.is_null()
    });
}
