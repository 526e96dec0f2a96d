//! End-to-end checks of the core: long lists without recursion, threads that
//! allocate, share and exit, roots dropped on other threads, large objects,
//! slices and strings, and the GOGC trigger.

use std::sync::atomic::{AtomicUsize, Ordering};
use tricolor_gc::{collect, mem_stats, Gc, Member, Trace};

#[derive(Trace)]
struct Link {
    next: Member<Link>,
    n: u64,
}

fn list(len: u64) -> Gc<Link> {
    let mut head = Gc::new(Link { next: Member::null(), n: 0 });
    for n in 1..len {
        head = Gc::new(Link { next: Member::from(head), n });
    }
    head
}

fn length(head: &Gc<Link>) -> u64 {
    let mut len = 1;
    let mut cur = head.next.get();
    while let Some(c) = cur {
        len += 1;
        cur = c.next.get();
    }
    len
}

/// A list of 10^7 nodes is marked without recursion (a recursive marker
/// would overflow the 2 MiB test-thread stack long before).
#[test]
fn ten_million_node_list_is_marked_and_freed_without_recursion() {
    let n = std::env::var("TRICOLOR_LIST_LEN").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000u64);
    let head = list(n);
    collect();
    assert_eq!(length(&head), n);
    assert_eq!(head.n, n - 1);
    let before = mem_stats().frees;
    drop(head);
    collect();
    collect(); // objects are freed by the sweep after the cycle that found them dead
    let freed = mem_stats().frees - before;
    assert!(freed >= n, "freed {freed} of {n}");
}

static TAGS_DROPPED: AtomicUsize = AtomicUsize::new(0);

#[derive(Trace)]
#[trace(no_pointers)]
struct Tag(u64);
impl Drop for Tag {
    fn drop(&mut self) {
        TAGS_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Trace)]
struct Shared {
    tag: Tag,
    peer: Member<Shared>,
}

/// Threads allocate, link their objects into a shared structure, send
/// handles to the main thread and exit with live handles in their root
/// tables; handles are dropped on other threads than their creators.
#[test]
fn threads_share_objects_and_exit_with_live_handles() {
    let anchor = Gc::new(Shared { tag: Tag(u64::MAX), peer: Member::null() });
    let handles: Vec<Gc<Shared>> = std::thread::scope(|s| {
        let ts: Vec<_> = (0..4)
            .map(|t| {
                let anchor = anchor.clone();
                s.spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0..20_000u64 {
                        let o = Gc::new(Shared { tag: Tag(t * 1_000_000 + i), peer: Member::new(&anchor) });
                        if i % 1000 == 0 {
                            kept.push(o);
                        }
                    }
                    // Link one object into the shared anchor: a cross-thread write.
                    anchor.peer.set(&kept[0]);
                    kept
                })
            })
            .collect();
        ts.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    // The threads have exited; their root segments were handed over.
    collect();
    assert_eq!(handles.len(), 80);
    for h in &handles {
        assert!(h.peer.ptr_eq(&anchor));
        assert!(h.tag.0 != u64::MAX);
    }
    let linked = anchor.peer.get().expect("a thread linked an object");
    assert!(linked.tag.0 % 1_000_000 == 0);
    // Drop handles on a thread that did not create them.
    std::thread::spawn(move || drop(handles)).join().unwrap();
    drop(linked);
    collect();
    assert!(mem_stats().roots < 100, "roots freed from other threads were reclaimed");
}

/// Large objects (own spans), slices with pointers, strings.
#[test]
fn large_objects_slices_and_strings() {
    let big: Gc<[u64]> = Gc::from_vec((0..100_000u64).collect());
    let leaves: Vec<Gc<Link>> = (0..1000).map(|n| Gc::new(Link { next: Member::null(), n })).collect();
    let arr: Gc<[Member<Link>]> = leaves.iter().map(Member::new).collect();
    drop(leaves);
    let s: Gc<str> = Gc::from(String::from("héllo wörld"));
    for _ in 0..3 {
        let _garbage: Gc<[u8]> = Gc::from_vec(vec![7u8; 200_000]);
        collect();
    }
    assert_eq!(big.iter().sum::<u64>(), 100_000 * 99_999 / 2);
    assert_eq!(&*s, "héllo wörld");
    for (i, m) in arr.iter().enumerate() {
        assert_eq!(m.get().unwrap().n, i as u64);
    }
    arr[0].set(&Gc::new(Link { next: Member::null(), n: 4242 }));
    collect();
    assert_eq!(arr[0].get().unwrap().n, 4242);
}

/// Allocation alone triggers cycles once the heap passes its trigger
/// (GOGC): 2M 16-byte objects are 32 MB, eight times the 4 MB minimum goal.
/// Marking is concurrent, so the last triggered cycle may still be running
/// when the loop ends; at least one has completed by then.
#[test]
fn allocation_triggers_cycles() {
    let before = mem_stats().num_gc;
    for _ in 0..2_000_000 {
        let _ = Gc::new(Link { next: Member::null(), n: 1 });
    }
    assert!(mem_stats().num_gc > before, "no cycle was triggered by 2M allocations (32 MB)");
}

/// `mem_stats().mallocs` counts what exited threads allocated (their span
/// caches are counted when released at exit), and what a live thread has
/// allocated from spans still in its cache.
#[test]
fn mallocs_count_exited_threads_and_cached_spans() {
    let before = mem_stats().mallocs;
    std::thread::spawn(|| {
        for n in 0..10_000 {
            drop(Gc::new(Link { next: Member::null(), n }));
        }
    })
    .join()
    .unwrap();
    let after_exit = mem_stats().mallocs;
    assert!(after_exit - before >= 10_000, "an exited thread's allocations were lost: {}", after_exit - before);
    let keep: Vec<_> = (0..100).map(|n| Gc::new(Link { next: Member::null(), n })).collect();
    assert!(mem_stats().mallocs - after_exit >= 100, "allocations from a cached span were not counted");
    drop(keep);
}
