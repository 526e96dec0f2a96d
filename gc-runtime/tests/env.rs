//! Environment knobs, each in a child process (this binary re-executed
//! with the variable set): `GOMAXPROCS` (parsed by gc-core's env module: a
//! bad value warns once and falls back), `GODEBUG=schedtrace=X` (Go's
//! `SCHED` line from sysmon every X ms) and `scheddetail=1`.

use gc_runtime::{go, sleep, Runtime};
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "GC_RUNTIME_ENV_CHILD";

fn child(name: &str, vars: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([name, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD, "1");
    for (k, v) in vars {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rt() -> Runtime {
    // SAFETY: nothing thread-bound is held across runtime calls.
    unsafe { Runtime::builder().allow_migration() }.build().unwrap()
}

#[test]
fn gomaxprocs_env_sets_the_default_procs() {
    if std::env::var_os(CHILD).is_some() {
        println!("procs={}", rt().procs());
        return;
    }
    let (ok, out, _) = child("gomaxprocs_env_sets_the_default_procs", &[("GOMAXPROCS", "3")]);
    assert!(ok && out.contains("procs=3"), "{out}");
    let (ok, out, err) = child("gomaxprocs_env_sets_the_default_procs", &[("GOMAXPROCS", "zero")]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(ok && out.contains(&format!("procs={cpus}")), "{out}");
    assert!(err.contains("GOMAXPROCS=\"zero\""), "one warning: {err}");
}

#[test]
fn schedtrace_prints_gos_sched_lines() {
    if std::env::var_os(CHILD).is_some() {
        // SAFETY: nothing thread-bound is held across runtime calls.
        let r = unsafe { Runtime::builder().procs(2).allow_migration() }.build().unwrap();
        r.block_on(|| {
            let hs: Vec<_> = (0..4).map(|_| go(|| sleep(Duration::from_millis(150)))).collect();
            for h in hs {
                h.join().unwrap();
            }
        });
        return;
    }
    let (ok, _, err) = child("schedtrace_prints_gos_sched_lines", &[("GODEBUG", "schedtrace=20")]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("SCHED ")).collect();
    assert!(lines.len() >= 3, "expected SCHED lines every 20 ms:\n{err}");
    for l in &lines {
        let rest = l.strip_prefix("SCHED ").unwrap();
        let (ms, rest) = rest.split_once("ms: ").expect("SCHED <n>ms: ");
        assert!(ms.parse::<u64>().is_ok(), "{l}");
        assert!(rest.starts_with("gomaxprocs=2 idleprocs="), "{l}");
        assert!(
            rest.contains(" threads=") && rest.contains(" spinningthreads=") && rest.contains(" needspinning="),
            "{l}"
        );
        assert!(rest.contains(" idlethreads=") && rest.contains(" runqueue="), "{l}");
        let q = &rest[rest.find('[').expect("[per-P queues]")..];
        assert_eq!(q.trim_matches(|c| c == '[' || c == ']').split(' ').count(), 2, "{l}");
    }
    let (ok, _, err) = child("schedtrace_prints_gos_sched_lines", &[("GODEBUG", "schedtrace=20,scheddetail=1")]);
    assert!(ok, "{err}");
    assert!(err.contains(" gcwaiting=") && err.contains("  P0: status=") && err.contains("  M"), "{err}");
    // Go's G lines: status 4 (_Gwaiting) with the wait reason.
    assert!(err.contains(": status=4(sleep) m=-1 lockedm=-1"), "{err}");
    assert!(err.contains("  G1: status=4(JoinHandle.join) m=-1"), "{err}");
    let (ok, _, err) = child("schedtrace_prints_gos_sched_lines", &[("GODEBUG", "schedtrace=x")]);
    assert!(ok && !err.contains("SCHED "), "{err}");
    assert_eq!(err.matches("ignoring GODEBUG schedtrace=\"x\"").count(), 1, "{err}");
}
