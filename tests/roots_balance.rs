//! Root-table balance checks. One test in this binary, so no other test's
//! roots change the global count while it runs.

use tricolor_gc::{collect, mem_stats, Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    id: u64,
    next: Member<Node>,
}

fn node(id: u64) -> Gc<Node> {
    Gc::new(Node { id, next: Member::null() })
}

#[test]
fn pending_members_free_their_roots_exactly_once() {
    // Row 11: a Member built and never adopted frees its root.
    let t = node(1);
    collect();
    let before = mem_stats().roots;
    for _ in 0..1000 {
        let m = Member::new(&t);
        assert!(m.ptr_eq(&t));
    }
    assert_eq!(mem_stats().roots, before, "unadopted Members freed their roots");

    // Row 12: two threads set and clear a shared pending Member; `set` on a
    // pending Member is a swap, so no root slot is written after it was
    // freed, every temporary root is freed once, and reads never see a
    // foreign object.
    let targets: Vec<Gc<Node>> = (10..14).map(node).collect();
    let field: Member<Node> = Member::null();
    let before = mem_stats().roots;
    std::thread::scope(|s| {
        for t in 0..2 {
            let (field, targets) = (&field, &targets);
            s.spawn(move || {
                for i in 0..20_000 {
                    if i % 7 == 0 {
                        field.clear();
                    } else {
                        field.set(&targets[(i + t) % 4]);
                    }
                    if let Some(g) = field.get() {
                        assert!((10..14).contains(&g.id), "read a foreign object through a pending Member");
                    }
                }
            });
        }
    });
    field.clear();
    collect();
    assert_eq!(mem_stats().roots, before, "every temporary root was freed exactly once");
    for (i, t) in targets.iter().enumerate() {
        assert_eq!(t.id, 10 + i as u64);
    }
}
