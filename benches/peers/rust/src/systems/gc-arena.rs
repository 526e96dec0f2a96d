//! The `gc-arena` crate: incremental mark-sweep inside an `Arena`; `Gc<'gc, T>`
//! pointers only live inside `mutate` callbacks, and collection happens only
//! when the program calls `arena.collect_debt()` between mutations. Each
//! `collect_debt()` call is timed and reported as a pause. Each workload unit
//! (one tree, one list, one batch of 1024 allocations) is one `mutate` call
//! followed by `collect_debt()`. churn4: arenas are single-threaded, so each
//! thread has its own arena and the shared tree is a plain owned tree outside
//! any arena (`Static<&'static SharedNode>`, marked shared=plain-owned-tree).
use gc_arena::{Arena, Collect, Gc, Mutation, RefLock, Rootable, Static};
use gc_peers::*;
use std::hint::black_box;
use std::time::Instant;

const SYS: &str = "gc-arena";

#[derive(Collect)]
#[collect(no_drop)]
struct Node<'gc> {
    l: Option<Gc<'gc, Node<'gc>>>,
    r: Option<Gc<'gc, Node<'gc>>>,
}

fn bottom_up<'gc>(mc: &Mutation<'gc>, d: usize) -> Gc<'gc, Node<'gc>> {
    if d == 0 {
        Gc::new(mc, Node { l: None, r: None })
    } else {
        Gc::new(mc, Node { l: Some(bottom_up(mc, d - 1)), r: Some(bottom_up(mc, d - 1)) })
    }
}

fn check(n: &Node<'_>) -> usize {
    match (n.l, n.r) {
        (Some(l), Some(r)) => 1 + check(&l) + check(&r),
        _ => 1,
    }
}

/// Times `arena.collect_debt()` and records it as a pause.
fn collect<R: for<'a> Rootable<'a>>(arena: &mut Arena<R>, pauses: &mut Vec<u64>)
where
    for<'a> <R as Rootable<'a>>::Root: Sized + Collect<'a>,
{
    let t = Instant::now();
    arena.collect_debt();
    pauses.push(t.elapsed().as_nanos() as u64);
}

#[derive(Collect)]
#[collect(no_drop)]
struct BtRoot<'gc> {
    long_lived: Option<Gc<'gc, Node<'gc>>>,
}

type GNodePtr<'gc> = Gc<'gc, RefLock<GNode<'gc>>>;

#[derive(Collect)]
#[collect(no_drop)]
struct GNode<'gc> {
    l: Option<GNodePtr<'gc>>,
    r: Option<GNodePtr<'gc>>,
    i: i32,
    j: i32,
}

fn gnode<'gc>(mc: &Mutation<'gc>, l: Option<GNodePtr<'gc>>, r: Option<GNodePtr<'gc>>) -> GNodePtr<'gc> {
    Gc::new(mc, RefLock::new(GNode { l, r, i: 0, j: 0 }))
}

fn populate<'gc>(mc: &Mutation<'gc>, d: usize, n: GNodePtr<'gc>) {
    if d == 0 {
        return;
    }
    let (l, r) = (gnode(mc, None, None), gnode(mc, None, None));
    {
        let mut b = n.borrow_mut(mc);
        b.l = Some(l);
        b.r = Some(r);
    }
    populate(mc, d - 1, l);
    populate(mc, d - 1, r);
}

fn make_tree<'gc>(mc: &Mutation<'gc>, d: usize) -> GNodePtr<'gc> {
    if d == 0 {
        gnode(mc, None, None)
    } else {
        gnode(mc, Some(make_tree(mc, d - 1)), Some(make_tree(mc, d - 1)))
    }
}

#[derive(Collect)]
#[collect(no_drop)]
struct GcbRoot<'gc> {
    long_lived: Option<GNodePtr<'gc>>,
    array: Option<Gc<'gc, Vec<f64>>>,
}

#[derive(Collect)]
#[collect(no_drop)]
struct ProbeRoot<'gc> {
    slots: Vec<Gc<'gc, Node<'gc>>>,
}

#[derive(Collect)]
#[collect(no_drop)]
struct ListNode<'gc> {
    next: Option<Gc<'gc, ListNode<'gc>>>,
    shared: Static<&'static SharedNode>,
    val: usize,
}

#[derive(Collect)]
#[collect(no_drop)]
struct RingRoot<'gc, const N: usize> {
    ring: Vec<Gc<'gc, [u64; N]>>,
}

fn ring_bench<const N: usize>(n: usize, pauses: &mut Vec<u64>) -> f64 {
    let mut arena = Arena::<Rootable![RingRoot<'_, N>]>::new(|mc| RingRoot {
        ring: (0..1024).map(|_| Gc::new(mc, [0u64; N])).collect(),
    });
    let t0 = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + 1024).min(n);
        arena.mutate_root(|mc, root| {
            for k in i..end {
                let mut a = [0u64; N];
                a[0] = k as u64;
                root.ring[k & 1023] = black_box(Gc::new(mc, a));
            }
        });
        collect(&mut arena, pauses);
        i = end;
    }
    t0.elapsed().as_nanos() as f64 / n as f64
}

struct W;
impl Workloads for W {
    fn binarytrees(n: usize) {
        let start = Instant::now();
        let (min, max, stretch) = bt_depths(n);
        let mut pauses = Vec::new();
        let mut arena = Arena::<Rootable![BtRoot<'_>]>::new(|_| BtRoot { long_lived: None });
        let c = arena.mutate(|mc, _| check(&bottom_up(mc, stretch)));
        println!("stretch tree of depth {stretch}\t check: {c}");
        collect(&mut arena, &mut pauses);
        arena.mutate_root(|mc, root| root.long_lived = Some(bottom_up(mc, max)));
        collect(&mut arena, &mut pauses);
        for d in (min..=max).step_by(2) {
            let iters = 1usize << (max - d + min);
            let mut c = 0;
            for _ in 0..iters {
                c += arena.mutate(|mc, _| check(&bottom_up(mc, d)));
                collect(&mut arena, &mut pauses);
            }
            println!("{iters}\t trees of depth {d}\t check: {c}");
        }
        let c = arena.mutate(|_, root| check(&root.long_lived.unwrap()));
        println!("long lived tree of depth {max}\t check: {c}");
        result(SYS, "binarytrees", start, Some(&mut pauses), "");
    }

    fn gcbench(max: usize) {
        let start = Instant::now();
        let stretch = max + 2;
        let mut pauses = Vec::new();
        gcbench_header(stretch, max, GCB_ARRAY_SIZE);
        let mut arena = Arena::<Rootable![GcbRoot<'_>]>::new(|_| GcbRoot { long_lived: None, array: None });
        arena.mutate(|mc, _| {
            black_box(make_tree(mc, stretch));
        });
        collect(&mut arena, &mut pauses);
        arena.mutate_root(|mc, root| {
            let ll = gnode(mc, None, None);
            populate(mc, max, ll);
            root.long_lived = Some(ll);
            let mut v = vec![0f64; GCB_ARRAY_SIZE];
            for (i, a) in v.iter_mut().enumerate().take(GCB_ARRAY_SIZE / 2) {
                *a = 1.0 / i as f64;
            }
            root.array = Some(Gc::new(mc, v));
        });
        collect(&mut arena, &mut pauses);
        for d in (GCB_MIN_DEPTH..=max).step_by(2) {
            let iters = 2 * tree_size(stretch) / tree_size(d);
            println!("Creating {iters} trees of depth {d}");
            let t0 = Instant::now();
            for _ in 0..iters {
                arena.mutate(|mc, _| {
                    let t = gnode(mc, None, None);
                    populate(mc, d, t);
                    black_box(t);
                });
                collect(&mut arena, &mut pauses);
            }
            println!("\tTop down construction took {:.1} msec", t0.elapsed().as_secs_f64() * 1e3);
            let t0 = Instant::now();
            for _ in 0..iters {
                arena.mutate(|mc, _| {
                    black_box(make_tree(mc, d));
                });
                collect(&mut arena, &mut pauses);
            }
            println!("\tBottom up construction took {:.1} msec", t0.elapsed().as_secs_f64() * 1e3);
        }
        let ok = arena.mutate(|_, root| {
            let ll = root.long_lived.unwrap();
            let b = ll.borrow();
            b.l.is_some() && b.i + b.j == 0 && root.array.unwrap()[1000] == 1.0 / 1000.0
        });
        assert!(ok, "Failed");
        println!("Completed in {:.1} msec", start.elapsed().as_secs_f64() * 1e3);
        result(SYS, "gcbench", start, Some(&mut pauses), "");
    }

    fn pauseprobe(live_depth: usize, iters: usize) {
        let start = Instant::now();
        let nslots = 1usize << (live_depth - CHURN_DEPTH);
        let mut pauses = Vec::with_capacity(iters + 1);
        let mut arena = Arena::<Rootable![ProbeRoot<'_>]>::new(|mc| ProbeRoot {
            slots: (0..nslots).map(|_| bottom_up(mc, CHURN_DEPTH)).collect(),
        });
        collect(&mut arena, &mut pauses);
        let mut gaps = vec![0u64; iters];
        let mut c = 0;
        let mut prev = Instant::now();
        for (i, g) in gaps.iter_mut().enumerate() {
            arena.mutate_root(|mc, root| {
                let t = bottom_up(mc, CHURN_DEPTH);
                c += check(&t);
                if i % 4 == 0 {
                    root.slots[(i / 4) % nslots] = t;
                }
            });
            collect(&mut arena, &mut pauses);
            let now = Instant::now();
            *g = (now - prev).as_nanos() as u64;
            prev = now;
        }
        let live: usize = arena.mutate(|_, root| root.slots.iter().map(|s| check(s)).sum());
        println!("live nodes {live}, iterations {iters}, check {c}");
        result(SYS, "pauseprobe", start, Some(&mut pauses), &gap_fields(&mut gaps));
    }

    fn churn4(iters: usize) {
        let start = Instant::now();
        let shared: &'static SharedNode = Box::leak(SharedNode::build(SHARED_DEPTH));
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut pauses = Vec::with_capacity(iters);
                    let mut arena = Arena::<Rootable![()]>::new(|_| ());
                    let mut sum = 0;
                    for i in 0..iters {
                        sum += arena.mutate(|mc, _| {
                            let mut head: Option<Gc<ListNode>> = None;
                            for j in 0..LIST_LEN {
                                head = Some(Gc::new(
                                    mc,
                                    ListNode { next: head, shared: Static(shared.pick(i + j)), val: j },
                                ));
                            }
                            let mut s = 0;
                            let mut n = head;
                            while let Some(x) = n {
                                s += x.val + x.shared.0.left.is_some() as usize;
                                n = x.next;
                            }
                            s
                        });
                        collect(&mut arena, &mut pauses);
                    }
                    (sum, pauses)
                })
            })
            .collect();
        let mut total = 0;
        let mut pauses = Vec::new();
        for h in hs {
            let (s, p) = h.join().unwrap();
            total += s;
            pauses.extend(p);
        }
        println!("threads {THREADS}, iterations {iters}, shared nodes {}, check {total}", shared.check());
        result(SYS, "churn4", start, Some(&mut pauses), " heaps=per-thread shared=plain-owned-tree");
    }

    fn allocmicro(n: usize) {
        let start = Instant::now();
        let mut pauses = Vec::new();
        let a = ring_bench::<2>(n, &mut pauses);
        let b = ring_bench::<8>(n, &mut pauses);
        let c = ring_bench::<32>(n, &mut pauses);
        println!("n {n}");
        println!("16B {a:.2} ns/alloc, 64B {b:.2} ns/alloc, 256B {c:.2} ns/alloc");
        let extra = format!(" ns_per_alloc_16={a:.3} ns_per_alloc_64={b:.3} ns_per_alloc_256={c:.3} batch=1024");
        result(SYS, "allocmicro", start, Some(&mut pauses), &extra);
    }
}

fn main() {
    main_for::<W>();
}
