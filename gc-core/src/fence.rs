//! The asymmetric fence behind the critical-section handshake.
//!
//! A mutator entering a GC critical section stores "in section" and then loads
//! the stop flag; the collector stores the stop flag and then loads each
//! mutator's state. That is Dekker's pattern: it needs a StoreLoad fence on
//! both sides, even on x86. Paying a full fence (`mfence`/locked op, ~20
//! cycles) on every root operation would cost more than the root operation
//! itself (a slot write), so the heavy side moves to the collector: on Linux, `membarrier(2)` with
//! `MEMBARRIER_CMD_PRIVATE_EXPEDITED` makes every running thread of the
//! process execute a full barrier, and the mutator side needs only a compiler
//! fence. Where the kernel lacks it (or under loom) both sides use
//! `fence(SeqCst)`.
//!
//! Invariant: `light()` on the mutator between its store and its load, and
//! `heavy()` on the collector between its store and its load, together order
//! the two stores before the two loads: at least one side sees the other's
//! store.

use core::sync::atomic::{compiler_fence, fence, AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const ASYMMETRIC: u8 = 1;
const SYMMETRIC: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

fn membarrier(cmd: libc::c_int) -> libc::c_long {
    // SAFETY: membarrier takes two integer arguments and touches no memory
    // of ours.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0) }
}

/// Chooses the mode once, before the first critical section of the process.
#[cold]
pub fn init() -> bool {
    let mode = MODE.load(Ordering::Acquire);
    if mode != UNKNOWN {
        return mode == ASYMMETRIC;
    }
    let forced = std::env::var_os("TRICOLOR_GC_SYMMETRIC_FENCE").is_some();
    let ok = !forced && {
        let q = membarrier(MEMBARRIER_CMD_QUERY);
        q >= 0
            && q & MEMBARRIER_CMD_PRIVATE_EXPEDITED as libc::c_long != 0
            && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    };
    let new = if ok { ASYMMETRIC } else { SYMMETRIC };
    let _ = MODE.compare_exchange(UNKNOWN, new, Ordering::AcqRel, Ordering::Acquire);
    MODE.load(Ordering::Acquire) == ASYMMETRIC
}

/// True if the cheap mutator side is in use.
pub fn is_asymmetric() -> bool {
    MODE.load(Ordering::Acquire) == ASYMMETRIC
}

/// The mutator side: a compiler fence when the collector uses membarrier.
#[inline(always)]
pub fn light() {
    if MODE.load(Ordering::Relaxed) == ASYMMETRIC {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The collector side.
pub fn heavy() {
    if MODE.load(Ordering::Relaxed) == ASYMMETRIC {
        if membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 {
            // Registered at init, so this cannot fail short of a kernel bug;
            // a failure here would break the handshake, so stop loudly.
            eprintln!("tricolor-gc: fatal error: membarrier failed: {}", std::io::Error::last_os_error());
            std::process::abort();
        }
    } else {
        fence(Ordering::SeqCst);
    }
}
