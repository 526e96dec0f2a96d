//! The `dumpster` crate: reference counting plus cycle detection.
//! Single-threaded workloads use `dumpster::unsync::Gc` (the crate recommends
//! it for single-threaded code; it avoids atomic counts). churn4 uses
//! `dumpster::sync::Gc` for both the shared tree and the per-thread lists.
//! dumpster exposes no pause timings: pause fields are n/a.
use dumpster::Trace;
use gc_peers::*;
use std::cell::RefCell;
use std::hint::black_box;
use std::time::Instant;

use dumpster::unsync::Gc;

const SYS: &str = "dumpster";

#[derive(Trace)]
struct Node {
    l: Option<Gc<Node>>,
    r: Option<Gc<Node>>,
}

fn bottom_up(d: usize) -> Gc<Node> {
    if d == 0 {
        Gc::new(Node { l: None, r: None })
    } else {
        Gc::new(Node { l: Some(bottom_up(d - 1)), r: Some(bottom_up(d - 1)) })
    }
}

fn check(n: &Node) -> usize {
    match (&n.l, &n.r) {
        (Some(l), Some(r)) => 1 + check(l) + check(r),
        _ => 1,
    }
}

#[derive(Trace)]
struct GNode {
    l: RefCell<Option<Gc<GNode>>>,
    r: RefCell<Option<Gc<GNode>>>,
    i: i32,
    j: i32,
}

fn gnode(l: Option<Gc<GNode>>, r: Option<Gc<GNode>>) -> Gc<GNode> {
    Gc::new(GNode { l: RefCell::new(l), r: RefCell::new(r), i: 0, j: 0 })
}

fn populate(d: usize, n: &Gc<GNode>) {
    if d == 0 {
        return;
    }
    let (l, r) = (gnode(None, None), gnode(None, None));
    *n.l.borrow_mut() = Some(l.clone());
    *n.r.borrow_mut() = Some(r.clone());
    populate(d - 1, &l);
    populate(d - 1, &r);
}

fn make_tree(d: usize) -> Gc<GNode> {
    if d == 0 {
        gnode(None, None)
    } else {
        gnode(Some(make_tree(d - 1)), Some(make_tree(d - 1)))
    }
}

mod shared {
    use dumpster::sync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    pub struct SNode {
        pub l: Option<Gc<SNode>>,
        pub r: Option<Gc<SNode>>,
    }

    pub fn build(d: usize) -> Gc<SNode> {
        if d == 0 {
            Gc::new(SNode { l: None, r: None })
        } else {
            Gc::new(SNode { l: Some(build(d - 1)), r: Some(build(d - 1)) })
        }
    }

    pub fn check(n: &SNode) -> usize {
        match (&n.l, &n.r) {
            (Some(l), Some(r)) => 1 + check(l) + check(r),
            _ => 1,
        }
    }

    pub fn pick(root: &Gc<SNode>, k: usize) -> Gc<SNode> {
        let mut n = root;
        for b in 0..8 {
            n = if (k >> b) & 1 == 0 { n.l.as_ref().unwrap() } else { n.r.as_ref().unwrap() };
        }
        n.clone()
    }

    #[derive(Trace)]
    pub struct ListNode {
        pub next: Option<Gc<ListNode>>,
        pub shared: Gc<SNode>,
        pub val: usize,
    }
}

fn ring_bench<const N: usize>(n: usize) -> f64 {
    let mut ring: Vec<Gc<[u64; N]>> = (0..1024).map(|_| Gc::new([0u64; N])).collect();
    let t0 = Instant::now();
    for i in 0..n {
        let mut a = [0u64; N];
        a[0] = i as u64;
        ring[i & 1023] = black_box(Gc::new(a));
    }
    let ns = t0.elapsed().as_nanos() as f64 / n as f64;
    black_box(&ring);
    ns
}

struct W;
impl Workloads for W {
    fn binarytrees(n: usize) {
        let start = Instant::now();
        let (min, max, stretch) = bt_depths(n);
        println!("stretch tree of depth {stretch}\t check: {}", check(&bottom_up(stretch)));
        let long_lived = bottom_up(max);
        for d in (min..=max).step_by(2) {
            let iters = 1usize << (max - d + min);
            let c: usize = (0..iters).map(|_| check(&bottom_up(d))).sum();
            println!("{iters}\t trees of depth {d}\t check: {c}");
        }
        println!("long lived tree of depth {max}\t check: {}", check(&long_lived));
        result(SYS, "binarytrees", start, None, " gc=unsync");
    }

    fn gcbench(max: usize) {
        let start = Instant::now();
        let stretch = max + 2;
        gcbench_header(stretch, max, GCB_ARRAY_SIZE);
        drop(black_box(make_tree(stretch)));
        let long_lived = gnode(None, None);
        populate(max, &long_lived);
        let mut v = vec![0f64; GCB_ARRAY_SIZE];
        for (i, a) in v.iter_mut().enumerate().take(GCB_ARRAY_SIZE / 2) {
            *a = 1.0 / i as f64;
        }
        let array = Gc::new(v);
        for d in (GCB_MIN_DEPTH..=max).step_by(2) {
            let iters = 2 * tree_size(stretch) / tree_size(d);
            println!("Creating {iters} trees of depth {d}");
            let t0 = Instant::now();
            for _ in 0..iters {
                let t = gnode(None, None);
                populate(d, &t);
                black_box(t);
            }
            println!("\tTop down construction took {:.1} msec", t0.elapsed().as_secs_f64() * 1e3);
            let t0 = Instant::now();
            for _ in 0..iters {
                black_box(make_tree(d));
            }
            println!("\tBottom up construction took {:.1} msec", t0.elapsed().as_secs_f64() * 1e3);
        }
        let ok = long_lived.l.borrow().is_some() && array[1000] == 1.0 / 1000.0 && long_lived.i + long_lived.j == 0;
        assert!(ok, "Failed");
        println!("Completed in {:.1} msec", start.elapsed().as_secs_f64() * 1e3);
        result(SYS, "gcbench", start, None, " gc=unsync");
    }

    fn pauseprobe(live_depth: usize, iters: usize) {
        let start = Instant::now();
        let nslots = 1usize << (live_depth - CHURN_DEPTH);
        let slots: Gc<RefCell<Vec<Gc<Node>>>> =
            Gc::new(RefCell::new((0..nslots).map(|_| bottom_up(CHURN_DEPTH)).collect()));
        let mut gaps = vec![0u64; iters];
        let mut c = 0;
        let mut prev = Instant::now();
        for (i, g) in gaps.iter_mut().enumerate() {
            let t = bottom_up(CHURN_DEPTH);
            c += check(&t);
            if i % 4 == 0 {
                slots.borrow_mut()[(i / 4) % nslots] = t;
            }
            let now = Instant::now();
            *g = (now - prev).as_nanos() as u64;
            prev = now;
        }
        let live: usize = slots.borrow().iter().map(|s| check(s)).sum();
        println!("live nodes {live}, iterations {iters}, check {c}");
        result(SYS, "pauseprobe", start, None, &(gap_fields(&mut gaps) + " gc=unsync"));
    }

    fn churn4(iters: usize) {
        use dumpster::sync::Gc as SGc;
        let start = Instant::now();
        let root = shared::build(SHARED_DEPTH);
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let mut sum = 0;
                    for i in 0..iters {
                        let mut head: Option<SGc<shared::ListNode>> = None;
                        for j in 0..LIST_LEN {
                            head = Some(SGc::new(shared::ListNode {
                                next: head,
                                shared: shared::pick(&root, i + j),
                                val: j,
                            }));
                        }
                        let mut n = head.as_deref();
                        while let Some(x) = n {
                            sum += x.val + x.shared.l.is_some() as usize;
                            n = x.next.as_deref();
                        }
                    }
                    sum
                })
            })
            .collect();
        let total: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
        println!("threads {THREADS}, iterations {iters}, shared nodes {}, check {total}", shared::check(&root));
        result(SYS, "churn4", start, None, " gc=sync");
    }

    fn allocmicro(n: usize) {
        let start = Instant::now();
        let (a, b, c) = (ring_bench::<2>(n), ring_bench::<8>(n), ring_bench::<32>(n));
        println!("n {n}");
        println!("16B {a:.2} ns/alloc, 64B {b:.2} ns/alloc, 256B {c:.2} ns/alloc");
        let extra = format!(" ns_per_alloc_16={a:.3} ns_per_alloc_64={b:.3} ns_per_alloc_256={c:.3} gc=unsync");
        result(SYS, "allocmicro", start, None, &extra);
    }
}

fn main() {
    main_for::<W>();
}
