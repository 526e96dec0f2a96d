//! No-GC baseline: unique ownership (`Box`), trees dropped normally.
use gc_peers::*;
use std::hint::black_box;
use std::time::Instant;

const SYS: &str = "rust-box";

struct Node {
    l: Option<Box<Node>>,
    r: Option<Box<Node>>,
}

fn bottom_up(d: usize) -> Box<Node> {
    if d == 0 {
        Box::new(Node { l: None, r: None })
    } else {
        Box::new(Node { l: Some(bottom_up(d - 1)), r: Some(bottom_up(d - 1)) })
    }
}

fn check(n: &Node) -> usize {
    match (&n.l, &n.r) {
        (Some(l), Some(r)) => 1 + check(l) + check(r),
        _ => 1,
    }
}

struct GNode {
    l: Option<Box<GNode>>,
    r: Option<Box<GNode>>,
    _i: i32,
    _j: i32,
}

fn gnew() -> Box<GNode> {
    Box::new(GNode { l: None, r: None, _i: 0, _j: 0 })
}

fn populate(d: usize, n: &mut GNode) {
    if d == 0 {
        return;
    }
    n.l = Some(gnew());
    n.r = Some(gnew());
    populate(d - 1, n.l.as_mut().unwrap());
    populate(d - 1, n.r.as_mut().unwrap());
}

fn make_tree(d: usize) -> Box<GNode> {
    if d == 0 {
        gnew()
    } else {
        Box::new(GNode { l: Some(make_tree(d - 1)), r: Some(make_tree(d - 1)), _i: 0, _j: 0 })
    }
}

struct ListNode<'a> {
    next: Option<Box<ListNode<'a>>>,
    shared: &'a SharedNode,
    val: usize,
}

fn ring_bench<const N: usize>(n: usize) -> f64 {
    let mut ring: Vec<Box<[u64; N]>> = (0..1024).map(|_| Box::new([0u64; N])).collect();
    let t0 = Instant::now();
    for i in 0..n {
        let mut p = Box::new([0u64; N]);
        p[0] = i as u64;
        ring[i & 1023] = black_box(p);
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
        result(SYS, "binarytrees", start, None, "");
    }

    fn gcbench(max: usize) {
        let start = Instant::now();
        let stretch = max + 2;
        gcbench_header(stretch, max, GCB_ARRAY_SIZE);
        drop(black_box(make_tree(stretch)));
        let mut long_lived = gnew();
        populate(max, &mut long_lived);
        let mut array = vec![0f64; GCB_ARRAY_SIZE];
        for (i, a) in array.iter_mut().enumerate().take(GCB_ARRAY_SIZE / 2) {
            *a = 1.0 / i as f64;
        }
        for d in (GCB_MIN_DEPTH..=max).step_by(2) {
            let iters = 2 * tree_size(stretch) / tree_size(d);
            println!("Creating {iters} trees of depth {d}");
            let t0 = Instant::now();
            for _ in 0..iters {
                let mut t = gnew();
                populate(d, &mut t);
                black_box(t);
            }
            println!("\tTop down construction took {:.1} msec", t0.elapsed().as_secs_f64() * 1e3);
            let t0 = Instant::now();
            for _ in 0..iters {
                black_box(make_tree(d));
            }
            println!("\tBottom up construction took {:.1} msec", t0.elapsed().as_secs_f64() * 1e3);
        }
        assert!(black_box(&long_lived).l.is_some() && array[1000] == 1.0 / 1000.0, "Failed");
        println!("Completed in {:.1} msec", start.elapsed().as_secs_f64() * 1e3);
        result(SYS, "gcbench", start, None, "");
    }

    fn pauseprobe(live_depth: usize, iters: usize) {
        let start = Instant::now();
        let nslots = 1usize << (live_depth - CHURN_DEPTH);
        let mut slots: Vec<Box<Node>> = (0..nslots).map(|_| bottom_up(CHURN_DEPTH)).collect();
        let mut gaps = vec![0u64; iters];
        let mut c = 0;
        let mut prev = Instant::now();
        for (i, g) in gaps.iter_mut().enumerate() {
            let t = bottom_up(CHURN_DEPTH);
            c += check(&t);
            if i % 4 == 0 {
                slots[(i / 4) % nslots] = t;
            }
            let now = Instant::now();
            *g = (now - prev).as_nanos() as u64;
            prev = now;
        }
        let live: usize = slots.iter().map(|s| check(s)).sum();
        println!("live nodes {live}, iterations {iters}, check {c}");
        result(SYS, "pauseprobe", start, None, &gap_fields(&mut gaps));
    }

    fn churn4(iters: usize) {
        let start = Instant::now();
        let shared = SharedNode::build(SHARED_DEPTH);
        let shared = &*shared;
        let total: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(move || {
                        let mut sum = 0;
                        for i in 0..iters {
                            let mut head: Option<Box<ListNode>> = None;
                            for j in 0..LIST_LEN {
                                head = Some(Box::new(ListNode { next: head, shared: shared.pick(i + j), val: j }));
                            }
                            let mut n = head.as_deref();
                            while let Some(x) = n {
                                sum += x.val + x.shared.left.is_some() as usize;
                                n = x.next.as_deref();
                            }
                        }
                        sum
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        println!("threads {THREADS}, iterations {iters}, shared nodes {}, check {total}", shared.check());
        result(SYS, "churn4", start, None, " shared=plain-owned-tree");
    }

    fn allocmicro(n: usize) {
        let start = Instant::now();
        let (a, b, c) = (ring_bench::<2>(n), ring_bench::<8>(n), ring_bench::<32>(n));
        println!("n {n}");
        println!("16B {a:.2} ns/alloc, 64B {b:.2} ns/alloc, 256B {c:.2} ns/alloc");
        let extra = format!(" ns_per_alloc_16={a:.3} ns_per_alloc_64={b:.3} ns_per_alloc_256={c:.3}");
        result(SYS, "allocmicro", start, None, &extra);
    }
}

fn main() {
    main_for::<W>();
}
