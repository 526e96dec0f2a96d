//! Fourth outside attack: the collector on the scheduler under extreme
//! knobs (GOMAXPROCS=1 with `collect()` from many Gs, GOGC=1, GOGC=off,
//! a 1 MiB GOMEMLIMIT) and the deadlock detector while cycles run. Safe
//! code only, under `GODEBUG=gccheckmark=1,clobberfree=1`.
//!
//! Invariants of this file: each body runs alone in a child process with
//! the knobs in its environment and a time limit (`tests/child/mod.rs`).

mod child;

use std::time::{Duration, Instant};
use tricolor_gc::runtime::{go, Runtime};
use tricolor_gc::{Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    v: u64,
    next: Member<Node>,
}

fn list(n: u64) -> Gc<Node> {
    let mut head = Gc::new(Node { v: 0, next: Member::null() });
    for v in 1..n {
        head = Gc::new(Node { v, next: Member::new(&head) });
    }
    head
}

fn verify(head: &Gc<Node>, n: u64) {
    let mut want = n - 1;
    let mut cur = Some(head.clone());
    while let Some(c) = cur {
        assert_eq!(c.v, want, "a live list node was freed or reused");
        cur = c.next.get();
        want = want.wrapping_sub(1);
    }
    assert_eq!(want, u64::MAX, "the list is shorter than built");
}

/// 32 Gs on the runtime's Ps, each building lists and calling `collect()`
/// every few lists, for about `dur`.
fn many_collectors(dur: Duration) {
    // SAFETY: (the migration contract) no G holds anything thread-bound.
    let rt = unsafe { Runtime::builder().allow_migration() }.build().unwrap();
    rt.block_on(move || {
        let keep = list(20_000);
        let hs: Vec<_> = (0..32u64)
            .map(|k| {
                go(move || {
                    let t0 = Instant::now();
                    let mut i = 0u64;
                    while t0.elapsed() < dur {
                        let l = list(500 + k);
                        i += 1;
                        if i % 4 == k % 4 {
                            tricolor_gc::collect();
                        }
                        verify(&l, 500 + k);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().expect("a collecting G failed");
        }
        verify(&keep, 20_000);
    });
}

fn knob_test(name: &str, knobs: &str) {
    if child::is_child(name) {
        many_collectors(Duration::from_millis(1500));
        return;
    }
    let mut env: Vec<(&str, &str)> = vec![("GODEBUG", "gccheckmark=1,clobberfree=1")];
    for kv in knobs.split(' ') {
        let (k, v) = kv.split_once('=').unwrap();
        env.push((k, v));
    }
    child::run(name, &env, Duration::from_secs(240));
}

/// THREAT: GOMAXPROCS=1, 32 Gs calling `collect()` (each hands off the
/// only P while it waits) and allocating. Expected: no hang, no freed node.
#[test]
fn gomaxprocs_1_collect_from_many_gs() {
    knob_test("gomaxprocs_1_collect_from_many_gs", "GOMAXPROCS=1");
}

/// THREAT: GOGC=1 makes nearly every allocation start a cycle, from Gs.
#[test]
fn gogc_1_on_2_ps() {
    knob_test("gogc_1_on_2_ps", "GOMAXPROCS=2 GOGC=1");
}

/// THREAT: GOGC=off, only `collect()` runs cycles.
#[test]
fn gogc_off_on_1_p() {
    knob_test("gogc_off_on_1_p", "GOMAXPROCS=1 GOGC=off");
}

/// THREAT: a 1 MiB memory limit: the heap is always over it, so cycles run
/// back to back and every allocation is in assist debt.
#[test]
fn gomemlimit_1mib_on_2_ps() {
    knob_test("gomemlimit_1mib_on_2_ps", "GOMAXPROCS=2 GOMEMLIMIT=1MiB");
}
