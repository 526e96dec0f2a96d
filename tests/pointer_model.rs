//! One test per row of docs/pointer-model.md that is not a compile-fail
//! test: GcVec, Weak, cleanups, pending Members, threads, and handles used
//! from thread-local destructors after the thread's mutator is gone.

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

/// Drops of `Probe`s: only `gc_dropped_in_late_thread_local_destructor`
/// creates them.
static PROBES_DROPPED: AtomicUsize = AtomicUsize::new(0);

#[derive(Trace)]
#[trace(no_pointers)]
struct Probe {
    id: u64,
    check: u64,
}
impl Probe {
    fn new(id: u64) -> Probe {
        Probe { id, check: !id.wrapping_mul(0x9E37_79B9_7F4A_7C15) }
    }
    fn intact(&self, id: u64) -> bool {
        self.id == id && self.check == !id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}
impl Drop for Probe {
    fn drop(&mut self) {
        PROBES_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Row 16: a `Gc` used and dropped from a thread-local destructor that runs
/// after the thread's own mutator was torn down goes through the fallback
/// mutator. The probe object is reachable only through the handle that the
/// destructor holds (its root slot was handed to the fallback table when the
/// mutator was torn down), so: collections run while the destructor holds it
/// must not free it (its drop glue must not run, its fields stay intact), and
/// once the destructor drops it, the next collection must free it. The same
/// goes for an object the destructor allocates through the fallback mutator.
/// Barriers (no thread-locals involved) hand control back and forth; the
/// destructor records what it saw and the test thread asserts it (a panic in
/// a thread-local destructor would abort the whole binary).
#[test]
fn gc_dropped_in_late_thread_local_destructor() {
    use std::sync::{Barrier, Mutex};
    /// What the destructor saw: (mutator torn down, probe intact, fresh intact).
    type Seen = Arc<Mutex<Option<(bool, bool, bool)>>>;
    struct Late {
        probe: Option<Gc<Probe>>,
        shared: Option<Gc<Node>>,
        sync: Option<(Arc<Barrier>, Seen)>,
    }
    impl Drop for Late {
        fn drop(&mut self) {
            let Some((sync, seen)) = self.sync.take() else { return };
            // The mutator is gone: pin, which needs it, refuses to run.
            let torn_down = std::panic::catch_unwind(|| tricolor_gc::pin(|_| ())).is_err();
            // Allocates through the fallback mutator; only this handle holds it.
            let fresh = Gc::new(Probe::new(78));
            sync.wait(); // 1: the test thread collects while we hold both handles
            sync.wait(); // 2: it has collected
            let probe = self.probe.take().unwrap();
            *seen.lock().unwrap() = Some((torn_down, probe.intact(77), fresh.intact(78)));
            drop((probe, fresh));
            // Drops a clone of an object that the test thread still holds.
            self.shared.take();
        }
    }
    thread_local! {
        static LATE: std::cell::RefCell<Late> =
            const { std::cell::RefCell::new(Late { probe: None, shared: None, sync: None }) };
    }
    let dropped = || PROBES_DROPPED.load(Ordering::SeqCst);
    let sync = Arc::new(Barrier::new(2));
    let seen: Seen = Arc::default();
    let shared = node(5);
    let (s2, handshake) = (shared.clone(), (sync.clone(), seen.clone()));
    let t = std::thread::spawn(move || {
        // Register LATE's destructor before the thread's first GC operation
        // registers the mutator's: destructors run in reverse order, so
        // LATE's runs after the mutator was torn down.
        LATE.with(|_| {});
        let probe = Gc::new(Probe::new(77));
        LATE.with(|l| *l.borrow_mut() = Late { probe: Some(probe), shared: Some(s2), sync: Some(handshake) });
    });
    sync.wait(); // 1: the thread's mutator is gone; its destructor holds the probe
    assert_eq!(dropped(), 0);
    collect();
    collect();
    assert_eq!(dropped(), 0, "a collection freed an object held only by a thread-local destructor's handle");
    sync.wait(); // 2: the destructor checks its objects and drops them
    t.join().unwrap();
    let (torn_down, probe_intact, fresh_intact) = seen.lock().unwrap().expect("the destructor ran");
    assert!(torn_down, "LATE's destructor ran before the mutator's: not the fallback path");
    assert!(probe_intact && fresh_intact, "an object was overwritten while the destructor held it");
    collect();
    assert_eq!(dropped(), 2, "objects dropped through the fallback mutator were not freed by the next collection");
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
