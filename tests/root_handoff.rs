//! Row 26 of docs/pointer-model.md, the root hand-over case of
//! docs/design.md ("Concurrent marking"), made to happen:
//! root tables are scanned one after another while their owners run, so a
//! handle whose slot sits in a table not yet scanned can be moved to a
//! thread whose table already was, cloned there (a new root in a black
//! table) and dropped (its slot freed before the scan reaches it). If the
//! clone's registration did not shade the object, the object would be
//! reachable only from a black table and be freed; the checkmark verifier
//! (`GODEBUG=gccheckmark=1`) aborts at the end of such a mark, and the drop
//! glue's record catches the use after free.
//!
//! Two threads play ping-pong with batches of handles, each cloning what it
//! receives and dropping the originals, while a third forces cycles.
//!
//! Env: `TRICOLOR_HANDOFF_ROUNDS` (default 1000).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use tricolor_gc::{Gc, Trace};

const NODES: usize = 20_000;

fn alive() -> &'static [AtomicU8] {
    static S: OnceLock<Vec<AtomicU8>> = OnceLock::new();
    S.get_or_init(|| (0..NODES).map(|_| AtomicU8::new(0)).collect())
}

#[derive(Trace)]
#[trace(no_pointers)]
struct Token {
    id: usize,
}

impl Drop for Token {
    fn drop(&mut self) {
        alive()[self.id].store(2, Ordering::Release);
    }
}

fn pass_on(rx: mpsc::Receiver<Vec<Gc<Token>>>, tx: mpsc::Sender<Vec<Gc<Token>>>, rounds: usize) {
    for _ in 0..rounds {
        let Ok(batch) = rx.recv() else { return };
        // New roots in this thread's table, then the originals' slots (in
        // the sender's table) are freed.
        let clones: Vec<Gc<Token>> = batch.to_vec();
        drop(batch);
        for g in &clones {
            assert_eq!(alive()[g.id].load(Ordering::Acquire), 1, "token {} was freed while rooted", g.id);
        }
        if tx.send(clones).is_err() {
            return;
        }
    }
}

#[test]
fn handles_moved_across_threads_during_the_root_scan_stay_alive() {
    std::env::set_var("GODEBUG", "gccheckmark=1");
    let rounds: usize = std::env::var("TRICOLOR_HANDOFF_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let batch: Vec<Gc<Token>> = (0..NODES)
        .map(|id| {
            alive()[id].store(1, Ordering::Release);
            Gc::new(Token { id })
        })
        .collect();
    let (to_a, a_rx) = mpsc::channel();
    let (to_b, b_rx) = mpsc::channel();
    to_a.send(batch).unwrap();
    let a = {
        let to_b = to_b.clone();
        std::thread::spawn(move || pass_on(a_rx, to_b, rounds))
    };
    let b = std::thread::spawn(move || pass_on(b_rx, to_a, rounds));
    drop(to_b);
    let stop = AtomicBool::new(false);
    let cycles = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Acquire) {
                tricolor_gc::collect();
                cycles.fetch_add(1, Ordering::Relaxed);
            }
        });
        a.join().expect("thread A failed");
        b.join().expect("thread B failed");
        stop.store(true, Ordering::Release);
    });
    let n = cycles.load(Ordering::Relaxed);
    assert!(n >= 10, "only {n} cycles ran during the hand-offs");
    eprintln!("root_handoff: {rounds} hand-offs of {NODES} handles beside {n} cycles");
}
