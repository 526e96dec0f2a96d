//! Fast paths side by side with their no-GC baselines, one group per
//! comparison, so every ratio can be read off a single run:
//!
//! ```sh
//! cargo bench --bench fast_paths
//! cargo bench --bench fast_paths -- write_barrier   # one group
//! ```
//!
//! Groups (every function name says what it is compared with):
//!
//! * `alloc`: `Gc::new` of a 16-byte pointer-free object and of a node with two
//!   `Member` fields, against `Box::new` of the same shape. Each iteration
//!   drops its handle, so the `Gc` figures include the amortised collection
//!   and sweeping of the garbage they make, as the `Box` figures include
//!   `free`.
//! * `write_barrier`: `Member::set` with the barrier off (`Phase::Off`) and on
//!   (`Phase::Mark`, set through `gc_core::bench_internals::set_phase`, an
//!   `unsafe fn` behind gc-core's test-only `bench-internals` feature),
//!   against a plain atomic pointer store.
//! * `roots`: root register + unregister (`Gc::clone` + drop), `Member::get`
//!   + drop, against `Arc::clone` + drop (two atomic read-modify-writes).
//! * `reads`: `Member::ptr_eq` and a field read through `Gc`'s `Deref`,
//!   against the same read through a `Box` (a plain pointer read).
//! * `pins`: the unrooted API (`tricolor_gc::pin`): `Member::load` against
//!   `Member::get`+drop, `Member::set_ref` against `Member::set`,
//!   `Guard::alloc` against `Gc::new` and `Box::new` (allocations run in
//!   pins of 4096, so collections run between them as in a program), and
//!   an empty `pin` (enter + leave the critical section).
//!
//! Measurement: warm-up 0.5 s, 2 s per function; about a minute in all.
//! With `TRICOLOR_BENCH_MIGRATE=1` every figure is taken as gc-core runs
//! in a process that also runs a gc-runtime (see `migrate_if_asked`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tricolor_gc::{pin, Gc, Member, Trace};

/// 16 bytes, no GC pointers: a noscan object (24-byte slot with its header).
#[derive(Trace)]
#[trace(no_pointers)]
#[allow(dead_code)] // payload only
struct Small {
    a: u64,
    b: u64,
}

/// A binary-trees node: two `Member` fields and a payload word.
#[derive(Trace)]
struct Node {
    left: Member<Node>,
    right: Member<Node>,
    value: u64,
}

/// The same node on the Rust heap.
struct BoxNode {
    left: Option<Box<BoxNode>>,
    right: Option<Box<BoxNode>>,
    value: u64,
}

/// The same node with shared children (the `Box` analogue of two `Member`s
/// pointing at existing objects).
struct ArcNode {
    left: Option<Arc<ArcNode>>,
    right: Option<Arc<ArcNode>>,
    value: u64,
}

/// `TRICOLOR_BENCH_MIGRATE=1`: measure gc-core as it runs in a process
/// with a gc-runtime, whose Gs migrate between threads: gc-core then reads
/// its per-thread mutator pointer through a call the optimizer cannot merge
/// (pointer-model R13; `gc_core::sched::threads_migrate`, which every
/// `Runtime` build calls). Set before the first benchmark, as a runtime
/// sets it before its first G.
fn migrate_if_asked() {
    if std::env::var_os("TRICOLOR_BENCH_MIGRATE").is_some_and(|v| v == "1") {
        gc_core::sched::threads_migrate();
        eprintln!("fast_paths: as under a runtime (threads migrate)");
    }
}

fn alloc(c: &mut Criterion) {
    migrate_if_asked();
    let mut g = c.benchmark_group("alloc");
    g.bench_function("Gc::new(Small 16B, noscan)", |b| b.iter(|| black_box(Gc::new(Small { a: black_box(1), b: 2 }))));
    g.bench_function("baseline: Box::new(Small 16B)", |b| {
        b.iter(|| black_box(Box::new(Small { a: black_box(1), b: 2 })))
    });
    g.bench_function("Gc::new(Node, 2 null Members)", |b| {
        b.iter(|| black_box(Gc::new(Node { left: Member::null(), right: Member::null(), value: black_box(1) })))
    });
    g.bench_function("baseline: Box::new(BoxNode, 2 None)", |b| {
        b.iter(|| black_box(Box::new(BoxNode { left: None, right: None, value: black_box(1) })))
    });
    // Children that already exist: `Member::new` registers a root per child,
    // adoption in `Gc::new` frees it again.
    g.bench_function("Gc::new(Node, 2 Member::new(&child)) [+2 roots adopted]", |b| {
        let child = Gc::new(Node { left: Member::null(), right: Member::null(), value: 0 });
        b.iter(|| {
            black_box(Gc::new(Node { left: Member::new(&child), right: Member::new(&child), value: black_box(1) }))
        })
    });
    g.bench_function("baseline: Box::new(ArcNode, 2 Arc::clone(&child))", |b| {
        let child = Arc::new(ArcNode { left: None, right: None, value: 0 });
        b.iter(|| {
            black_box(Box::new(ArcNode { left: Some(child.clone()), right: Some(child.clone()), value: black_box(1) }))
        })
    });
    g.finish();
    // Keep the otherwise unread fields "used".
    let n = BoxNode { left: None, right: None, value: 0 };
    black_box((n.left.is_none(), n.right.is_none(), n.value));
    let n = ArcNode { left: None, right: None, value: 0 };
    black_box((n.left.is_none(), n.right.is_none(), n.value));
}

fn write_barrier(c: &mut Criterion) {
    use gc_core::bench_internals::{barrier_enabled, set_phase, Phase};

    let mut g = c.benchmark_group("write_barrier");
    // `target` has no pointer fields, and `holder.left` only ever points to
    // it: with the barrier on, the only object the barrier greys is `target`
    // (a leaf, live for the whole benchmark), so leaving the phase set
    // outside a real cycle cannot hide a live object from the next one.
    let target = Gc::new(Node { left: Member::null(), right: Member::null(), value: 7 });
    let holder = Gc::new(Node { left: Member::new(&target), right: Member::null(), value: 0 });
    g.bench_function("Member::set, barrier off (Phase::Off)", |b| b.iter(|| holder.left.set(black_box(&target))));
    g.bench_function("Member::set, barrier on (Phase::Mark) [2 buffer entries/store, flush every 256]", |b| {
        // No `Gc::new` runs while the phase is forced, so no cycle can start
        // and find it set; criterion's own allocations use the Rust heap.
        // SAFETY: no collection runs while the phase is forced (no
        // allocation, no `collect()`), and `Phase::Off` is restored before
        // the next one can start.
        unsafe { set_phase(Phase::Mark) };
        assert!(barrier_enabled());
        b.iter(|| holder.left.set(black_box(&target)));
        // SAFETY: as above.
        unsafe { set_phase(Phase::Off) };
    });
    assert!(!barrier_enabled(), "Phase::Off restored");
    let word = AtomicUsize::new(0);
    let addr = Gc::as_ptr(&target) as usize;
    g.bench_function("baseline: AtomicUsize::store(ptr, Release)", |b| {
        b.iter(|| black_box(&word).store(black_box(addr), Ordering::Release))
    });
    g.finish();
    // Flush the barrier buffer and reset the mark bits the forced phase left
    // behind, while both objects are still alive.
    tricolor_gc::collect();
    drop((holder, target));
}

fn roots(c: &mut Criterion) {
    let mut g = c.benchmark_group("roots");
    let a = Gc::new(Node { left: Member::null(), right: Member::null(), value: 0 });
    let holder = Gc::new(Node { left: Member::new(&a), right: Member::null(), value: 0 });
    let arc = Arc::new(5u64);
    g.bench_function("Gc::clone+drop [root register+unregister]", |b| b.iter(|| black_box(a.clone())));
    g.bench_function("Member::get+drop [load + root register+unregister]", |b| {
        b.iter(|| black_box(black_box(&holder).left.get()))
    });
    g.bench_function("baseline: Arc::clone+drop [2 atomic RMW]", |b| b.iter(|| black_box(arc.clone())));
    g.finish();
}

fn reads(c: &mut Criterion) {
    let mut g = c.benchmark_group("reads");
    let a = Gc::new(Node { left: Member::null(), right: Member::null(), value: 42 });
    let holder = Gc::new(Node { left: Member::new(&a), right: Member::null(), value: 0 });
    let bx = Box::new(BoxNode { left: None, right: None, value: 42 });
    let bholder = Box::new(BoxNode {
        left: Some(Box::new(BoxNode { left: None, right: None, value: 1 })),
        right: None,
        value: 0,
    });
    let bchild: *const BoxNode = bholder.left.as_deref().unwrap();
    g.bench_function("Gc Deref field read (*gc).value", |b| b.iter(|| black_box(black_box(&a).value)));
    g.bench_function("baseline: Box field read (*box).value", |b| b.iter(|| black_box(black_box(&bx).value)));
    g.bench_function("Member::ptr_eq(&gc)", |b| b.iter(|| black_box(black_box(&holder).left.ptr_eq(black_box(&a)))));
    g.bench_function("baseline: ptr::eq(box.left, child)", |b| {
        b.iter(|| {
            black_box(core::ptr::eq(
                black_box(&bholder).left.as_deref().map_or(core::ptr::null(), |p| p as *const BoxNode),
                black_box(bchild),
            ))
        })
    });
    g.finish();
    black_box((bx.right.is_none(), bholder.value));
}

fn pins(c: &mut Criterion) {
    let mut g = c.benchmark_group("pins");
    let a = Gc::new(Node { left: Member::null(), right: Member::null(), value: 42 });
    let holder = Gc::new(Node { left: Member::new(&a), right: Member::null(), value: 0 });
    // One pin for the whole measurement: nothing here allocates GC memory.
    pin(|p| {
        g.bench_function("Member::load(guard) [one load, no root]", |b| {
            b.iter(|| black_box(black_box(&holder).left.load(p).map(|r| r.value)))
        });
        let r = a.to_ref(p);
        g.bench_function("Member::set_ref(ref), barrier off", |b| b.iter(|| holder.left.set_ref(black_box(r))));
    });
    g.bench_function("Member::get+drop [section + load + root register+unregister]", |b| {
        b.iter(|| black_box(black_box(&holder).left.get().map(|r| r.value)))
    });
    g.bench_function("Member::set(&gc), barrier off", |b| b.iter(|| holder.left.set(black_box(&a))));
    const CHUNK: u64 = 4096;
    g.bench_function("Guard::alloc(Node) [pins of 4096]", |b| {
        b.iter_custom(|iters| {
            let t = std::time::Instant::now();
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                pin(|p| {
                    for _ in 0..n {
                        black_box(p.alloc(Node { left: Member::null(), right: Member::null(), value: black_box(1) }));
                    }
                });
                left -= n;
            }
            t.elapsed()
        })
    });
    g.bench_function("Gc::new(Node)+drop", |b| {
        b.iter(|| black_box(Gc::new(Node { left: Member::null(), right: Member::null(), value: black_box(1) })))
    });
    g.bench_function("baseline: Box::new(BoxNode)+drop", |b| {
        b.iter(|| black_box(Box::new(BoxNode { left: None, right: None, value: black_box(1) })))
    });
    g.bench_function("pin(|_| ()) [enter + leave a section]", |b| b.iter(|| pin(|p| black_box(p as *const _))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = alloc, write_barrier, roots, reads, pins
}
criterion_main!(benches);
