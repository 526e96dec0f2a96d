//! Rows 17 and 18 of docs/pointer-model.md: a panic inside `trace` during
//! adoption, or inside drop glue at sweep, aborts the process with a clear
//! message instead of unwinding through a half-built or half-swept heap; and
//! heap exhaustion fails with a clear "out of memory" message, never silent
//! corruption. Each scenario runs in a child process (this test binary
//! re-executed).

use std::process::Command;
use tricolor_gc::{Gc, Member, PointerMap, Trace, TraceLayout, Tracer};

const SCENARIO: &str = "TRICOLOR_ABORT_SCENARIO";

struct PanicsInTrace {
    _kids: Vec<Member<PanicsInTrace>>,
}
// SAFETY: deliberately broken for the test: panics instead of tracing.
unsafe impl Trace for PanicsInTrace {
    fn trace(&self, _: &mut Tracer<'_>) {
        panic!("trace panicked");
    }
}
// SAFETY: has pointers; no fixed map, so adoption calls `trace`.
unsafe impl TraceLayout for PanicsInTrace {
    const NO_POINTERS: bool = false;
    const POINTER_MAP: PointerMap = PointerMap::OPAQUE;
}

/// Traces normally until armed, then panics (so adoption succeeds and the
/// marker hits the panic).
struct PanicsWhenArmed {
    kids: Vec<Member<PanicsWhenArmed>>,
}
static ARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
// SAFETY: deliberately broken once armed: panics instead of tracing.
unsafe impl Trace for PanicsWhenArmed {
    fn trace(&self, t: &mut Tracer<'_>) {
        if ARMED.load(std::sync::atomic::Ordering::Relaxed) {
            panic!("trace panicked");
        }
        self.kids.trace(t);
    }
}
// SAFETY: has pointers; no fixed map, so the marker calls `trace`.
unsafe impl TraceLayout for PanicsWhenArmed {
    const NO_POINTERS: bool = false;
    const POINTER_MAP: PointerMap = PointerMap::OPAQUE;
}

#[derive(Trace)]
#[trace(no_pointers)]
struct PanicsInDrop(#[allow(dead_code)] u8);
impl Drop for PanicsInDrop {
    fn drop(&mut self) {
        panic!("drop panicked");
    }
}

fn run_child(name: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, name)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_aborted(name: &str, message: &str) {
    let (code, stderr) = run_child(name);
    assert_eq!(code, None, "child exited normally instead of aborting; stderr:\n{stderr}");
    assert!(stderr.contains(message), "missing message {message:?} in:\n{stderr}");
}

#[test]
fn panic_in_trace_during_adoption_aborts() {
    if std::env::var_os(SCENARIO).is_some() {
        let _ = Gc::new(PanicsInTrace { _kids: Vec::new() });
        return;
    }
    assert_aborted("panic_in_trace_during_adoption_aborts", "panic in Trace::trace during adoption");
}

#[test]
fn panic_in_trace_during_marking_aborts() {
    if std::env::var_os(SCENARIO).is_some() {
        let g = Gc::new(PanicsWhenArmed { kids: Vec::new() });
        ARMED.store(true, std::sync::atomic::Ordering::Relaxed);
        tricolor_gc::collect(); // the background marker scans `g`
        drop(g);
        return;
    }
    assert_aborted("panic_in_trace_during_marking_aborts", "panic in Trace::trace during marking of");
}

#[test]
fn panic_in_drop_glue_at_sweep_aborts() {
    if std::env::var_os(SCENARIO).is_some() {
        drop(Gc::new(PanicsInDrop(1)));
        tricolor_gc::collect();
        return;
    }
    assert_aborted("panic_in_drop_glue_at_sweep_aborts", "panic while running the drop glue of");
}

#[test]
fn heap_exhaustion_fails_with_a_clear_message() {
    if std::env::var_os(SCENARIO).is_some() {
        // Cap the address space, then keep allocating live 1 MiB objects
        // until the OS refuses another arena.
        let limit = libc::rlimit { rlim_cur: 1 << 30, rlim_max: 1 << 30 };
        // SAFETY: setrlimit with a valid struct; affects only this child.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
        let mut keep = Vec::new();
        loop {
            keep.push(Gc::from_vec(vec![7u8; 1 << 20]));
        }
    }
    assert_aborted("heap_exhaustion_fails_with_a_clear_message", "out of memory");
}
