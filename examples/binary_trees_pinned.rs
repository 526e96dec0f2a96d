//! The Benchmarks Game's binary-trees on the tricolor-gc heap, written with
//! pins: each tree is built and checked inside one `tricolor_gc::pin`, with
//! unrooted `Ref`s instead of rooted `Gc` handles (compare
//! `binary_trees.rs`, the same program with handles).
//!
//! Usage: `cargo run --release --example binary_trees_pinned -- [depth]`
//! (default 21). Output lines are exactly the Benchmarks Game's; a final
//! RESULT line reports collector figures.

#[path = "common/mod.rs"]
mod common;
use common::result;

use std::time::Instant;
use tricolor_gc::{pin, Guard, Member, Ref, Trace};

#[derive(Trace)]
struct Node {
    left: Member<Node>,
    right: Member<Node>,
}

fn bottom_up(g: &Guard, depth: u32) -> Ref<'_, Node> {
    let node = g.alloc(Node { left: Member::null(), right: Member::null() });
    if depth > 0 {
        node.left.set_ref(bottom_up(g, depth - 1));
        node.right.set_ref(bottom_up(g, depth - 1));
    }
    node
}

fn check(node: &Node, g: &Guard) -> u32 {
    1 + node.left.load(g).map_or(0, |l| check(&l, g)) + node.right.load(g).map_or(0, |r| check(&r, g))
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(21);
    let start = Instant::now();
    let min_depth = 4;
    let max_depth = n.max(min_depth + 2);
    let stretch = max_depth + 1;
    let c = pin(|g| check(&bottom_up(g, stretch), g));
    println!("stretch tree of depth {stretch}\t check: {c}");

    // The long-lived tree leaves its pin as a rooted handle.
    let long_lived = pin(|g| bottom_up(g, max_depth).root());
    let mut d = min_depth;
    while d <= max_depth {
        let iterations = 1u32 << (max_depth - d + min_depth);
        let mut sum = 0;
        for _ in 0..iterations {
            // One pin per tree: collections run between trees.
            sum += pin(|g| check(&bottom_up(g, d), g));
        }
        println!("{iterations}\t trees of depth {d}\t check: {sum}");
        d += 2;
    }
    println!("long lived tree of depth {max_depth}\t check: {}", pin(|g| check(&long_lived, g)));

    let s = tricolor_gc::mem_stats();
    let extra = format!(
        " pause_total_ms={:.1} pin_wait_ms={:.1} heap_sys_mib={} mallocs={} fence={}",
        s.pause_total.as_secs_f64() * 1e3,
        s.pin_wait_total.as_secs_f64() * 1e3,
        s.heap_sys >> 20,
        s.mallocs,
        if s.asymmetric_fence { "membarrier" } else { "seqcst" },
    );
    result("binarytrees", start, &extra);
}
