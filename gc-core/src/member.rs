//! `Member<T>`: a nullable GC pointer field inside an object.
//!
//! One atomic word, every method takes `&self`, no `Clone` and no by-value
//! accessor, so a `Member` inside the heap can never be moved out of it.
//!
//! # Word encoding
//!
//! | word | state |
//! | --- | --- |
//! | `0` | adopted (in the heap), null |
//! | `p` (even, non-zero) | adopted, points to the object at `p` |
//! | `1` | pending (outside the heap), null |
//! | `s | 1` | pending, holds the root slot `s` whose value is the target |
//!
//! A pending slot's value never changes while the word names it: `set`
//! swaps in a new slot and retires the old one until the next stop of the
//! world, so a reader that loaded the word can always read the slot.
//!
//! A pending `Member` is one built outside the heap (`Member::new`,
//! `Member::from`, `Member::null`) on its way into `Gc::new`, which adopts it
//! (one pass over the new object's pointer slots): the target moves from the
//! root slot into the word and the slot is freed.
//!
//! Invariants:
//! * Every method that reads a target and roots it, or writes the word, runs
//!   inside one GC critical section (load-then-root is otherwise a race with a
//!   whole cycle).
//! * Writes to an adopted word go through the write barrier, before the
//!   store.
//! * A pending word's root slot is owned by the word: `set`/`clear` on a
//!   pending `Member` swap in a fresh slot (or `1`) and retire the old one
//!   until the next stop, so threads racing on a shared pending `Member`
//!   never write, or read through, a freed slot.

use crate::gc::{root, Gc, GcPointee};
use crate::heap::object::LARGE;
use crate::heap::size_class::SpanClass;
use crate::mark;
use crate::mutator::{self, Mutator};
use crate::pin::{Guard, Ref};
use crate::roots::RootTable;
use crate::trace::{PointerMap, Trace, TraceLayout, Tracer};
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};

const PENDING_NULL: usize = 1;

/// A GC pointer field: nullable, atomic, written through the barrier.
#[repr(transparent)]
pub struct Member<T: ?Sized> {
    word: AtomicUsize,
    _t: PhantomData<*const T>,
}

// SAFETY: the word is atomic, and a target can only be reached through
// methods that require `T: GcPointee`, i.e. `T: Send + Sync`. The impls are
// unconditional so that a type can contain a `Member` to itself
// (`Node: Send` would otherwise depend on `Member<Node>: Send`).
unsafe impl<T: ?Sized> Send for Member<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized> Sync for Member<T> {}

#[inline(always)]
fn slot_of(w: usize) -> &'static AtomicUsize {
    // SAFETY: a pending word tags a root slot, in a never-freed segment.
    unsafe { &*((w & !1) as *const AtomicUsize) }
}

impl<T: ?Sized + GcPointee> Member<T> {
    /// A null field.
    #[inline]
    pub const fn null() -> Self {
        Member { word: AtomicUsize::new(PENDING_NULL), _t: PhantomData }
    }

    /// A field pointing to `target`; holds a root until `Gc::new` adopts it.
    #[inline]
    pub fn new(target: &Gc<T>) -> Self {
        let p = target.addr();
        // SAFETY: owner inside its section.
        let slot = mutator::with_critical(|m| unsafe { root(m, p) });
        Member { word: AtomicUsize::new(slot as *const AtomicUsize as usize | 1), _t: PhantomData }
    }

    /// A field holding `target`, reusing the handle's root (no new root).
    #[inline]
    pub fn from_gc(target: Gc<T>) -> Self {
        let slot = target.into_slot();
        Member { word: AtomicUsize::new(slot as *const AtomicUsize as usize | 1), _t: PhantomData }
    }

    /// A pending field that owns the root slot `slot`.
    pub(crate) fn from_root_slot(slot: &'static AtomicUsize) -> Self {
        Member { word: AtomicUsize::new(slot as *const AtomicUsize as usize | 1), _t: PhantomData }
    }

    /// A field holding `target` or null.
    pub fn from_opt(target: Option<&Gc<T>>) -> Self {
        target.map_or_else(Self::null, Self::new)
    }

    /// The target address, reading through a pending root slot. Meaningful
    /// as a pointer only inside a critical section.
    #[inline(always)]
    pub(crate) fn target(&self) -> usize {
        let w = self.word.load(Ordering::Acquire);
        if w & 1 == 0 {
            w
        } else if w == PENDING_NULL {
            0
        } else {
            crate::fault::pending_slot_read();
            slot_of(w).load(Ordering::Acquire)
        }
    }

    /// The target address for an identity test outside any section: a
    /// pending word's slot may be retired by a concurrent `set` and, after
    /// the next stop, reused for another root, so it is read inside a
    /// critical section (where a retired slot is never freed). An adopted
    /// word is the address itself.
    #[inline]
    pub(crate) fn target_for_identity(&self) -> usize {
        let w = self.word.load(Ordering::Acquire);
        if w & 1 == 0 {
            w
        } else if w == PENDING_NULL {
            0
        } else {
            mutator::with_critical(|_| self.target())
        }
    }

    /// A rooted handle to the target, or `None` if null.
    #[inline]
    pub fn get(&self) -> Option<Gc<T>> {
        let (slot, p) = mutator::with_critical(|m| {
            let p = self.target();
            if p == 0 {
                return (None, 0);
            }
            // SAFETY: owner inside its section; `p` was read in the same
            // section, so no cycle can have freed it.
            (Some(unsafe { root(m, p) }), p)
        });
        // SAFETY: non-null slot and object.
        slot.map(|s| unsafe { Gc::from_parts(s, p) })
    }

    /// An unrooted reference to the target, valid for the pin `g`, or `None`
    /// if null (crossbeam-epoch's `Atomic::load`). One load, no root: the
    /// pin keeps every object reachable now alive until it ends (see
    /// [`pin`](crate::pin)).
    #[inline(always)]
    pub fn load<'g>(&self, g: &'g Guard) -> Option<Ref<'g, T>> {
        // A pending word's slot is only retired, never freed, while any
        // section (here: the pin) is open, so reading through it is sound.
        let p = self.target();
        // SAFETY: `p` was read while pinned, so it is alive for 'g.
        (p != 0).then(|| unsafe { Ref::from_addr(p, g) })
    }

    /// Points the field at `target` (write barrier included). Cheaper than
    /// [`set`](Self::set) when the barrier is off: a `Ref` proves this
    /// thread is already inside its pin's critical section.
    #[inline(always)]
    pub fn set_ref(&self, target: Ref<'_, T>) {
        let new = target.addr();
        let w = self.word.load(Ordering::Relaxed);
        if w & 1 == 0 && !mark::barrier_enabled() {
            // Adopted word, barrier off, and no stop (so no phase change) can
            // happen while the pin is open: a plain store.
            self.word.store(new, Ordering::Release);
            return;
        }
        // SAFETY: Ref is !Send, so this thread is pinned and `with_critical`
        // runs in the pin's section; `new` is alive for the pin. A retired
        // slot is freed at the first stop after the pin.
        mutator::with_critical(|m| unsafe { self.store_in_section(m, new) });
    }

    /// Points the field at `target` (write barrier included).
    #[inline]
    pub fn set(&self, target: &Gc<T>) {
        self.store(target.addr());
    }

    /// Points the field at `target`, or clears it.
    #[inline]
    pub fn set_opt(&self, target: Option<&Gc<T>>) {
        self.store(target.map_or(0, |g| g.addr()));
    }

    /// Makes the field null (write barrier included).
    #[inline]
    pub fn clear(&self) {
        self.store(0);
    }

    fn store(&self, new: usize) {
        // SAFETY: `with_critical` gives us our own mutator inside a section.
        let retired = mutator::with_critical(|m| unsafe { self.store_in_section(m, new) });
        if retired {
            mutator::retire_check();
        }
    }

    /// Stores the object address `new` (0 for null) with the barrier.
    ///
    /// On a pending `Member` the word is swapped to a fresh root slot, and
    /// the old slot is *retired*, not freed: another thread may have read the
    /// old word and be about to read the slot, inside its own critical
    /// section. Retired slots are freed at the next stop of the world, when no
    /// critical section is in progress (the stop is the grace period), so a
    /// slot is never reused — possibly for an object of another type — under
    /// a reader.
    ///
    /// Returns true if a slot was retired.
    ///
    /// # Safety
    /// `m` is the caller's mutator, inside a critical section, and `new` is
    /// 0 or an object kept alive by the caller.
    pub(crate) unsafe fn store_in_section(&self, m: &Mutator, new: usize) -> bool {
        let w = self.word.load(Ordering::Acquire);
        if w & 1 == 0 {
            // Adopted: barrier, then store (Go: gcWriteBarrier).
            if mark::barrier_enabled() {
                // SAFETY: inside our section.
                let local = unsafe { m.local() };
                // A target this thread allocated black needs no shade (Go
                // buffers it anyway; here the test is a few loads against
                // a buffer entry and a later shade).
                // SAFETY: our own cache, inside our section.
                let black =
                    T::SPAN_CLASS != LARGE && unsafe { local.cache.is_own_black(SpanClass(T::SPAN_CLASS), new) };
                local.wbuf.record(w, if black { 0 } else { new });
            }
            self.word.store(new, Ordering::Release);
            false
        } else {
            let fresh = if new == 0 {
                PENDING_NULL
            } else {
                // SAFETY: owner inside its section.
                unsafe { root(m, new) as *const AtomicUsize as usize | 1 }
            };
            let old = self.word.swap(fresh, Ordering::AcqRel);
            if old != PENDING_NULL {
                // SAFETY: inside our section.
                unsafe { m.local() }.retired.push(slot_of(old));
            }
            old != PENDING_NULL
        }
    }

    /// True if the field is null.
    #[inline]
    pub fn is_null(&self) -> bool {
        let w = self.word.load(Ordering::Acquire);
        w == 0 || w == PENDING_NULL
    }

    /// True if the field points to `other`'s object. Needs no root: nothing
    /// is dereferenced.
    #[inline]
    pub fn ptr_eq(&self, other: &Gc<T>) -> bool {
        self.target_for_identity() == other.addr()
    }

    /// True if the field points to the object at `p` (identity only).
    #[inline]
    pub fn points_to(&self, p: *const T) -> bool {
        self.target_for_identity() == p as *const u8 as usize
    }
}

impl<T: ?Sized + GcPointee> Default for Member<T> {
    fn default() -> Self {
        Self::null()
    }
}

impl<T: ?Sized + GcPointee> From<Gc<T>> for Member<T> {
    fn from(g: Gc<T>) -> Self {
        Member::from_gc(g)
    }
}

impl<T: ?Sized + GcPointee> From<&Gc<T>> for Member<T> {
    fn from(g: &Gc<T>) -> Self {
        Member::new(g)
    }
}

impl<T: ?Sized> Drop for Member<T> {
    fn drop(&mut self) {
        let w = *self.word.get_mut();
        if w & 1 == 1 && w != PENDING_NULL {
            // A pending Member that was never adopted frees its root.
            RootTable::unregister(slot_of(w));
        }
        // An adopted Member is dropped only by the sweeper's drop glue of a
        // dead object: its target may already be gone, so it is not touched.
    }
}

impl<T: ?Sized + GcPointee> fmt::Debug for Member<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target_for_identity() {
            0 => f.write_str("Member(null)"),
            p => write!(f, "Member({p:#x})"),
        }
    }
}

// SAFETY: the one slot of a Member is its word.
unsafe impl<T: ?Sized + GcPointee> Trace for Member<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        tracer.visit_slot(&self.word);
    }
}

// SAFETY: a Member is one pointer word at offset 0 (repr(transparent)).
unsafe impl<T: ?Sized + GcPointee> TraceLayout for Member<T> {
    const NO_POINTERS: bool = false;
    const POINTER_MAP: PointerMap = PointerMap::SINGLE;
    const NEEDS_DROP: bool = false;
}
