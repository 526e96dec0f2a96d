//! Go's concurrent prime sieve on gc-runtime: a chain of Gs, one per prime,
//! each filtering the multiples of its prime out of the stream it receives
//! on an unbuffered channel and passing the rest on (the program from Go's
//! tour, `go.dev/doc/play/sieve.go`). Every number travels through one
//! channel hand-off per prime below it, so the run is a stress of park,
//! ready and channel rendezvous across the Ps.
//!
//! Usage: `cargo run --release --example prime_sieve -- [N]` prints the
//! first N primes' sum and the time (default 2000).

use std::time::Instant;
use tricolor_gc::runtime::chan::{channel, Receiver, Sender};
use tricolor_gc::runtime::go;

/// Sends 2, 3, 4, ... to `out`, until the receiver side closes the sieve.
fn generate(out: Sender<u64>) {
    for i in 2.. {
        if out.is_closed() {
            return;
        }
        out.send(i);
    }
}

/// Passes on every value from `input` that `prime` does not divide.
fn filter(input: Receiver<u64>, out: Sender<u64>, prime: u64) {
    while let Some(i) = input.recv() {
        if i % prime != 0 {
            out.send(i);
        }
    }
}

// SAFETY (the migration contract that `unsafe fn main` signs): no G holds
// a thread-local borrow or a thread-bound guard across a channel operation.
#[tricolor_gc::main]
unsafe fn main() {
    let n: usize = std::env::args().nth(1).map_or(2000, |s| s.parse().expect("N must be a number"));
    let t0 = Instant::now();
    let (tx, mut rx) = channel::<u64>(0);
    go(move || generate(tx));
    let mut sum = 0u64;
    let mut last = 0;
    for _ in 0..n {
        let prime = rx.recv().expect("the sieve never closes its channels");
        sum += prime;
        last = prime;
        let (tx2, rx2) = channel::<u64>(0);
        let input = rx;
        go(move || filter(input, tx2, prime));
        rx = rx2;
    }
    println!("first {n} primes: the last is {last}, their sum {sum}, in {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    // The Gs still running are abandoned when the runtime is dropped.
}
