//! Go's channels: typed, FIFO, unbuffered or buffered, with `close`.
//!
//! [`channel::<T>(cap)`](channel) is Go's `make(chan T, cap)`. It returns
//! the two directions of the channel as separate handles, as Go's
//! directional types `chan<- T` ([`Sender`]) and `<-chan T` ([`Receiver`]);
//! both are `Clone` (any number of senders and receivers) and `Send + Sync`
//! when `T: Send`.
//!
//! ```
//! use gc_runtime::chan::channel;
//!
//! let (tx, rx) = channel::<u32>(0); // unbuffered: a send waits for a receiver
//! let producer = std::thread::spawn(move || {
//!     for i in 0..3 {
//!         tx.send(i);
//!     }
//!     tx.close(); // Go's close(ch): receivers drain, then get None
//! });
//! let got: Vec<u32> = rx.iter().collect(); // `for v in &rx` until closed
//! assert_eq!(got, [0, 1, 2]);
//! producer.join().unwrap();
//! ```
//!
//! # Semantics (Go's)
//!
//! * **Unbuffered** (`cap == 0`): a [`send`](Sender::send) returns only
//!   after a receiver took the value (a rendezvous). **Buffered**: a send
//!   waits only while `cap` values are buffered; values come out in the order
//!   they went in.
//! * [`send`](Sender::send) and [`recv`](Receiver::recv) park the calling G
//!   (on a scheduler thread) or OS thread (outside a runtime) until they can
//!   proceed. `recv` returns `None` once the channel is closed *and* drained.
//! * [`try_send`](Sender::try_send) and [`try_recv`](Receiver::try_recv)
//!   never wait: Go's `select` with a `default` case.
//! * [`close`](Sender::close) is on the sending side, as in Go (closing a
//!   receive-only channel does not compile there either). After it,
//!   receivers get the buffered values and then `None`; a sender parked on
//!   the channel, and any later `send`, panics with `send on closed channel`;
//!   closing again panics with `close of closed channel`.
//! * Values are moved, never copied or cloned. A parked sender's value goes
//!   straight into the parked receiver (Go's direct hand-off), so an
//!   unbuffered transfer costs one park and one wakeup.
//! * For several operations at once, with a random choice among the ready
//!   ones, see [`select!`](crate::select!).
//!
//! # Dropping handles
//!
//! Dropping handles never closes the channel: as in Go, closing is an
//! explicit act of the sender, and `None` from `recv` always means somebody
//! called `close`. When every handle is gone the channel is freed with its
//! buffered values (each dropped once). A receiver parked on a channel that
//! nobody can send to any more (or a sender that nobody will receive from)
//! stays parked: under the runtime that is a deadlock it reports (`all
//! goroutines are asleep - deadlock!` when nothing else can run); on plain
//! threads the thread sleeps forever. Close channels whose readers range
//! over them.
//!
//! # Cost
//!
//! One short lock per operation (the channel's mutex, never held while
//! parked or while user code runs), and on the blocking path one waiter
//! record (Go's `sudog`) and one park. See `benches/chan.rs` for figures.

pub(crate) mod loom_sync;
mod raw;
pub(crate) mod waiter;

use std::fmt;

use loom_sync::Arc;
use raw::Shared;
pub(crate) use raw::{RecvPoll, SendPoll};

#[cfg(loom)]
#[doc(hidden)]
pub use raw::set_fault_unlock_before_enqueue as __loom_set_fault_unlock_before_enqueue;
pub(crate) use raw::ChanLock;
pub(crate) use waiter::{WaitCore, Waiter};

pub(crate) use self::loom_sync as facade;

/// The hidden plumbing of [`select!`](crate::select!); not an API.
#[doc(hidden)]
pub mod __select {
    pub use crate::select::{select, Case, RecvCase, SendCase};
}

/// Creates a channel of capacity `cap` (Go: `make(chan T, cap)`); `cap == 0`
/// is an unbuffered channel.
///
/// ```
/// let (tx, rx) = gc_runtime::chan::channel::<String>(2);
/// tx.send("a".to_string());
/// tx.send("b".to_string()); // does not wait: the buffer has room for two
/// assert_eq!((rx.len(), rx.cap()), (2, 2));
/// assert_eq!(rx.recv().as_deref(), Some("a"));
/// ```
pub fn channel<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared::new(cap));
    (Sender { shared: shared.clone() }, Receiver { shared })
}

/// The sending side of a channel (Go: `chan<- T`).
pub struct Sender<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

/// The receiving side of a channel (Go: `<-chan T`).
pub struct Receiver<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver { shared: self.shared.clone() }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, cap, closed) = self.shared.locked(|s| (s.len(), s.cap(), s.is_closed()));
        f.debug_struct("Sender").field("len", &len).field("cap", &cap).field("closed", &closed).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, cap, closed) = self.shared.locked(|s| (s.len(), s.cap(), s.is_closed()));
        f.debug_struct("Receiver").field("len", &len).field("cap", &cap).field("closed", &closed).finish()
    }
}

/// Why [`Sender::try_send`] failed; the value comes back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// No receiver is waiting and the buffer is full (or there is none).
    Full(T),
    /// The channel is closed (a blocking `send` would panic).
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// Whether the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the channel was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// Nothing buffered and no sender waiting; the channel is open.
    Empty,
    /// The channel is closed and drained.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> Sender<T> {
    /// Sends `v`, parking until a receiver takes it (unbuffered) or the
    /// buffer has room (Go: `ch <- v`).
    ///
    /// # Panics
    ///
    /// `send on closed channel` if the channel is closed before or while
    /// this waits; the value is dropped.
    pub fn send(&self, v: T) {
        self.shared.send(v);
    }

    /// Sends `v` only if that needs no wait: a receiver is parked, or the
    /// buffer has room (Go: `select { case ch <- v: default: }`).
    ///
    /// ```
    /// use gc_runtime::chan::{channel, TrySendError};
    ///
    /// let (tx, rx) = channel(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// tx.close();
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// assert_eq!(rx.recv(), Some(1));
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        match self.shared.try_send(v) {
            Ok(()) => Ok(()),
            Err(SendPoll::Closed(v)) => Err(TrySendError::Closed(v)),
            Err(SendPoll::Full(v)) => Err(TrySendError::Full(v)),
            Err(SendPoll::Sent(_)) => unreachable!("try_send maps Sent to Ok"),
        }
    }

    /// Closes the channel (Go: `close(ch)`): receivers drain what is
    /// buffered, then get `None`; parked senders panic.
    ///
    /// # Panics
    ///
    /// `close of closed channel` if it was closed already.
    pub fn close(&self) {
        self.shared.close();
    }

    /// Whether the channel has been closed.
    pub fn is_closed(&self) -> bool {
        self.shared.locked(|s| s.is_closed())
    }

    /// Values buffered now (Go: `len(ch)`); 0 for an unbuffered channel.
    pub fn len(&self) -> usize {
        self.shared.locked(|s| s.len())
    }

    /// Whether no value is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity (Go: `cap(ch)`).
    pub fn cap(&self) -> usize {
        self.shared.locked(|s| s.cap())
    }

    /// Whether `self` and `other` are handles of the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one is there (Go: `v, ok := <-ch`);
    /// `None` once the channel is closed and every buffered value was taken.
    pub fn recv(&self) -> Option<T> {
        self.shared.recv()
    }

    /// Receives a value only if that needs no wait.
    ///
    /// ```
    /// use gc_runtime::chan::{channel, TryRecvError};
    ///
    /// let (tx, rx) = channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(7);
    /// tx.close();
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.shared.try_recv() {
            RecvPoll::Got(v, _) => Ok(v),
            RecvPoll::Closed => Err(TryRecvError::Closed),
            RecvPoll::Empty => Err(TryRecvError::Empty),
        }
    }

    /// An iterator that [`recv`](Self::recv)s until the channel is closed
    /// and drained (Go: `for v := range ch`).
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the values that can be received without waiting.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Whether the channel has been closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.shared.locked(|s| s.is_closed())
    }

    /// Values buffered now (Go: `len(ch)`).
    pub fn len(&self) -> usize {
        self.shared.locked(|s| s.len())
    }

    /// Whether no value is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity (Go: `cap(ch)`).
    pub fn cap(&self) -> usize {
        self.shared.locked(|s| s.cap())
    }

    /// Whether `self` and `other` are handles of the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Blocking iterator of [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv()
    }
}

/// Non-blocking iterator of [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator (`for v in rx`).
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
