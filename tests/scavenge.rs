//! Returning memory to the OS. Alone in its binary: RSS is process-wide, so
//! no other test may allocate while it measures.

use tricolor_gc::{collect, mem_stats, Gc};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Memory freed by the collector goes back to the OS (Go's scavenger and
/// `debug.FreeOSMemory`): RSS falls after a spike of garbage.
#[test]
fn free_memory_returns_to_the_os() {
    let spike: Vec<Gc<[u8]>> = (0..64).map(|_| Gc::from_vec(vec![1u8; 4 << 20])).collect();
    let high = rss_bytes();
    drop(spike);
    // The background sweeper's scavenger may release some of it first;
    // `free_os_memory` releases whatever is left.
    tricolor_gc::free_os_memory();
    collect();
    tricolor_gc::free_os_memory();
    let low = rss_bytes();
    let s = mem_stats();
    assert!(s.heap_released >= 200 << 20, "released only {} bytes", s.heap_released);
    assert_eq!(s.heap_idle, s.heap_released, "every free page was returned");
    assert!(low + (200 << 20) < high, "RSS {high} -> {low}");
}
