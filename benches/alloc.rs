//! Allocation and root-operation fast paths, side by side with `Box` in the
//! same run: `cargo bench --bench alloc`.
//!
//! Each `Gc::new` iteration allocates and drops its handle, so the figure
//! includes the amortised collection and sweeping of the garbage it makes,
//! as each `Box::new` iteration includes its `free`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tricolor_gc::{Gc, Member, Trace};

#[derive(Trace)]
#[trace(no_pointers)]
struct Bytes<const N: usize>([u8; N]);

#[derive(Trace)]
struct Node {
    next: Member<Node>,
    value: u64,
}

fn alloc(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc");
    macro_rules! sized {
        ($n:literal) => {
            g.bench_function(BenchmarkId::new("Gc::new", $n), |b| b.iter(|| black_box(Gc::new(Bytes([1u8; $n])))));
            g.bench_function(BenchmarkId::new("Box::new", $n), |b| b.iter(|| black_box(Box::new(Bytes([1u8; $n])))));
        };
    }
    sized!(16);
    sized!(64);
    sized!(256);
    g.bench_function("Gc::new/node-with-member", |b| {
        let head = Gc::new(Node { next: Member::null(), value: 0 });
        b.iter(|| black_box(Gc::new(Node { next: Member::new(&head), value: 1 })))
    });
    g.finish();
}

fn roots(c: &mut Criterion) {
    let mut g = c.benchmark_group("roots");
    let a = Gc::new(Node { next: Member::null(), value: 0 });
    let b2 = Gc::new(Node { next: Member::new(&a), value: 0 });
    g.bench_function("Gc::clone+drop (register/unregister)", |b| b.iter(|| black_box(a.clone())));
    g.bench_function("Member::get+drop", |b| b.iter(|| black_box(b2.next.get())));
    g.bench_function("Member::set (barrier off)", |b| b.iter(|| b2.next.set(black_box(&a))));
    g.bench_function("Member::ptr_eq", |b| b.iter(|| black_box(b2.next.ptr_eq(&a))));
    g.bench_function("Arc::clone+drop (baseline)", |b| {
        let arc = std::sync::Arc::new(5u64);
        b.iter(|| black_box(arc.clone()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = alloc, roots
}
criterion_main!(benches);
