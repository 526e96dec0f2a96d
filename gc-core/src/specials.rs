//! Specials: weak handles and cleanups attached to objects (Go: `special`,
//! `specialWeakHandle`, `specialCleanup` in mheap.go; `weak.Pointer`,
//! `runtime.AddCleanup`).
//!
//! A side table maps an object's address to its specials: at most one weak
//! cell (shared by every `Weak` to the object, as Go's `weak.Make` returns
//! equal pointers) and any number of cleanups. The object's span is flagged
//! (`has_specials`) so the sweeper looks the table up for its dead objects.
//!
//! Invariants:
//! * The table is read and written only inside critical sections (or with
//!   the world stopped), so it never changes under a mark.
//! * While an object is alive, its weak cell is a root (Go: the handle slot
//!   of a weak special is a root in `markrootSpans`), so a cell outlives the
//!   `Weak`s' need for it.
//! * The sweep that first finds an object dead clears its weak cell and
//!   queues its cleanups, before the slot can be reused; an upgrade sweeps the
//!   target's span first (`sweep::ensure_swept`), so it never returns an
//!   object the sweeper is about to free.
//! * Cleanups run on the finalizer thread (`finalizer.rs`), outside every
//!   critical section and lock; a panic in one aborts. `collect()` waits for
//!   the cleanups its cycle queued.

use crate::finalizer::{self, CleanupFn, Task};
use crate::heap::arena::span_of;
use core::sync::atomic::{AtomicU64, Ordering};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Default)]
struct Specials {
    weak_cell: usize,
    cleanups: Vec<(u64, CleanupFn)>,
}

fn table() -> &'static Mutex<HashMap<usize, Specials>> {
    static T: OnceLock<Mutex<HashMap<usize, Specials>>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(HashMap::new()))
}

fn flag_span(p: usize) {
    let s = span_of(p);
    if !s.is_null() {
        // SAFETY: `p` is allocated, so its span is live.
        unsafe { &*s }.has_specials.store(true, Ordering::Release);
    }
}

/// The weak cell of `p`, installing `fresh` (a newly allocated, unrooted
/// cell whose target is `p`) if it has none. Caller: inside a critical
/// section.
pub(crate) fn weak_cell(p: usize, fresh: usize) -> usize {
    let mut t = table().lock();
    let e = t.entry(p).or_default();
    if e.weak_cell == 0 {
        e.weak_cell = fresh;
        flag_span(p);
    }
    e.weak_cell
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Attaches a cleanup to `p`; returns its id. Caller: inside a critical
/// section.
pub(crate) fn add_cleanup(p: usize, f: CleanupFn) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    table().lock().entry(p).or_default().cleanups.push((id, f));
    flag_span(p);
    id
}

/// Detaches cleanup `id` from `p`, returning it so the caller can drop it
/// outside its critical section. Caller: inside a critical section.
pub(crate) fn remove_cleanup(p: usize, id: u64) -> Option<CleanupFn> {
    let mut t = table().lock();
    let e = t.get_mut(&p)?;
    let i = e.cleanups.iter().position(|c| c.0 == id)?;
    Some(e.cleanups.swap_remove(i).1)
}

/// Calls `f` with every weak cell (marking roots). World stopped.
pub(crate) fn for_each_weak_cell(mut f: impl FnMut(usize)) {
    for s in table().lock().values() {
        if s.weak_cell != 0 {
            f(s.weak_cell);
        }
    }
}

/// Called by the sweeper (inside a critical section) for objects it found
/// dead in a span with specials.
pub(crate) fn object_died(objects: &[usize]) {
    let mut queued = Vec::new();
    {
        let mut t = table().lock();
        for p in objects {
            if let Some(s) = t.remove(p) {
                if s.weak_cell != 0 {
                    // SAFETY: weak cells are WeakCell objects kept alive by
                    // this table until now; the sweeper is in a section.
                    unsafe { (*(s.weak_cell as *const crate::weak::WeakCell)).clear() };
                }
                queued.extend(s.cleanups.into_iter().map(|c| c.1));
            }
        }
    }
    finalizer::queue(queued.into_iter().map(Task::Cleanup));
}
