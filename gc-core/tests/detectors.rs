//! The detectors are tested: with one defence of the collector removed by a
//! test-only fault (`gc-core/src/fault.rs`, `TRICOLOR_FAULT`), a workload
//! that needs that defence loses a reachable object, and
//! `GODEBUG=gccheckmark=1` aborts the process naming it; the same workload
//! without the fault passes. `GODEBUG=clobberfree=1` is shown to fill a
//! freed slot with 0xdeadbeef, and checkmark's report to survive a garbage
//! header.
//!
//! CI (runs only with the feature; `required-features` in gc-core/Cargo.toml):
//!
//! ```text
//! cargo test --release -p tricolor-gc-core --features fault-injection --test detectors
//! ```
//!
//! Every scenario runs in a child process (this binary re-executed with
//! `TRICOLOR_DETECTOR_SCENARIO`), since the environment is read once per
//! process and a detection is an abort. Timing is not left to chance: the
//! child pauses the background mark thread at a gate (`fault::Gate`: before
//! a given root table is scanned, after the root scan, before mark
//! termination) while it performs the one mutation that needs the defence,
//! and asserts the preconditions (e.g. "the object is not marked yet"), so
//! each run either detects the fault or fails with the reason. `GOGC=off`
//! keeps heap-triggered cycles from taking a gate meant for the forced one.
//!
//! Scenarios (the row numbers are docs/pointer-model.md's):
//! * `dijkstra` (row 27): before any root table is scanned, a new (black)
//!   object gets the only heap pointer to an old object whose root is then
//!   dropped: only the barrier's new-referent record keeps it.
//! * `move_to_root` (rows 27, 29): after the root scan, the only heap
//!   pointer to an object is moved into a new root and deleted from the
//!   heap: the registrar's shade (`gc::root`) and the barrier's
//!   old-referent record (Yuasa) each keep it, both buffered until the
//!   termination flush.
//! * `exit` (row 30): the same move by a thread that then exits during the
//!   mark: its exit flush keeps it.
//! * `ragged_idle`, `ragged_pinned` (row R26): the same move by a thread
//!   that then stays alive, blocked on a channel (the collector must flush
//!   its buffer for it) or allocating inside a long pin (it must flush its
//!   own at its next allocation): the ragged barrier publishes the shades
//!   without a stop of the world, and the cycle makes only its two stops.
//! * `handoff` (row 26): a handle whose slot is in a table not yet scanned
//!   is cloned into one already scanned and dropped: the clone's shade
//!   keeps it.
//! * `alloc_*` (rows 28, 36, 40): an object allocated after the root scan
//!   is rooted without a shade: allocate-black keeps it (small with a
//!   header, headerless, large).
//! * `roots`: objects held only by roots, so the root scan must see every
//!   root.
//! * `rewire`: a workload written for no fault (threads rewire a shared
//!   table, hand handles around, pin, exit, beside forced cycles at
//!   GOGC=10), run for at most 1.5 s per try, 3 tries.
//!
//! Measured (2 shared cores, release): every gated scenario detects its
//! fault in every run (it cannot do otherwise once its preconditions hold;
//! 0 misses in the runs made), each child in 10-50 ms. `rewire` detected
//! root-shade+barrier-yuasa, black-alloc, root-scan and termination-flush in
//! 20 of 20 runs each, within 13-110 ms; root-shade alone in 16 of 20 (not
//! required there); never barrier-dijkstra nor exit-flush (0 of 5), see
//! `rewiring_workload_detects_each_fault`.

use gc_core::fault::{self, Fault, Gate};
use gc_core::{Gc, Member};
use gc_derive::Trace;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const SCENARIO: &str = "TRICOLOR_DETECTOR_SCENARIO";
/// Checkmark's message (`gc-core/src/mark/checkmark.rs`).
const CHECKMARK: &str = "checkmark found a reachable object that was not marked";
const GATE_TIMEOUT: Duration = Duration::from_secs(30);

/// Headerless, no pointers (32 bytes).
#[derive(Trace)]
#[trace(crate = "gc_core", no_pointers)]
struct Leaf {
    v: [u64; 4],
}

impl Leaf {
    fn new(v: u64) -> Leaf {
        Leaf { v: [v; 4] }
    }
}

/// Headerless, one pointer.
#[derive(Trace)]
#[trace(crate = "gc_core")]
struct Holder {
    f: Member<Leaf>,
}

/// With a header (it has drop glue), no pointers.
#[derive(Trace)]
#[trace(crate = "gc_core", no_pointers)]
struct Named {
    name: String,
}

fn addr<T: ?Sized + gc_core::GcPointee>(g: &Gc<T>) -> usize {
    Gc::as_ptr(g) as *const u8 as usize
}

// ---------------------------------------------------------------- child side

/// The child's entry point; in the parent run it does nothing.
#[test]
fn child() {
    let Ok(name) = std::env::var(SCENARIO) else { return };
    // A failed assertion must end the child at once, with a status that is
    // not checkmark's abort: unwinding would hang on a paused mark thread.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        // SAFETY: `_exit` ends the process without running exit handlers
        // or this thread's TLS destructors (whose mutator teardown would
        // wait for the registry a paused root scan holds).
        unsafe { libc::_exit(101) };
    }));
    match name.as_str() {
        "dijkstra" => dijkstra(),
        "move_to_root" => move_to_root(),
        "exit" => exit_during_mark(),
        "ragged_idle" => ragged(false),
        "ragged_pinned" => ragged(true),
        "handoff" => handoff(),
        "alloc_small" => alloc_during_mark(|| {
            let n = Gc::new(Named { name: "allocated while marking".into() });
            let p = addr(&n);
            (p, Box::new(move || assert_eq!(n.name, "allocated while marking")))
        }),
        "alloc_headerless" => alloc_during_mark(|| {
            let n = Gc::new(Leaf::new(4));
            let p = addr(&n);
            (p, Box::new(move || assert_eq!(n.v, [4; 4])))
        }),
        "alloc_large" => alloc_during_mark(|| {
            let n = Gc::from_vec(vec![5u8; 100_000]);
            let p = addr(&n);
            (p, Box::new(move || assert!(n.iter().all(|&b| b == 5))))
        }),
        "roots" => roots(),
        "clobber_header" => garbage_header(fault::CLOBBER),
        "unmapped_header" => garbage_header(0x1000),
        "garbage_header" => garbage_header(&GARBAGE as *const Garbage as usize),
        "clobberfree" => clobberfree(),
        "rewire" => rewire(),
        other => panic!("unknown scenario {other}"),
    }
    eprintln!("scenario {name}: completed");
}

/// Starts a forced cycle on a helper thread and waits until its mark thread
/// is paused at `g`. A thread that first touches the GC while a root-scan
/// gate is paused would wait for the registry: threads register before.
fn start_cycle(g: Gate) -> JoinHandle<()> {
    // Register this thread now: registration needs the registry lock, which
    // the root scan holds while paused at a gate.
    fault::registry_index();
    fault::arm(g);
    let h = thread::spawn(gc_core::collect);
    assert!(fault::wait_paused(g, GATE_TIMEOUT), "the mark thread never reached {g:?}");
    h
}

/// Row 27, the insertion half: `x` is held only by a root that the scan has
/// not reached; it is stored into a new object (black, never scanned) and
/// its root dropped.
fn dijkstra() {
    let x = Gc::new(Leaf::new(1));
    let xp = addr(&x);
    let cycle = start_cycle(Gate::BeforeTable(0));
    assert!(!fault::is_marked(xp), "no table is scanned yet");
    let b = Gc::new(Holder { f: Member::null() });
    assert!(fault::is_marked(addr(&b)), "allocated black");
    b.f.set(&x);
    drop(x);
    assert!(!fault::is_marked(xp), "the barrier records; the flush shades");
    fault::release(Gate::BeforeTable(0));
    cycle.join().unwrap();
    assert_eq!(b.f.get().expect("kept").v, [1; 4]);
}

/// Rows 27 and 29: after the root scan, `x`'s only heap pointer (from `a`,
/// grey but not yet scanned) moves into a new root, in a table already
/// scanned, and is deleted.
fn move_to_root() {
    let a = Gc::new(Holder { f: Member::from_gc(Gc::new(Leaf::new(2))) });
    let xp = addr(&a.f.get().unwrap());
    let cycle = start_cycle(Gate::AfterRoots);
    assert!(fault::is_marked(addr(&a)) && !fault::is_marked(xp), "a is grey, x white");
    let x = a.f.get().unwrap();
    a.f.clear();
    assert!(!fault::is_marked(xp), "shades are buffered until a flush");
    fault::release(Gate::AfterRoots);
    cycle.join().unwrap();
    assert_eq!(x.v, [2; 4]);
}

/// Row 30: `move_to_root`'s move, done by a thread that then exits while the
/// mark goes on, so only its exit flush publishes the shades.
fn exit_during_mark() {
    let a = Gc::new(Holder { f: Member::from_gc(Gc::new(Leaf::new(3))) });
    let xp = addr(&a.f.get().unwrap());
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (x_tx, x_rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let a3 = a.clone();
    let t3 = thread::spawn(move || {
        fault::registry_index(); // register before the cycle
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let x = a3.f.get().unwrap();
        a3.f.clear();
        x_tx.send(x).unwrap();
        // Exits now: the hand-over waits for the root scan's registry lock.
    });
    ready_rx.recv().unwrap();
    fault::arm(Gate::BeforeTermination);
    let cycle = start_cycle(Gate::AfterRoots);
    assert!(!fault::is_marked(xp), "x is white");
    go_tx.send(()).unwrap();
    let x = x_rx.recv().unwrap();
    fault::release(Gate::AfterRoots);
    assert!(fault::wait_paused(Gate::BeforeTermination, GATE_TIMEOUT), "no mark termination");
    t3.join().unwrap();
    // Its exit flush shaded x, or (with the fault) nothing did.
    assert_eq!(fault::is_marked(xp), !fault::active(Fault::ExitFlush), "x is shaded by the exit flush only");
    fault::release(Gate::BeforeTermination);
    cycle.join().unwrap();
    assert_eq!(x.v, [3; 4]);
}

/// Row R26: the move of `move_to_root`, by a thread that then stays alive
/// during the rest of the mark: blocked on a channel (`pinned == false`: its
/// state is outside every section, so the collector's ragged barrier
/// flushes its buffer for it) or allocating inside a pin (`true`: the
/// collector never claims a pinned thread, which flushes its own buffer at
/// its next allocation). Either way, right after the first ragged barrier
/// `x` is marked, no stop happened for it, and the cycle ends with its two
/// stops and no mark-termination restart.
fn ragged(pinned: bool) {
    let a = Gc::new(Holder { f: Member::from_gc(Gc::new(Leaf::new(7))) });
    let b = Gc::new(Holder { f: Member::from_gc(Gc::new(Leaf::new(8))) });
    let xp = addr(&a.f.get().unwrap());
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (x_tx, x_rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (end_tx, end_rx) = mpsc::channel::<()>();
    let (a3, b3) = (a.clone(), b.clone());
    let t3 = thread::spawn(move || {
        fault::registry_index(); // register before the cycle
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let x = a3.f.get().unwrap();
        a3.f.clear();
        x_tx.send(x).unwrap();
        go_rx.recv().unwrap();
        if pinned {
            gc_core::pin(|_| {
                // GC operations inside the pin (Member reads: no
                // allocation, so no assist flushes the buffer) until the
                // main thread has seen the barrier's effect: each is a
                // chance to serve the request.
                while end_rx.try_recv().is_err() {
                    assert_eq!(b3.f.get().unwrap().v, [8; 4]);
                    thread::yield_now();
                }
            });
        } else {
            end_rx.recv().unwrap();
        }
    });
    ready_rx.recv().unwrap();
    let s0 = gc_core::mem_stats();
    let cycle = start_cycle(Gate::AfterRoots);
    assert!(fault::is_marked(addr(&a)) && !fault::is_marked(xp), "a is grey, x white");
    go_tx.send(()).unwrap();
    let x = x_rx.recv().unwrap();
    assert!(!fault::is_marked(xp), "shades are buffered until a flush");
    go_tx.send(()).unwrap();
    fault::arm(Gate::AfterRagged);
    fault::release(Gate::AfterRoots);
    assert!(fault::wait_paused(Gate::AfterRagged, GATE_TIMEOUT), "no ragged barrier");
    let flushed = fault::is_marked(xp);
    assert_eq!(flushed, !fault::active(Fault::TerminationFlush), "x is shaded by the ragged barrier's flush");
    fault::release(Gate::AfterRagged);
    end_tx.send(()).unwrap();
    cycle.join().unwrap();
    t3.join().unwrap();
    let s1 = gc_core::mem_stats();
    assert_eq!(s1.num_gc - s0.num_gc, 1);
    // x has no pointers: shading it makes it black at once, publishing no
    // work, so one barrier may be all the cycle needs.
    assert!(s1.ragged_flushes > s0.ragged_flushes, "no ragged barrier counted");
    assert_eq!(s1.mark_termination_restarts, s0.mark_termination_restarts, "the stop found nothing left");
    // `pauses` holds the collector's stops only (not mem_stats's).
    let stops = s1.pauses.len() - s0.pauses.len();
    assert_eq!(stops, 2, "sweep termination and mark termination only: {:?}", s1.pauses);
    assert_eq!(x.v, [7; 4]);
}

/// Row 26 (the root hand-over case, docs/design.md): `x`'s handle has its slot in thread T2's
/// table, which the scan has not reached; it is cloned into the main
/// thread's table, already scanned, and the original dropped.
fn handoff() {
    let me = fault::registry_index();
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let t2 = thread::spawn(move || {
        let x = Gc::new(Leaf::new(6));
        tx.send((x, fault::registry_index())).unwrap();
        done_rx.recv().unwrap();
    });
    let (x, k) = rx.recv().unwrap();
    assert!(me < k, "T2's table is scanned after the main thread's");
    let xp = addr(&x);
    let cycle = start_cycle(Gate::BeforeTable(k));
    assert!(!fault::is_marked(xp), "T2's table is not scanned yet");
    let y = x.clone();
    drop(x);
    fault::release(Gate::BeforeTable(k));
    cycle.join().unwrap();
    done_tx.send(()).unwrap();
    t2.join().unwrap();
    assert_eq!(y.v, [6; 4]);
}

/// Rows 28, 36 and 40: an object allocated after the root scan, held only
/// by its (unshaded) root.
fn alloc_during_mark(alloc: impl FnOnce() -> (usize, Box<dyn FnOnce()>)) {
    let cycle = start_cycle(Gate::AfterRoots);
    let (p, check) = alloc();
    let _ = p;
    fault::release(Gate::AfterRoots);
    cycle.join().unwrap();
    check();
}

/// Objects held only by roots of the main thread's table, allocated before
/// the cycle.
fn roots() {
    let keep: Vec<Gc<Leaf>> = (0..8).map(|i| Gc::new(Leaf::new(i))).collect();
    gc_core::collect();
    for (i, g) in keep.iter().enumerate() {
        assert_eq!(g.v, [i as u64; 4]);
    }
}

/// Readable, aligned as a `TypeInfo`, outside the heap, and not one.
#[repr(align(16))]
#[allow(dead_code)] // read only through its address
struct Garbage([u64; 32]);
static GARBAGE: Garbage = Garbage([0x5555_5555_5555_5555; 32]);

/// An unmarked object (`black-alloc`) whose header holds `word`: checkmark
/// must report it without following the word.
fn garbage_header(word: usize) {
    let cycle = start_cycle(Gate::AfterRoots);
    let n = Gc::new(Named { name: "its header is overwritten".into() });
    assert!(!fault::is_marked(addr(&n)), "run with TRICOLOR_FAULT=black-alloc");
    // SAFETY: the process aborts in checkmark, at this cycle's end, before
    // anything else reads the header (the object is white: never scanned).
    unsafe { fault::overwrite_header(addr(&n), word) };
    fault::release(Gate::AfterRoots);
    cycle.join().unwrap();
    std::mem::forget(n);
    panic!("checkmark did not report the unmarked object");
}

/// A freed slot's words after a collection: 0xdeadbeef with
/// `clobberfree=1`, the old contents without.
fn clobberfree() {
    let clobber = std::env::var("GODEBUG").is_ok_and(|v| v.contains("clobberfree=1"));
    let keep = Gc::new(Leaf::new(7)); // keeps the span in use
    let victim = Gc::new(Leaf::new(8));
    let p = addr(&victim);
    let words = || (0..4).map(|i| fault::read_word(p + 8 * i)).collect::<Vec<_>>();
    assert_eq!(words(), [8; 4]);
    drop(victim);
    gc_core::collect();
    let want = if clobber { fault::CLOBBER } else { 8 };
    assert_eq!(words(), [want; 4], "the freed slot at {p:#x}");
    assert_eq!(keep.v, [7; 4]);
}

/// A node of the `rewire` workload (headerless: one pointer, two words).
#[derive(Trace)]
#[trace(crate = "gc_core")]
struct RNode {
    next: Member<RNode>,
    id: u64,
    check: u64,
}

const RW_SLOTS: usize = 128;
const RW_THREADS: usize = 3;
/// How long the `rewire` child runs if nothing aborts it.
const RW_DURATION: Duration = Duration::from_millis(1500);

fn rnode(id: u64, next: Option<&Gc<RNode>>) -> Gc<RNode> {
    Gc::new(RNode { next: Member::from_opt(next), id, check: id.wrapping_mul(0x9E37_79B9_7F4A_7C15) })
}

fn verify(n: &RNode) {
    assert_eq!(n.check, n.id.wrapping_mul(0x9E37_79B9_7F4A_7C15), "node {}: overwritten", n.id);
}

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// A workload written for no fault in particular, as tests/concurrent_mark.rs
/// is: threads rewire a shared table of nodes (allocating, moving pointers
/// between slots through handles and through pins, holding nodes only in
/// handles for a while) while the main thread forces cycles, for
/// `RW_DURATION`.
fn rewire() {
    let table: Gc<[Member<RNode>]> = Gc::from_vec((0..RW_SLOTS).map(|_| Member::null()).collect());
    let deadline = Instant::now() + RW_DURATION;
    // A ring of channels: each worker hands handles to the next.
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..RW_THREADS).map(|_| mpsc::channel::<Gc<RNode>>()).unzip();
    thread::scope(|s| {
        for (t, rx) in rxs.into_iter().enumerate() {
            let (table, tx) = (&table, txs[(t + 1) % RW_THREADS].clone());
            s.spawn(move || rewire_worker(table, t as u64, deadline, tx, rx));
        }
        drop(txs);
        while Instant::now() < deadline {
            gc_core::collect();
        }
    });
}

fn rewire_worker(
    t: &Gc<[Member<RNode>]>,
    seed: u64,
    deadline: Instant,
    tx: mpsc::Sender<Gc<RNode>>,
    rx: mpsc::Receiver<Gc<RNode>>,
) {
    let mut rng = Rng(0x1234_5678_9abc_def1 ^ (seed << 32) | 1);
    let mut held: Vec<Gc<RNode>> = Vec::new();
    let mut id = seed << 48;
    while Instant::now() < deadline {
        let (a, b) = (rng.below(RW_SLOTS), rng.below(RW_SLOTS));
        match rng.below(14) {
            // Allocate a node pointing to what slot a holds, publish it in b,
            // sometimes keep only a handle.
            0..=2 => {
                id += 1;
                let n = rnode(id, t[a].get().as_ref());
                if rng.below(3) == 0 {
                    held.push(n);
                } else {
                    t[b].set(&n);
                }
            }
            // Move a pointer from slot a to slot b through a handle.
            3 | 4 => {
                let x = t[a].get();
                t[a].clear();
                t[b].set_opt(x.as_ref());
            }
            // The same through a pin (an unrooted `Ref`).
            5 => gc_core::pin(|g| {
                if let Some(r) = t[a].load(g) {
                    t[a].clear();
                    t[b].set_ref(r);
                }
            }),
            // Take a node out of the heap into a handle, or put one back.
            6 | 7 => {
                if rng.below(2) == 0 || held.is_empty() {
                    if let Some(x) = t[a].get() {
                        t[a].clear();
                        held.push(x);
                    }
                } else {
                    let x = held.swap_remove(rng.below(held.len()));
                    t[b].set(&x);
                }
            }
            // Hand a handle (its root slot stays in this thread's table) to
            // the next worker, which clones it into its own and drops it.
            8 => {
                if let Some(x) = held.pop() {
                    let _ = tx.send(x);
                }
            }
            9 => {
                while let Ok(x) = rx.try_recv() {
                    held.push(x.clone());
                }
            }
            // A short-lived thread moves a pointer and exits.
            10 => {
                if rng.below(8) == 0 {
                    thread::scope(|s| {
                        s.spawn(|| {
                            let x = t[a].get();
                            t[a].clear();
                            t[b].set_opt(x.as_ref());
                        });
                    });
                }
            }
            // Walk a chain, checking every node.
            _ => {
                let mut cur = t[a].get();
                for _ in 0..8 {
                    let Some(n) = cur else { break };
                    verify(&n);
                    cur = n.next.get();
                }
            }
        }
        if held.len() > 64 {
            held.drain(..32);
        }
    }
    held.iter().for_each(|n| verify(n));
}

// --------------------------------------------------------------- parent side

/// A child that runs longer than this has hung (each takes milliseconds).
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

fn run(scenario: &str, faults: &str, godebug: &str) -> Output {
    run_with(scenario, faults, godebug, "off")
}

fn run_with(scenario: &str, faults: &str, godebug: &str, gogc: &str) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .env("GODEBUG", godebug)
        .env("GOGC", gogc)
        .env_remove("GOMAXPROCS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if faults.is_empty() {
        cmd.env_remove(fault::ENV);
    } else {
        cmd.env(fault::ENV, faults);
    }
    let mut c = cmd.spawn().unwrap();
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut v = Vec::new();
            r.expect("piped").read_to_end(&mut v).unwrap();
            v
        })
    };
    let out = drain(c.stdout.take().map(|r| Box::new(r) as _));
    let err = drain(c.stderr.take().map(|r| Box::new(r) as _));
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            c.kill().unwrap();
            let s = c.wait().unwrap();
            let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!(
                "{scenario} with TRICOLOR_FAULT={faults:?} hung for {CHILD_TIMEOUT:?} (killed: {s:?}); stderr:\n{err}"
            );
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `scenario` with `faults` under checkmark and asserts that it aborts
/// (SIGABRT, not a crash) with checkmark's message and every one of `also`.
fn assert_detected(scenario: &str, faults: &str, also: &[&str]) {
    let t = Instant::now();
    let o = run(scenario, faults, "gccheckmark=1");
    let err = stderr(&o);
    eprintln!("{scenario} with {faults}: {:?} in {:?}", o.status, t.elapsed());
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGABRT),
        "{scenario} with TRICOLOR_FAULT={faults} was not aborted by checkmark ({:?}); stderr:\n{err}",
        o.status
    );
    for m in std::iter::once(&CHECKMARK).chain(also) {
        assert!(err.contains(m), "{scenario} with TRICOLOR_FAULT={faults}: missing {m:?} in:\n{err}");
    }
}

/// Runs `scenario` with `faults` (possibly none) under checkmark and asserts
/// that it completes.
fn assert_passes(scenario: &str, faults: &str) {
    let o = run(scenario, faults, "gccheckmark=1");
    let err = stderr(&o);
    assert!(
        o.status.success() && err.contains(&format!("scenario {scenario}: completed")),
        "{scenario} with TRICOLOR_FAULT={faults:?} failed ({:?}); stderr:\n{err}",
        o.status
    );
}

#[test]
fn barrier_dijkstra_is_detected() {
    assert_detected("dijkstra", "barrier-dijkstra", &["a headerless object of 32 bytes"]);
    assert_passes("dijkstra", "");
    // The other half of the barrier is not what keeps it.
    assert_passes("dijkstra", "barrier-yuasa");
}

/// The deletion half is redundant while every root registered during the
/// mark is shaded (`gc::root`): an object can only leave the heap for a
/// root, or for a `Ref` that dies with its pin, before its last heap pointer
/// is deleted. So `barrier-yuasa` is shown together with `root-shade`: the
/// deletion record alone keeps the object, and without it the object is
/// lost.
#[test]
fn barrier_yuasa_is_detected() {
    assert_detected("move_to_root", "root-shade,barrier-yuasa", &["a headerless object of 32 bytes"]);
    assert_passes("move_to_root", "root-shade");
    assert_passes("move_to_root", "barrier-yuasa");
    assert_passes("move_to_root", "");
}

#[test]
fn root_shade_is_detected() {
    assert_detected("handoff", "root-shade", &["a headerless object of 32 bytes"]);
    assert_passes("handoff", "");
}

#[test]
fn termination_flush_is_detected() {
    assert_detected("move_to_root", "termination-flush", &[]);
    assert_passes("move_to_root", "");
}

#[test]
fn ragged_barrier_flush_is_detected() {
    for s in ["ragged_idle", "ragged_pinned"] {
        assert_detected(s, "termination-flush", &[]);
        assert_passes(s, "");
    }
}

#[test]
fn exit_flush_is_detected() {
    assert_detected("exit", "exit-flush", &[]);
    assert_passes("exit", "");
}

#[test]
fn black_alloc_is_detected() {
    assert_detected("alloc_small", "black-alloc", &["detectors::Named"]);
    assert_detected("alloc_headerless", "black-alloc", &["a headerless object of 32 bytes"]);
    assert_detected("alloc_large", "black-alloc", &["a large span"]);
    for s in ["alloc_small", "alloc_headerless", "alloc_large"] {
        assert_passes(s, "");
    }
}

#[test]
fn root_scan_is_detected() {
    assert_detected("roots", "root-scan", &[]);
    assert_passes("roots", "");
}

/// Checkmark reports an unmarked object whose header is garbage (here
/// overwritten, as a use after free of a clobbered slot would find it) with
/// its raw header word and slot, and aborts instead of crashing on the word.
#[test]
fn checkmark_survives_garbage_headers() {
    assert_detected("clobber_header", "black-alloc", &["header 0xdeadbeefdeadbeef is not a type descriptor", "slot "]);
    assert_detected(
        "unmapped_header",
        "black-alloc",
        &["header 0x1000 is not a type descriptor: it points to unreadable"],
    );
    assert_detected("garbage_header", "black-alloc", &["is not a type descriptor: its flags are not booleans"]);
}

#[test]
fn clobberfree_fills_freed_slots() {
    for godebug in ["clobberfree=1", ""] {
        let o = run("clobberfree", "", godebug);
        assert!(o.status.success(), "clobberfree scenario with GODEBUG={godebug:?} failed:\n{}", stderr(&o));
    }
}

/// Under `rewire`, a workload that does not know where the fault is: each
/// fault must make checkmark abort a run within `RW_DURATION`, in one of
/// `RW_TRIES` runs; the workload without a fault (and with clobberfree, so
/// a use after free would show in the checksums) completes.
const RW_TRIES: usize = 3;

#[test]
fn rewiring_workload_detects_each_fault() {
    // Not `barrier-dijkstra` nor `exit-flush` (0 of 5 runs each): the lost
    // object is almost always shaded again by another thread's load of it
    // before the cycle ends. Not `root-shade` alone either: 16 of 20 runs,
    // too few for 3 tries to be reliable. The gated scenarios cover them.
    let faults = ["root-shade,barrier-yuasa", "black-alloc", "root-scan", "termination-flush"];
    for f in faults {
        let mut tries = Vec::new();
        let detected = (0..RW_TRIES).any(|_| {
            let t = Instant::now();
            let o = run_with("rewire", f, "gccheckmark=1", "10");
            let err = stderr(&o);
            tries.push(t.elapsed());
            if o.status.success() {
                return false;
            }
            assert!(
                o.status.signal() == Some(libc::SIGABRT) && err.contains(CHECKMARK),
                "rewire with TRICOLOR_FAULT={f}: not checkmark's abort ({:?}):\n{err}",
                o.status
            );
            true
        });
        eprintln!("rewire with {f}: runs took {tries:?}");
        assert!(detected, "rewire with TRICOLOR_FAULT={f}: {RW_TRIES} runs, none detected");
    }
    let o = run_with("rewire", "", "gccheckmark=1,clobberfree=1", "10");
    assert!(o.status.success(), "rewire without a fault failed ({:?}):\n{}", o.status, stderr(&o));
}
