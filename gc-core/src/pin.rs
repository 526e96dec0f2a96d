//! Pins: a scope in which the calling thread holds unrooted references.
//!
//! A `Gc<T>` costs a root slot (register on creation, free on drop) because
//! a Rust stack cannot be scanned. Code that walks or builds a lot of graph
//! in one go (a tree check, an interpreter's inner loop) can instead *pin*
//! the thread: `pin(|g| ...)` runs the closure inside one GC critical
//! section, and inside it `Member::load`, `Guard::alloc` and `Gc::to_ref`
//! hand out [`Ref`]s — plain `Copy` addresses, no root, no fence.
//!
//! # Why a `Ref` stays valid
//!
//! Every stop of the world waits until no thread is inside a critical
//! section (`mutator.rs`), and the cycle boundaries — sweep termination,
//! where marking starts, and mark termination, where the set of live objects
//! is decided — are stops. So while a thread is pinned no cycle can start or
//! finish. An object the pinned thread reaches was reachable when it was
//! loaded (reachable objects were marked at the last mark termination, so
//! the sweeper keeps them); an object it allocates is allocated black if a
//! cycle is marking, and otherwise no cycle can begin before the pin ends.
//! Any cycle that frees either must therefore complete a mark termination
//! after the pin, by which time no `Ref` into it exists.
//!
//! Invariants (the compile-time ones are tested in `tests/ui/`):
//! * A `Ref<'g, T>` borrows the pin's [`Guard`] for `'g`, and `pin`'s
//!   closure is generic over `'g`, so no `Ref` survives the pin.
//! * `Guard` and `Ref` are neither `Send` nor `Sync`: a `Ref` is used only by
//!   the pinned thread, so holding one proves the current thread is inside a
//!   section (which `Member::set_ref` relies on), and a `Guard`'s mutator
//!   (its span cache and buffers) is touched only by its owner.
//! * `Guard::repin` takes `&mut self`, so no `Ref` is live when the section
//!   is left and re-entered; a nested pin's `repin` keeps the section open
//!   (the outer pin's `Ref`s are still live).
//! * A pinned thread never waits for a stop: heap-triggered cycles and the
//!   retired-root-slot grace period are deferred to the pin's end; `collect`,
//!   `mem_stats`, `safepoint`, `blocking` and `GcVec` writers panic.
//!
//! Go has no counterpart (its stacks are scanned); the shape is that of
//! crossbeam-epoch's `pin`/`Guard`/`Shared<'g, T>` and gc-arena's `mutate`.

use crate::gc::{new_object, root, Gc, GcPointee};
use crate::mutator::{self, Mutator};
use crate::trace::TraceLayout;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

/// Pins the calling thread for the duration of `f`: no collection can start
/// or finish meanwhile, so [`Ref`]s handed out inside stay valid without
/// roots.
///
/// A pin is one GC critical section: every stop of the world, on every
/// thread, waits for it to end. Keep pins short (a tree walk, one
/// interpreter slice), do not block inside one (locks, channels, I/O), and
/// call [`Guard::repin`] in long loops. Operations that would wait for a
/// stop panic inside a pin: [`collect`](crate::collect),
/// [`mem_stats`](crate::mem_stats), [`safepoint`](crate::safepoint),
/// [`blocking`](crate::blocking) and the `GcVec` writers.
/// A collection that the heap's growth calls for is started when the
/// outermost pin ends.
///
/// ```
/// # extern crate gc_core as tricolor_gc;
/// # use gc_derive::Trace;
/// use tricolor_gc::{pin, Gc, Guard, Member, Trace};
///
/// #[derive(Trace)]
/// struct Node { left: Member<Node>, right: Member<Node> }
///
/// fn count(n: &Node, g: &Guard) -> usize {
///     1 + n.left.load(g).map_or(0, |l| count(&l, g)) + n.right.load(g).map_or(0, |r| count(&r, g))
/// }
///
/// let root: Gc<Node> = pin(|g| {
///     let leaf = || Node { left: Member::null(), right: Member::null() };
///     let top = g.alloc(leaf());
///     top.left.set_ref(g.alloc(leaf()));
///     top.right.set_ref(g.alloc(leaf()));
///     assert_eq!(count(&top, g), 3);
///     top.root() // a rooted handle leaves the pin
/// });
/// assert_eq!(pin(|g| count(&root.to_ref(g), g)), 3);
/// ```
#[inline]
pub fn pin<R>(f: impl FnOnce(&mut Guard) -> R) -> R {
    let mut g = Guard { m: mutator::pin_enter(), _not_send: PhantomData };
    f(&mut g)
    // `g`'s drop closes the pin, also when `f` unwinds.
}

/// Proof that the calling thread is pinned; see [`pin`].
pub struct Guard {
    m: &'static Mutator,
    _not_send: PhantomData<*mut ()>,
}

impl Guard {
    /// Moves `value` into the GC heap and returns an unrooted reference to
    /// it (Go: `new(T)`). Like [`Gc::new`], adopts the value's pending
    /// `Member`s; unlike it, registers no root, and defers a heap-triggered
    /// collection to the pin's end. Call [`Ref::root`] to keep the object
    /// past the pin, or link it into a rooted object.
    #[inline]
    pub fn alloc<T: TraceLayout + Send + Sync + 'static>(&self, value: T) -> Ref<'_, T> {
        self.m.in_pin_check();
        // SAFETY: `self.m` is this thread's mutator (Guard is !Send) and it
        // is inside its pin's section; the Ref holds the object for the pin.
        unsafe { Ref::from_addr(new_object(self.m, value), self) }
    }

    /// Leaves the pin and re-enters it: a pending stop of the world goes
    /// through, queued drop glue runs, and a collection the heap calls for
    /// starts (Go: a preemption point). `&mut self` proves no `Ref` is live.
    /// Inside a nested pin it does nothing, since the outer pin's `Ref`s
    /// are still live.
    pub fn repin(&mut self) {
        // Nested, this only moves the depth down and up again.
        mutator::pin_exit(self.m, true);
        let again = mutator::pin_enter();
        // Same thread, so same mutator: `pin_exit(.., true)` never lets the
        // G switch (a switch here could resume it on another M, whose
        // mutator is not the one this Guard holds).
        assert!(core::ptr::eq(again, self.m), "tricolor-gc: a pin resumed on another thread's mutator");
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        mutator::pin_exit(self.m, false);
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("depth", &mutator::pin_depth(self.m)).finish()
    }
}

/// An unrooted reference to a GC object, valid while the pin `'g` lasts.
///
/// `Copy`, one word for sized `T`, and dereferences to `&'g T`. Obtained
/// from [`Member::load`](crate::Member::load), [`Guard::alloc`] and
/// [`Gc::to_ref`]; stored into the heap with
/// [`Member::set_ref`](crate::Member::set_ref); kept past the pin with
/// [`Ref::root`].
pub struct Ref<'g, T: ?Sized + GcPointee> {
    obj: NonNull<u8>,
    _t: PhantomData<(&'g T, &'g Guard)>,
}

impl<'g, T: ?Sized + GcPointee> Ref<'g, T> {
    /// # Safety
    /// `p` is a live object of type `T`, and the caller's thread is pinned
    /// by `g` (which keeps it alive for `'g`).
    #[inline(always)]
    pub(crate) unsafe fn from_addr(p: usize, _g: &'g Guard) -> Ref<'g, T> {
        // SAFETY: object addresses are never 0.
        Ref { obj: unsafe { NonNull::new_unchecked(p as *mut u8) }, _t: PhantomData }
    }

    #[inline(always)]
    pub(crate) fn addr(self) -> usize {
        self.obj.as_ptr() as usize
    }

    /// A rooted handle to the object, which outlives the pin.
    #[inline]
    pub fn root(self) -> Gc<T> {
        let p = self.addr();
        // SAFETY: this thread is pinned (Ref is !Send), so the nested
        // section is the pin's; `p` is alive for 'g.
        let slot = mutator::with_critical(|m| unsafe { root(m, p) });
        // SAFETY: non-null slot and object.
        unsafe { Gc::from_parts(slot, p) }
    }

    /// The object's address.
    #[inline(always)]
    pub fn as_ptr(this: Self) -> *const T {
        T::from_object(this.addr())
    }

    /// True if both references point to the same object.
    #[inline(always)]
    pub fn ptr_eq(a: Self, b: Self) -> bool {
        a.obj == b.obj
    }
}

impl<T: ?Sized + GcPointee> Clone for Ref<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized + GcPointee> Copy for Ref<'_, T> {}

impl<'g, T: ?Sized + GcPointee> core::ops::Deref for Ref<'g, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the pin keeps the object alive for 'g (module doc), and
        // objects never move; no `&mut` to a heap object exists.
        unsafe { &*T::from_object(self.addr()) }
    }
}

impl<T: ?Sized + GcPointee + fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + GcPointee + fmt::Display> fmt::Display for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + GcPointee> fmt::Pointer for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.obj, f)
    }
}
