use gc_core::{collect, mem_stats, Gc, Member, PointerMap, Trace, TraceLayout, Tracer};
use std::sync::atomic::{AtomicUsize, Ordering};

static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Counted;
impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

struct Node {
    left: Member<Node>,
    right: Member<Node>,
    _c: Option<Box<Counted>>,
}
unsafe impl Trace for Node {
    fn trace(&self, t: &mut Tracer<'_>) {
        self.left.trace(t);
        self.right.trace(t);
    }
}
unsafe impl TraceLayout for Node {
    const NO_POINTERS: bool = false;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY
        .with_field(std::mem::offset_of!(Node, left), PointerMap::SINGLE)
        .with_field(std::mem::offset_of!(Node, right), PointerMap::SINGLE);
}

fn tree(d: u32) -> Gc<Node> {
    if d == 0 {
        Gc::new(Node { left: Member::null(), right: Member::null(), _c: Some(Box::new(Counted)) })
    } else {
        let l = tree(d - 1);
        let r = tree(d - 1);
        Gc::new(Node { left: Member::from_gc(l), right: Member::from_gc(r), _c: Some(Box::new(Counted)) })
    }
}

fn check(n: &Gc<Node>) -> u32 {
    1 + n.left.get().map_or(0, |l| check(&l)) + n.right.get().map_or(0, |r| check(&r))
}

#[test]
fn trees_and_cycles() {
    let keep = tree(10);
    assert_eq!(check(&keep), 2047);
    for _ in 0..20 {
        let t = tree(12);
        assert_eq!(check(&t), 8191);
    }
    collect();
    assert_eq!(check(&keep), 2047);
    let before = DROPS.load(Ordering::SeqCst);
    let a = tree(3);
    let b = tree(3);
    a.left.set(&b);
    b.left.set(&a);
    drop((a, b));
    collect();
    assert_eq!(DROPS.load(Ordering::SeqCst) - before, 30, "the 30-node cycle was dropped");
    assert_eq!(check(&keep), 2047);
    let s = mem_stats();
    eprintln!("{s:?}");
    let st: Gc<str> = Gc::from("hello");
    collect();
    assert_eq!(&*st, "hello");
}
