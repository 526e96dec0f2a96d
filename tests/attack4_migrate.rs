//! Fourth outside attack: Gs that do nothing but allocate (allocation is a
//! preemption point since issue 12) on several Ps, while cycles run, under
//! `GODEBUG=gccheckmark=1,clobberfree=1`. Safe code only.
//!
//! Invariants of this file: each body runs alone in a child process with
//! the GODEBUG above and a time limit (`tests/child/mod.rs`); every object
//! kept carries a value derived from its index, so a freed (clobbered) or
//! reused slot reads a wrong value.

mod child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tricolor_gc::runtime::{go, Runtime};
use tricolor_gc::{Gc, Member, Trace};

const ENV: &[(&str, &str)] = &[("GODEBUG", "gccheckmark=1,clobberfree=1")];

#[derive(Trace)]
struct Node {
    v: u64,
    check: u64,
    next: Member<Node>,
}

fn check(v: u64) -> u64 {
    v.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5_5A5A_A5A5_5A5A
}

/// One G's work: a tight allocation loop (no runtime call but the
/// allocation itself) for `dur`, keeping every 64th object and a short
/// list, then a check of everything kept. Returns the number of bad values.
#[inline(never)]
fn alloc_loop(seed: u64, dur: Duration) -> u64 {
    let t0 = Instant::now();
    let mut kept: Vec<Gc<Node>> = Vec::new();
    let mut head = Gc::new(Node { v: seed, check: check(seed), next: Member::null() });
    let mut i = seed;
    while t0.elapsed() < dur {
        for _ in 0..256 {
            i += 1;
            let n = Gc::new(Node { v: i, check: check(i), next: Member::new(&head) });
            if i % 64 == 0 {
                kept.push(n.clone());
            }
            if i % 1024 == 0 {
                head = Gc::new(Node { v: i, check: check(i), next: Member::null() });
            } else {
                head = n;
            }
        }
        if kept.len() > 4096 {
            kept.drain(..2048);
        }
    }
    let mut bad = 0;
    for k in &kept {
        if k.check != check(k.v) {
            bad += 1;
        }
        if let Some(n) = k.next.get() {
            if n.check != check(n.v) {
                bad += 1;
            }
        }
    }
    bad
}

/// THREAT: a G preempted at an allocation resumes on another M; gc-core's
/// mutator pointer is a thread-local that the compiler may have read once
/// for the whole loop (R13), so the G would go on allocating into, and
/// registering roots in, the first M's mutator while that M runs another G:
/// two threads in one mutator's critical section, its span cache and root
/// table raced (a lost root frees a live object: clobberfree makes it
/// visible). Expected: every kept object keeps its value; no crash, no hang.
#[test]
fn allocating_gs_on_two_ps_keep_their_objects_under_checkmark() {
    const NAME: &str = "allocating_gs_on_two_ps_keep_their_objects_under_checkmark";
    if !child::is_child(NAME) {
        child::run(NAME, ENV, Duration::from_secs(180));
        return;
    }
    // SAFETY: (the migration contract) nothing thread-bound is held by the Gs.
    let rt = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let cycles = Arc::new(AtomicU64::new(0));
    let bad = rt.block_on({
        let (stop, stop2, cycles) = (stop.clone(), stop.clone(), cycles.clone());
        move || {
            let hs: Vec<_> = (0..6u64).map(|k| go(move || alloc_loop(k << 40, Duration::from_secs(3)))).collect();
            // Forced cycles from a G as well as heap-triggered ones.
            let c = go(move || {
                while !stop.load(Ordering::Relaxed) {
                    tricolor_gc::collect();
                    cycles.fetch_add(1, Ordering::Relaxed);
                    tricolor_gc::runtime::sleep(Duration::from_millis(5));
                }
            });
            let bad: u64 = hs.into_iter().map(|h| h.join().expect("an allocating G panicked")).sum();
            stop2.store(true, Ordering::Relaxed);
            c.join().unwrap();
            bad
        }
    });
    assert_eq!(bad, 0, "kept objects with wrong values (freed or reused under a live handle)");
    assert!(cycles.load(Ordering::Relaxed) > 0);
}

/// One G's work for the test below: reads of a `GcVec` (rooting each
/// element read) around an allocation, in one function, so the compiler
/// may compute the mutator thread-local's address once for all of them.
#[inline(never)]
fn read_alloc_read_loop(seed: u64, dur: Duration) -> u64 {
    let v: tricolor_gc::GcVec<Node> =
        (0..64u64).map(|k| Gc::new(Node { v: seed + k, check: check(seed + k), next: Member::null() })).collect();
    let mut ring: Vec<Option<Gc<Node>>> = vec![None; 256];
    let t0 = Instant::now();
    let mut bad = 0u64;
    let mut i = 0usize;
    while t0.elapsed() < dur {
        for _ in 0..256 {
            i += 1;
            let a = v.get(i % 64).expect("in bounds");
            let n = Gc::new(Node { v: a.v, check: a.check, next: Member::new(&a) });
            let b = v.get((i * 7) % 64).expect("in bounds");
            if a.check != check(a.v) || b.check != check(b.v) || n.check != check(n.v) {
                bad += 1;
            }
            ring[i % 256] = Some(b);
            ring[(i + 128) % 256] = Some(n);
        }
    }
    for x in ring.iter().flatten() {
        if x.check != check(x.v) {
            bad += 1;
        }
    }
    bad
}

/// THREAT (R13 made likely by allocation being a preemption point): in a
/// function that roots `GcVec` elements before and after an allocation, the
/// mutator thread-local's address may be computed once; a G preempted at the
/// allocation then roots the second element in the first M's root table,
/// from another thread, while that M's next G uses the same table: a lost
/// or shared root slot, and a live object freed (clobberfree). Expected:
/// every handle keeps its value.
#[test]
fn rooting_reads_around_an_allocation_in_gs_keep_their_objects() {
    const NAME: &str = "rooting_reads_around_an_allocation_in_gs_keep_their_objects";
    if !child::is_child(NAME) {
        child::run(NAME, ENV, Duration::from_secs(180));
        return;
    }
    // SAFETY: (the migration contract) nothing thread-bound is held by the Gs.
    let rt = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
    let bad = rt.block_on(move || {
        let hs: Vec<_> = (0..6u64).map(|k| go(move || read_alloc_read_loop(k << 40, Duration::from_secs(3)))).collect();
        let c = go(|| {
            for _ in 0..20 {
                tricolor_gc::collect();
                tricolor_gc::runtime::sleep(Duration::from_millis(20));
            }
        });
        let bad: u64 = hs.into_iter().map(|h| h.join().expect("a G panicked")).sum();
        c.join().unwrap();
        bad
    });
    assert_eq!(bad, 0, "handles whose objects were freed or reused");
}

/// One mutator's turn on the shared vector: pushes, overwrites, pops and
/// reads for `dur`, checking every element it sees. Returns bad values.
fn shared_vec_turn(v: &tricolor_gc::GcVec<Node>, seed: u64, dur: Duration) -> u64 {
    let t0 = Instant::now();
    let mut bad = 0;
    let mut i = seed;
    while t0.elapsed() < dur {
        i += 1;
        let n = Gc::new(Node { v: i, check: check(i), next: Member::null() });
        v.push(&n);
        let len = v.len();
        if len > 0 {
            let k = (i as usize * 31) % len;
            let _ = v.set(k, &n);
            if let Some(x) = v.get(k) {
                if x.check != check(x.v) {
                    bad += 1;
                }
            }
        }
        if len > 512 {
            v.pop();
            v.pop();
        }
        if i % 4096 == 0 {
            v.retain(|x| x.v % 2 == 0);
        }
    }
    bad
}

/// THREAT (RED; R13 now reached by allocation alone): Gs and plain threads
/// mutate one `GcVec` while cycles run, under checkmark and clobberfree.
/// No G makes a runtime call; the only switch point is allocation. Yet a
/// G's `push` panics with "called from inside the closure of
/// GcVec::retain": the compiler computes `thread_token()`'s thread-local
/// address once at the top of `shared_vec_turn` (`mov %fs:0x0` → stack, as
/// objdump shows), the G is preempted at a `Gc::new` and resumes on
/// another M, and its later `set`/`pop`/`push` present the first M's token,
/// equal to that of the G now writing on the first M. Expected: every
/// element read keeps its value; no spurious panic, no hang.
#[test]
fn gs_and_threads_mutate_one_vector_under_checkmark() {
    const NAME: &str = "gs_and_threads_mutate_one_vector_under_checkmark";
    if !child::is_child(NAME) {
        child::run(NAME, ENV, Duration::from_secs(180));
        return;
    }
    let v: Arc<tricolor_gc::GcVec<Node>> = Arc::new(tricolor_gc::GcVec::new());
    let threads: Vec<_> = (0..2u64)
        .map(|k| {
            let v = v.clone();
            std::thread::spawn(move || shared_vec_turn(&v, (100 + k) << 40, Duration::from_secs(2)))
        })
        .collect();
    // SAFETY: (the migration contract) nothing thread-bound is held by the Gs.
    let rt = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
    let v2 = v.clone();
    let bad_gs = rt.block_on(move || {
        let hs: Vec<_> = (0..4u64)
            .map(|k| {
                let v = v2.clone();
                go(move || shared_vec_turn(&v, k << 40, Duration::from_secs(2)))
            })
            .collect();
        let c = go(|| {
            for _ in 0..10 {
                tricolor_gc::collect();
                tricolor_gc::runtime::sleep(Duration::from_millis(50));
            }
        });
        let bad: u64 = hs.into_iter().map(|h| h.join().expect("a G panicked")).sum();
        c.join().unwrap();
        bad
    });
    let bad_threads: u64 = threads.into_iter().map(|t| t.join().expect("a thread panicked")).sum();
    assert_eq!(bad_gs + bad_threads, 0, "elements with wrong values");
    tricolor_gc::collect();
    for x in v.iter() {
        assert_eq!(x.check, check(x.v));
    }
}
