//! Loom models of the root tables: the real `roots.rs`, compiled against
//! loom's atomics with two slots per segment (`gc_core::sync::model`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_roots`
//! (`LOOM_MAX_PREEMPTIONS=n` widens the search; default bound 4).
//!
//! The stop-the-world handshake is abstracted as a loom `Mutex` ("the
//! world"): a registration is a critical section (holds it), a scan runs
//! with the world stopped (holds it), frees hold nothing. `loom_handshake.rs`
//! checks that the handshake gives that mutual exclusion and ordering.
#![cfg(loom)]

use gc_core::sync::model::atomic::AtomicUsize;
use gc_core::sync::model::{set_current_owner, Owner, RootTable, SEGMENT_SLOTS};
use loom::sync::Mutex;
use loom::thread;
use std::sync::Arc;

/// Fake object addresses: even, non-zero, never dereferenced.
const A: usize = 0x1000;
const B: usize = 0x2000;
const C: usize = 0x3000;
const D: usize = 0x4000;
const E: usize = 0x5000;
const F: usize = 0x6000;
const G: usize = 0x7000;

type Slot = &'static AtomicUsize;

fn model(f: impl Fn() + Sync + Send + 'static) {
    assert_eq!(SEGMENT_SLOTS, 2, "the models below are written for two-slot segments");
    let mut b = loom::model::Builder::new();
    // LOOM_MAX_PREEMPTIONS, read by Builder::new, overrides this.
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(4);
    }
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!("loom: {} executions", runs.load(std::sync::atomic::Ordering::Relaxed));
}

fn reg(owner: &Owner, obj: usize) -> Slot {
    // SAFETY: in these models the caller acts as `owner`'s thread, inside a
    // critical section (world lock held, or no scan can run).
    unsafe { owner.roots.register(owner, obj) }
}

fn scan(t: &RootTable) -> Vec<usize> {
    let mut v = Vec::new();
    // SAFETY: callers hold the world lock (the world is stopped).
    unsafe { t.for_each_root(|p| v.push(p)) };
    v
}

fn distinct(slots: &[Slot]) {
    for (i, a) in slots.iter().enumerate() {
        for b in &slots[i + 1..] {
            assert!(!core::ptr::eq(*a, *b), "a slot was handed out twice");
        }
    }
}

/// Owner frees locally and re-registers (reusing freed slots, refilling
/// from the remote list, growing a segment) while another thread frees a
/// root remotely and the collector scans. The scan never reports a link,
/// never misses a root registered before it and not freed; no slot is handed
/// out twice; the remote free is not lost.
#[test]
fn scan_races_local_and_remote_frees() {
    model(|| {
        let owner = Arc::new(Owner::default());
        // Objects registered and never freed, as the collector must see
        // them; guarded by "the world".
        let world = Arc::new(Mutex::new(vec![C]));
        set_current_owner(&*owner);
        let (sa, sb, sc) = (reg(&owner, A), reg(&owner, B), reg(&owner, C));

        let remote = thread::spawn(move || RootTable::unregister(sa));

        let collector = {
            let (owner, world) = (owner.clone(), world.clone());
            thread::spawn(move || {
                let must = world.lock().unwrap();
                let seen = scan(&owner.roots);
                for v in &seen {
                    assert!(*v == A || *v == B || must.contains(v), "scan reported {v:#x}");
                }
                for v in must.iter() {
                    assert!(seen.contains(v), "scan missed root {v:#x}");
                }
                let mut s = seen.clone();
                s.sort_unstable();
                s.dedup();
                assert_eq!(s.len(), seen.len(), "scan reported a root twice");
            })
        };

        RootTable::unregister(sb); // local free
        let mut live = vec![sc];
        for obj in [D, E, F] {
            // D reuses B's slot, E the segment's spare, F refills from the
            // remote list or grows a segment.
            let mut must = world.lock().unwrap();
            live.push(reg(&owner, obj));
            must.push(obj);
        }
        remote.join().unwrap();
        collector.join().unwrap();

        distinct(&live);
        // SAFETY: all threads joined.
        let audit = unsafe { owner.roots.audit(&owner) };
        assert_eq!(audit.roots, vec![C, D, E, F]);
        assert_eq!(audit.roots.len() + audit.free, audit.segments * SEGMENT_SLOTS);
        // Whether F took A's slot or a new segment, G fits without a
        // fourth one: A's slot is never lost.
        let g = reg(&owner, G);
        live.push(g);
        distinct(&live);
        // SAFETY: quiescent.
        let audit = unsafe { owner.roots.audit(&owner) };
        assert_eq!(audit.segments, 3);
        // SAFETY: end of the iteration; no slot is used again.
        unsafe { owner.roots.free_segments() };
    });
}

/// Two threads free slots of the same segment remotely (Treiber push
/// contention) while the owner refills from that remote list with `swap`.
#[test]
fn remote_pushes_race_refill() {
    model(|| {
        let owner = Arc::new(Owner::default());
        set_current_owner(&*owner);
        let (sa, sb) = (reg(&owner, A), reg(&owner, B)); // segment 1, full
        let (sc, sd) = (reg(&owner, C), reg(&owner, D)); // segment 2, full
        let r1 = thread::spawn(move || RootTable::unregister(sa));
        let r2 = thread::spawn(move || RootTable::unregister(sb));
        // Free list empty: refills from segment 1's remote list (0, 1 or 2
        // slots) or allocates segment 3.
        let se = reg(&owner, E);
        let sf = reg(&owner, F);
        r1.join().unwrap();
        r2.join().unwrap();
        let live = vec![sc, sd, se, sf];
        distinct(&live);
        // SAFETY: all threads joined.
        let audit = unsafe { owner.roots.audit(&owner) };
        assert_eq!(audit.roots, vec![C, D, E, F]);
        assert_eq!(audit.roots.len() + audit.free, audit.segments * SEGMENT_SLOTS);
        // SAFETY: end of the iteration.
        unsafe { owner.roots.free_segments() };
    });
}

/// A thread frees a root locally, then exits: its segments pass to the
/// fallback table and its local free slots to the remote lists, while
/// another thread frees one of its roots remotely and the collector scans
/// both tables. Afterwards the fallback reuses every free slot.
#[test]
fn hand_over_at_exit_then_scan() {
    model(|| {
        let dying = Arc::new(Owner::default());
        let fallback = Arc::new(Owner::default());
        // The registry lock: excludes a stop during the hand-over (the
        // fallback lock, also held by the real code, has no other user here).
        let registry = Arc::new(Mutex::new(()));
        let (sa, sb, sc) = (reg(&dying, A), reg(&dying, B), reg(&dying, C));

        let exiting = {
            let (dying, fallback, registry) = (dying.clone(), fallback.clone(), registry.clone());
            thread::spawn(move || {
                set_current_owner(&*dying);
                RootTable::unregister(sb); // local free
                let _reg = registry.lock().unwrap();
                dying.roots.hand_over(&fallback.roots, &fallback);
                set_current_owner(core::ptr::null());
            })
        };
        let remote = thread::spawn(move || RootTable::unregister(sa));
        let collector = {
            let (dying, fallback, registry) = (dying.clone(), fallback.clone(), registry.clone());
            thread::spawn(move || {
                let _stopped = registry.lock().unwrap();
                let mut seen = scan(&dying.roots);
                seen.extend(scan(&fallback.roots));
                assert_eq!(seen.iter().filter(|&&v| v == C).count(), 1, "C not scanned exactly once: {seen:x?}");
                for v in &seen {
                    assert!(*v == A || *v == B || *v == C, "scan reported {v:#x}");
                }
            })
        };
        exiting.join().unwrap();
        remote.join().unwrap();
        collector.join().unwrap();

        // SAFETY: all threads joined.
        let audit = unsafe { fallback.roots.audit(&fallback) };
        assert_eq!(audit.roots, vec![C]);
        assert_eq!((audit.free, audit.segments), (3, 2));
        // SAFETY: as above.
        assert_eq!(unsafe { dying.roots.audit(&dying) }.segments, 0);
        // The fallback's user (no current owner) registers: A's, B's and the
        // spare slot all come back from the remote lists before a new
        // segment is allocated.
        let mut live = vec![sc];
        for obj in [D, E, F] {
            live.push(reg(&fallback, obj));
        }
        distinct(&live);
        // SAFETY: quiescent.
        let audit = unsafe { fallback.roots.audit(&fallback) };
        assert_eq!((audit.roots.clone(), audit.free, audit.segments), (vec![C, D, E, F], 0, 2));
        // SAFETY: end of the iteration.
        unsafe { fallback.roots.free_segments() };
    });
}

/// The concurrent root scan of concurrent marking: a marker walks the
/// segment list and reads every slot *without* stopping the owner, while the
/// owner registers roots that fill the current segment and publish new ones
/// (refill prepends a segment, then stores the head). The scan sees every
/// root registered before it began and not freed (here: A and B, the first
/// segment) and never a free-list link, in every interleaving. (Loom does
/// not see the publication of a new segment's contents: they are written
/// through a raw pointer before the head's Release store, which this model
/// therefore does not check; weakening that store to Relaxed still passes.)
#[test]
fn concurrent_scan_races_segment_growth() {
    model(|| {
        let owner = Arc::new(Owner::default());
        set_current_owner(&*owner);
        let (_sa, _sb) = (reg(&owner, A), reg(&owner, B));
        let o = owner.clone();
        let grower = thread::spawn(move || {
            set_current_owner(&*o);
            // Two more segments' worth, published while the scan runs.
            let slots = [reg(&o, C), reg(&o, D), reg(&o, E), reg(&o, F)];
            set_current_owner(core::ptr::null());
            slots
        });
        // SAFETY: no hand-over runs in this model; the scan may run beside
        // the owner (the contract of `for_each_root`).
        let mut seen = Vec::new();
        unsafe { owner.roots.for_each_root(|p| seen.push(p)) };
        for p in &seen {
            assert!([A, B, C, D, E, F].contains(p), "scan reported {p:#x}, not a root");
        }
        assert!(seen.contains(&A) && seen.contains(&B), "scan missed a root registered before it: {seen:x?}");
        let slots = grower.join().unwrap();
        set_current_owner(core::ptr::null());
        distinct(&slots);
        // SAFETY: quiescent now.
        let audit = unsafe { owner.roots.audit(&owner) };
        assert_eq!(audit.roots, vec![A, B, C, D, E, F]);
        assert_eq!(audit.segments, 3);
        // SAFETY: the model is over.
        unsafe { owner.roots.free_segments() };
    });
}
