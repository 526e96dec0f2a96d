//! Span-batched scanning (`gc-core/src/mark/span_scan.rs`) on the shapes
//! that walk a span in each direction: a cons list (every cell points to
//! the one allocated just before it, so a pass marks behind itself), a list
//! linked in allocation order (ahead of itself), a list linked in shuffled
//! order (across spans at random), and lists interleaved with garbage so
//! that their spans are reused with holes. Every collection runs under
//! `GODEBUG=gccheckmark=1,clobberfree=1`: a reachable cell left unmarked
//! aborts the process, and a freed cell is overwritten, so a later walk
//! that checks every id catches a cell freed while reachable.
//!
//! A pass that marks behind itself steps back to that word; if it did not,
//! the owner's re-read after giving the span up would still find the cell
//! (the protocol's guard against concurrent shaders). With both removed,
//! this test aborts on the cons lists.
//!
//! Env: `TRICOLOR_SPAN_SCAN_CELLS` (cells per list, default 20 000).

mod common;
use common::Rng;
use tricolor_gc::{Gc, Member, Trace};

/// 16 bytes, one pointer, no drop glue: a headerless object, scanned a span
/// at a time.
#[derive(Trace)]
struct Cell {
    next: Member<Cell>,
    id: u64,
}

fn cells() -> u64 {
    std::env::var("TRICOLOR_SPAN_SCAN_CELLS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000)
}

/// Newest first: cell `i` points to cell `i - 1`, allocated just before it.
fn cons_list(n: u64, garbage_every: u64) -> Gc<Cell> {
    let mut head = Gc::new(Cell { next: Member::null(), id: 0 });
    for i in 1..n {
        if garbage_every != 0 && i % garbage_every == 0 {
            drop(Gc::new(Cell { next: Member::null(), id: u64::MAX }));
        }
        head = Gc::new(Cell { next: Member::from(head), id: i });
    }
    head
}

/// Cells allocated in address order and linked in the order `order`
/// gives; returns the first. Ids follow the link order, so a walk must see
/// 0, 1, 2, ...
fn linked_in_order(order: &[usize]) -> Gc<Cell> {
    let mut ids = vec![0u64; order.len()];
    for (k, &i) in order.iter().enumerate() {
        ids[i] = k as u64;
    }
    let all: Vec<Gc<Cell>> = ids.iter().map(|&id| Gc::new(Cell { next: Member::null(), id })).collect();
    for w in order.windows(2) {
        all[w[0]].next.set(&all[w[1]]);
    }
    all[order[0]].clone()
}

/// Walks `head` and checks the ids count down (`descending`) or up.
fn verify(head: &Gc<Cell>, n: u64, descending: bool) {
    let mut cur = Some(head.clone());
    let mut seen = 0u64;
    while let Some(c) = cur {
        let want = if descending { n - 1 - seen } else { seen };
        assert_eq!(c.id, want, "cell {seen} of the list has the wrong id: freed while reachable?");
        seen += 1;
        cur = c.next.get();
    }
    assert_eq!(seen, n, "the list lost cells");
}

#[test]
fn lists_walking_spans_every_way_survive_collections() {
    std::env::set_var("GODEBUG", "gccheckmark=1,clobberfree=1");
    let n = cells();
    let mut rng = Rng(0x5eed_5ca9);
    let cons = cons_list(n, 0);
    let cons_holes = cons_list(n, 3);
    let forward = linked_in_order(&(0..n as usize).collect::<Vec<_>>());
    let mut order: Vec<usize> = (0..n as usize).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let shuffled = linked_in_order(&order);
    for _ in 0..4 {
        tricolor_gc::collect();
        verify(&cons, n, true);
        verify(&cons_holes, n, true);
        verify(&forward, n, false);
        verify(&shuffled, n, false);
        // Garbage between rounds, so later cycles reuse the freed spans.
        drop(cons_list(n / 2, 0));
    }
    let before = tricolor_gc::mem_stats().heap_alloc;
    drop((cons, cons_holes, forward, shuffled));
    tricolor_gc::collect();
    tricolor_gc::collect();
    let after = tricolor_gc::mem_stats().heap_alloc;
    assert!(after < before / 4, "the lists were not freed once dropped: {before} -> {after} bytes");
}
