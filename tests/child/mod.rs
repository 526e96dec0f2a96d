//! Runs one test of the current test binary alone in a child process (the
//! binary re-executed with `--exact --test-threads=1`), so that a check of a
//! process-wide statistic (cycle counts, pin waits) sees only that test's
//! doing, and a deadlock fails after a time limit instead of hanging the run.
//! Included by test files with `mod child;`.
#![allow(dead_code)] // each test file uses part of this module

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child to the name of the test it runs.
const VAR: &str = "TRICOLOR_CHILD_TEST";

/// True in the child process that [`run`] started for `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(VAR).is_ok_and(|v| v == test)
}

/// Runs `test` (its name within its file, as the harness prints it) alone in
/// a child process with the extra environment `env`, and returns the child's
/// stderr. Panics, with the child's output, if the child fails, runs no test,
/// or is still running after `limit` (then it is killed: a deadlock);
/// `TRICOLOR_CHILD_TIMEOUT_SECS` overrides `limit`.
pub fn run(test: &str, env: &[(&str, &str)], limit: Duration) -> String {
    let limit = std::env::var("TRICOLOR_CHILD_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(limit, Duration::from_secs);
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(VAR, test)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the test binary as a child");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        // Polls a process, not a thread handshake: std has no wait-with-timeout.
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    let shown = format!("--- child stdout:\n{stdout}\n--- child stderr:\n{stderr}");
    let Some(status) = status else {
        panic!("{test}: the child was still running after {limit:?} (deadlock?) and was killed\n{shown}");
    };
    assert!(status.success(), "{test}: the child failed ({status})\n{shown}");
    assert!(
        stdout.contains("running 1 test") && stdout.contains("test result: ok. 1 passed"),
        "{test}: the child did not run exactly this one test\n{shown}"
    );
    stderr
}
