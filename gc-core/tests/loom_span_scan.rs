//! Loom model of span-batched scanning's ownership protocol
//! (`mark/span_scan.rs`): markers that grey objects of a span queue the
//! span only if they take its scan ownership; the owner scans every grey
//! object, releases ownership, re-reads the mark bits and takes the span
//! back if an object was greyed after its last pass.
//!
//! The span has three objects. Object 0 is grey and the span's entry is in
//! the work list (a marker greyed it and took ownership). A scanning marker
//! pops the entry and scans; two other markers grey objects 1 and 2 at the
//! same time, then drain the work list too. At mark termination (after every thread is joined and the
//! list drained) every marked object must be scanned, the span must be
//! unowned, and no two markers may ever have scanned the span at once.
//!
//! This is a model of the protocol, not the code: the real one works on
//! `Span` bitmaps, which loom cannot run. `REAL` is `span_scan.rs`; each
//! broken variant is reported.
//!
//! The protocol is a store-buffering (Dekker) pair: the shader stores a mark
//! bit then loads the owner flag, the owner stores the flag then loads the
//! mark bits, and at least one must see the other's store. The real code
//! makes all four accesses SeqCst, which forbids both loads reading stale
//! in C++'s model (and on x86 the shader's locked OR and the owner's
//! `xchg` are full fences). Loom models SeqCst *accesses* only as AcqRel
//! (a known limitation, tokio-rs/loom#180: it then reports the lost object
//! here, a false alarm), so the model states the same pair with SeqCst
//! fences between each store and load, which loom does model.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tricolor-gc-core --release --test loom_span_scan`.
#![cfg(loom)]

use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use loom::sync::Mutex;
use loom::thread;
use std::sync::Arc;

#[derive(Clone, Copy)]
struct Protocol {
    /// After releasing, re-read the mark bits and take the span back.
    reread_after_release: bool,
    /// The shader takes ownership before queueing (without it, the span
    /// can be queued twice and scanned by two markers at once).
    shader_takes_ownership: bool,
}

const REAL: Protocol = Protocol { reread_after_release: true, shader_takes_ownership: true };

struct Span {
    marks: AtomicU64,
    scans: AtomicU64,
    owner: AtomicBool,
    /// Markers currently scanning (must never exceed one).
    scanning: AtomicUsize,
    /// The work list: span entries.
    queue: Mutex<usize>,
    p: Protocol,
}

impl Span {
    /// `Span::try_own`.
    fn try_own(&self) -> bool {
        !self.owner.load(Ordering::SeqCst)
            && self.owner.compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed).is_ok()
    }

    /// `Marker::shade` of object `i` of the span.
    fn shade(&self, i: u32) {
        let mask = 1u64 << i;
        if self.marks.fetch_or(mask, Ordering::SeqCst) & mask != 0 {
            return;
        }
        fence(Ordering::SeqCst);
        if !self.p.shader_takes_ownership || self.try_own() {
            *self.queue.lock().unwrap() += 1;
        }
    }

    /// `Marker::scan_span`, entered by the marker that popped the entry.
    fn scan(&self) {
        loop {
            assert_eq!(self.scanning.fetch_add(1, Ordering::SeqCst), 0, "two markers scanned one span at once");
            loop {
                let scanned = self.scans.load(Ordering::Relaxed);
                let grey = self.marks.load(Ordering::Acquire) & !scanned;
                if grey == 0 {
                    break;
                }
                self.scans.store(scanned | grey, Ordering::Relaxed);
            }
            self.scanning.fetch_sub(1, Ordering::SeqCst);
            self.owner.store(false, Ordering::SeqCst);
            if !self.p.reread_after_release {
                return;
            }
            fence(Ordering::SeqCst);
            let grey = self.marks.load(Ordering::SeqCst) & !self.scans.load(Ordering::Relaxed);
            if grey == 0 || !self.try_own() {
                return;
            }
        }
    }

    /// Pops and scans queued entries until the list is empty (`drain`).
    fn drain(&self) {
        loop {
            {
                let mut q = self.queue.lock().unwrap();
                if *q == 0 {
                    return;
                }
                *q -= 1;
            }
            self.scan();
        }
    }
}

fn run(p: Protocol) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(move || {
        let s = Arc::new(Span {
            marks: AtomicU64::new(1),
            scans: AtomicU64::new(0),
            owner: AtomicBool::new(true),
            scanning: AtomicUsize::new(0),
            queue: Mutex::new(1),
            p,
        });
        let threads: Vec<_> = [None, Some(1), Some(2)]
            .into_iter()
            .map(|grey| {
                let s = s.clone();
                thread::spawn(move || {
                    if let Some(i) = grey {
                        s.shade(i);
                    }
                    s.drain();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Mark termination: drain what is left in the list.
        s.drain();
        let (marks, scans) = (s.marks.load(Ordering::Acquire), s.scans.load(Ordering::Acquire));
        assert_eq!(marks, 0b111);
        assert_eq!(scans, marks, "a grey object was never scanned (marks {marks:#b}, scans {scans:#b})");
        assert!(!s.owner.load(Ordering::Acquire), "the span is still owned at termination");
    });
}

#[test]
fn ownership_protocol_scans_every_grey_object() {
    run(REAL);
}

/// Releasing without the re-read loses an object greyed during the last
/// pass: its marker saw the span owned and did not queue it.
#[test]
#[should_panic(expected = "never scanned")]
fn broken_no_reread_after_release() {
    run(Protocol { reread_after_release: false, ..REAL });
}

/// Queueing without taking ownership lets two markers scan the span at
/// once, racing on its scan bits.
#[test]
#[should_panic(expected = "at once")]
fn broken_queue_without_ownership() {
    run(Protocol { shader_takes_ownership: false, ..REAL });
}
