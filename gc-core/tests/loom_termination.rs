//! Loom model of mark termination: the real `mark/termination.rs`
//! (`drain_until_done` with its `nwait`/`nproc` counters), compiled against
//! loom's atomics (`gc_core::sync::model`), driving a toy mark graph.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_termination`
//! (`LOOM_MAX_PREEMPTIONS=n` widens the search; default bound 3).
//!
//! The toy: a grey item of depth `d > 0` yields two items of depth `d − 1`
//! when scanned, so a root of depth 2 means 7 scans. Each marker keeps a
//! local stack and publishes half of it to a global list of buffers when
//! the global list is empty (Go's `balance`), exactly the shape of the real
//! `Marker` over `WorkLists`. The properties, in every interleaving: at the
//! instant a marker declares the round done, no marker holds work and the
//! global list is empty (Go's termination invariant: this is what lets the
//! cycle go on to mark termination); and when every marker has returned,
//! every item was scanned exactly once.
//!
//! Checked to fail: taking global work before leaving `nwait` (moving the
//! `fetch_sub` after the drain) lets a marker declare done while its peer
//! holds work, and this model reports it.
#![cfg(loom)]

use gc_core::sync::model::{drain_until_done, MarkWork, Termination};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

struct Toy {
    local: Vec<u8>,
    global: Arc<Mutex<Vec<Vec<u8>>>>,
    scanned: Arc<AtomicUsize>,
    /// Markers whose local stack is non-empty (updated as it changes).
    holding: Arc<AtomicUsize>,
}

impl Toy {
    fn new(
        local: Vec<u8>,
        global: &Arc<Mutex<Vec<Vec<u8>>>>,
        scanned: &Arc<AtomicUsize>,
        holding: &Arc<AtomicUsize>,
    ) -> Toy {
        if !local.is_empty() {
            holding.fetch_add(1, Ordering::SeqCst);
        }
        Toy { local, global: global.clone(), scanned: scanned.clone(), holding: holding.clone() }
    }

    fn set_local(&mut self, v: Vec<u8>) {
        match (self.local.is_empty(), v.is_empty()) {
            (true, false) => {
                self.holding.fetch_add(1, Ordering::SeqCst);
            }
            (false, true) => {
                self.holding.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
        self.local = v;
    }
}

impl MarkWork for Toy {
    fn drain(&mut self) {
        loop {
            let mut l = core::mem::take(&mut self.local);
            self.local = l.clone();
            let item = match l.pop() {
                Some(i) => i,
                None => {
                    let taken = self.global.lock().unwrap().pop();
                    match taken {
                        Some(buf) => {
                            self.set_local(buf);
                            continue;
                        }
                        None => return,
                    }
                }
            };
            self.scanned.fetch_add(1, Ordering::Relaxed);
            if item > 0 {
                l.push(item - 1);
                l.push(item - 1);
            }
            self.set_local(l);
            // Peers look starved: stop with local work left, to publish.
            if self.local.len() > 1 && self.global.lock().unwrap().is_empty() {
                return;
            }
        }
    }

    fn has_local(&self) -> bool {
        !self.local.is_empty()
    }

    fn publish(&mut self) {
        let mut l = self.local.clone();
        let half = l.split_off(l.len() / 2);
        self.global.lock().unwrap().push(half);
        self.set_local(l);
    }

    fn global_empty(&self) -> bool {
        self.global.lock().unwrap().is_empty()
    }

    fn idle(&self, _spins: u32) {
        thread::yield_now();
    }

    fn on_done(&self) {
        assert_eq!(self.holding.load(Ordering::SeqCst), 0, "round declared done while a marker holds work");
        assert!(self.global.lock().unwrap().is_empty(), "round declared done with published work");
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(f);
}

/// Two markers, one root of depth 2, published globally at the start (as
/// the root scan publishes before a round opens).
#[test]
fn two_markers_scan_everything_before_the_round_ends() {
    model(|| {
        let term = Arc::new(Termination::new());
        term.open(2);
        let global = Arc::new(Mutex::new(vec![vec![2u8]]));
        let scanned = Arc::new(AtomicUsize::new(0));
        let holding = Arc::new(AtomicUsize::new(0));
        let spawn = || {
            let mut toy = Toy::new(Vec::new(), &global, &scanned, &holding);
            let t = term.clone();
            thread::spawn(move || drain_until_done(&t, &mut toy))
        };
        let (a, b) = (spawn(), spawn());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(scanned.load(Ordering::Relaxed), 7, "an item was lost or scanned twice");
        assert!(global.lock().unwrap().is_empty(), "the round ended with published work");
    });
}

/// One marker starts with local work (the coordinator after its root scan),
/// the other with nothing: the idle one must wait, not end the round.
#[test]
fn an_idle_marker_does_not_end_a_round_its_peer_is_still_working() {
    model(|| {
        let term = Arc::new(Termination::new());
        term.open(2);
        let global = Arc::new(Mutex::new(Vec::new()));
        let scanned = Arc::new(AtomicUsize::new(0));
        let holding = Arc::new(AtomicUsize::new(0));
        let mut idle_toy = Toy::new(Vec::new(), &global, &scanned, &holding);
        let t = term.clone();
        let idle = thread::spawn(move || drain_until_done(&t, &mut idle_toy));
        let mut busy = Toy::new(vec![2], &global, &scanned, &holding);
        drain_until_done(&term, &mut busy);
        idle.join().unwrap();
        assert_eq!(scanned.load(Ordering::Relaxed), 7, "an item was lost or scanned twice");
        assert!(global.lock().unwrap().is_empty() && busy.local.is_empty(), "work left after the round");
    });
}
