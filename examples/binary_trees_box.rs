//! binary-trees with `Box` and no collector: the malloc baseline that
//! `binary_trees` is compared against (same output).

use std::time::Instant;

struct Node {
    left: Option<Box<Node>>,
    right: Option<Box<Node>>,
}

fn bottom_up(depth: u32) -> Box<Node> {
    if depth == 0 {
        return Box::new(Node { left: None, right: None });
    }
    Box::new(Node { left: Some(bottom_up(depth - 1)), right: Some(bottom_up(depth - 1)) })
}

fn check(node: &Node) -> u32 {
    1 + node.left.as_deref().map_or(0, check) + node.right.as_deref().map_or(0, check)
}

fn main() {
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
    println!("RESULT system=box workload=binary-trees wall_ms={:.1}", start.elapsed().as_secs_f64() * 1e3);
}
