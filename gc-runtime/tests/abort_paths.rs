//! The runtime's abort paths, each in a child process (this test binary
//! re-executed with `GC_RUNTIME_ABORT_SCENARIO` set): a G's stack overflow
//! hits its guard page and ends the process with `fatal error: goroutine
//! stack overflow`; an ordinary segfault outside any G stack keeps the
//! default action (killed by SIGSEGV, no goroutine message).

use gc_runtime::{go, Runtime};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

const SCENARIO: &str = "GC_RUNTIME_ABORT_SCENARIO";

fn rt() -> Runtime {
    // SAFETY: nothing thread-bound is held across runtime calls.
    unsafe { Runtime::builder().procs(2).stack_size(64 * 1024).allow_migration() }.build().unwrap()
}

fn run_child(name: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, name)
        .output()
        .unwrap();
    (out.status.signal(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[inline(never)]
#[allow(unconditional_recursion)] // the point: recurse until the guard page
fn recurse(n: u64, buf: &mut [u8; 512]) -> u64 {
    let mut local = [0u8; 512];
    local[(n % 512) as usize] = buf[(n % 512) as usize].wrapping_add(1);
    let r = recurse(n + 1, std::hint::black_box(&mut local));
    r + u64::from(local[0])
}

#[test]
fn stack_overflow_in_a_g_aborts_with_gos_message() {
    if std::env::var_os(SCENARIO).is_some() {
        let r = rt();
        r.block_on(|| {
            go(|| recurse(0, &mut [0; 512])).join().ok();
        });
        unreachable!("the overflow must abort");
    }
    let (sig, stderr) = run_child("stack_overflow_in_a_g_aborts_with_gos_message");
    assert_eq!(sig, Some(libc::SIGABRT), "child was not aborted; stderr:\n{stderr}");
    assert!(stderr.contains("fatal error: goroutine stack overflow"), "stderr:\n{stderr}");
}

#[test]
fn other_segfaults_keep_the_default_action() {
    if std::env::var_os(SCENARIO).is_some() {
        let r = rt();
        r.block_on(|| {
            go(|| {
                // SAFETY: deliberately faulting on an unmapped address, to
                // check the handler passes non-guard faults on.
                unsafe { std::ptr::write_volatile(16 as *mut u8, 1) };
            })
            .join()
            .ok();
        });
        unreachable!("the fault must kill the process");
    }
    let (sig, stderr) = run_child("other_segfaults_keep_the_default_action");
    assert_eq!(sig, Some(libc::SIGSEGV), "stderr:\n{stderr}");
    assert!(!stderr.contains("goroutine stack overflow"), "stderr:\n{stderr}");
}
