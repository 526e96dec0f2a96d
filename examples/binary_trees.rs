//! The Benchmarks Game's binary-trees on the tricolor-gc heap.
//!
//! Usage: `cargo run --release --example binary_trees -- [depth]` (default 21).
//! Output lines are exactly the Benchmarks Game's; a final RESULT line
//! reports collector figures (cycles, max and p99 pause, total pause).

#[path = "common/mod.rs"]
mod common;
use common::result;

use std::time::Instant;
use tricolor_gc::{Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    left: Member<Node>,
    right: Member<Node>,
}

fn bottom_up(depth: u32) -> Gc<Node> {
    if depth == 0 {
        return Gc::new(Node { left: Member::null(), right: Member::null() });
    }
    let left = bottom_up(depth - 1);
    let right = bottom_up(depth - 1);
    // `Member::from` hands the handles' roots to the new object, which adopts
    // them: no extra root registration per child.
    Gc::new(Node { left: Member::from(left), right: Member::from(right) })
}

fn check(node: &Node) -> u32 {
    1 + node.left.get().map_or(0, |l| check(&l)) + node.right.get().map_or(0, |r| check(&r))
}

fn main() {
    common::run(body);
}

fn body() {
    let n: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(21);
    let start = Instant::now();
    let min_depth = 4;
    let max_depth = n.max(min_depth + 2);
    let stretch = max_depth + 1;
    println!("stretch tree of depth {stretch}\t check: {}", check(&bottom_up(stretch)));

    let long_lived = bottom_up(max_depth);
    let mut d = min_depth;
    while d <= max_depth {
        let iterations = 1u32 << (max_depth - d + min_depth);
        let mut sum = 0;
        for _ in 0..iterations {
            sum += check(&bottom_up(d));
        }
        println!("{iterations}\t trees of depth {d}\t check: {sum}");
        d += 2;
    }
    println!("long lived tree of depth {max_depth}\t check: {}", check(&long_lived));

    let s = tricolor_gc::mem_stats();
    let extra = format!(
        " pause_total_ms={:.1} heap_sys_mib={} mallocs={} fence={}",
        s.pause_total.as_secs_f64() * 1e3,
        s.heap_sys >> 20,
        s.mallocs,
        if s.asymmetric_fence { "membarrier" } else { "seqcst" },
    );
    result("binarytrees", start, &extra);
}
