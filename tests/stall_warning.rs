//! A stop of the world stuck behind a thread that blocks inside a pin says
//! so on stderr after 2 s, once, and keeps waiting: the collection finishes
//! when the pin ends. (A pin that blocks on something that waits for the
//! collection is a deadlock the library cannot break; the warning names the
//! cause instead of hanging silently.) The scenario runs in a child process
//! (this test binary re-executed) so its stderr can be read.

use std::process::Command;
use std::time::{Duration, Instant};

const SCENARIO: &str = "TRICOLOR_STALL_SCENARIO";

#[test]
fn a_stop_stuck_behind_a_blocked_pin_warns_and_then_completes() {
    if std::env::var_os(SCENARIO).is_some() {
        let (tx, rx) = std::sync::mpsc::channel();
        let pinned = std::thread::spawn(move || {
            tricolor_gc::pin(|_| {
                tx.send(()).unwrap();
                // Blocks inside the pin: what the warning is about.
                std::thread::sleep(Duration::from_millis(3000));
            });
        });
        rx.recv().unwrap();
        let before = tricolor_gc::mem_stats().num_gc;
        let t0 = Instant::now();
        tricolor_gc::collect();
        eprintln!("collect returned after {} ms", t0.elapsed().as_millis());
        assert!(tricolor_gc::mem_stats().num_gc > before);
        pinned.join().unwrap();
        return;
    }
    let name = "a_stop_stuck_behind_a_blocked_pin_warns_and_then_completes";
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child failed; stderr:\n{stderr}");
    let warning = "a stop of the world has waited 2 s for a thread inside a pin";
    assert_eq!(stderr.matches(warning).count(), 1, "expected the warning once in:\n{stderr}");
    assert!(stderr.contains("collect returned after"), "collect did not finish:\n{stderr}");
}
