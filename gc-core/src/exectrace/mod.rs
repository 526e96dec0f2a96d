//! The execution trace (Go: `runtime/trace`): what the collector did, when,
//! and on which thread, written as Chrome trace-event JSON that Perfetto
//! (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! [`start`] opens the file and starts the writer thread; [`stop`] flushes
//! every buffer and closes the file. `TRICOLOR_TRACE=path` traces a whole
//! run: the first collection starts the trace and process exit stops it.
//!
//! The event model: an event is a `Record` on a *track*. Today a track is
//! an OS thread (`track.rs`); under the scheduler it becomes a G or a P, and
//! that file is the only one to change. Slices are recorded when they end,
//! as complete events (`ph: "X"`) carrying their start and duration, so a
//! slice can never be left open by a thread that stops tracing half-way.
//!
//! Invariants:
//! * Tracing off costs one relaxed load per event site (`on`); nothing
//!   else runs, and no clock is read.
//! * Recording takes no lock: each thread appends to its own buffer
//!   (`buffer.rs`); full buffers and, at [`stop`], the partial ones go to
//!   the writer thread, which alone touches the file.
//! * Recording never runs user code and never allocates from the GC heap, so
//!   it may run inside a critical section or with the world stopped.
//! * A write error (bad path, full disk, a file-size limit) ends tracing:
//!   later events are dropped, [`stop`] returns the error, and the program
//!   itself goes on unaffected.

mod buffer;
mod mmu;
mod track;
mod writer;

pub use mmu::mmu;

use core::sync::atomic::{AtomicBool, Ordering};
use parking_lot::Mutex;
use std::io;
use std::path::Path;
use std::time::Instant;

/// True while a trace is being written.
static ON: AtomicBool = AtomicBool::new(false);
/// The running trace.
static SESSION: Mutex<Option<writer::Writer>> = Mutex::new(None);
/// Time zero of every trace (process-wide, so timestamps of two traces of
/// one run are comparable).
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// What an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A slice of `dur_ns` that started at `ts_ns` (`ph: "X"`).
    Slice,
    /// An instant event (`ph: "i"`).
    Instant,
    /// A counter sample (`ph: "C"`): `arg` is the value.
    Counter,
}

/// One event, as recorded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    pub kind: Kind,
    pub name: &'static str,
    /// Category (`stw`, `mark`, `sweep`, `assist`, `heap`, `cycle`, `user`).
    pub cat: &'static str,
    pub track: u64,
    pub ts_ns: u64,
    pub dur_ns: u64,
    /// Counter value, or a slice's or instant's one argument (`arg_name`).
    pub arg: u64,
    pub arg_name: &'static str,
}

/// True while tracing: the one relaxed load every event site pays.
#[inline(always)]
pub(crate) fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since the trace epoch of `t`.
pub(crate) fn ns_of(t: Instant) -> u64 {
    t.saturating_duration_since(epoch()).as_nanos() as u64
}

/// Records a slice from `start` to `end` on the calling thread's track.
#[inline]
pub(crate) fn slice(cat: &'static str, name: &'static str, start: Instant, end: Instant) {
    slice_arg(cat, name, start, end, "", 0);
}

/// [`slice`] with one named argument.
#[inline]
pub(crate) fn slice_arg(
    cat: &'static str,
    name: &'static str,
    start: Instant,
    end: Instant,
    arg_name: &'static str,
    arg: u64,
) {
    if !on() {
        return;
    }
    let ts = ns_of(start);
    let dur = ns_of(end).saturating_sub(ts);
    buffer::push(Record {
        kind: Kind::Slice,
        name,
        cat,
        track: track::current(),
        ts_ns: ts,
        dur_ns: dur,
        arg,
        arg_name,
    });
}

/// Records an instant event now on the calling thread's track.
#[inline]
pub(crate) fn instant(cat: &'static str, name: &'static str, arg_name: &'static str, arg: u64) {
    if !on() {
        return;
    }
    let ts = ns_of(Instant::now());
    buffer::push(Record {
        kind: Kind::Instant,
        name,
        cat,
        track: track::current(),
        ts_ns: ts,
        dur_ns: 0,
        arg,
        arg_name,
    });
}

/// Records a counter sample now (a process-wide counter track per name).
#[inline]
pub(crate) fn counter(name: &'static str, value: u64) {
    if !on() {
        return;
    }
    let ts = ns_of(Instant::now());
    buffer::push(Record {
        kind: Kind::Counter,
        name,
        cat: "heap",
        track: 0,
        ts_ns: ts,
        dur_ns: 0,
        arg: value,
        arg_name: "",
    });
}

/// A slice that records itself when dropped (for phases with early exits).
pub(crate) struct SliceGuard {
    cat: &'static str,
    name: &'static str,
    start: Option<Instant>,
}

impl SliceGuard {
    /// Starts a slice if tracing is on (else the guard does nothing).
    #[inline]
    pub(crate) fn new(cat: &'static str, name: &'static str) -> SliceGuard {
        SliceGuard { cat, name, start: on().then(Instant::now) }
    }
}

impl Drop for SliceGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some(s) = self.start {
            slice(self.cat, self.name, s, Instant::now());
        }
    }
}

/// Starts writing an execution trace to `path` (Go: `trace.Start`). Fails,
/// changing nothing, if a trace is already running or the file cannot be
/// created.
///
/// ```no_run
/// gc_core::exectrace::start("gc-trace.json").expect("cannot trace");
/// // ... run the program ...
/// gc_core::exectrace::stop().expect("trace write failed");
/// ```
pub fn start(path: impl AsRef<Path>) -> io::Result<()> {
    let mut s = SESSION.lock();
    if s.is_some() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "tricolor-gc: an execution trace is already running"));
    }
    epoch();
    *s = Some(writer::Writer::start(path.as_ref())?);
    ON.store(true, Ordering::Release);
    Ok(())
}

/// Stops the trace, writes what every thread recorded, and closes the file
/// (Go: `trace.Stop`). Returns the first write error, if any (the events
/// after it were dropped), or an error if no trace was running.
pub fn stop() -> io::Result<()> {
    let mut s = SESSION.lock();
    let Some(w) = s.take() else {
        return Err(io::Error::other("tricolor-gc: no execution trace is running"));
    };
    ON.store(false, Ordering::Release);
    // Buffers still held by threads are drained by the writer: each thread's
    // buffer is shared with it (`buffer.rs`).
    w.finish()
}

/// True while a trace is running.
pub fn is_running() -> bool {
    on()
}

/// Starts the whole-run trace named by `TRICOLOR_TRACE`, once, and stops it
/// at process exit. Called at the first collection.
pub(crate) fn start_from_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Some(path) = std::env::var_os("TRICOLOR_TRACE") else { return };
        if path.is_empty() {
            return;
        }
        match start(&path) {
            Ok(()) => {
                extern "C" fn at_exit() {
                    if let Err(e) = stop() {
                        eprintln!("tricolor-gc: TRICOLOR_TRACE: {e}");
                    }
                }
                // SAFETY: registers a plain function; `atexit` has no other
                // precondition.
                unsafe { libc::atexit(at_exit) };
            }
            Err(e) => eprintln!("tricolor-gc: TRICOLOR_TRACE={}: {e}; tracing off", path.to_string_lossy()),
        }
    });
}
