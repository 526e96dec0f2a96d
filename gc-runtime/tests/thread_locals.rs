//! Pointer-model row R13: a G that touches a thread-local before and after a
//! G switch must reach the slot of the M it runs on *now*. The compiler
//! assumes a function stays on one thread, so it may compute a
//! `thread_local!`'s address once and reuse it after the switch; gc-core's
//! and gc-runtime's own thread-locals are therefore read only through
//! `#[inline(never)]` accessors that begin with a compiler fence (a call
//! the optimizer can neither see through nor merge with an earlier one).
//!
//! Each test here drives one of those thread-locals from Gs that switch
//! between uses, on 2 Ps so the Gs migrate:
//!
//! * `GcVec`'s writer token (`vec.rs::thread_token`): with the address
//!   reused, a G on M2 carries M1's token, finds it recorded as the holder
//!   of the vector's writer lock by the G now writing on M1, and panics
//!   with the `retain` re-entry message;
//! * the mutator pointer (`registry.rs::CURRENT`): with it reused, a G on
//!   M2 runs gc-core operations on M1's mutator while M1's own G uses it:
//!   two threads in one mutator's pin state, root table and allocation
//!   cache. Pins expose it first (a G sees itself pinned when it is not, or
//!   leaves another G's pin), so the test pins, switches and allocates, in
//!   a child process under `GODEBUG=gccheckmark=1,clobberfree=1`.
//! * the safe user pattern of the `allow_migration` contract: a
//!   thread-local read only inside an `#[inline(never)]` accessor that
//!   starts with a compiler fence always reaches the current M's slot.

use gc_core::{Gc, GcVec};
use gc_runtime::{go, gosched, sleep, Runtime};
use std::cell::Cell;
use std::process::Command;
use std::sync::atomic::{compiler_fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CHILD: &str = "GC_RUNTIME_TLS_CHILD";

fn rt(procs: usize) -> Runtime {
    // SAFETY: these Gs access thread-locals only through gc-core's and this
    // file's `#[inline(never)]` fenced accessors, and hold nothing
    // thread-bound across a switch.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().expect("runtime")
}

fn rounds(default: usize) -> usize {
    std::env::var("GC_RUNTIME_TLS_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Four Gs on 2 Ps push to one `GcVec` and yield between pushes; every
/// push must succeed and the vector must hold all of them. With the writer
/// token's address reused across the yield, pushes panicked ("called from
/// inside the closure of GcVec::retain").
#[test]
fn gs_share_a_gcvec_across_switches() {
    let per_g = rounds(100_000);
    let r = rt(2);
    let (len, sum, errors, ms) = r.block_on(move || {
        let v: Arc<GcVec<u64>> = Arc::new(GcVec::new());
        let hs: Vec<_> = (0..8u64)
            .map(|k| {
                let v = v.clone();
                go(move || {
                    // A BTreeSet, not a HashSet: `RandomState::new` reads a thread-local.
                    let mut seen = std::collections::BTreeSet::new();
                    let x = Gc::new(k + 1);
                    for i in 0..per_g {
                        v.push(&x);
                        gosched();
                        if i % 64 == 0 {
                            // A timer wake-up readies the G on its M's P
                            // and wakes an idle M, which steals: both Ms
                            // stay busy.
                            sleep(Duration::from_micros(1));
                            seen.insert(thread_number());
                        }
                    }
                    seen.len()
                })
            })
            .collect();
        let mut errors = Vec::new();
        let mut ms = 0;
        for h in hs {
            match h.join() {
                Ok(n) => ms = ms.max(n),
                Err(p) => errors.push(panic_text(&*p)),
            }
        }
        let sum: u64 = v.iter().map(|x| *x).sum();
        (v.len(), sum, errors, ms)
    });
    assert!(errors.is_empty(), "pushes panicked: {errors:?}");
    assert!(ms >= 2, "no G ran on two Ms: the test did not exercise migration");
    assert_eq!(len, 8 * per_g);
    assert_eq!(sum, per_g as u64 * (1..=8).sum::<u64>());
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<non-string panic>".into())
}

/// An object with an id and its checksum, to see a slot handed out twice
/// or freed under a live handle (clobberfree overwrites freed memory).
type Node = [u64; 2];

fn node_ok(n: &Node) -> bool {
    n[1] == !n[0]
}

/// Gs on 2 Ps pin, allocate, build short lists and drop them, yielding
/// between every step (child process: `GODEBUG=gccheckmark=1,clobberfree=1`,
/// forced cycles). With the mutator pointer reused across the yield, two
/// threads share one mutator: a G finds itself inside another G's pin (its
/// `gosched` panics "called inside tricolor_gc::pin"), leaves it, or frees
/// a root slot into another thread's owner-only list; checkmark and the
/// checksums catch the rest.
#[test]
fn gc_operations_across_switches_use_the_current_mutator() {
    if std::env::var_os(CHILD).is_some() {
        gc_child(rounds(4_000));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["gc_operations_across_switches_use_the_current_mutator", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("GODEBUG", "gccheckmark=1,clobberfree=1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed ({}):\n{stderr}", out.status);
    assert!(stderr.contains("gc child: ok"), "child did not finish:\n{stderr}");
}

fn gc_child(per_g: usize) {
    let r = rt(2);
    let (errors, bad) = r.block_on(move || {
        let bad = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..6u64)
            .map(|k| {
                let bad = bad.clone();
                go(move || {
                    // A per-G list in a GcVec (barrier writes, writer token)
                    // and rooted handles (root slots of whichever mutator
                    // the G's M has).
                    let list: GcVec<Node> = GcVec::new();
                    let mut keep: Vec<Gc<Node>> = Vec::new();
                    for i in 0..per_g as u64 {
                        let id = k << 32 | i;
                        let a = gc_core::pin(|g| g.alloc([id, !id]).root());
                        gosched();
                        let b = Gc::new([id + 1, !(id + 1)]);
                        gosched();
                        list.push(&a);
                        keep.push(b.clone());
                        drop(b);
                        if keep.len() > 16 {
                            keep.remove(0);
                        }
                        if list.len() > 16 {
                            list.truncate(8);
                        }
                        gosched();
                        let ok = keep.iter().all(|x| node_ok(x)) && list.iter().all(|x| node_ok(&x));
                        let ok = ok && gc_core::pin(|g| list.iter_pinned(g).all(|x| node_ok(&x)));
                        if !ok {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                        if i % 512 == 0 && k == 0 {
                            gc_core::collect();
                        }
                    }
                })
            })
            .collect();
        let errors: Vec<String> = hs.into_iter().filter_map(|h| h.join().err()).map(|p| panic_text(&*p)).collect();
        (errors, bad.load(Ordering::Relaxed))
    });
    assert!(errors.is_empty(), "Gs panicked: {errors:?}");
    assert_eq!(bad, 0, "corrupted objects");
    gc_core::collect();
    eprintln!("gc child: ok");
}

thread_local! {
    /// The id of the M this slot belongs to, set on first use.
    static OWNER: Cell<usize> = const { Cell::new(0) };
}

/// A number unique to the calling OS thread among live ones: its
/// `pthread_self`, a libc call (no Rust thread-local; `thread::current()`
/// would read one), compared as data only.
fn thread_number() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

/// The safe pattern of the migration contract: the whole access happens
/// inside an `#[inline(never)]` function that starts with a compiler fence
/// and returns an owned value.
#[inline(never)]
fn owner_of_this_ms_slot() -> (usize, usize) {
    compiler_fence(Ordering::SeqCst);
    let me = thread_number();
    OWNER.with(|c| {
        if c.get() == 0 {
            c.set(me);
        }
        (c.get(), me)
    })
}

/// Gs that read a thread-local through the fenced accessor before and
/// after every switch always reach the current M's slot.
#[test]
fn fenced_accessor_reaches_the_current_ms_slot() {
    let n = rounds(20_000);
    let r = rt(2);
    let (wrong, moved) = r.block_on(move || {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                go(move || {
                    let mut wrong = 0;
                    let mut moved = 0;
                    let mut last = 0;
                    for _ in 0..n {
                        let (owner, me) = owner_of_this_ms_slot();
                        wrong += usize::from(owner != me);
                        moved += usize::from(last != 0 && last != me);
                        last = me;
                        gosched();
                    }
                    (wrong, moved)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    assert!(moved > 0, "no G migrated");
    assert_eq!(wrong, 0, "{wrong} accesses reached another M's slot");
}
