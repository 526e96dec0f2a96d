//! End-to-end checks of the core: long lists without recursion, threads that
//! allocate, share and exit, roots dropped on other threads, large objects,
//! slices and strings, and the GOGC trigger (counted in a child process,
//! where no other test's allocation or `collect()` starts a cycle).
//!
//! Env: `TRICOLOR_LIST_LEN` (nodes in the long list, default 10^7),
//! `TRICOLOR_TRIGGER_ALLOCS` (allocations in the trigger test, default 2M).

mod child;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
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

/// Drops of `Tag`s: only `threads_share_objects_and_exit_with_live_handles`
/// creates them, so the count is exact whatever else runs beside it.
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
/// tables; handles are dropped on other threads than their creators. Each
/// `collect()` runs the drop glue of exactly the objects that became
/// unreachable: not one kept object early, not one dead object late.
#[test]
fn threads_share_objects_and_exit_with_live_handles() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 20_000;
    const KEPT_EVERY: u64 = 1000;
    const TOTAL: usize = (THREADS * PER_THREAD) as usize + 1; // and the anchor
    const KEPT: usize = (THREADS * PER_THREAD / KEPT_EVERY) as usize;
    let anchor = Gc::new(Shared { tag: Tag(u64::MAX), peer: Member::null() });
    let handles: Vec<Gc<Shared>> = std::thread::scope(|s| {
        let ts: Vec<_> = (0..THREADS)
            .map(|t| {
                let anchor = anchor.clone();
                s.spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0..PER_THREAD {
                        let o = Gc::new(Shared { tag: Tag(t * 1_000_000 + i), peer: Member::new(&anchor) });
                        if i % KEPT_EVERY == 0 {
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
    let dropped = || TAGS_DROPPED.load(Ordering::SeqCst);
    assert_eq!(dropped(), TOTAL - 1 - KEPT, "after the threads exit: all but the anchor and the kept handles");
    assert_eq!(handles.len(), KEPT);
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
    // The linked object is still reachable from the anchor.
    assert_eq!(dropped(), TOTAL - 2, "after the handles are dropped: all but the anchor and its peer");
    assert!(anchor.peer.get().is_some_and(|p| p.tag.0 % 1_000_000 == 0));
    // The anchor and its peer form a cycle, which goes as a whole.
    drop(anchor);
    collect();
    assert_eq!(dropped(), TOTAL, "after the anchor is dropped: everything");
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
/// Runs in a child process, and counts only cycles not forced by
/// `collect()` (`num_gc - num_forced_gc`), so neither another test's
/// `collect()` nor its allocations can start the cycles counted. Marking is
/// concurrent, so the last triggered cycle may still be running when the loop
/// ends; the final `collect()` waits for it before forcing its own.
#[test]
fn allocation_triggers_cycles() {
    const NAME: &str = "allocation_triggers_cycles";
    if !child::is_child(NAME) {
        let stderr = child::run(NAME, &[], Duration::from_secs(300));
        eprint!("{stderr}");
        return;
    }
    let allocs: u64 = std::env::var("TRICOLOR_TRIGGER_ALLOCS").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000_000);
    let unforced = || {
        let st = mem_stats();
        st.num_gc - st.num_forced_gc
    };
    let (before, forced_before) = (unforced(), mem_stats().num_forced_gc);
    for _ in 0..allocs {
        let _ = Gc::new(Link { next: Member::null(), n: 1 });
    }
    collect();
    let st = mem_stats();
    let triggered = st.num_gc - st.num_forced_gc - before;
    eprintln!("{allocs} allocations ({} MiB) triggered {triggered} cycles", (allocs * 16) >> 20);
    assert_eq!(st.num_forced_gc - forced_before, 1, "only the final collect() forces a cycle in this process");
    // 32 MB against a 4 MB goal: about eight cycles; half of that is a floor
    // a slow mark (debug build, busy machine) still clears.
    let want = (allocs * 16 / (8 << 20)).max(1);
    assert!(triggered >= want, "{allocs} allocations triggered {triggered} cycles, want at least {want}");
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
