//! The writer thread of the execution trace: drains the per-thread buffers
//! into a Chrome trace-event JSON file.
//!
//! Invariants:
//! * Only this thread touches the file. The first write error is kept and
//!   switches tracing off; events after it are drained and dropped, so the
//!   buffers never grow without bound.
//! * The file is a complete JSON document once `finish` returns Ok: the
//!   events, then one metadata event per track naming it, then the closing
//!   bracket.

use super::{buffer, track, Kind, Record};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the writer drains the buffers.
const TICK: Duration = Duration::from_millis(50);

/// The running writer.
pub(super) struct Writer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<io::Result<()>>,
}

impl Writer {
    /// Creates the file and starts the writer thread.
    pub(super) fn start(path: &Path) -> io::Result<Writer> {
        let file = File::create(path)?;
        // Events recorded before this trace (after the last one stopped)
        // are not part of it.
        let mut stale = Vec::new();
        buffer::drain(&mut stale);
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        let (stop, rx) = mpsc::channel();
        let thread = std::thread::Builder::new().name("tricolor-gc-trace".into()).spawn(move || run(out, rx))?;
        Ok(Writer { stop, thread })
    }

    /// Drains the last events, closes the document and the file, and
    /// returns the first error.
    pub(super) fn finish(self) -> io::Result<()> {
        let _ = self.stop.send(());
        match self.thread.join() {
            Ok(r) => r,
            Err(_) => Err(io::Error::other("tricolor-gc: the trace writer thread panicked")),
        }
    }
}

fn run(mut out: BufWriter<File>, stop: mpsc::Receiver<()>) -> io::Result<()> {
    let mut batch = Vec::new();
    let mut first = true;
    let mut err: Option<io::Error> = None;
    loop {
        let last = !matches!(stop.recv_timeout(TICK), Err(mpsc::RecvTimeoutError::Timeout));
        batch.clear();
        buffer::drain(&mut batch);
        if err.is_none() {
            if let Err(e) = write_batch(&mut out, &batch, &mut first) {
                super::ON.store(false, Ordering::Release);
                err = Some(e);
            }
        }
        if last {
            break;
        }
    }
    if let Some(e) = err {
        return Err(e);
    }
    for (id, name) in track::tracks() {
        sep(&mut out, &mut first)?;
        write!(out, "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{id},\"args\":{{\"name\":")?;
        json_str(&mut out, &name)?;
        out.write_all(b"}}")?;
    }
    sep(&mut out, &mut first)?;
    out.write_all(b"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"tricolor-gc\"}}")?;
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    out.get_ref().sync_data()
}

fn sep(out: &mut impl Write, first: &mut bool) -> io::Result<()> {
    if !*first {
        out.write_all(b",\n")?;
    }
    *first = false;
    Ok(())
}

/// Microseconds with nanosecond precision, as Chrome's `ts` and `dur` want.
fn us(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

fn write_batch(out: &mut impl Write, batch: &[Record], first: &mut bool) -> io::Result<()> {
    for r in batch {
        sep(out, first)?;
        out.write_all(b"{\"name\":")?;
        json_str(out, r.name)?;
        write!(out, ",\"cat\":\"{}\",\"pid\":1,\"tid\":{},\"ts\":{}", r.cat, r.track, us(r.ts_ns))?;
        match r.kind {
            Kind::Slice => {
                write!(out, ",\"ph\":\"X\",\"dur\":{}", us(r.dur_ns))?;
                if !r.arg_name.is_empty() {
                    write!(out, ",\"args\":{{\"{}\":{}}}", r.arg_name, r.arg)?;
                }
            }
            Kind::Instant => {
                out.write_all(b",\"ph\":\"i\",\"s\":\"t\"")?;
                if !r.arg_name.is_empty() {
                    write!(out, ",\"args\":{{\"{}\":{}}}", r.arg_name, r.arg)?;
                }
            }
            Kind::Counter => {
                write!(out, ",\"ph\":\"C\",\"args\":{{\"value\":{}}}", r.arg)?;
            }
        }
        out.write_all(b"}")?;
    }
    Ok(())
}

/// Writes `s` as a JSON string.
fn json_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    for c in s.chars() {
        match c {
            '"' => out.write_all(b"\\\"")?,
            '\\' => out.write_all(b"\\\\")?,
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32)?,
            c => write!(out, "{c}")?,
        }
    }
    out.write_all(b"\"")
}
