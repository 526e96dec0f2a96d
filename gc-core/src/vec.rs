//! `GcVec<T>`: a growable vector of GC pointers whose backing array is a GC
//! object (Go: a slice of pointers).
//!
//! The backing array is an array object of `Member<T>` words, held by the
//! vector's `array` field, itself a `Member` (so a `GcVec` outside the heap
//! roots its array like a pending `Member`, and one inside an object is
//! traced through it). Elements are never null.
//!
//! Invariants:
//! * No `&` into the backing array ever leaves this module: growth or
//!   `clear` replaces the array, and the old one may be freed once no
//!   critical section uses it. Reads (`get`, `iter`, `position_ptr`) load the
//!   current array, the length and an element inside one critical section.
//!   Pinned reads (`load`, `iter_pinned`) do the same inside the pin's
//!   section; a `PinnedIter` keeps the array it loaded for at most the pin
//!   (`'g`), during which no cycle can end, so that array is not freed under
//!   it even if a writer replaces it meanwhile.
//! * Writers (`push`, `pop`, `set`, `truncate`, `clear`, `retain`) hold the
//!   vector's lock and then enter a critical section — never the reverse, so
//!   a thread blocked on the lock is never inside a section and cannot hold
//!   up a stop. `len` and the element writes are therefore consistent: no
//!   thread can see `len() > i` and then fail `set(i)` because of a
//!   concurrent writer between the two inside one writer operation.
//! * Every element store runs the write barrier; growth copies the elements
//!   into a new array and shades them while the barrier is on (Go's bulk
//!   barrier in `typedmemmove`).
//! * `retain` calls the user's closure outside every critical section, on
//!   rooted handles. The closure may read the vector (readers take no
//!   lock); a write from it would wait for the lock its own thread holds,
//!   so writers check the lock's holder first and panic instead. The
//!   holder's token is computed by a call that is never inlined, so it is
//!   the thread's running the writer now, even for a gc-runtime G that
//!   changed thread since its last write (R13).
//! * Every size derived from user input (`with_capacity`) is checked before
//!   any critical section, with `Vec`'s `capacity overflow` panic, and
//!   against the machine's RAM and swap (an `out of memory` panic).

use crate::gc::{new_member_array, root, Gc, GcPointee};
use crate::mark;
use crate::mark::barrier::write_barrier;
use crate::member::Member;
use crate::mutator::{self, Mutator};
use crate::pin::{Guard, Ref};
use crate::trace::{PointerMap, Trace, TraceLayout, Tracer};
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};
use crate::glock::{GLock, GLockGuard};

/// A growable vector of GC pointers (non-null elements).
///
/// ```
/// # extern crate gc_core as tricolor_gc;
/// use tricolor_gc::{Gc, GcVec};
/// let v: GcVec<u64> = GcVec::new();
/// v.push(&Gc::new(1));
/// v.push(&Gc::new(2));
/// assert_eq!(v.len(), 2);
/// assert_eq!(*v.get(1).unwrap(), 2);
/// assert_eq!(v.iter().map(|x| *x).sum::<u64>(), 3);
/// ```
pub struct GcVec<T: ?Sized> {
    array: Member<[Member<T>]>,
    /// Number of elements; written under `lock` inside a section, read by
    /// anyone inside a section.
    len: AtomicUsize,
    /// Serialises writers; taken outside critical sections only. A G that
    /// waits for it parks (`glock.rs`).
    lock: GLock,
    /// The token of the thread holding `lock` (0 if none): lets a writer
    /// called from `retain`'s closure panic instead of deadlocking. Written
    /// only by the holder of `lock`, so a thread reads its own token there
    /// only while it holds the lock.
    writer: AtomicUsize,
}

/// The writer lock, held; clears the holder's token before unlocking.
struct WriterGuard<'a> {
    vec_writer: &'a AtomicUsize,
    _lock: GLockGuard<'a>,
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        self.vec_writer.store(0, Ordering::Relaxed);
    }
}

/// A non-zero token of the calling thread, distinct among live threads:
/// the address of one of its thread-locals.
///
/// Never inlined, and the call starts with a compiler fence: inlined, the
/// address is a value the optimizer may compute once per function and
/// reuse after a call that moved the caller to another thread (a
/// gc-runtime G switch, row R13): a G would then present another thread's
/// token, and find itself the "holder" of a lock another G holds there.
#[inline(never)]
fn thread_token() -> usize {
    thread_local! {
        static TOKEN: u8 = const { 0 };
    }
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
    TOKEN.with(|t| t as *const u8 as usize)
}

/// The byte size of an array of `cap` pointer words, checked as `Vec`
/// checks its capacity (at most `isize::MAX` bytes, else `capacity
/// overflow`), and against the machine's memory (else `out of memory`).
#[track_caller]
fn array_bytes(cap: usize) -> usize {
    let b = match cap.checked_mul(core::mem::size_of::<usize>()) {
        Some(b) if b <= isize::MAX as usize => b,
        _ => panic!("capacity overflow"),
    };
    crate::heap::check_request(b, "GcVec::with_capacity");
    b
}

fn elems(array: usize) -> &'static [AtomicUsize] {
    if array == 0 {
        return &[];
    }
    // SAFETY: `array` is a live array object of `Member` words (one
    // `AtomicUsize` each) whose length sits at `array - 8`; callers are
    // inside a critical section, so it cannot be freed meanwhile. The
    // 'static lifetime never escapes this module.
    unsafe {
        let cap = *((array - 8) as *const usize);
        core::slice::from_raw_parts(array as *const AtomicUsize, cap)
    }
}

impl<T: ?Sized + GcPointee> Default for GcVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: ?Sized + GcPointee> GcVec<T> {
    /// An empty vector (no backing array yet).
    pub const fn new() -> Self {
        GcVec { array: Member::null(), len: AtomicUsize::new(0), lock: GLock::new(), writer: AtomicUsize::new(0) }
    }

    /// An empty vector with room for `cap` elements.
    ///
    /// # Panics
    /// With `capacity overflow`, as `Vec`, if `cap` words exceed `isize::MAX`
    /// bytes, and with `out of memory` if they exceed the machine's RAM and
    /// swap; both are checked before any critical section, so the panic
    /// leaves the heap untouched.
    pub fn with_capacity(cap: usize) -> Self {
        let v = Self::new();
        if cap > 0 {
            array_bytes(cap);
            let _w = v.lock_writer("GcVec::with_capacity");
            v.write(|m| {
                // SAFETY: inside `m`'s section, `cap` was checked above; the
                // new array is rooted by the store below before the section
                // ends.
                let a = unsafe { new_member_array::<T>(m, cap) };
                // SAFETY: inside the section; `a` is alive (just allocated).
                unsafe { v.array.store_in_section(m, a) };
            });
        }
        crate::cycle::maybe_collect();
        v
    }

    /// Takes the writer lock for the operation `what`. Refused inside a pin
    /// (the lock's holder may be waiting for a stop that waits for the pin)
    /// and inside a closure `retain` is running on this vector on this
    /// thread (the lock is this thread's: waiting for it would never end).
    #[track_caller]
    fn lock_writer(&self, what: &str) -> WriterGuard<'_> {
        mutator::assert_not_pinned(what, "GcVec writes take the vector's lock; do them outside the pin");
        let me = thread_token();
        if self.writer.load(Ordering::Relaxed) == me {
            panic!(
                "tricolor-gc: {what} called from inside the closure of GcVec::retain on the same vector; \
                 the closure may read the vector (get, len, last, iter) but not write to it"
            );
        }
        // A G that waits parks (R21), and may resume on another thread: the
        // holder's token is taken afresh once the lock is ours. (Waiting
        // through the block hook with the token taken before let a G hold
        // the lock under a stale token, seen in a debug CI run.)
        let lock = self.lock.lock();
        self.writer.store(thread_token(), Ordering::Relaxed);
        WriterGuard { vec_writer: &self.writer, _lock: lock }
    }

    /// Runs a writer step inside a critical section. Caller holds `lock`.
    fn write<R>(&self, f: impl FnOnce(&Mutator) -> R) -> R {
        let r = mutator::with_critical(f);
        mutator::retire_check();
        r
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `value`; grows the backing array (doubling) when full.
    pub fn push(&self, value: &Gc<T>) {
        self.push_locked(value);
        // Outside the lock: a cycle may run drop glue that uses this vector.
        crate::cycle::maybe_collect();
    }

    fn push_locked(&self, value: &Gc<T>) {
        let p = value.addr();
        let _w = self.lock_writer("GcVec::push");
        self.write(|m| {
            let len = self.len.load(Ordering::Relaxed);
            let mut a = self.array.target();
            if len == elems(a).len() {
                // SAFETY: inside `m`'s section.
                a = unsafe { self.grow(m, a, len) };
            }
            let slot = &elems(a)[len];
            // SAFETY: inside our section.
            write_barrier(&mut unsafe { m.local() }.wbuf, 0, p);
            slot.store(p, Ordering::Release);
            self.len.store(len + 1, Ordering::Release);
        })
    }

    /// Replaces the backing array by one of twice the capacity, copying the
    /// elements (bulk barrier).
    unsafe fn grow(&self, m: &Mutator, old: usize, len: usize) -> usize {
        let cap = (len * 2).max(4);
        // SAFETY: inside the section; the new array is rooted by the store
        // into `self.array` below before the section ends.
        let new = unsafe { new_member_array::<T>(m, cap) };
        let (src, dst) = (elems(old), elems(new));
        let shade = mark::barrier_enabled();
        for i in 0..len {
            let v = src[i].load(Ordering::Acquire);
            if shade {
                // SAFETY: inside our section.
                unsafe { m.local() }.wbuf.record_one(v);
            }
            dst[i].store(v, Ordering::Relaxed);
        }
        // SAFETY: inside the section; `new` is alive.
        unsafe { self.array.store_in_section(m, new) };
        new
    }

    /// Removes and returns the last element.
    pub fn pop(&self) -> Option<Gc<T>> {
        let _w = self.lock_writer("GcVec::pop");
        self.write(|m| {
            let len = self.len.load(Ordering::Relaxed);
            if len == 0 {
                return None;
            }
            let slot = &elems(self.array.target())[len - 1];
            let p = slot.load(Ordering::Acquire);
            // SAFETY: inside the section; `p` is alive (in the array).
            let r = unsafe { root(m, p) };
            // SAFETY: inside our section.
            write_barrier(&mut unsafe { m.local() }.wbuf, p, 0);
            slot.store(0, Ordering::Release);
            self.len.store(len - 1, Ordering::Release);
            // SAFETY: a fresh root for a live object.
            Some(unsafe { Gc::from_parts(r, p) })
        })
    }

    /// A rooted handle to element `i`, or `None` if out of bounds.
    pub fn get(&self, i: usize) -> Option<Gc<T>> {
        self.root_at(|len| (i < len).then_some(i))
    }

    /// The first element.
    pub fn first(&self) -> Option<Gc<T>> {
        self.get(0)
    }

    /// The last element. A reader, like `get`: it takes no lock.
    pub fn last(&self) -> Option<Gc<T>> {
        self.root_at(|len| len.checked_sub(1))
    }

    /// Roots the element at the index `index` picks from the length, both
    /// read in one critical section, so a concurrent writer is seen before
    /// or after, never half.
    fn root_at(&self, index: impl FnOnce(usize) -> Option<usize>) -> Option<Gc<T>> {
        let (slot, p) = mutator::with_critical(|m| {
            // The length first: the array it was written with (or a newer,
            // larger one) is then visible. A concurrent `clear` may still
            // have replaced the array since, so the index is checked against
            // the array loaded, and an element not yet stored reads 0.
            let i = index(self.len.load(Ordering::Acquire))?;
            let p = elems(self.array.target()).get(i)?.load(Ordering::Acquire);
            if p == 0 {
                return None;
            }
            // SAFETY: inside the section; `p` was read in it.
            Some((unsafe { root(m, p) }, p))
        })?;
        // SAFETY: a fresh root for a live object.
        Some(unsafe { Gc::from_parts(slot, p) })
    }

    /// Replaces element `i`, or returns `false` and changes nothing if `i` is
    /// out of bounds at the time of the write.
    ///
    /// Unlike slice indexing it does not panic: the vector may be shared, and
    /// another thread may shrink it between a `len()` and this call, so the
    /// bound is checked under the writer lock and reported. The result is
    /// `#[must_use]`: ignoring it is a warning. To treat an out-of-bounds
    /// index as a bug, `assert!(v.set(i, &x))`.
    ///
    /// ```
    /// # extern crate gc_core as tricolor_gc;
    /// use tricolor_gc::{Gc, GcVec};
    /// let v: GcVec<u64> = GcVec::new();
    /// v.push(&Gc::new(1));
    /// assert!(v.set(0, &Gc::new(10)));
    /// assert!(!v.set(1, &Gc::new(20))); // out of bounds: nothing changes
    /// assert_eq!(v.len(), 1);
    /// assert_eq!(*v.get(0).unwrap(), 10);
    /// ```
    #[must_use = "`GcVec::set` returns false, and stores nothing, when the index is out of bounds"]
    pub fn set(&self, i: usize, value: &Gc<T>) -> bool {
        let p = value.addr();
        let _w = self.lock_writer("GcVec::set");
        self.write(|m| {
            if i >= self.len.load(Ordering::Relaxed) {
                return false;
            }
            let slot = &elems(self.array.target())[i];
            let old = slot.load(Ordering::Acquire);
            // SAFETY: inside our section.
            write_barrier(&mut unsafe { m.local() }.wbuf, old, p);
            slot.store(p, Ordering::Release);
            true
        })
    }

    /// Shortens the vector to `n` elements (no effect if already shorter).
    pub fn truncate(&self, n: usize) {
        let _w = self.lock_writer("GcVec::truncate");
        self.write(|m| {
            let len = self.len.load(Ordering::Relaxed);
            if n < len {
                let a = elems(self.array.target());
                for slot in &a[n..len] {
                    let old = slot.load(Ordering::Acquire);
                    // SAFETY: inside our section.
                    write_barrier(&mut unsafe { m.local() }.wbuf, old, 0);
                    slot.store(0, Ordering::Release);
                }
                self.len.store(n, Ordering::Release);
            }
        })
    }

    /// Removes every element and drops the backing array.
    pub fn clear(&self) {
        let _w = self.lock_writer("GcVec::clear");
        self.write(|m| {
            self.len.store(0, Ordering::Release);
            // SAFETY: inside the section; storing null.
            unsafe { self.array.store_in_section(m, 0) };
        })
    }

    /// Keeps only the elements for which `keep` returns true, in order.
    /// `keep` runs outside every critical section, on rooted handles, while
    /// other writers wait. It may read this vector; a write to it from
    /// inside `keep` panics (the writer lock is held by this very call).
    pub fn retain(&self, mut keep: impl FnMut(&Gc<T>) -> bool) {
        let _w = self.lock_writer("GcVec::retain");
        let snapshot: Vec<Gc<T>> = (0..self.len()).filter_map(|i| self.get(i)).collect();
        let kept: Vec<bool> = {
            // The closure runs under the writer lock: no G switch in it.
            let _ns = mutator::NoSwitch::enter();
            snapshot.iter().map(&mut keep).collect()
        };
        self.write(|m| {
            let a = elems(self.array.target());
            let mut j = 0;
            for (g, &k) in snapshot.iter().zip(&kept) {
                if k {
                    let old = a[j].load(Ordering::Acquire);
                    // SAFETY: inside our section.
                    write_barrier(&mut unsafe { m.local() }.wbuf, old, g.addr());
                    a[j].store(g.addr(), Ordering::Release);
                    j += 1;
                }
            }
            for slot in &a[j..snapshot.len()] {
                let old = slot.load(Ordering::Acquire);
                // SAFETY: inside our section.
                write_barrier(&mut unsafe { m.local() }.wbuf, old, 0);
                slot.store(0, Ordering::Release);
            }
            self.len.store(j, Ordering::Release);
        });
    }

    /// The index of the first element that is `target`'s object, by identity,
    /// without creating a root per probe.
    pub fn position_ptr(&self, target: &Gc<T>) -> Option<usize> {
        let p = target.addr();
        mutator::with_critical(|_| {
            let a = elems(self.array.target());
            let len = self.len.load(Ordering::Acquire).min(a.len());
            a[..len].iter().position(|s| s.load(Ordering::Acquire) == p)
        })
    }

    /// True if `target`'s object is an element.
    pub fn contains_ptr(&self, target: &Gc<T>) -> bool {
        self.position_ptr(target).is_some()
    }

    /// Iterates over rooted handles to the elements. Each step re-reads the
    /// vector, so concurrent writers are seen as they happen; no borrow of
    /// the backing array is held.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { vec: self, next: 0 }
    }

    /// Rooted handles to all elements, as a `Vec`.
    pub fn to_vec(&self) -> Vec<Gc<T>> {
        self.iter().collect()
    }

    /// An unrooted reference to element `i`, valid for the pin `g`, or `None`
    /// if `i` is out of bounds: [`get`](Self::get) without the root (no
    /// root-table write, no critical-section entry). See [`pin`](crate::pin).
    ///
    /// ```
    /// # extern crate gc_core as tricolor_gc;
    /// use tricolor_gc::{pin, Gc, GcVec};
    /// let v: GcVec<u64> = (1..=3).map(Gc::new).collect();
    /// pin(|g| {
    ///     assert_eq!(v.load(2, g).map(|r| *r), Some(3));
    ///     assert!(v.load(3, g).is_none());
    /// });
    /// ```
    #[inline]
    pub fn load<'g>(&self, i: usize, g: &'g Guard) -> Option<Ref<'g, T>> {
        // As `root_at`, inside the pin's section (a `Guard` is held only by
        // the pinned thread): the length, then the array, and the index
        // checked against the array loaded.
        if i >= self.len.load(Ordering::Acquire) {
            return None;
        }
        let p = elems(self.array.target()).get(i)?.load(Ordering::Acquire);
        // SAFETY: `p` is non-null and was read from the vector's array while
        // this thread is pinned by `g`: it was reachable during the pin, so
        // no cycle can free it before the pin ends (pin.rs).
        (p != 0).then(|| unsafe { Ref::from_addr(p, g) })
    }

    /// Iterates over unrooted references to the elements, valid for the pin
    /// `g`: [`iter`](Self::iter) without a root per element.
    ///
    /// The iterator reads the vector's array and length once, when it is
    /// created. Writers on other threads may run meanwhile (this thread
    /// cannot write inside a pin): a `set` may or may not be seen, elements
    /// pushed later are not, and a `truncate`, `pop` or `retain` that
    /// empties a slot ends the iteration there. A `clear` or a growing
    /// `push` replaces the array; the iterator goes on over the old one,
    /// which the pin keeps alive. Every element yielded is live for `'g`.
    ///
    /// ```
    /// # extern crate gc_core as tricolor_gc;
    /// use tricolor_gc::{pin, Gc, GcVec};
    /// let v: GcVec<u64> = (1..=4).map(Gc::new).collect();
    /// let sum: u64 = pin(|g| v.iter_pinned(g).map(|r| *r).sum());
    /// assert_eq!(sum, 10);
    /// ```
    #[inline]
    pub fn iter_pinned<'g>(&self, g: &'g Guard) -> PinnedIter<'g, T> {
        // Inside the pin's section: the length first, then the array it was
        // written with (or a newer one, which may be shorter after a
        // `clear`: hence the `min`).
        let len = self.len.load(Ordering::Acquire);
        let a = elems(self.array.target());
        PinnedIter { slots: &a[..len.min(a.len())], guard: g, _t: core::marker::PhantomData }
    }
}

/// Iterator over a [`GcVec`] inside a pin; yields unrooted [`Ref`]s. Made by
/// [`GcVec::iter_pinned`].
pub struct PinnedIter<'g, T: ?Sized> {
    /// The array read at creation, up to the length read then. Never leaves
    /// this module; the pin keeps the array allocated for `'g`.
    slots: &'g [AtomicUsize],
    guard: &'g Guard,
    _t: core::marker::PhantomData<fn() -> *const T>,
}

impl<'g, T: ?Sized + GcPointee> Iterator for PinnedIter<'g, T> {
    type Item = Ref<'g, T>;
    #[inline]
    fn next(&mut self) -> Option<Ref<'g, T>> {
        let (first, rest) = self.slots.split_first()?;
        let p = first.load(Ordering::Acquire);
        if p == 0 {
            // A concurrent writer emptied this slot: the vector got shorter.
            self.slots = &[];
            return None;
        }
        self.slots = rest;
        // SAFETY: `p` was read from the vector's array while this thread is
        // pinned by `self.guard`, so it lives until the pin ends (pin.rs).
        Some(unsafe { Ref::from_addr(p, self.guard) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.slots.len()))
    }
}

impl<T: ?Sized> fmt::Debug for PinnedIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinnedIter(at most {} left)", self.slots.len())
    }
}

/// Pinned reads of a GC slice of fields, as for [`GcVec`]: a `Gc<[Member<T>]>`
/// is a fixed-length array of nullable pointers.
impl<T: ?Sized + GcPointee> Gc<[Member<T>]> {
    /// An unrooted reference to the target of field `i`, valid for the pin
    /// `g`, or `None` if `i` is out of bounds or the field is null
    /// (`self[i].load(g)`, bounds-checked).
    ///
    /// ```
    /// # extern crate gc_core as tricolor_gc;
    /// use tricolor_gc::{pin, Gc, Member};
    /// let a = Gc::new(7u64);
    /// let s: Gc<[Member<u64>]> = Gc::from_vec(vec![Member::new(&a), Member::null()]);
    /// pin(|g| {
    ///     assert_eq!(s.load(0, g).map(|r| *r), Some(7));
    ///     assert!(s.load(1, g).is_none()); // null
    ///     assert!(s.load(2, g).is_none()); // out of bounds
    /// });
    /// ```
    #[inline]
    pub fn load<'g>(&self, i: usize, g: &'g Guard) -> Option<Ref<'g, T>> {
        self.get(i)?.load(g)
    }

    /// Iterates over the fields' targets as unrooted references valid for
    /// the pin `g` (`None` for a null field), without a root per element.
    ///
    /// ```
    /// # extern crate gc_core as tricolor_gc;
    /// use tricolor_gc::{pin, Gc, Member};
    /// let (a, b) = (Gc::new(1u64), Gc::new(2u64));
    /// let s: Gc<[Member<u64>]> = Gc::from_vec(vec![Member::new(&a), Member::null(), Member::new(&b)]);
    /// let sum: u64 = pin(|g| s.iter_pinned(g).flatten().map(|r| *r).sum());
    /// assert_eq!(sum, 3);
    /// ```
    #[inline]
    pub fn iter_pinned<'a, 'g>(&'a self, g: &'g Guard) -> PinnedMembers<'a, 'g, T> {
        PinnedMembers { fields: self.iter(), guard: g }
    }
}

/// Iterator over a slice of [`Member`]s inside a pin; yields
/// `Option<Ref<'g, T>>` (`None` for a null field). Made by
/// `Gc::<[Member<T>]>::iter_pinned`.
pub struct PinnedMembers<'a, 'g, T: ?Sized> {
    fields: core::slice::Iter<'a, Member<T>>,
    guard: &'g Guard,
}

impl<'g, T: ?Sized + GcPointee> Iterator for PinnedMembers<'_, 'g, T> {
    type Item = Option<Ref<'g, T>>;
    #[inline]
    fn next(&mut self) -> Option<Option<Ref<'g, T>>> {
        self.fields.next().map(|m| m.load(self.guard))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.fields.size_hint()
    }
}

impl<T: ?Sized + GcPointee> ExactSizeIterator for PinnedMembers<'_, '_, T> {}

impl<T: ?Sized> fmt::Debug for PinnedMembers<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinnedMembers({} left)", self.fields.len())
    }
}

/// Iterator over a [`GcVec`]; yields rooted handles.
pub struct Iter<'a, T: ?Sized> {
    vec: &'a GcVec<T>,
    next: usize,
}

impl<T: ?Sized + GcPointee> Iterator for Iter<'_, T> {
    type Item = Gc<T>;
    fn next(&mut self) -> Option<Gc<T>> {
        let g = self.vec.get(self.next)?;
        self.next += 1;
        Some(g)
    }
}

impl<'a, T: ?Sized + GcPointee> IntoIterator for &'a GcVec<T> {
    type Item = Gc<T>;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T: ?Sized + GcPointee> FromIterator<Gc<T>> for GcVec<T> {
    fn from_iter<I: IntoIterator<Item = Gc<T>>>(iter: I) -> Self {
        let v = GcVec::new();
        for g in iter {
            v.push(&g);
        }
        v
    }
}

impl<T: ?Sized + GcPointee> fmt::Debug for GcVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GcVec(len {})", self.len())
    }
}

// SAFETY: the only GC pointer slot of a GcVec is its array word; the
// elements live in the array object, which is traced by its own type.
unsafe impl<T: ?Sized + GcPointee> Trace for GcVec<T> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.array.trace(tracer);
    }
}

// SAFETY: one pointer word, `array`, at its field offset.
unsafe impl<T: ?Sized + GcPointee> TraceLayout for GcVec<T> {
    const NO_POINTERS: bool = false;
    const POINTER_MAP: PointerMap =
        PointerMap::EMPTY.with_field(core::mem::offset_of!(Self, array), PointerMap::SINGLE);
    const NEEDS_DROP: bool = false;
}
