//! GOGC / GODEBUG as a user sets them: each case runs this test binary again
//! as a child process with the variable set (the configuration is read once
//! per process).

use std::process::Command;
use tricolor_gc::{mem_stats, Gc, Member, Trace};

const CHILD: &str = "TRICOLOR_ENV_CHILD";

#[derive(Trace)]
struct Node {
    next: Member<Node>,
    _pad: [u64; 4],
}

fn churn() -> u64 {
    churn_n(300_000)
}

/// Allocates `n` nodes and returns the cycles completed. A heap-triggered
/// cycle runs beside the allocating thread and may still be marking when
/// the loop ends (on a loaded machine it was, once), so this waits up to
/// 1 s for one to complete before it reports none.
fn churn_n(n: usize) -> u64 {
    for _ in 0..n {
        let _ = Gc::new(Node { next: Member::null(), _pad: [0; 4] });
    }
    let t0 = std::time::Instant::now();
    while mem_stats().num_gc == 0 && t0.elapsed() < std::time::Duration::from_secs(1) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    mem_stats().num_gc
}

fn child(test: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([test, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD, "1");
    c.env_remove("GOGC").env_remove("GODEBUG");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn gogc_off_disables_collection_by_allocation() {
    if std::env::var_os(CHILD).is_some() {
        println!("cycles={}", churn());
        return;
    }
    let (ok, out, err) = child("gogc_off_disables_collection_by_allocation", &[("GOGC", "off")]);
    assert!(ok, "{err}");
    assert!(out.contains("cycles=0"), "GOGC=off still collected: {out}");
    let (ok, out, err) = child("gogc_off_disables_collection_by_allocation", &[("GOGC", "100")]);
    assert!(ok, "{err}");
    assert!(!out.contains("cycles=0"), "GOGC=100 never collected: {out}");
}

#[test]
fn bad_gogc_warns_once_and_uses_the_default() {
    if std::env::var_os(CHILD).is_some() {
        println!("cycles={}", churn());
        return;
    }
    let (ok, out, err) = child("bad_gogc_warns_once_and_uses_the_default", &[("GOGC", "lots")]);
    assert!(ok, "{err}");
    assert_eq!(err.matches("GOGC=\"lots\"").count(), 1, "exactly one warning: {err}");
    assert!(!out.contains("cycles=0"), "the default (100) collects: {out}");
}

#[test]
fn gctrace_prints_a_line_per_cycle() {
    if std::env::var_os(CHILD).is_some() {
        churn();
        tricolor_gc::collect();
        return;
    }
    let (ok, _, err) = child("gctrace_prints_a_line_per_cycle", &[("GODEBUG", "gctrace=1")]);
    assert!(ok, "{err}");
    assert!(err.lines().any(|l| l.starts_with("gc 1 @") && l.contains("MB goal")), "{err}");
    assert!(err.lines().any(|l| l.ends_with("(forced)")), "collect() is marked forced: {err}");
}

#[test]
fn gomemlimit_collects_even_with_gogc_off() {
    if std::env::var_os(CHILD).is_some() {
        // 1M objects of 48 bytes: three times the limit.
        println!("cycles={} limit={}", churn_n(1_000_000), tricolor_gc::set_memory_limit(-1));
        return;
    }
    let (ok, out, err) = child("gomemlimit_collects_even_with_gogc_off", &[("GOGC", "off"), ("GOMEMLIMIT", "16MiB")]);
    assert!(ok, "{err}");
    assert!(!out.contains("cycles=0"), "the memory limit never triggered a cycle: {out}");
    assert!(out.contains(&format!("limit={}", 16 << 20)), "{out}");
}

/// `gcstoptheworld=1` marks inside one stop (so no ragged-barrier restarts
/// and no concurrent phase), `gcpacertrace=1` prints the pacer's state per
/// cycle, and `clobberfree=1` keeps a correct program correct (freed slots
/// are overwritten, live ones untouched).
#[test]
fn stop_the_world_mode_pacer_trace_and_clobberfree() {
    if std::env::var_os(CHILD).is_some() {
        let keep = Gc::new(Node { next: Member::null(), _pad: [7; 4] });
        assert!(churn() > 0);
        tricolor_gc::collect();
        assert_eq!(keep._pad, [7; 4], "a live object was clobbered");
        return;
    }
    let (ok, _, err) = child(
        "stop_the_world_mode_pacer_trace_and_clobberfree",
        &[("GODEBUG", "gcstoptheworld=1,gcpacertrace=1,gctrace=1,tricolorgctrace=1,clobberfree=1")],
    );
    assert!(ok, "child failed:\n{err}");
    let gc_lines = err.lines().filter(|l| l.starts_with("gc ")).count();
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("tricolor-gc ")).collect();
    assert!(gc_lines > 0 && ours.len() == gc_lines, "a gctrace and a tricolorgctrace line per cycle:\n{err}");
    assert!(ours.iter().all(|l| l.contains(" 0 restarts")), "restarts in stop-the-world mode:\n{err}");
    assert!(err.lines().any(|l| l.starts_with("pacer: marked ")), "no gcpacertrace line:\n{err}");
}
