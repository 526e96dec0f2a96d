//! Channels on the scheduler (needs both h-sched and h-chan): ping-pong
//! between Gs, 10^5 Gs parked on channels, select and close across Gs, a
//! prime sieve, a WaitGroup and Mutex between Gs, and the deadlock report
//! for a G blocked on a channel.

use gc_runtime::chan::channel;
use gc_runtime::sync::{Mutex, WaitGroup};
use gc_runtime::{go, Runtime};
use std::sync::Arc;
use std::time::Instant;

fn rt(procs: usize) -> Runtime {
    // SAFETY: nothing thread-bound is held across runtime calls.
    unsafe { Runtime::builder().procs(procs).allow_migration() }.build().unwrap()
}

fn rss_kib() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn ping_pong_between_gs() {
    let n: u32 = std::env::var("GC_RUNTIME_PINGPONG").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    for procs in [1, 2] {
        let r = rt(procs);
        let per = r.block_on(move || {
            let (ptx, prx) = channel::<u32>(0);
            let (qtx, qrx) = channel::<u32>(0);
            let h = go(move || {
                while let Some(v) = prx.recv() {
                    qtx.send(v + 1);
                }
            });
            let t = Instant::now();
            for i in 0..n {
                ptx.send(i);
                assert_eq!(qrx.recv(), Some(i + 1));
            }
            let per = t.elapsed().as_nanos() as f64 / f64::from(n);
            ptx.close();
            h.join().unwrap();
            per
        });
        eprintln!("ping_pong_between_gs: {procs} P: {per:.0} ns per round trip");
    }
}

#[test]
fn many_gs_parked_on_channels() {
    let n: usize = std::env::var("GC_RUNTIME_PARKED").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let r = rt(2);
    let before = rss_kib();
    let (during, sum) = r.block_on(move || {
        let (tx, rx) = channel::<u64>(0);
        let (done_tx, done_rx) = channel::<u64>(n);
        let rx = Arc::new(rx);
        for _ in 0..n {
            let (rx, done) = (rx.clone(), done_tx.clone());
            drop(go(move || done.send(rx.recv().unwrap())));
        }
        // All are parked once the scheduler idles; sample RSS after a pause.
        gc_runtime::sleep(std::time::Duration::from_millis(200));
        let during = rss_kib();
        for i in 0..n as u64 {
            tx.send(i);
        }
        let mut sum = 0;
        for _ in 0..n {
            sum += done_rx.recv().unwrap();
        }
        (during, sum)
    });
    let n64 = n as u64;
    assert_eq!(sum, n64 * (n64 - 1) / 2);
    eprintln!("many_gs_parked_on_channels: {n} Gs, RSS {before} KiB before, {during} KiB parked");
}

#[test]
fn prime_sieve() {
    let r = rt(2);
    let primes = r.block_on(|| {
        let (tx, mut rx) = channel::<u32>(0);
        drop(go(move || {
            for i in 2.. {
                tx.send(i);
            }
        }));
        let mut out = Vec::new();
        for _ in 0..25 {
            let p = rx.recv().unwrap();
            out.push(p);
            let (ntx, nrx) = channel::<u32>(0);
            let src = rx;
            drop(go(move || {
                while let Some(v) = src.recv() {
                    if v % p != 0 {
                        ntx.send(v);
                    }
                }
            }));
            rx = nrx;
        }
        out
    });
    assert_eq!(primes[..10], [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    assert_eq!(primes[24], 97);
}

#[test]
fn waitgroup_and_mutex_between_gs() {
    let r = rt(2);
    let v = r.block_on(|| {
        let wg = Arc::new(WaitGroup::new());
        let m = Arc::new(Mutex::new(0u64));
        for _ in 0..100 {
            wg.add(1);
            let (wg, m) = (wg.clone(), m.clone());
            drop(go(move || {
                for _ in 0..100 {
                    *m.lock().unwrap() += 1;
                    gc_runtime::gosched();
                }
                wg.done();
            }));
        }
        wg.wait();
        let v = *m.lock().unwrap();
        v
    });
    assert_eq!(v, 10_000);
}

#[test]
#[should_panic(expected = "all goroutines are asleep - deadlock!")]
fn recv_nobody_sends_is_a_deadlock() {
    let r = rt(2);
    r.block_on(|| {
        let (_tx, rx) = channel::<u32>(0);
        rx.recv();
    });
}

#[test]
fn after_fires_once_in_select_and_outside() {
    let r = rt(1);
    let waited = r.block_on(|| {
        let t = Instant::now();
        let at = gc_runtime::after(std::time::Duration::from_millis(10)).recv().unwrap();
        assert!(at >= t + std::time::Duration::from_millis(10));
        t.elapsed()
    });
    assert!(waited >= std::time::Duration::from_millis(10));
    // Outside a runtime: the timer thread sends.
    assert!(gc_runtime::after(std::time::Duration::from_millis(1)).recv().is_some());
}
