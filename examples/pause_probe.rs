//! Pause probe on the tricolor-gc heap (the cross-system benchmarks'
//! `pauseprobe` workload, `benches/README.md`).
//!
//! Usage: `pause_probe [live_depth] [iters]` (default 20 500000). Keeps a live
//! heap of 2^(live_depth−6) slots (a GC slice of `Member`s), each a depth-6
//! tree, and churns: every iteration builds a depth-6 tree (127 nodes), counts
//! it, and every 4th iteration stores it into the next slot, so the old subtree
//! becomes garbage. Every iteration is timestamped. Prints
//! `live nodes L, iterations I, check C`, then the RESULT line with the
//! collector's stop-the-world pauses and `max_gap_us` / `p99_gap_us`, the
//! largest gaps between consecutive iterations seen by the mutator.

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

const CHURN_DEPTH: usize = 6;

fn bottom_up(depth: usize) -> Gc<Node> {
    if depth == 0 {
        return Gc::new(Node { left: Member::null(), right: Member::null() });
    }
    Gc::new(Node { left: Member::from(bottom_up(depth - 1)), right: Member::from(bottom_up(depth - 1)) })
}

fn check(node: &Node) -> usize {
    1 + node.left.get().map_or(0, |l| check(&l)) + node.right.get().map_or(0, |r| check(&r))
}

fn arg(i: usize, default: usize) -> usize {
    std::env::args().nth(i).map_or(default, |s| s.parse().expect("bad argument"))
}

fn main() {
    common::run(body);
}

fn body() {
    let (live_depth, iters) = (arg(1, 20), arg(2, 500_000));
    let start = Instant::now();
    let nslots = 1usize << (live_depth - CHURN_DEPTH);
    let slots: Gc<[Member<Node>]> = (0..nslots).map(|_| Member::from(bottom_up(CHURN_DEPTH))).collect();
    let mut gaps = vec![0u64; iters];
    let mut sum = 0;
    let mut prev = Instant::now();
    for (i, gap) in gaps.iter_mut().enumerate() {
        let t = bottom_up(CHURN_DEPTH);
        sum += check(&t);
        if i % 4 == 0 {
            slots[(i / 4) % nslots].set(&t);
        }
        let now = Instant::now();
        *gap = (now - prev).as_nanos() as u64;
        prev = now;
    }
    let live: usize = slots.iter().map(|s| check(&s.get().expect("slot"))).sum();
    println!("live nodes {live}, iterations {iters}, check {sum}");
    gaps.sort_unstable();
    let p99 = gaps.get(((iters as f64 * 0.99).ceil() as usize).saturating_sub(1)).copied();
    let us = |v: Option<u64>| v.map_or("n/a".to_string(), |n| format!("{:.3}", n as f64 / 1e3));
    result("pauseprobe", start, &format!(" max_gap_us={} p99_gap_us={}", us(gaps.last().copied()), us(p99)));
}
