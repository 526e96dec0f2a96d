//! Hans Boehm's GCBench on the tricolor-gc heap (the cross-system benchmarks'
//! `gcbench` workload, `benches/README.md`).
//!
//! Usage: `gcbench [depth]` (default 16). Builds a stretch tree of depth
//! depth+2, a long-lived tree of depth `depth` and a long-lived array of
//! 500000 doubles, then for D = 4, 6, …, depth builds `2·size(depth+2)/size(D)`
//! trees top down (`populate`, children stored through the write barrier) and
//! bottom up (`make_tree`). Prints each phase's msec and `Completed in … msec`
//! like the peers, then the harness's `RESULT system=tricolor workload=gcbench …`
//! line with the collector's stop-the-world pauses.

#[path = "common/mod.rs"]
mod common;
use common::result;

use std::time::Instant;
use tricolor_gc::{Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    left: Member<Node>,
    right: Member<Node>,
    _i: i32,
    _j: i32,
}

const MIN_DEPTH: usize = 4;
const ARRAY_SIZE: usize = 500_000;

fn new_node(left: Member<Node>, right: Member<Node>) -> Gc<Node> {
    Gc::new(Node { left, right, _i: 0, _j: 0 })
}

fn tree_size(d: usize) -> usize {
    (1 << (d + 1)) - 1
}

/// Top down: allocate both children, link them in, recurse.
fn populate(depth: usize, n: &Node) {
    if depth == 0 {
        return;
    }
    let (l, r) = (new_node(Member::null(), Member::null()), new_node(Member::null(), Member::null()));
    n.left.set(&l);
    n.right.set(&r);
    populate(depth - 1, &l);
    populate(depth - 1, &r);
}

/// Bottom up: children first, handed to the parent without extra roots.
fn make_tree(depth: usize) -> Gc<Node> {
    if depth == 0 {
        return new_node(Member::null(), Member::null());
    }
    new_node(Member::from(make_tree(depth - 1)), Member::from(make_tree(depth - 1)))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let max_depth: usize = std::env::args().nth(1).map_or(16, |s| s.parse().expect("depth"));
    let start = Instant::now();
    let stretch = max_depth + 2;
    println!("Garbage Collector Test");
    println!(" Stretching memory with a binary tree of depth {stretch}");
    drop(make_tree(stretch));
    println!(" Creating a long-lived binary tree of depth {max_depth}");
    let long_lived = new_node(Member::null(), Member::null());
    populate(max_depth, &long_lived);
    println!(" Creating a long-lived array of {ARRAY_SIZE} doubles");
    let mut v = vec![0.0f64; ARRAY_SIZE];
    for (i, a) in v.iter_mut().enumerate().take(ARRAY_SIZE / 2) {
        *a = 1.0 / i as f64;
    }
    let array: Gc<[f64]> = Gc::from_vec(v);

    for d in (MIN_DEPTH..=max_depth).step_by(2) {
        let iters = 2 * tree_size(stretch) / tree_size(d);
        println!("Creating {iters} trees of depth {d}");
        let t0 = Instant::now();
        for _ in 0..iters {
            let t = new_node(Member::null(), Member::null());
            populate(d, &t);
        }
        println!("\tTop down construction took {:.1} msec", ms(t0));
        let t0 = Instant::now();
        for _ in 0..iters {
            drop(make_tree(d));
        }
        println!("\tBottom up construction took {:.1} msec", ms(t0));
    }
    if array[1000] != 1.0 / 1000.0 || (max_depth > 0 && long_lived.left.is_null()) {
        println!("Failed");
        std::process::exit(1);
    }
    println!("Completed in {:.1} msec", ms(start));
    result("gcbench", start, "");
}
