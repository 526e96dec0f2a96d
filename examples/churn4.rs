//! Four-thread churn on one shared tricolor-gc heap (the cross-system
//! benchmarks' `churn4` workload, `benches/README.md`).
//!
//! Usage: `churn4 [iters]` (default 200000). Builds a shared long-lived tree
//! of depth 16; 4 std threads each build and drop `iters` linked lists of 32
//! GC nodes, each node pointing to a node 8 levels down the shared tree, and
//! sum them. Prints `threads 4, iterations I, shared nodes 131071, check C`,
//! then the RESULT line with the collector's stop-the-world pauses.

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

#[derive(Trace)]
struct ListNode {
    next: Member<ListNode>,
    shared: Member<Node>,
    val: i64,
}

const THREADS: usize = 4;
const LIST_LEN: usize = 32;
const SHARED_DEPTH: usize = 16;

fn bottom_up(depth: usize) -> Gc<Node> {
    if depth == 0 {
        return Gc::new(Node { left: Member::null(), right: Member::null() });
    }
    Gc::new(Node { left: Member::from(bottom_up(depth - 1)), right: Member::from(bottom_up(depth - 1)) })
}

fn check(node: &Node) -> usize {
    1 + node.left.get().map_or(0, |l| check(&l)) + node.right.get().map_or(0, |r| check(&r))
}

/// Walks 8 levels down the shared tree following the bits of k.
fn pick(root: &Gc<Node>, k: usize) -> Gc<Node> {
    let mut n = root.clone();
    for b in 0..8 {
        let child = if (k >> b) & 1 == 0 { &n.left } else { &n.right };
        n = child.get().expect("shared tree is perfect");
    }
    n
}

fn worker(shared: &Gc<Node>, iters: usize) -> i64 {
    let mut sum = 0;
    for i in 0..iters {
        let mut head: Option<Gc<ListNode>> = None;
        for j in 0..LIST_LEN {
            let next = head.take().map_or_else(Member::null, Member::from);
            let shared = Member::from(pick(shared, i + j));
            head = Some(Gc::new(ListNode { next, shared, val: j as i64 }));
        }
        while let Some(n) = head {
            sum += n.val;
            if !n.shared.get().expect("shared").left.is_null() {
                sum += 1;
            }
            head = n.next.get();
        }
    }
    sum
}

fn main() {
    let iters: usize = std::env::args().nth(1).map_or(200_000, |s| s.parse().expect("iters"));
    let start = Instant::now();
    let (shared, total) = common::run(move || {
        let shared = bottom_up(SHARED_DEPTH);
        let s2 = shared.clone();
        let total: i64 = common::fan_out(THREADS, move |_| worker(&s2, iters)).into_iter().sum();
        (shared, total)
    });
    println!("threads {THREADS}, iterations {iters}, shared nodes {}, check {total}", check(&shared));
    // How much of the longest stop was waiting for threads to reach a
    // safepoint (a mutator preempted by the kernel inside a section).
    let s = tricolor_gc::mem_stats();
    result("churn4", start, &format!(" ttsp_max_us={:.1}", s.time_to_safepoint_max.as_secs_f64() * 1e6));
}
