//! Helpers shared by the randomised tests (`differential.rs`,
//! `concurrent_mark.rs`); each includes this file with `mod common;`.
#![allow(dead_code)] // each test file uses part of this module

/// xorshift64*: small, seedable, no dependency. The seed must be non-zero.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A random index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// GOMAXPROCS for the stress tests' mutators when they run as Gs:
/// `TRICOLOR_TEST_PROCS=n` (the `*_as_gs` tests set it in a child process);
/// unset, the mutators are OS threads.
pub fn test_procs() -> Option<usize> {
    std::env::var("TRICOLOR_TEST_PROCS").ok().and_then(|s| s.parse().ok())
}

/// Runs every job at once and returns their results in order: as Gs on a
/// gc-runtime of [`test_procs`] Ps (the main G spawns and joins them), or as
/// OS threads.
pub fn run_mutators<T: Send + 'static>(jobs: Vec<Box<dyn FnOnce() -> T + Send>>) -> Vec<T> {
    match test_procs() {
        Some(n) => {
            // SAFETY: (the migration contract) the test bodies hold no
            // thread-local borrow or thread-bound guard across an
            // allocation or a runtime call; their std locks are released
            // before any allocation.
            let rt = unsafe { tricolor_gc::runtime::Runtime::builder().procs(n).allow_migration() }
                .build()
                .expect("cannot start the runtime");
            rt.block_on(move || {
                let hs: Vec<_> = jobs.into_iter().map(tricolor_gc::runtime::go).collect();
                hs.into_iter().map(|h| h.join().expect("a mutator G failed")).collect()
            })
        }
        None => {
            let hs: Vec<_> = jobs.into_iter().map(std::thread::spawn).collect();
            hs.into_iter().map(|h| h.join().expect("a mutator thread failed")).collect()
        }
    }
}
