//! Pins (`tricolor_gc::pin`): unrooted `Ref`s stay valid while cycles run
//! beside the pinned threads (pointer-model rows 32–38), and every operation
//! that would wait for a stop refuses to run inside a pin instead of
//! deadlocking.
//!
//! The stress test runs with `GODEBUG=gccheckmark=1,clobberfree=1`: a freed
//! object is overwritten with `0xdeadbeef` by the sweeper, so a `Ref` that
//! outlived its object reads garbage. Every tree carries consecutive
//! preorder ids and a checksum per node, so a walk detects both a clobbered
//! node and a slot reused by another tree.
//!
//! Waits are handshakes (channels), not sleeps; a test that checks a
//! process-wide statistic (cycle counts, the longest pin wait) runs alone in
//! a child process (`tests/child/mod.rs`), where a deadlock also fails after
//! a time limit instead of hanging.
//!
//! Env: `TRICOLOR_PIN_OPS` (pins per thread in the stress test, default
//! 30 000), `TRICOLOR_PIN_SEED`.

mod child;
mod common;
use common::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tricolor_gc::{pin, Gc, GcVec, Guard, Member, Ref, Trace};

/// Sets GODEBUG before the first GC operation and serialises the tests of
/// this file: the stress test counts its cycles, and the nested-pin test
/// must not see another test's collection finish.
fn init() -> parking_lot::MutexGuard<'static, ()> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    static SERIAL: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    ONCE.call_once(|| std::env::set_var("GODEBUG", "gccheckmark=1,clobberfree=1"));
    SERIAL.lock()
}

fn checksum(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555_AAAA_5555_AAAA
}

/// 32 bytes with an exact pointer map and no drop glue: headerless.
#[derive(Trace)]
struct Node {
    id: u64,
    check: u64,
    left: Member<Node>,
    right: Member<Node>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A complete tree of `depth` with preorder ids starting at the root's.
fn build<'g>(g: &'g Guard, depth: u32) -> Ref<'g, Node> {
    let base = NEXT_ID.fetch_add(1 << (depth + 1), Ordering::Relaxed);
    fn go<'g>(g: &'g Guard, depth: u32, id: &mut u64) -> Ref<'g, Node> {
        let n = g.alloc(Node { id: *id, check: checksum(*id), left: Member::null(), right: Member::null() });
        *id += 1;
        if depth > 0 {
            n.left.set_ref(go(g, depth - 1, id));
            n.right.set_ref(go(g, depth - 1, id));
        }
        n
    }
    let mut id = base;
    go(g, depth, &mut id)
}

/// Walks a tree built by `build`, checking every node; returns its size.
fn verify(n: &Node, g: &Guard) -> u64 {
    fn go(n: &Node, g: &Guard, want: &mut u64) {
        assert_eq!(n.check, checksum(n.id), "node {:#x}: clobbered or reused (freed under a Ref)", n.id);
        assert_eq!(n.id, *want, "tree order broken: a node was freed and reused");
        *want += 1;
        match (n.left.load(g), n.right.load(g)) {
            (Some(l), Some(r)) => {
                go(&l, g, want);
                go(&r, g, want);
            }
            (None, None) => {}
            _ => panic!("node {:#x}: half a pair of children", n.id),
        }
    }
    let mut want = n.id;
    go(n, g, &mut want);
    want - n.id
}

#[derive(Trace)]
struct Table {
    slots: [Member<Node>; 32],
}

/// Runs `ops` pins, then more until `enough()`.
fn worker(table: &Gc<Table>, seed: u64, ops: usize, enough: &dyn Fn() -> bool) {
    let mut rng = Rng(seed | 1);
    let mut kept: Vec<(Gc<Node>, u64)> = Vec::new();
    for op in 0.. {
        if op >= ops && enough() {
            break;
        }
        pin(|g| {
            // New, unrooted trees: only these Refs hold them.
            let a = build(g, rng.below(7) as u32);
            let b = build(g, rng.below(5) as u32);
            let (sa, sb) = (verify(&a, g), verify(&b, g));
            // Read what other threads stored, while they overwrite it.
            for _ in 0..4 {
                if let Some(t) = table.slots[rng.below(32)].load(g) {
                    verify(&t, g);
                }
            }
            // Publish one tree, drop the other: a slot's old tree becomes
            // garbage while readers may still hold Refs into it.
            table.slots[rng.below(32)].set_ref(a);
            if rng.below(4) == 0 {
                kept.push((b.root(), sb));
            }
            assert_eq!(verify(&b, g), sb);
            assert_eq!(verify(&a, g), sa);
            // Rooted handles from earlier pins, seen as Refs.
            if let Some((h, n)) = kept.get(rng.below(kept.len().max(1))) {
                assert_eq!(verify(&h.to_ref(g), g), *n);
            }
            if rng.below(8) == 0 {
                // A pending stop goes through here; no Ref lives across it.
                g.repin();
                if let Some(t) = table.slots[rng.below(32)].load(g) {
                    verify(&t, g);
                }
            }
        });
        if kept.len() > 16 {
            kept.swap_remove(rng.below(kept.len()));
        }
    }
}

/// Cycles the stress test runs beside the pins, at least.
const MIN_CYCLES: u64 = 10;

/// Rows 32 and 36: Refs (loaded, allocated, converted) stay valid while
/// other threads force and trigger cycles. The workers go on past their
/// pins until the collector thread has completed `MIN_CYCLES` cycles.
#[test]
fn pinned_refs_survive_concurrent_cycles() {
    let _serial = init();
    let prev = tricolor_gc::set_gc_percent(10);
    let ops: usize = std::env::var("TRICOLOR_PIN_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(30_000);
    let seed: u64 = std::env::var("TRICOLOR_PIN_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    let how = common::test_procs().map_or("threads".to_string(), |n| format!("Gs on {n} Ps"));
    eprintln!("pin: seed {seed} (TRICOLOR_PIN_SEED), {ops} pins x 3 {how}");
    let gc0 = tricolor_gc::mem_stats().num_gc;
    let table = Gc::new(Table { slots: std::array::from_fn(|_| Member::null()) });
    let stop = Arc::new(AtomicBool::new(false));
    let forced = Arc::new(AtomicU64::new(0));
    let collector = {
        let (stop, forced) = (stop.clone(), forced.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                tricolor_gc::collect();
                forced.fetch_add(1, Ordering::SeqCst);
                // Pacing, not synchronisation: lets the workers run between cycles.
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let jobs: Vec<Box<dyn FnOnce() + Send>> = (0..3u64)
        .map(|i| {
            let (t, forced) = (table.clone(), forced.clone());
            Box::new(move || {
                let enough = || forced.load(Ordering::SeqCst) >= MIN_CYCLES;
                worker(&t, seed.wrapping_add(i * 0x9E37), ops, &enough)
            }) as Box<dyn FnOnce() + Send>
        })
        .collect();
    common::run_mutators(jobs);
    // Cycles that completed while the workers ran (the tests of this file
    // are serialised and leave no thread behind, so all are this test's).
    let cycles = tricolor_gc::mem_stats().num_gc - gc0;
    stop.store(true, Ordering::Relaxed);
    collector.join().unwrap();
    tricolor_gc::set_gc_percent(prev);
    eprintln!("pin: {cycles} cycles beside the pins");
    assert!(cycles >= MIN_CYCLES, "too few cycles ran beside the pins to test anything: {cycles}");
}

/// Row 34: a nested pin's `repin` keeps the section open, since the outer
/// pin's Refs are still live. A `collect()` started on another thread can
/// only finish after the outermost pin ends: inner pins repin over and over
/// for 300 ms after the collector has called `collect()` (a repin that let
/// its stops through would let it finish within milliseconds), then the
/// outer pin ends and the collector must finish. The tests of this file are
/// serialised and leave no thread behind, so the growth of the total pin
/// wait is this collection's: it must cover most of the 300 ms, or the
/// collector was not waiting during the repins and nothing was tested.
#[test]
fn nested_repin_keeps_the_outer_pin() {
    let _serial = init();
    let waited0 = tricolor_gc::mem_stats().pin_wait_total;
    let done = Arc::new(AtomicBool::new(false));
    let (calling_tx, calling) = mpsc::channel();
    let collector = pin(|outer| {
        let a = outer.alloc(Node { id: 7, check: checksum(7), left: Member::null(), right: Member::null() });
        let d = done.clone();
        let collector = std::thread::spawn(move || {
            calling_tx.send(()).unwrap();
            tricolor_gc::collect();
            d.store(true, Ordering::SeqCst);
        });
        calling.recv().unwrap();
        let t0 = Instant::now();
        let mut repins = 0u64;
        while t0.elapsed() < Duration::from_millis(300) && !done.load(Ordering::SeqCst) {
            pin(|inner| inner.repin());
            repins += 1;
            std::thread::yield_now();
        }
        assert!(!done.load(Ordering::SeqCst), "a collection completed inside the outer pin ({repins} inner repins)");
        assert_eq!(a.check, checksum(7));
        collector
    });
    // The outer pin has ended: the collection goes through.
    collector.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    let waited = tricolor_gc::mem_stats().pin_wait_total - waited0;
    assert!(waited >= Duration::from_millis(100), "the collector waited only {waited:?} for the outer pin");
}

fn panic_message(r: std::thread::Result<()>) -> String {
    let e = r.expect_err("expected a panic");
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// Row 35: operations that would wait for a stop panic with a clear message
/// inside a pin; the pin is left on unwind, so the thread can collect after.
#[test]
fn operations_that_wait_for_a_stop_panic_inside_a_pin() {
    let _serial = init();
    let v: GcVec<Node> = GcVec::new();
    let n = Gc::new(Node { id: 1, check: checksum(1), left: Member::null(), right: Member::null() });
    type Case<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let cases: Vec<Case> = vec![
        ("collect()", Box::new(tricolor_gc::collect)),
        ("stops the world", Box::new(|| drop(tricolor_gc::mem_stats()))),
        ("safepoint()", Box::new(tricolor_gc::safepoint)),
        ("blocking()", Box::new(|| tricolor_gc::blocking(|| ()))),
        ("GcVec::push", Box::new(|| v.push(&n))),
        ("GcVec::pop", Box::new(|| drop(v.pop()))),
    ];
    for (what, op) in &cases {
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| pin(|_| op()))));
        assert!(msg.contains(what) && msg.contains("inside tricolor_gc::pin"), "{what}: got {msg:?}");
        // The unwind closed the pin: a stop can happen again.
        tricolor_gc::collect();
    }
    // Reads of a GcVec take no lock and work inside a pin.
    v.push(&n);
    pin(|g| assert_eq!(v.get(0).unwrap().to_ref(g).id, 1));
}

/// Row 37: a panic that unwinds out of a pin closes it.
#[test]
fn a_panic_unwinds_out_of_a_pin() {
    let _serial = init();
    let r = catch_unwind(|| {
        pin(|g| {
            let _n = g.alloc(Node { id: 3, check: checksum(3), left: Member::null(), right: Member::null() });
            panic!("user panic");
        })
    });
    assert!(r.is_err());
    tricolor_gc::collect(); // would hang if the pin were still open
}

/// Row 33: a collection the heap calls for inside a pin is started when the
/// pin ends, not inside it (where its stop would wait for this thread: the
/// child would hang and be killed). Runs in a child process and counts only
/// heap-triggered cycles (`num_gc - num_forced_gc`): nothing else in the
/// child allocates, so the pin's end must start exactly one, which the
/// `collect()` after it waits for before forcing its own.
#[test]
fn heap_triggered_cycle_is_deferred_to_the_pin_end() {
    const NAME: &str = "heap_triggered_cycle_is_deferred_to_the_pin_end";
    if !child::is_child(NAME) {
        eprint!("{}", child::run(NAME, &[], Duration::from_secs(300)));
        return;
    }
    let _serial = init();
    let unforced = || {
        let st = tricolor_gc::mem_stats();
        st.num_gc - st.num_forced_gc
    };
    let before = unforced();
    let goal = tricolor_gc::mem_stats().next_gc;
    let bytes = 64u64 << 20;
    assert!(bytes > 4 * goal, "64 MiB must be well past the goal ({goal} bytes)");
    let made = pin(|g| {
        let mut n = 0u64;
        // Well past any goal: 64 MiB of 32-byte nodes.
        for i in 0..bytes / 32 {
            let x = g.alloc(Node { id: i, check: checksum(i), left: Member::null(), right: Member::null() });
            n += x.check & 1;
        }
        n
    });
    assert!(made > 0);
    tricolor_gc::collect();
    let triggered = unforced() - before;
    assert_eq!(triggered, 1, "the pin's end must start exactly one heap-triggered cycle");
}

/// Row 38: a long pin delays the collector, but not other threads: a stop
/// waits for pins before it pauses anyone, so short critical sections keep
/// running meanwhile. The pinned thread stays pinned until this thread has
/// run its sections for 300 ms after the collector called `collect()`: had
/// the stop paused the sections before waiting for the pin, they would wait
/// for a pin that waits for them, and the child would hang and be killed.
/// Runs in a child process, so the longest pin wait is this test's.
#[test]
fn a_long_pin_does_not_pause_other_threads() {
    const NAME: &str = "a_long_pin_does_not_pause_other_threads";
    if !child::is_child(NAME) {
        eprint!("{}", child::run(NAME, &[], Duration::from_secs(300)));
        return;
    }
    let _serial = init();
    let mut keep = Gc::new(Node { id: 0, check: 0, left: Member::null(), right: Member::null() });
    let (pinned_tx, pinned) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let pinner = std::thread::spawn(move || {
        pin(|g| {
            let n = g.alloc(Node { id: 5, check: checksum(5), left: Member::null(), right: Member::null() });
            pinned_tx.send(()).unwrap();
            // Blocks inside the pin until the main thread is done.
            release_rx.recv().unwrap();
            assert_eq!(n.check, checksum(5));
        });
    });
    pinned.recv().unwrap();
    // A forced cycle now waits for the pin.
    let done = Arc::new(AtomicBool::new(false));
    let (calling_tx, calling) = mpsc::channel();
    let d = done.clone();
    let collector = std::thread::spawn(move || {
        calling_tx.send(Instant::now()).unwrap();
        tricolor_gc::collect();
        d.store(true, Ordering::SeqCst);
    });
    let called: Instant = calling.recv().unwrap();
    // Meanwhile this thread allocates and reads through handles.
    let (mut worst, mut sections) = (Duration::ZERO, 0u64);
    let mut last = Instant::now();
    while called.elapsed() < Duration::from_millis(300) || sections < 10_000 {
        let n = Gc::new(Node { id: 1, check: 1, left: Member::from(&keep), right: Member::null() });
        keep = n.left.get().unwrap();
        sections += 1;
        let now = Instant::now();
        worst = worst.max(now - last);
        last = now;
    }
    assert!(!done.load(Ordering::SeqCst), "collect() completed while a thread was pinned");
    let waited = called.elapsed();
    release.send(()).unwrap();
    pinner.join().unwrap();
    collector.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    let pin_wait = tricolor_gc::mem_stats().pin_wait_max;
    eprintln!("{sections} sections beside the pin, longest gap {worst:?}; the stop waited {pin_wait:?} for the pin");
    // The stop began after `called` and ended its wait at the release.
    assert!(pin_wait <= waited + Duration::from_millis(100), "pin wait {pin_wait:?} > {waited:?} since collect()");
    assert!(pin_wait >= Duration::from_millis(100), "the stop did not wait for the pin: {pin_wait:?}");
}

/// The pin stress with its pinning mutators as Gs on 1, 2 and 4 Ps (the
/// forcing collector stays a plain thread), under checkmark and
/// clobberfree, each in a child process.
#[test]
fn pinned_refs_survive_concurrent_cycles_as_gs_on_1_2_4_ps() {
    // Its own size knob: the debug CI step raises TRICOLOR_PIN_OPS for the thread run.
    let ops = std::env::var("TRICOLOR_PIN_GS_OPS")
        .unwrap_or_else(|_| if cfg!(debug_assertions) { "2000" } else { "10000" }.into());
    for procs in ["1", "2", "4"] {
        let err = child::run(
            "pinned_refs_survive_concurrent_cycles",
            &[("TRICOLOR_TEST_PROCS", procs), ("GODEBUG", "gccheckmark=1,clobberfree=1"), ("TRICOLOR_PIN_OPS", &ops)],
            std::time::Duration::from_secs(240),
        );
        assert!(err.contains(&format!("Gs on {procs} Ps")), "the child did not run its mutators as Gs:\n{err}");
    }
}
