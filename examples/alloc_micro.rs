//! Allocation micro-benchmark on the tricolor-gc heap (the cross-system
//! benchmarks' `allocmicro` workload, `benches/README.md`).
//!
//! Usage: `alloc_micro [n]` (default 10000000). Allocates n pointer-free
//! objects each of 16, 64 and 256 bytes (`[u64; 2|8|32]`), storing each into a
//! 1024-entry ring of handles so it escapes and dies soon after. Prints
//! `n N, check C` and the ns per allocation of each size, then the RESULT line
//! with the collector's stop-the-world pauses and `ns_per_alloc_16/64/256`.

#[path = "common/mod.rs"]
mod common;
use common::result;

use std::time::Instant;
use tricolor_gc::Gc;

const RING: usize = 1024;

/// Times n allocations of `[u64; N]`; returns ns per allocation and the sum
/// of the first words of the objects left in the ring.
fn ring_bench<const N: usize>(n: usize) -> (f64, u64) {
    let mut ring: Vec<Option<Gc<[u64; N]>>> = (0..RING).map(|_| None).collect();
    let t0 = Instant::now();
    for i in 0..n {
        let mut p = [0u64; N];
        p[0] = i as u64;
        ring[i & (RING - 1)] = Some(Gc::new(p));
    }
    let ns = t0.elapsed().as_nanos() as f64 / n as f64;
    (ns, ring.iter().flatten().map(|p| p[0]).sum())
}

fn main() {
    let n: usize = std::env::args().nth(1).map_or(10_000_000, |s| s.parse().expect("n"));
    let start = Instant::now();
    let (ns16, c16) = ring_bench::<2>(n);
    let (ns64, c64) = ring_bench::<8>(n);
    let (ns256, c256) = ring_bench::<32>(n);
    let sum = c16 + c64 + c256;
    println!("n {n}, check {sum}");
    println!("16B {ns16:.2} ns/alloc, 64B {ns64:.2} ns/alloc, 256B {ns256:.2} ns/alloc");
    let extra = format!(" ns_per_alloc_16={ns16:.3} ns_per_alloc_64={ns64:.3} ns_per_alloc_256={ns256:.3}");
    result("allocmicro", start, &extra);
}
