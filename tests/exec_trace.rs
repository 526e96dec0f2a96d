//! The execution trace (`tricolor_gc::trace`, issue 13): a traced run under
//! `GODEBUG=gccheckmark=1` writes JSON that holds every event kind, whose
//! stops never overlap on a thread and add up to `MemStats::pause_total`;
//! bad paths and a file-size limit give errors, not crashes, and the program
//! goes on. Each test runs in a child process (`tests/child`), so its cycles
//! and its trace are its own.

mod child;

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tricolor_gc::{collect, mem_stats, Gc, Member, Trace};

#[derive(Trace)]
struct Node {
    left: Member<Node>,
    right: Member<Node>,
}

fn tree(d: u32) -> Gc<Node> {
    if d == 0 {
        return Gc::new(Node { left: Member::null(), right: Member::null() });
    }
    Gc::new(Node { left: Member::from(tree(d - 1)), right: Member::from(tree(d - 1)) })
}

#[derive(Trace)]
#[trace(no_pointers)]
struct WithDrop(#[allow(dead_code)] u64);
impl Drop for WithDrop {
    fn drop(&mut self) {}
}

/// A workload that makes every event kind: heap-triggered cycles with
/// assists (a live set and steady allocation), forced cycles, lazy and
/// background sweeping, drop glue and cleanups on the finalizer thread.
fn workload() {
    let live: Vec<Gc<Node>> = (0..8).map(|_| tree(12)).collect();
    for i in 0..2000 {
        let t = tree(9);
        drop(t);
        drop(Gc::new(WithDrop(i)));
        if i % 500 == 0 {
            let g = Gc::new(i);
            let _c = Gc::add_cleanup(&g, || {});
            drop(g);
            collect();
        }
    }
    drop(live);
    collect();
}

fn trace_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tricolor-exec-trace-{}-{name}.json", std::process::id()))
}

#[test]
fn traced_run_holds_every_event_kind_and_the_pauses() {
    if !child::is_child("traced_run_holds_every_event_kind_and_the_pauses") {
        child::run(
            "traced_run_holds_every_event_kind_and_the_pauses",
            &[("GODEBUG", "gccheckmark=1"), ("GOGC", "50")],
            Duration::from_secs(120),
        );
        return;
    }
    collect();
    let path = trace_path("full");
    let before = mem_stats().pause_total;
    tricolor_gc::trace::start(&path).expect("start");
    assert!(tricolor_gc::trace::is_running());
    workload();
    let after = mem_stats().pause_total;
    tricolor_gc::trace::stop().expect("stop");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let v: Value = serde_json::from_str(&text).expect("the trace is JSON");
    let events = v["traceEvents"].as_array().expect("traceEvents");

    let mut names: HashMap<(String, String), usize> = HashMap::new();
    let mut stops: HashMap<u64, Vec<(f64, f64)>> = HashMap::new();
    let mut stop_sum_us = 0.0;
    for e in events {
        let ph = e["ph"].as_str().unwrap();
        let name = e["name"].as_str().unwrap().to_string();
        *names.entry((ph.to_string(), name.clone())).or_default() += 1;
        if ph == "X" && e["cat"] == "stw" && name.starts_with("stop:") {
            let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
            stops.entry(e["tid"].as_u64().unwrap()).or_default().push((ts, ts + dur));
            stop_sum_us += dur;
        }
    }
    let has = |ph: &str, name: &str| names.get(&(ph.to_string(), name.to_string())).copied().unwrap_or(0) > 0;
    for name in [
        "stop: sweep termination",
        "stop: mark termination",
        "time to safepoint",
        "concurrent mark",
        "mark: roots",
        "mark worker",
        "mark assist",
        "ragged barrier: flush buffers",
        "sweep: background",
        "cleanup",
    ] {
        assert!(has("X", name), "no slice {name:?} in {names:?}");
    }
    assert!(
        names.keys().any(|(ph, n)| ph == "X" && n.starts_with("sweep: lazy") || n.starts_with("sweep: reclaim")),
        "no lazy sweep"
    );
    assert!(names.keys().any(|(ph, n)| ph == "X" && n.ends_with("WithDrop")), "no drop glue slice");
    for c in ["heap_live", "goal", "trigger", "marked"] {
        assert!(has("C", c), "no counter {c}");
    }
    assert!(has("i", "cycle start: forced") && has("i", "cycle start: heap"), "cycle starts: {names:?}");
    assert!(has("M", "thread_name"));
    for (tid, mut v) in stops {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in v.windows(2) {
            assert!(w[1].0 >= w[0].1 - 0.001, "overlapping stops on track {tid}: {w:?}");
        }
    }
    let want_us = (after - before).as_nanos() as f64 / 1000.0;
    assert!(want_us > 0.0);
    assert!(
        (stop_sum_us - want_us).abs() <= want_us * 0.01 + 0.01,
        "stops sum to {stop_sum_us} µs, pause_total grew {want_us} µs"
    );
    // The MMU of the real trace is a utilisation.
    let pauses: Vec<(f64, f64)> = vec![];
    assert_eq!(tricolor_gc::trace::mmu(&pauses, (0.0, 1.0), 0.5), 1.0);
}

#[test]
fn bad_paths_and_misuse_are_errors() {
    assert!(tricolor_gc::trace::start("/nonexistent-dir/sub/trace.json").is_err());
    assert!(!tricolor_gc::trace::is_running());
    assert!(tricolor_gc::trace::stop().is_err(), "stop without a trace");
    let path = trace_path("twice");
    tricolor_gc::trace::start(&path).unwrap();
    let again = tricolor_gc::trace::start(&path);
    assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    collect();
    tricolor_gc::trace::stop().unwrap();
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_file_size_limit_is_an_error_and_the_run_goes_on() {
    if !child::is_child("a_file_size_limit_is_an_error_and_the_run_goes_on") {
        child::run("a_file_size_limit_is_an_error_and_the_run_goes_on", &[], Duration::from_secs(120));
        return;
    }
    // SAFETY: plain syscalls: ignore SIGXFSZ (so a write past the limit fails
    // with EFBIG instead of killing the process) and cap file sizes at 4 KiB.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let lim = libc::rlimit { rlim_cur: 4096, rlim_max: libc::RLIM_INFINITY };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
    let path = trace_path("limited");
    tricolor_gc::trace::start(&path).unwrap();
    workload();
    let r = tricolor_gc::trace::stop();
    let _ = std::fs::remove_file(&path);
    assert!(r.is_err(), "a write past RLIMIT_FSIZE must be reported");
    assert!(!tricolor_gc::trace::is_running(), "tracing stays off after the error");
    // The program is unaffected.
    let t = tree(10);
    collect();
    assert!(t.left.get().is_some());
}
