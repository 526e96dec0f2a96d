// Row 7 of docs/pointer-model.md: a field cannot be moved out of a heap
// object, because `Gc` gives only `&T`.
use tricolor_gc::{Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    next: Member<Node>,
}

fn main() {
    let a = Gc::new(Node { next: Member::null() });
    let b = Gc::new(Node { next: Member::null() });
    std::mem::swap(&mut a.next, &mut b.next);
    let _moved: Member<Node> = a.next;
}
