//! `select!`: wait on several channel operations at once (Go: `select`,
//! `selectgo` in `select.go`).
//!
//! The engine follows `selectgo`'s three passes:
//!
//! 1. **Poll.** Lock every distinct channel of the select in address order
//!    (Go's `lockorder`: two selects that share channels always lock them in
//!    the same order, so they cannot deadlock; a channel named in two cases
//!    is locked once). Try the cases in a uniformly random order (Go's
//!    `pollorder`, a Fisher-Yates shuffle) and complete the first that can
//!    proceed. If none can and there is a `default`, unlock and run it.
//! 2. **Enqueue.** Still under all the locks, queue one waiter record per
//!    case (Go: one `sudog` each), all sharing one `WaitCore` whose
//!    `selected` word is Go's `selectDone`: the first peer (or `close`) that
//!    claims one of them by CAS wins, and every other peer skips the rest.
//!    Unlock, then park (`WaitReason::Select`).
//! 3. **Dequeue.** Woken, read which case won, remove the other cases'
//!    waiters from their channels (each under its channel's lock), and take
//!    the winner's result from its slot.
//!
//! Invariants: a case's state is touched only under its channel's lock (the
//! `unsafe` methods of [`Case`] are called by [`select`] with every lock of
//! the select held); the winner's result is complete before the select is
//! woken (see `chan::waiter`); no panic is raised while a lock is held (a
//! send on a closed channel is recorded and panics in the arm's `finish`,
//! after unlocking). A `select!` with no case and no default parks forever
//! (`WaitReason::SelectNoCases`; Go: `block()`).
//!
//! The value of a `send` case that did not win is dropped with the case.

use crate::chan::facade::{park, Arc, MutexGuard, WaitReason};
use crate::chan::{ChanLock, Receiver, RecvPoll, SendPoll, Sender, WaitCore, Waiter};
use std::cell::Cell;

mod sealed {
    pub trait Sealed {}
}

/// The shared record of one parked select; opaque.
pub struct Parking {
    core: Arc<WaitCore>,
}

/// One case of a `select!` (hidden plumbing, sealed).
///
/// The `unsafe` methods require that the caller holds the lock returned by
/// [`lock`](Case::lock).
pub trait Case<'a>: sealed::Sealed {
    /// The case's channel lock.
    #[doc(hidden)]
    fn lock(&self) -> &'a ChanLock;
    /// Tries to complete the case now; true if it did.
    ///
    /// # Safety
    ///
    /// The caller holds `self.lock()`.
    #[doc(hidden)]
    unsafe fn poll(&mut self) -> bool;
    /// Queues this case's waiter as case number `case` of `parking`.
    ///
    /// # Safety
    ///
    /// The caller holds `self.lock()`.
    #[doc(hidden)]
    unsafe fn enqueue(&mut self, parking: &Parking, case: usize);
    /// After `poll` succeeded and the locks were released: wakes the peer
    /// whose waiter the case took, if any.
    #[doc(hidden)]
    fn wake_peer(&mut self);
    /// After the park, for a case that did not win: removes its waiter.
    #[doc(hidden)]
    fn cancel(&mut self);
    /// After the park, for the winning case: takes its result.
    #[doc(hidden)]
    fn complete(&mut self);
}

/// A `recv(rx) -> v` case.
pub struct RecvCase<'a, T> {
    rx: &'a Receiver<T>,
    waiter: Option<Arc<Waiter<T>>>,
    peer: Option<Arc<Waiter<T>>>,
    result: Option<Option<T>>,
}

impl<'a, T> RecvCase<'a, T> {
    /// A receive case on `rx`.
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvCase { rx, waiter: None, peer: None, result: None }
    }

    /// Whether this case was the one that ran.
    pub fn fired(&self) -> bool {
        self.result.is_some()
    }

    /// The received value (`None`: closed and drained).
    pub fn take(&mut self) -> Option<T> {
        self.result.take().expect("select: RecvCase::take on a case that did not fire")
    }
}

impl<T> sealed::Sealed for RecvCase<'_, T> {}

impl<'a, T> Case<'a> for RecvCase<'a, T> {
    fn lock(&self) -> &'a ChanLock {
        &self.rx.shared.lock
    }

    unsafe fn poll(&mut self) -> bool {
        // SAFETY: the caller holds this channel's lock (the method's contract)
        // and `try_recv` touches no other channel.
        match unsafe { self.rx.shared.with_state(|st| st.try_recv()) } {
            RecvPoll::Got(v, peer) => {
                self.result = Some(Some(v));
                self.peer = peer;
                true
            }
            RecvPoll::Closed => {
                self.result = Some(None);
                true
            }
            RecvPoll::Empty => false,
        }
    }

    unsafe fn enqueue(&mut self, parking: &Parking, case: usize) {
        let w = Waiter::in_select(parking.core.clone(), case, None);
        // SAFETY: the caller holds this channel's lock (the method's contract).
        unsafe { self.rx.shared.with_state(|st| st.recvq.push(w.clone())) };
        self.waiter = Some(w);
    }

    fn wake_peer(&mut self) {
        if let Some(p) = self.peer.take() {
            p.core().wake();
        }
    }

    fn cancel(&mut self) {
        if let Some(w) = self.waiter.take() {
            self.rx.shared.locked(|st| st.recvq.remove(&w));
        }
    }

    fn complete(&mut self) {
        let w = self.waiter.take().expect("select: the winning case has a waiter");
        let v = w.slot.lock().value.take();
        self.result = Some(v);
    }
}

#[derive(PartialEq, Eq)]
enum SendState {
    Pending,
    Sent,
    Closed,
}

/// A `send(tx, v)` case.
pub struct SendCase<'a, T> {
    tx: &'a Sender<T>,
    value: Option<T>,
    waiter: Option<Arc<Waiter<T>>>,
    peer: Option<Arc<Waiter<T>>>,
    state: SendState,
}

impl<'a, T> SendCase<'a, T> {
    /// A case sending `v` on `tx`.
    pub fn new(tx: &'a Sender<T>, v: T) -> Self {
        SendCase { tx, value: Some(v), waiter: None, peer: None, state: SendState::Pending }
    }

    /// Whether this case was the one that ran.
    pub fn fired(&self) -> bool {
        self.state != SendState::Pending
    }

    /// Finishes the case before its arm runs.
    ///
    /// # Panics
    ///
    /// `send on closed channel` if the channel was closed.
    pub fn finish(&mut self) {
        if self.state == SendState::Closed {
            drop(self.value.take());
            panic!("send on closed channel");
        }
    }
}

impl<T> sealed::Sealed for SendCase<'_, T> {}

impl<'a, T> Case<'a> for SendCase<'a, T> {
    fn lock(&self) -> &'a ChanLock {
        &self.tx.shared.lock
    }

    unsafe fn poll(&mut self) -> bool {
        let v = self.value.take().expect("select: a pending send case holds its value");
        // SAFETY: the caller holds this channel's lock (the method's contract)
        // and `try_send` touches no other channel.
        match unsafe { self.tx.shared.with_state(|st| st.try_send(v)) } {
            SendPoll::Sent(peer) => {
                self.peer = peer;
                self.state = SendState::Sent;
                true
            }
            SendPoll::Closed(v) => {
                // Keep the value: it is dropped after the locks are released.
                self.value = Some(v);
                self.state = SendState::Closed;
                true
            }
            SendPoll::Full(v) => {
                self.value = Some(v);
                false
            }
        }
    }

    unsafe fn enqueue(&mut self, parking: &Parking, case: usize) {
        let w = Waiter::in_select(parking.core.clone(), case, self.value.take());
        // SAFETY: the caller holds this channel's lock (the method's contract).
        unsafe { self.tx.shared.with_state(|st| st.sendq.push(w.clone())) };
        self.waiter = Some(w);
    }

    fn wake_peer(&mut self) {
        if let Some(p) = self.peer.take() {
            p.core().wake();
        }
    }

    fn cancel(&mut self) {
        if let Some(w) = self.waiter.take() {
            self.tx.shared.locked(|st| st.sendq.remove(&w));
            // Our value stays in `w`'s slot and drops with it, outside the lock.
        }
    }

    fn complete(&mut self) {
        let w = self.waiter.take().expect("select: the winning case has a waiter");
        let closed = w.slot.lock().closed;
        self.state = if closed { SendState::Closed } else { SendState::Sent };
    }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new().build_hasher().finish() | 1
    });
}

/// A uniform random number in `0..n` (wyrand; Go: `cheaprandn`), from the
/// calling M's generator. Never inlined, behind a compiler fence: a select
/// in a G may run on another M than the caller's previous one, and an
/// inlined access could reuse that M's `RNG` address (R13).
#[cfg(not(loom))]
#[inline(never)]
fn rand_below(n: usize) -> usize {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    RNG.with(|r| {
        let s = r.get().wrapping_add(0xa076_1d64_78bd_642f);
        r.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        let x = (t >> 64) as u64 ^ t as u64;
        // Lemire's multiply-shift: unbiased enough for n far below 2^64.
        ((u128::from(x) * n as u128) >> 64) as usize
    })
}

/// Under loom every execution must be deterministic: no shuffle.
#[cfg(loom)]
fn rand_below(_n: usize) -> usize {
    let _ = &RNG;
    0
}

/// Parks forever (Go: `block()`).
fn park_forever() -> ! {
    loop {
        // Dropping the Unparker unused leaves the waiter parked for good.
        park(WaitReason::SelectNoCases, |u| {
            drop(u);
            true
        });
    }
}

/// Runs one `select!`: see the module documentation. Exactly one case has
/// fired when this returns, unless `has_default` and none was ready.
pub fn select<'a, const N: usize>(mut cases: [&mut dyn Case<'a>; N], has_default: bool) {
    if !has_default {
        // A select that may park is refused inside a gc-core pin before any
        // case is polled or queued (one with `default` never parks).
        crate::proc::assert_not_pinned();
    }
    if N == 0 {
        if has_default {
            return;
        }
        park_forever();
    }
    // Go's pollorder: a Fisher-Yates shuffle.
    let mut pollorder: [usize; N] = std::array::from_fn(|i| i);
    for i in (1..N).rev() {
        pollorder.swap(i, rand_below(i + 1));
    }
    // Go's lockorder: by channel address.
    let mut lockorder: [usize; N] = std::array::from_fn(|i| i);
    lockorder.sort_unstable_by_key(|&i| cases[i].lock().addr());

    let mut guards: [Option<MutexGuard<'a, ()>>; N] = std::array::from_fn(|_| None);
    let mut last = usize::MAX;
    for (k, &i) in lockorder.iter().enumerate() {
        let lock = cases[i].lock();
        if lock.addr() != last {
            guards[k] = Some(lock.lock());
            last = lock.addr();
        }
    }

    // Pass 1: poll in random order.
    for &i in &pollorder {
        // SAFETY: `guards` holds the lock of every case's channel.
        if unsafe { cases[i].poll() } {
            drop(guards);
            cases[i].wake_peer();
            return;
        }
    }
    if has_default {
        return;
    }

    // Pass 2: enqueue on every channel, in lock order, then park.
    let parking = Parking { core: WaitCore::new_shared() };
    for &i in &lockorder {
        // SAFETY: `guards` holds the lock of every case's channel.
        unsafe { cases[i].enqueue(&parking, i) };
    }
    drop(guards);
    parking.core.wait(WaitReason::Select);

    // Pass 3: dequeue the losers, complete the winner.
    let won = parking.core.selected().expect("select: woken without a selected case");
    for (i, case) in cases.iter_mut().enumerate() {
        if i != won {
            case.cancel();
        }
    }
    cases[won].complete();
}

/// Waits on several channel operations and runs the arm of the one that
/// completes (Go: `select`).
///
/// ```
/// use gc_runtime::{chan::channel, select};
///
/// let (tx1, rx1) = channel::<i32>(1);
/// let (tx2, rx2) = channel::<&str>(1);
/// tx2.send("hi");
/// let got = select! {
///     recv(rx1) -> v => format!("rx1: {v:?}"),
///     recv(rx2) -> v => format!("rx2: {v:?}"),
///     send(tx1, 5) => "sent 5".to_string(),
/// };
/// // Two cases are ready (rx2 has a value, tx1 has room): either may run.
/// assert!(got == "rx2: Some(\"hi\")" || got == "sent 5");
///
/// // With `default`, select never waits.
/// let (_tx, rx) = channel::<()>(0);
/// let waited = select! {
///     recv(rx) -> _ => true,
///     default => false,
/// };
/// assert!(!waited);
/// ```
///
/// Arms, separated by commas, in any order:
///
/// * `recv(rx) -> pat => expr`: receive from `rx` (a
///   [`Receiver`]); `pat` binds the `Option<T>` that
///   [`Receiver::recv`](crate::chan::Receiver::recv) would return (`None`:
///   closed and drained).
/// * `send(tx, value) => expr`: send `value` on `tx` (a
///   [`Sender`]); panics with `send on closed channel`
///   if the channel is closed, as Go does. If another arm wins, `value` is
///   dropped.
/// * `default => expr`: at most one; runs when no other arm can proceed at
///   once, so the select never waits.
///
/// Semantics are Go's: channel and value expressions are evaluated once, in
/// source order; if several arms can proceed, one is chosen uniformly at
/// random; otherwise the caller parks until one can (one waiter per arm, the
/// first to fire wins, the others are withdrawn). `select! {}` parks forever.
/// The whole `select!` is an expression whose value is the chosen arm's.
/// `break`, `continue`, `return` and `?` inside an arm act on the enclosing
/// code, since arms are not closures.
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(@acc [] [] $($tokens)*)
    };
}

/// The muncher behind [`select!`]; not an API.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // recv arms.
    (@acc [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)* (__case recv ($rx) ($p) $body)] [$($def)*] $($rest)*)
    };
    (@acc [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)* (__case recv ($rx) ($p) $body)] [$($def)*] $($rest)*)
    };
    (@acc [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)* (__case recv ($rx) ($p) { $body })] [$($def)*] $($rest)*)
    };
    (@acc [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(@acc [$($arms)* (__case recv ($rx) ($p) { $body })] [$($def)*])
    };
    // send arms.
    (@acc [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)* (__case send ($tx) ($v) $body)] [$($def)*] $($rest)*)
    };
    (@acc [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)* (__case send ($tx) ($v) $body)] [$($def)*] $($rest)*)
    };
    (@acc [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)* (__case send ($tx) ($v) { $body })] [$($def)*] $($rest)*)
    };
    (@acc [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) => $body:expr) => {
        $crate::__select_parse!(@acc [$($arms)* (__case send ($tx) ($v) { $body })] [$($def)*])
    };
    // default arm: at most one.
    (@acc [$($arms:tt)*] [$($def:tt)+] default => $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` arm")
    };
    (@acc [$($arms:tt)*] [] default => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)*] [$body] $($rest)*)
    };
    (@acc [$($arms:tt)*] [] default => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)*] [$body] $($rest)*)
    };
    (@acc [$($arms:tt)*] [] default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@acc [$($arms)*] [{ $body }] $($rest)*)
    };
    (@acc [$($arms:tt)*] [] default => $body:expr) => {
        $crate::__select_parse!(@acc [$($arms)*] [{ $body }])
    };
    // Done: build the cases, run the engine, dispatch on the fired case.
    (@acc [$(($id:ident $kind:ident ($a:expr) ($b:tt) $body:block))*] [$($def:tt)*]) => {{
        $( let mut $id = $crate::__select_parse!(@new $kind ($a) ($b)); )*
        $crate::chan::__select::select(
            [$( &mut $id as &mut dyn $crate::chan::__select::Case<'_> ),*],
            $crate::__select_parse!(@has_default $($def)*),
        );
        $( if $id.fired() { $crate::__select_parse!(@run $id $kind ($b) $body) } else )*
        { $crate::__select_parse!(@default $($def)*) }
    }};
    (@acc [$($arms:tt)*] [$($def:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(
            "select!: expected `recv(rx) -> pat => expr`, `send(tx, value) => expr` or `default => expr`"
        )
    };
    (@new recv ($rx:expr) ($p:tt)) => { $crate::chan::__select::RecvCase::new(&$rx) };
    (@new send ($tx:expr) ($v:tt)) => { $crate::chan::__select::SendCase::new(&$tx, $v) };
    (@run $id:ident recv ($p:pat) $body:block) => {{ let $p = $id.take(); $body }};
    (@run $id:ident send ($v:tt) $body:block) => {{ $id.finish(); $body }};
    (@has_default) => { false };
    (@has_default $def:tt) => { true };
    (@default) => { ::core::unreachable!("select!: no case fired") };
    (@default $def:block) => { $def };
}
