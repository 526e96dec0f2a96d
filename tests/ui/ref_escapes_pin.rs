// Row 32 of docs/pointer-model.md: a `Ref` cannot outlive its pin, neither
// as the pin's result nor stored in a variable outside it.
use tricolor_gc::{pin, Member, Ref, Trace};

#[derive(Trace)]
struct Node {
    next: Member<Node>,
}

fn main() {
    let escaped = pin(|g| g.alloc(Node { next: Member::null() }));
    let mut outside: Option<Ref<'_, Node>> = None;
    pin(|g| outside = Some(g.alloc(Node { next: Member::null() })));
    let _ = (escaped, outside);
}
