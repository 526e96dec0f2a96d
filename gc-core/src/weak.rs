//! Weak pointers (Go: `weak.Pointer`, `makeStrongFromWeak`) and cleanups
//! (Go 1.24: `runtime.AddCleanup`).
//!
//! A `Weak<T>` points to a *weak cell*, a small pointer-free GC object that
//! holds the target's address without tracing it. Every `Weak` to the same
//! object shares one cell (`specials.rs`). The sweep that finds the target
//! dead clears the cell; `upgrade` reads the cell inside a critical section,
//! makes sure the target's span is swept first, and roots the target.
//!
//! Invariants:
//! * `upgrade` never returns an object that a sweep has found dead or will
//!   find dead: it sweeps (or waits for the sweep of) the target's span before
//!   reading the cell a second time, all in one critical section.
//! * A `Weak` is itself traced (its cell is a GC object), so it is never
//!   `NoGcPointers`; it keeps its cell, never its target, alive.
//! * A root registered by `upgrade` during marking is shaded (`gc::root`).

use crate::alloc::mallocgc;
use crate::gc::{root, Gc, GcPointee};
use crate::heap::object::{self, HasTypeInfo};
use crate::member::Member;
use crate::mutator;

use crate::specials;
use crate::sweep;
use crate::trace::{PointerMap, Trace, TraceLayout, Tracer};
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The indirection cell behind `Weak`s (Go: the weak handle, a `*unsafe.Pointer`).
pub struct WeakCell {
    /// The target's address; 0 once the target died. Written by
    /// `Gc::downgrade` (before publication) and cleared by the sweeper.
    target: AtomicUsize,
}

impl WeakCell {
    pub(crate) fn clear(&self) {
        self.target.store(0, Ordering::Release);
    }
}

// SAFETY: the target word is deliberately not traced (a weak reference).
unsafe impl Trace for WeakCell {
    fn trace(&self, _: &mut Tracer<'_>) {}
}
// SAFETY: no traced pointers: the cell goes to a noscan span.
unsafe impl TraceLayout for WeakCell {
    const NO_POINTERS: bool = true;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY;
    const NEEDS_DROP: bool = false;
}

/// A weak pointer: does not keep its target alive; `upgrade` returns a
/// rooted handle while the target lives.
///
/// ```
/// use gc_core::Gc;
/// let a = Gc::new(7u64);
/// let w = Gc::downgrade(&a);
/// assert_eq!(*w.upgrade().unwrap(), 7);
/// drop(a);
/// gc_core::collect();
/// assert!(w.upgrade().is_none());
/// ```
pub struct Weak<T: ?Sized> {
    cell: Member<WeakCell>,
    _t: PhantomData<*const T>,
}

// SAFETY: as `Member`: the cell word is atomic and targets are only
// reachable through methods requiring `T: GcPointee` (Send + Sync).
unsafe impl<T: ?Sized> Send for Weak<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized> Sync for Weak<T> {}

impl<T: ?Sized + GcPointee> Gc<T> {
    /// A weak pointer to `this`'s object (Go: `weak.Make`).
    pub fn downgrade(this: &Gc<T>) -> Weak<T> {
        let p = this.addr();
        let info = <WeakCell as HasTypeInfo>::INFO;
        let slot = mutator::with_critical(|m| {
            // SAFETY: owner inside its section; the fresh cell is either
            // installed in the specials table (a root while `p` lives) or
            // dropped as garbage, and the returned cell is rooted before the
            // section ends.
            unsafe {
                let s = mallocgc(m, info, core::mem::size_of::<WeakCell>());
                let fresh = object::object_of(s, info);
                core::ptr::write(fresh as *mut WeakCell, WeakCell { target: AtomicUsize::new(p) });
                object::init_header(s, info, 1);
                let cell = specials::weak_cell(p, fresh);
                root(m, cell)
            }
        });
        crate::cycle::maybe_collect();
        Weak { cell: Member::from_root_slot(slot), _t: PhantomData }
    }

    /// Attaches `cleanup` to run on the cleanup thread after the object is
    /// collected (Go 1.24: `runtime.AddCleanup`). The closure must not keep
    /// the object alive (by capturing a `Gc` to it, directly or not), or the
    /// object is never collected, as in Go. `collect()` returns only after the
    /// cleanups it found have run.
    pub fn add_cleanup(this: &Gc<T>, cleanup: impl FnOnce() + Send + 'static) -> Cleanup {
        let p = this.addr();
        let f: Box<dyn FnOnce() + Send> = Box::new(cleanup);
        let id = mutator::with_critical(move |_| specials::add_cleanup(p, f));
        Cleanup { target: p, id }
    }
}

impl<T: ?Sized + GcPointee> Weak<T> {
    /// A weak pointer to nothing; `upgrade` always returns `None`.
    pub const fn new() -> Self {
        Weak { cell: Member::null(), _t: PhantomData }
    }

    /// A rooted handle to the target if it is still alive (Go:
    /// `weak.Pointer.Value`).
    pub fn upgrade(&self) -> Option<Gc<T>> {
        let (slot, p) = mutator::with_critical(|m| {
            let cell = self.cell.target();
            if cell == 0 {
                return (None, 0);
            }
            // SAFETY: the cell is a live WeakCell (this Weak keeps it).
            let cell = unsafe { &*(cell as *const WeakCell) };
            let p = cell.target.load(Ordering::Acquire);
            if p == 0 {
                return (None, 0);
            }
            // SAFETY: inside our section; `p` is allocated (its cell is not
            // cleared, and clearing happens before its slot is freed).
            unsafe { sweep::ensure_swept(p) };
            let p = cell.target.load(Ordering::Acquire);
            if p == 0 {
                return (None, 0);
            }
            // SAFETY: inside the section; `p` survived its span's sweep.
            (Some(unsafe { root(m, p) }), p)
        });
        // SAFETY: a fresh root for a live object.
        slot.map(|s| unsafe { Gc::from_parts(s, p) })
    }

    /// True if both point to the same object's cell (or are both empty).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.cell.target_for_identity() == b.cell.target_for_identity()
    }
}

impl<T: ?Sized + GcPointee> Default for Weak<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: ?Sized + GcPointee> Clone for Weak<T> {
    fn clone(&self) -> Self {
        match self.cell.get() {
            Some(c) => Weak { cell: Member::from_gc(c), _t: PhantomData },
            None => Weak::new(),
        }
    }
}

impl<T: ?Sized> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}

// SAFETY: the cell word is the Weak's one pointer slot.
unsafe impl<T: ?Sized + GcPointee> Trace for Weak<T> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.cell.trace(tracer);
    }
}
// SAFETY: one pointer word at offset 0 (the cell Member).
unsafe impl<T: ?Sized + GcPointee> TraceLayout for Weak<T> {
    const NO_POINTERS: bool = false;
    const POINTER_MAP: PointerMap = PointerMap::EMPTY.with_field(core::mem::offset_of!(Self, cell), PointerMap::SINGLE);
    const NEEDS_DROP: bool = false;
}

/// A registered cleanup (Go: `runtime.Cleanup`).
#[derive(Debug)]
pub struct Cleanup {
    target: usize,
    id: u64,
}

impl Cleanup {
    /// Cancels the cleanup if it has not been queued yet (Go:
    /// `Cleanup.Stop`). Its closure is dropped outside every critical
    /// section.
    pub fn stop(&self) {
        let (t, id) = (self.target, self.id);
        let f = mutator::with_critical(move |_| specials::remove_cleanup(t, id));
        drop(f);
    }
}
