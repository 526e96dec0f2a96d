//! The README's runtime example: a worker pool of Gs fed through a buffered
//! channel, results over an unbuffered one, a `WaitGroup` to close the
//! results, and `select!` to receive them.
//!
//! `cargo run --release --example worker_pool`

use tricolor_gc::runtime::chan::channel;
use tricolor_gc::runtime::{go, select, sync::WaitGroup};

// SAFETY (the migration contract `unsafe fn main` signs): no G holds a
// thread-local borrow or a thread-bound guard across a runtime call.
#[tricolor_gc::main(procs = 2)]
unsafe fn main() {
    let (jobs_tx, jobs_rx) = channel::<u64>(16); // make(chan uint64, 16)
    let (out_tx, out_rx) = channel::<u64>(0); // unbuffered
    let wg = WaitGroup::new();
    for _ in 0..4 {
        wg.add(1);
        let (jobs, out, wg) = (jobs_rx.clone(), out_tx.clone(), wg.clone());
        go(move || {
            for n in &jobs {
                out.send(n * n); // parks this G, not the thread
            }
            wg.done();
        });
    }
    go(move || {
        for n in 0..100 {
            jobs_tx.send(n);
        }
        jobs_tx.close();
    });
    go(move || {
        wg.wait();
        out_tx.close();
    });
    let mut sum = 0;
    loop {
        select! {
            recv(out_rx) -> v => match v { Some(v) => sum += v, None => break },
        }
    }
    assert_eq!(sum, (0..100u64).map(|n| n * n).sum());
    println!("sum of squares below 100: {sum}");
}
