//! One test per row of docs/pointer-model.md that is not a compile-fail
//! test: GcVec, Weak, cleanups, pending Members, threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tricolor_gc::{collect, AtomicCell, Gc, GcVec, Member, Trace, Weak};

#[derive(Trace)]
struct Node {
    id: u64,
    next: Member<Node>,
    kids: GcVec<Node>,
    back: Weak<Node>,
}

fn node(id: u64) -> Gc<Node> {
    Gc::new(Node { id, next: Member::null(), kids: GcVec::new(), back: Weak::new() })
}

/// Row 23: GcVec grows (replacing its backing array) while other threads
/// read it; nothing read is ever freed, and elements survive collections.
#[test]
fn gcvec_grows_under_concurrent_readers_and_collections() {
    let root = node(0);
    std::thread::scope(|s| {
        let r = &root;
        s.spawn(move || {
            for i in 1..=20_000u64 {
                r.kids.push(&node(i));
                if i % 5000 == 0 {
                    collect();
                }
            }
        });
        for _ in 0..2 {
            s.spawn(move || {
                let mut seen = 0;
                while seen < 20_000 {
                    let n = r.kids.len();
                    if n > 0 {
                        let k = r.kids.get(n - 1).expect("len() > i and no remover");
                        assert_eq!(k.id, n as u64, "element i holds node i+1");
                    }
                    seen = n;
                }
            });
        }
    });
    collect();
    assert_eq!(root.kids.len(), 20_000);
    for (i, k) in root.kids.iter().enumerate() {
        assert_eq!(k.id, i as u64 + 1);
    }
}

#[test]
fn gcvec_operations() {
    let v: GcVec<Node> = (0..10).map(node).collect();
    let five = v.get(5).unwrap();
    assert_eq!(v.position_ptr(&five), Some(5));
    assert!(v.set(5, &node(55)));
    assert!(!v.set(10, &node(1)), "out of bounds set is refused");
    assert_eq!(v.position_ptr(&five), None);
    assert_eq!(v.pop().unwrap().id, 9);
    v.retain(|n| n.id % 2 == 1);
    assert_eq!(v.iter().map(|n| n.id).collect::<Vec<_>>(), vec![1, 3, 55, 7]);
    v.truncate(2);
    assert_eq!(v.len(), 2);
    collect();
    assert_eq!(v.last().unwrap().id, 3);
    // A GcVec outside the heap roots its backing array; moved into an object
    // it is adopted.
    let holder = Gc::new(Node { id: 100, next: Member::null(), kids: v, back: Weak::new() });
    collect();
    assert_eq!(holder.kids.first().unwrap().id, 1);
    holder.kids.clear();
    assert!(holder.kids.is_empty());
}

/// Row 22: a weak upgrade racing the sweeper never returns a dead object;
/// all weak pointers to a dead object upgrade to None after `collect()`.
#[test]
fn weak_upgrade_never_returns_a_swept_object() {
    let keep = node(1);
    let w_keep = Gc::downgrade(&keep);
    let mut weaks = Vec::new();
    for i in 0..10_000 {
        let n = node(i);
        weaks.push((i, Gc::downgrade(&n)));
        if i % 2 == 0 {
            keep.kids.push(&n);
        }
    }
    // Upgrades race with the background sweeper of the previous cycles.
    std::thread::scope(|s| {
        for t in 0..2 {
            let weaks = &weaks;
            s.spawn(move || {
                for _ in 0..3 {
                    for (i, w) in weaks.iter().skip(t) {
                        if let Some(n) = w.upgrade() {
                            assert_eq!(n.id, *i, "upgrade returned a different (reused) object");
                        }
                    }
                }
            });
        }
        collect();
    });
    collect();
    for (i, w) in &weaks {
        match w.upgrade() {
            Some(n) => {
                assert_eq!(i % 2, 0, "odd nodes are unreachable");
                assert_eq!(n.id, *i);
            }
            None => assert_eq!(i % 2, 1, "even nodes are reachable"),
        }
    }
    assert_eq!(w_keep.upgrade().unwrap().id, 1);
    assert!(Weak::ptr_eq(&Gc::downgrade(&keep), &w_keep), "one cell per object, as Go's weak.Make");
}

/// A Weak stored in the heap keeps its cell, not its target.
#[test]
fn weak_in_object_does_not_keep_target() {
    let parent = node(1);
    let child = Gc::new(Node { id: 2, next: Member::null(), kids: GcVec::new(), back: Gc::downgrade(&parent) });
    parent.next.set(&child);
    assert_eq!(child.back.upgrade().unwrap().id, 1);
    let w_parent = Gc::downgrade(&parent);
    drop(parent);
    collect();
    // The parent is reachable only through the child's weak back-pointer.
    assert!(w_parent.upgrade().is_none());
    assert!(child.back.upgrade().is_none());
}

/// Cleanups run after collection, on the cleanup thread, before collect()
/// returns; `stop` cancels one.
#[test]
fn cleanups_run_after_collection_and_can_be_stopped() {
    let ran = Arc::new(AtomicUsize::new(0));
    let a = node(1);
    let b = node(2);
    let r = ran.clone();
    let _ca = Gc::add_cleanup(&a, move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let r = ran.clone();
    let cb = Gc::add_cleanup(&b, move || {
        r.fetch_add(100, Ordering::SeqCst);
    });
    cb.stop();
    collect();
    assert_eq!(ran.load(Ordering::SeqCst), 0, "both objects are alive");
    drop((a, b));
    collect();
    assert_eq!(ran.load(Ordering::SeqCst), 1, "a's cleanup ran, b's was stopped");
}

/// Row 16: a `Gc` dropped from a thread-local destructor that runs after the
/// thread's own mutator was torn down goes through the fallback mutator.
#[test]
fn gc_dropped_in_late_thread_local_destructor() {
    struct Late(Option<Gc<Node>>, Option<Gc<Node>>);
    impl Drop for Late {
        fn drop(&mut self) {
            // Allocates and drops after (possibly) the mutator is gone.
            let fresh = node(77);
            assert_eq!(fresh.id, 77);
            self.0.take();
            self.1.take();
        }
    }
    thread_local! { static LATE: std::cell::RefCell<Late> = const { std::cell::RefCell::new(Late(None, None)) }; }
    let shared = node(5);
    let s2 = shared.clone();
    std::thread::spawn(move || {
        // Register LATE's destructor before the thread's first GC operation
        // registers the mutator's: destructors run in reverse order, so
        // LATE's runs after the mutator was torn down.
        LATE.with(|_| {});
        let mine = node(6);
        LATE.with(|l| {
            l.borrow_mut().0 = Some(mine);
            l.borrow_mut().1 = Some(s2);
        });
    })
    .join()
    .unwrap();
    collect();
    assert_eq!(shared.id, 5);
}

/// Row 7: heap objects are reachable only through `&`; AtomicCell gives
/// pointer-free mutation without `&mut`.
#[test]
fn objects_mutate_only_through_shared_references() {
    #[derive(Trace)]
    struct Counter {
        n: AtomicCell<u64>,
    }
    let c = Gc::new(Counter { n: AtomicCell::new(0) });
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1000 {
                    c.n.fetch_add(1);
                }
            });
        }
    });
    assert_eq!(c.n.load(), 2000);
}
