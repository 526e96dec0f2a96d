//! The holes an outside attack found with safe code only (issue 10, rows
//! 41–49 of docs/pointer-model.md), each as a scenario that fails on the
//! code before its fix. Every scenario runs in a child process (this test
//! binary re-executed) with `GODEBUG=gccheckmark=1,clobberfree=1`, so a
//! freed slot reads 0xdeadbeef at once, and under a watchdog: a child that
//! hangs (a deadlock of the collector) is killed and fails the test, and a
//! child that crashes fails it too.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use tricolor_gc::{collect, Gc, GcVec, Trace};

const SCENARIO: &str = "TRICOLOR_HARDENING_SCENARIO";
/// How long a scenario may take before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(30);

/// True in the child that runs scenario `name`.
fn in_child(name: &str) -> bool {
    std::env::var(SCENARIO).as_deref() == Ok(name)
}

/// Runs scenario `name` in a child; returns its stderr if it exited 0, and
/// panics (naming the failure) if it failed, crashed or hung.
fn run_child(name: &str) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, name)
        .env("GODEBUG", "gccheckmark=1,clobberfree=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(status.success(), "scenario {name} failed ({status}); stderr:\n{stderr}");
            return stderr;
        }
        if t0.elapsed() > WATCHDOG {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "scenario {name} hung for {} s (a collector deadlock); stderr:\n{}",
                WATCHDOG.as_secs(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Declares a test that runs `body` in a child process.
macro_rules! scenario {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            if in_child(stringify!($name)) {
                $body
                return;
            }
            run_child(stringify!($name));
        }
    };
}

/// Pointer-free objects with drop glue, of several slot sizes: they reuse
/// any slot a bug frees, and count their drops.
static CHURN_DROPS: AtomicUsize = AtomicUsize::new(0);
#[derive(Trace)]
#[trace(no_pointers)]
struct Churn<const N: usize>([u64; N]);
impl<const N: usize> Drop for Churn<N> {
    fn drop(&mut self) {
        CHURN_DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Fills freed slots of the small classes with new objects.
fn churn() {
    for i in 0..20_000u64 {
        drop(Gc::new(Churn([i; 1])));
        drop(Gc::new(Churn([i; 2])));
        drop(Gc::new(Churn([i; 3])));
        drop(Gc::from_vec(vec![i; (i % 5) as usize]));
    }
}

static ZST_DROPS: AtomicUsize = AtomicUsize::new(0);

macro_rules! zst {
    ($name:ident, $align:literal) => {
        #[derive(Trace)]
        #[trace(no_pointers)]
        #[repr(align($align))]
        struct $name;
        impl Drop for $name {
            fn drop(&mut self) {
                ZST_DROPS.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
}
zst!(Z1, 1);
zst!(Z8, 8);
zst!(Z16, 16);
zst!(Z64, 64);
zst!(Z4096, 4096);
zst!(Z8192, 8192);

#[derive(Trace)]
#[trace(no_pointers)]
#[repr(align(4096))]
struct Page(u8);

fn assert_aligned<T: ?Sized + tricolor_gc::GcPointee>(g: &Gc<T>, align: usize) {
    let p = Gc::as_ptr(g) as *const u8 as usize;
    assert_eq!(p % align, 0, "object at {p:#x} is not aligned to {align}");
}

scenario! {
    /// Row 41: empty slices, empty strings and zero-sized objects keep
    /// their own slot: the object address lies inside it, so the marker
    /// marks it (not the neighbour) and nothing frees it while rooted.
    fn empty_and_zero_sized_objects_survive_while_rooted() {
        let empty: Gc<[u64]> = Gc::from_vec(vec![]);
        let s: Gc<str> = Gc::from("");
        let zs: Vec<Gc<Z1>> = (0..1001).map(|_| Gc::new(Z1)).collect();
        let z8: Vec<Gc<Z8>> = (0..300).map(|_| Gc::new(Z8)).collect();
        let z16: Vec<Gc<Z16>> = (0..300).map(|_| Gc::new(Z16)).collect();
        let z64: Vec<Gc<Z64>> = (0..100).map(|_| Gc::new(Z64)).collect();
        let z4096: Vec<Gc<Z4096>> = (0..10).map(|_| Gc::new(Z4096)).collect();
        let z8192: Vec<Gc<Z8192>> = (0..10).map(|_| Gc::new(Z8192)).collect();
        let pages: Vec<Gc<Page>> = (0..10).map(|i| Gc::new(Page(i))).collect();
        let empty_pages: Gc<[Page]> = Gc::from_vec(vec![]);
        for g in &z16 {
            assert_aligned(g, 16);
        }
        for g in &z64 {
            assert_aligned(g, 64);
        }
        for g in &z4096 {
            assert_aligned(g, 4096);
        }
        for g in &z8192 {
            assert_aligned(g, 8192);
        }
        for g in &pages {
            assert_aligned(g, 4096);
        }
        assert_aligned(&empty_pages, 4096);
        for _ in 0..3 {
            collect();
            churn();
        }
        collect();
        assert_eq!(ZST_DROPS.load(Ordering::Relaxed), 0, "a rooted zero-sized object was dropped");
        assert_eq!(empty.len(), 0, "the empty slice's length word was overwritten");
        assert_eq!(s.len(), 0, "the empty string's length word was overwritten");
        assert_eq!(&*s, "");
        assert_eq!(empty_pages.len(), 0);
        for (i, p) in pages.iter().enumerate() {
            assert_eq!(p.0 as usize, i);
        }
        let n = zs.len() + z8.len() + z16.len() + z64.len() + z4096.len() + z8192.len();
        drop((zs, z8, z16, z64, z4096, z8192));
        collect();
        assert_eq!(ZST_DROPS.load(Ordering::Relaxed), n, "each zero-sized object is dropped once, after death");
    }
}

scenario! {
    /// Row 41, generated: objects of every payload size near the class
    /// edges and at the end of a span keep their contents while rooted.
    fn every_slice_length_keeps_its_contents() {
        let keep: Vec<Gc<[u8]>> = (0..600usize).map(|n| Gc::from_vec(vec![(n % 251) as u8; n])).collect();
        let strs: Vec<Gc<str>> = (0..100usize).map(|n| Gc::from("x".repeat(n))).collect();
        for _ in 0..2 {
            collect();
            churn();
        }
        collect();
        for (n, g) in keep.iter().enumerate() {
            assert_eq!(g.len(), n);
            assert!(g.iter().all(|&b| b == (n % 251) as u8), "slice of {n} bytes corrupted");
        }
        for (n, s) in strs.iter().enumerate() {
            assert_eq!(s.len(), n);
        }
    }
}

scenario! {
    /// Row 42: a capacity whose byte size overflows panics with Vec's
    /// message before any critical section, and the heap stays intact.
    fn huge_capacity_panics_and_loses_nothing() {
        let keep = Gc::new(7u64);
        for cap in [usize::MAX, usize::MAX / 8 + 1, usize::MAX / 2, isize::MAX as usize / 8 + 1] {
            let r = std::panic::catch_unwind(|| GcVec::<u64>::with_capacity(cap));
            let err = r.err().unwrap_or_else(|| panic!("with_capacity({cap}) did not panic"));
            let msg = err.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| err.downcast_ref::<String>().cloned());
            assert_eq!(msg.as_deref(), Some("capacity overflow"), "with_capacity({cap})");
        }
        let v: GcVec<u64> = GcVec::new();
        for i in 0..1000 {
            v.push(&Gc::new(i));
        }
        collect();
        churn();
        collect();
        assert_eq!(*keep, 7);
        assert_eq!(v.iter().map(|g| *g).sum::<u64>(), 999 * 1000 / 2);
    }
}

scenario! {
    /// Row 43: `get` at the length a concurrent `push` is growing past
    /// returns None or the element, never panics inside a critical section;
    /// collections keep completing.
    fn get_racing_a_growing_push() {
        let v: Arc<GcVec<u64>> = Arc::new(GcVec::new());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|k| {
                let (v, stop) = (v.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut seen = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let n = v.len();
                        for i in [n, n + 1, n.saturating_sub(1), n + k] {
                            if let Some(g) = v.get(i) {
                                assert_eq!(*g, i as u64, "element {i} holds another value");
                                seen += 1;
                            }
                        }
                        // `last` sees some length the vector had: its value is
                        // an index below the largest round's length (a freed
                        // slot would read 0xdeadbeef under clobberfree).
                        if let Some(g) = v.last() {
                            assert!(*g < 1 << 11, "last() read {:#x}", *g);
                        }
                    }
                    seen
                })
            })
            .collect();
        for round in 0..40 {
            v.clear();
            for i in 0..(1u64 << (round % 12)) {
                v.push(&Gc::new(i));
            }
            if round % 8 == 0 {
                collect();
            }
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().expect("a reader panicked");
        }
        collect();
    }
}

static REENTRANT_DROPS: AtomicUsize = AtomicUsize::new(0);

#[derive(Trace)]
#[trace(no_pointers)]
struct CollectsInDrop(u64);
impl Drop for CollectsInDrop {
    fn drop(&mut self) {
        if self.0 % 64 == 0 {
            collect();
        }
        // Drop may use any API: allocate, read, collect.
        let g = Gc::new(self.0);
        assert_eq!(*g, self.0);
        REENTRANT_DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

scenario! {
    /// Row 44: a `Drop` of a pointer-free type calls `collect()` and
    /// allocates; it runs on the collector's drop thread, never inside an
    /// allocation or while a cycle is starting.
    fn drop_that_collects_and_allocates() {
        for i in 0..64 {
            drop(Gc::new(CollectsInDrop(i * 64)));
        }
        collect();
        assert_eq!(REENTRANT_DROPS.load(Ordering::Relaxed), 64);
        // Heap-triggered cycles: the thread that starts one sweeps what the
        // last one left (Go's sweepone loop in gcStart) and meets these
        // objects there, while its cycle is starting.
        tricolor_gc::set_gc_percent(10);
        for i in 0..100_000 {
            drop(Gc::new(CollectsInDrop(i)));
        }
        collect();
        assert_eq!(REENTRANT_DROPS.load(Ordering::Relaxed), 100_064);
    }
}

static LOCK: parking_lot::Mutex<u64> = parking_lot::Mutex::new(0);

#[derive(Trace)]
#[trace(no_pointers)]
struct LocksInDrop(#[allow(dead_code)] [u64; 2]);
impl Drop for LocksInDrop {
    fn drop(&mut self) {
        *LOCK.lock() += 1;
    }
}

scenario! {
    /// Row 44: a `Drop` that takes a lock the allocating thread holds
    /// waits for it on the drop thread; the allocations that trigger and
    /// sweep cycles meanwhile never run that drop inline.
    fn drop_that_takes_a_lock_the_allocator_holds() {
        tricolor_gc::set_gc_percent(10);
        let held = LOCK.lock();
        // Enough garbage for many heap-triggered cycles and their sweeps.
        for i in 0..300_000u64 {
            drop(Gc::new(LocksInDrop([i, i])));
        }
        drop(held);
        collect();
        let n = *LOCK.lock();
        assert!(n > 0, "no drop ran");
        collect();
        collect();
        assert_eq!(*LOCK.lock(), 300_000, "every object dropped exactly once");
    }
}

scenario! {
    /// Row 45: `retain`'s closure may read the same vector (`get`, `len`,
    /// `last`, `iter`) and gets a clear panic, not a deadlock, if it writes
    /// to it; the vector works afterwards.
    fn retain_closure_reenters_the_vector() {
        let v: GcVec<u64> = (0..100u64).map(Gc::new).collect();
        v.retain(|g| {
            let last = v.last().map(|l| *l);
            assert_eq!(last, Some(99));
            assert_eq!(v.len(), 100);
            assert!(v.get(0).is_some());
            assert_eq!(v.iter().count(), 100);
            **g % 2 == 0
        });
        assert_eq!(v.len(), 50);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.retain(|_| {
                v.push(&Gc::new(1));
                true
            })
        }));
        let err = r.expect_err("push from inside retain's closure must panic");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("retain"), "unclear message: {msg:?}");
        for write in 0..5 {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                v.retain(|_| {
                    match write {
                        0 => drop(v.pop()),
                        1 => v.truncate(0),
                        2 => v.clear(),
                        3 => drop(v.set(0, &Gc::new(5))),
                        _ => v.retain(|_| true),
                    }
                    true
                })
            }));
            assert!(r.is_err(), "write {write} from inside retain's closure must panic");
        }
        assert_eq!(v.len(), 50, "a refused write changed nothing");
        v.push(&Gc::new(1000));
        assert_eq!(v.len(), 51);
        assert_eq!(v.last().map(|g| *g), Some(1000));
        collect();
        assert_eq!(v.iter().map(|g| *g).filter(|x| x % 2 == 0).count(), 51);
    }
}

scenario! {
    /// Rows 43 and 46: after a panic anywhere a safe caller can provoke,
    /// collections keep completing (no critical section is left held), on
    /// the thread that panicked and on others, and a thread that exits
    /// after a panic hands its state over.
    fn panics_leave_no_section_held() {
        let v: GcVec<u64> = GcVec::new();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| GcVec::<u64>::with_capacity(usize::MAX)));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.retain(|_| true);
            tricolor_gc::pin(|_| v.push(&Gc::new(1)));
        }));
        let _ = std::panic::catch_unwind(|| tricolor_gc::pin(|_| collect()));
        let t = std::thread::spawn(|| {
            let _keep = Gc::new(3u64);
            tricolor_gc::pin(|_| panic!("user panic inside a pin"));
        });
        assert!(t.join().is_err());
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let t = std::thread::spawn(move || {
            b2.wait();
            for _ in 0..3 {
                collect();
            }
        });
        b.wait();
        collect();
        t.join().unwrap();
    }
}

/// Resident set size of this process, in KiB (Linux `VmRSS`).
fn rss_kib() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `n` short threads, 8 at a time, each rooting `per_thread` objects
/// and dropping them before it exits.
fn short_threads(n: usize, per_thread: u64) {
    for _ in 0..n / 8 {
        let hs: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(move || {
                    let v: Vec<Gc<u64>> = (0..per_thread).map(Gc::new).collect();
                    assert_eq!(v.iter().map(|g| **g).sum::<u64>(), per_thread * (per_thread - 1) / 2);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
}

scenario! {
    /// Row 49: an exited thread's root segment is reused once its handles
    /// are gone, and its mutator struct by the next thread: thousands of
    /// short threads cost no memory, and the fallback table stays short.
    /// A handle that outlives its thread keeps its segment (and its object)
    /// until it is dropped.
    fn exited_threads_leave_no_segments_behind() {
        use gc_core::bench_internals::fallback_segments;
        // Warm up: the heap, glibc's per-thread arenas and its stack cache
        // reach their size in the first few thousand threads (RSS then stays
        // flat over 24000 more, measured).
        short_threads(4000, 600);
        collect();
        let (rss0, segs0) = (rss_kib(), fallback_segments());
        short_threads(8000, 600);
        collect();
        collect();
        let (rss1, segs1) = (rss_kib(), fallback_segments());
        eprintln!("fallback segments {segs0} -> {segs1}, RSS {rss0} -> {rss1} KiB over 8000 threads");
        assert!(segs1 <= 8, "{segs1} segments of exited threads are still held");
        // Before the fix: 16 KiB per thread, 125 MiB here.
        assert!(rss1 < rss0 + 4 * 1024, "RSS grew {} KiB over 8000 exited threads", rss1 - rss0);

        // A handle that outlives its thread: its segment stays, the object
        // stays alive across collections, and both go once it is dropped.
        let kept: Vec<Gc<u64>> = (0..64u64)
            .map(|i| std::thread::spawn(move || Gc::new(i * 3)).join().unwrap())
            .collect();
        collect();
        churn();
        collect();
        assert!(fallback_segments() >= 1, "a segment holding live handles was reclaimed");
        assert_eq!(kept.iter().map(|g| **g).sum::<u64>(), 3 * 63 * 64 / 2);
        drop(kept);
        collect();
        collect();
        assert!(fallback_segments() <= 8, "segments of dropped handles were not reclaimed");
    }
}

static WAITER_DONE: AtomicUsize = AtomicUsize::new(0);
static WAITER_CHANNELS: parking_lot::Mutex<Option<(std::sync::mpsc::Sender<()>, std::sync::mpsc::Receiver<()>)>> =
    parking_lot::Mutex::new(None);

/// A pointer-free object whose `Drop` tells the test it started, then
/// blocks until another thread — which calls `collect()` first — lets it go.
#[derive(Trace)]
#[trace(no_pointers)]
struct WaitsForACollector(#[allow(dead_code)] u64);
impl Drop for WaitsForACollector {
    fn drop(&mut self) {
        let (started, release) = WAITER_CHANNELS.lock().take().expect("one waiter");
        started.send(()).unwrap();
        release.recv().unwrap();
        WAITER_DONE.fetch_add(1, Ordering::Relaxed);
    }
}

scenario! {
    /// Row 48: a `Drop` that waits for a thread which is itself in
    /// `collect()` (the collect waits for the finalizer thread the `Drop`
    /// holds) no longer hangs that `collect()` nor every later one: a
    /// `collect()` stops waiting for a task that has run 1 s, and warns.
    fn drop_that_waits_for_a_collecting_thread() {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel();
        *WAITER_CHANNELS.lock() = Some((started_tx, release_rx));
        drop(Gc::new(WaitsForACollector(1)));
        let b = std::thread::spawn(move || {
            started_rx.recv().unwrap();
            // The Drop is running and waits for us; we collect first.
            collect();
            release_tx.send(()).unwrap();
        });
        let t0 = Instant::now();
        collect();
        b.join().unwrap();
        for _ in 0..3 {
            drop(Gc::new(7u64));
            collect();
        }
        let waited = t0.elapsed();
        let deadline = Instant::now() + Duration::from_secs(10);
        while WAITER_DONE.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(WAITER_DONE.load(Ordering::Relaxed), 1, "the blocked Drop never finished");
        assert!(waited < Duration::from_secs(10), "collections took {waited:?}");
    }
}

scenario! {
    /// Row 48: `retain`'s closure calls `collect()` while a cleanup that
    /// collection runs pushes to the same vector (so waits for the writer
    /// lock `retain` holds): the collect returns after the finalizer wait's
    /// bound, `retain` finishes, and the cleanup's push lands.
    fn retain_closure_collects_while_a_cleanup_writes_the_vector() {
        let v: Arc<GcVec<u64>> = Arc::new(GcVec::new());
        for i in 0..4 {
            v.push(&Gc::new(i));
        }
        {
            let target = Gc::new(99u64);
            let v2 = v.clone();
            let _c = Gc::add_cleanup(&target, move || v2.push(&Gc::new(100)));
        }
        let mut calls = 0;
        v.retain(|_| {
            calls += 1;
            if calls == 1 {
                collect();
            }
            true
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while v.len() < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(v.len(), 5, "the cleanup's push never landed");
        assert_eq!(*v.last().unwrap(), 100);
        collect();
    }
}

/// RAM plus swap of this machine in bytes, from `/proc/meminfo`.
fn machine_memory_bytes() -> usize {
    let s = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib = |key: &str| -> usize {
        let line = s.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (kib("MemTotal:") + kib("SwapTotal:")) * 1024
}

scenario! {
    /// Row 53: a capacity that fits `isize` but not the machine panics with
    /// `out of memory` before any critical section (it used to zero the
    /// array inside one until the OOM killer ended the process), and the
    /// heap stays intact.
    fn capacity_beyond_memory_panics_and_loses_nothing() {
        let keep = Gc::new(7u64);
        let words = machine_memory_bytes() / 8;
        for cap in [words + words / 8, 2 * words, isize::MAX as usize / 8] {
            let r = std::panic::catch_unwind(|| GcVec::<u64>::with_capacity(cap));
            let err = r.err().unwrap_or_else(|| panic!("with_capacity({cap}) did not panic"));
            let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(msg.contains("out of memory") && msg.contains("GcVec::with_capacity"), "with_capacity({cap}): {msg:?}");
        }
        // A big capacity that fits is fine (fresh pages: no RSS until used).
        let big: GcVec<u64> = GcVec::with_capacity(1 << 20);
        big.push(&Gc::new(1));
        churn();
        collect();
        assert_eq!(*keep, 7);
        assert_eq!(*big.get(0).unwrap(), 1);
    }
}

#[derive(Trace)]
#[trace(no_pointers)]
struct WeakVal {
    a: u64,
    b: u64,
}

scenario! {
    /// Row 56 (found by the second outside attack): `Weak::upgrade` racing
    /// the sweep that empties its target's span. The upgrade's
    /// `ensure_swept` waited for `sweepgen == sg - 1` to change, but the
    /// sweeper freed the empty span without publishing it as swept: a small
    /// span's descriptor went back to the pool at `sg - 1` (the upgrade spun
    /// inside its section for ever, so every later stop hung), and a large
    /// one's was freed (the spin read freed memory). Several whole spans of
    /// weakly referenced objects die each round while two threads upgrade
    /// and a third collects.
    fn weak_upgrade_racing_an_emptying_sweep() {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        type Cache = Arc<parking_lot::RwLock<Arc<Vec<tricolor_gc::Weak<WeakVal>>>>>;
        let cur: Cache = Arc::new(parking_lot::RwLock::new(Arc::new(Vec::new())));
        let mut hs = Vec::new();
        for _ in 0..2 {
            let (stop, cur) = (stop.clone(), cur.clone());
            hs.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let ws = cur.read().clone();
                    for w in ws.iter() {
                        if let Some(g) = w.upgrade() {
                            assert_eq!(g.b, !g.a, "an upgraded object was overwritten");
                        }
                    }
                }
            }));
        }
        {
            let stop = stop.clone();
            hs.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    collect();
                }
            }));
        }
        let t0 = Instant::now();
        let secs = std::env::var("TRICOLOR_WEAK_RACE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
        while t0.elapsed() < Duration::from_secs(secs) {
            let objs: Vec<Gc<WeakVal>> = (0..2048u64).map(|i| Gc::new(WeakVal { a: i, b: !i })).collect();
            // A large target too: its span's descriptor is freed, not pooled.
            let big = Gc::from_vec(vec![7u64; 8192]);
            let mut ws: Vec<tricolor_gc::Weak<WeakVal>> = objs.iter().map(Gc::downgrade).collect();
            ws.truncate(2048);
            *cur.write() = Arc::new(ws);
            let wbig = Gc::downgrade(&big);
            drop((objs, big));
            std::thread::sleep(Duration::from_millis(2));
            assert!(wbig.upgrade().is_none_or(|b| b[0] == 7));
        }
        stop.store(true, Ordering::Relaxed);
        for h in hs {
            h.join().unwrap();
        }
    }
}

static BLOCKER_RELEASE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A `Drop` that blocks until the test lets it go.
#[derive(Trace)]
#[trace(no_pointers)]
struct BlocksInDrop(#[allow(dead_code)] u64);
impl Drop for BlocksInDrop {
    fn drop(&mut self) {
        while !BLOCKER_RELEASE.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Drop glue without user code: a `String` field.
#[derive(Trace)]
#[trace(no_pointers)]
struct HasString {
    #[allow(dead_code)]
    s: String,
}

/// 400 000 dead objects whose drop glue frees a `String`; returns the GC
/// heap's growth in KiB.
fn churn_strings() -> u64 {
    let base = tricolor_gc::mem_stats().heap_inuse;
    for round in 0..40 {
        for i in 0..10_000 {
            drop(Gc::new(HasString { s: format!("{round}-{i}-{}", "x".repeat(200)) }));
        }
        if round % 10 == 9 {
            collect();
        }
    }
    collect();
    tricolor_gc::mem_stats().heap_inuse.saturating_sub(base) >> 10
}

scenario! {
    /// Row 58 (found by the second outside attack): one blocked `Drop`
    /// stopped the freeing of every object with drop glue, since all drop
    /// glue shares the finalizer queue (400 000 dead `String` holders kept
    /// 12.5 MiB of GC heap and 110 MiB of RSS). Once every finalizer thread
    /// has run its task for 1 s, another one drains the queue.
    fn one_blocked_drop_does_not_stop_other_drops() {
        drop(Gc::new(BlocksInDrop(1)));
        collect(); // queues the blocking drop; returns after 1 s
        let heap_kib = churn_strings();
        BLOCKER_RELEASE.store(true, Ordering::Relaxed);
        eprintln!("one Drop blocked: GC heap +{heap_kib} KiB over 400 000 dead String holders");
        assert!(heap_kib < 2048, "GC heap grew {heap_kib} KiB: drop glue behind a blocked Drop never ran");
    }
}
