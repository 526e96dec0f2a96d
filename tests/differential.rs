//! Model-based differential test: random operations applied to the GC heap
//! and to a plain reference graph; after every `collect()` the set of live
//! objects (counted by drop glue in each object's pointer-free part) equals
//! the reference's reachable set exactly, and every reachable object's
//! payload checksum is intact.
//!
//! Env: `TRICOLOR_DIFF_OPS` (default 100 000), `TRICOLOR_DIFF_SEED` (replay a
//! failure: the seed is printed on every run), `TRICOLOR_DIFF_THREADS`
//! (default 1 here; the pointer-model issue runs it with 4).

mod child;
mod common;
use common::Rng;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use tricolor_gc::{Gc, Member, Trace};

const FIELDS: usize = 3;

/// Object ids, unique across all models running in this process.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn dead_ids() -> &'static Mutex<HashSet<u64>> {
    static DEAD: OnceLock<Mutex<HashSet<u64>>> = OnceLock::new();
    DEAD.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Pointer-free part with a destructor: records the object's death.
#[derive(Trace)]
#[trace(no_pointers)]
struct Tag {
    id: u64,
    checksum: u64,
    payload: Vec<u8>,
}

impl Drop for Tag {
    fn drop(&mut self) {
        assert!(dead_ids().lock().insert(self.id), "object {} dropped twice", self.id);
    }
}

#[derive(Trace)]
struct Obj {
    tag: Tag,
    edges: [Member<Obj>; FIELDS],
}

fn checksum(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ 0xD1B5_4A32_D192_ED03
}

#[derive(Default)]
struct Model {
    edges: HashMap<u64, [Option<u64>; FIELDS]>,
    roots: Vec<(u64, Gc<Obj>)>,
    allocated: u64,
}

impl Model {
    fn reachable(&self) -> HashSet<u64> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u64> = self.roots.iter().map(|r| r.0).collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(self.edges[&id].iter().flatten().copied());
            }
        }
        seen
    }
}

fn run(seed: u64, ops: usize, collect_every: usize) -> usize {
    let mut rng = Rng(seed | 1);
    let mut m = Model::default();
    let mut collections = 0;
    for op in 0..ops {
        match rng.below(100) {
            // allocate, with edges to up to FIELDS random roots
            0..=34 => {
                let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut model_edges = [None; FIELDS];
                let edges: [Member<Obj>; FIELDS] = std::array::from_fn(|k| {
                    if !m.roots.is_empty() && rng.below(2) == 0 {
                        let (tid, g) = &m.roots[rng.below(m.roots.len())];
                        model_edges[k] = Some(*tid);
                        Member::new(g)
                    } else {
                        Member::null()
                    }
                });
                let payload = vec![id as u8; rng.below(64)];
                let g = Gc::new(Obj { tag: Tag { id, checksum: checksum(id), payload }, edges });
                m.edges.insert(id, model_edges);
                m.roots.push((id, g));
                m.allocated += 1;
            }
            // link a.k = b
            35..=54 if !m.roots.is_empty() => {
                let (a, ga) = &m.roots[rng.below(m.roots.len())];
                let (b, gb) = &m.roots[rng.below(m.roots.len())];
                let k = rng.below(FIELDS);
                ga.edges[k].set(gb);
                m.edges.get_mut(a).unwrap()[k] = Some(*b);
            }
            // unlink a.k
            55..=64 if !m.roots.is_empty() => {
                let (a, ga) = &m.roots[rng.below(m.roots.len())];
                let k = rng.below(FIELDS);
                ga.edges[k].clear();
                m.edges.get_mut(a).unwrap()[k] = None;
            }
            // load a field into a new root (load-then-root)
            65..=79 if !m.roots.is_empty() => {
                let (a, ga) = &m.roots[rng.below(m.roots.len())];
                let k = rng.below(FIELDS);
                let got = ga.edges[k].get();
                let want = m.edges[a][k];
                assert_eq!(got.as_ref().map(|g| g.tag.id), want, "op {op}: field read disagrees with model");
                if let (Some(g), Some(id)) = (got, want) {
                    m.roots.push((id, g));
                }
            }
            // clone a root
            80..=84 if !m.roots.is_empty() => {
                let (a, ga) = &m.roots[rng.below(m.roots.len())];
                let c = (*a, ga.clone());
                m.roots.push(c);
            }
            // drop a root
            85..=98 if !m.roots.is_empty() => {
                let i = rng.below(m.roots.len());
                m.roots.swap_remove(i);
            }
            _ => {}
        }
        if op % collect_every == collect_every - 1 || op == ops - 1 {
            tricolor_gc::collect();
            collections += 1;
            verify(&m, op);
            // Keep the model small: forget dead objects.
            let live = m.reachable();
            m.edges.retain(|id, _| live.contains(id));
        }
    }
    collections
}

fn verify(m: &Model, op: usize) {
    let reachable = m.reachable();
    let dead = dead_ids().lock();
    for id in &reachable {
        assert!(!dead.contains(id), "op {op}: reachable object {id} was freed");
    }
    for id in m.edges.keys() {
        if !reachable.contains(id) {
            assert!(dead.contains(id), "op {op}: unreachable object {id} survived collect()");
        }
    }
    // Walk the real heap from the roots and check payloads and edges.
    let mut seen = HashSet::new();
    let mut stack: Vec<Gc<Obj>> = m.roots.iter().map(|r| r.1.clone()).collect();
    while let Some(g) = stack.pop() {
        let id = g.tag.id;
        if !seen.insert(id) {
            continue;
        }
        assert_eq!(g.tag.checksum, checksum(id), "op {op}: object {id} corrupted");
        assert!(g.tag.payload.iter().all(|&b| b == id as u8), "op {op}: payload of {id} corrupted");
        for (k, e) in g.edges.iter().enumerate() {
            let got = e.get();
            assert_eq!(got.as_ref().map(|x| x.tag.id), m.edges[&id][k], "op {op}: edge {id}.{k}");
            stack.extend(got);
        }
    }
    assert_eq!(seen, reachable, "op {op}: heap walk disagrees with model");
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

fn differential(default_threads: u64, default_ops: u64) {
    // Verify every cycle's marking with the checkmark pass unless the caller
    // chose GODEBUG itself. Set before any GC use in this process (both tests
    // set the same value, so their order does not matter).
    if std::env::var_os("GODEBUG").is_none() {
        std::env::set_var("GODEBUG", "gccheckmark=1");
    }
    let ops = env_u64("TRICOLOR_DIFF_OPS").unwrap_or(default_ops) as usize;
    let threads = env_u64("TRICOLOR_DIFF_THREADS").unwrap_or(default_threads) as usize;
    let seed = env_u64("TRICOLOR_DIFF_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    let how = common::test_procs().map_or("threads".to_string(), |n| format!("Gs on {n} Ps"));
    eprintln!("differential: seed {seed} (replay with TRICOLOR_DIFF_SEED={seed}), {ops} ops x {threads} {how}");
    let jobs: Vec<Box<dyn FnOnce() -> usize + Send>> = (0..threads as u64)
        .map(|t| Box::new(move || run(seed.wrapping_add(t * 7919), ops, 2000)) as Box<dyn FnOnce() -> usize + Send>)
        .collect();
    let total: usize = common::run_mutators(jobs).into_iter().sum();
    assert!(total > 0);
}

/// 10^5 operations on one thread (the core issue's bar).
#[test]
fn differential_against_reference_graph() {
    differential(1, 100_000);
}

/// Four threads, each with its own model, sharing one heap: collections
/// started by one thread stop the others mid-operation.
#[test]
fn differential_four_threads() {
    differential(4, 50_000);
}

/// The four-mutator differential with its mutators as Gs on 1, 2 and 4 Ps,
/// under checkmark and clobberfree, each in a child process.
#[test]
fn differential_as_gs_on_1_2_4_ps() {
    // Its own size knob: the debug CI step raises TRICOLOR_DIFF_OPS for the thread run.
    let ops = std::env::var("TRICOLOR_DIFF_GS_OPS")
        .unwrap_or_else(|_| if cfg!(debug_assertions) { "3000" } else { "15000" }.into());
    for procs in ["1", "2", "4"] {
        let err = child::run(
            "differential_four_threads",
            &[("TRICOLOR_TEST_PROCS", procs), ("GODEBUG", "gccheckmark=1,clobberfree=1"), ("TRICOLOR_DIFF_OPS", &ops)],
            std::time::Duration::from_secs(240),
        );
        assert!(err.contains(&format!("Gs on {procs} Ps")), "the child did not run its mutators as Gs:\n{err}");
    }
}
