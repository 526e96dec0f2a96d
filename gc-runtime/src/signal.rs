//! Stack-overflow detection for G stacks: a `SIGSEGV`/`SIGBUS` handler on
//! an alternate signal stack (one per M) that recognises a fault inside the
//! running G's guard page.
//!
//! Invariants:
//!
//! * The handler is installed once per process ([`install`]), with
//!   `SA_ONSTACK | SA_SIGINFO`, remembering the previous action. Every M
//!   runs on a thread that has an alternate signal stack ([`AltStack`]):
//!   the one std gives its threads, or ours.
//! * Each M publishes the guard range of the G it is about to run in a
//!   thread-local [`set_guard`] (a `const`-initialised `Cell` with no
//!   destructor, so reading it in the handler allocates nothing and takes
//!   no lock).
//! * A fault address inside that range writes `fatal error: goroutine stack
//!   overflow` to stderr with `write(2)` and aborts. Any other fault
//!   restores the previous action and returns, so the faulting instruction
//!   re-faults into it (std's own overflow handler, or the default action):
//!   non-G faults behave exactly as without this runtime.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

thread_local! {
    /// `[lo, hi)` of the running G's guard page on this thread; `(0, 0)` none.
    static GUARD: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Publishes the guard range of the G this thread is about to run.
pub(crate) fn set_guard(range: (usize, usize)) {
    GUARD.with(|g| g.set(range));
}

static PREV_SEGV: AtomicPtr<libc::sigaction> = AtomicPtr::new(std::ptr::null_mut());
static PREV_BUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(std::ptr::null_mut());

const MESSAGE: &[u8] = b"fatal error: goroutine stack overflow\n";

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let (lo, hi) = GUARD.try_with(Cell::get).unwrap_or((0, 0));
    if lo <= addr && addr < hi {
        // SAFETY: write(2) and abort(3) are async-signal-safe; MESSAGE is static.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::abort();
        }
    }
    let prev = if sig == libc::SIGSEGV { &PREV_SEGV } else { &PREV_BUS };
    let prev = prev.load(Ordering::Acquire);
    // SAFETY: prev points to a leaked sigaction saved at install (or is
    // null, then we restore the default action); sigaction is
    // async-signal-safe. Returning re-executes the faulting instruction,
    // which now faults into the restored action.
    unsafe {
        if prev.is_null() {
            libc::signal(sig, libc::SIG_DFL);
        } else {
            libc::sigaction(sig, prev, std::ptr::null_mut());
        }
    }
}

/// Installs the handler for `SIGSEGV` and `SIGBUS` (once per process).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (sig, slot) in [(libc::SIGSEGV, &PREV_SEGV), (libc::SIGBUS, &PREV_BUS)] {
            // SAFETY: zeroed sigaction is a valid starting value; we fill the
            // fields sigaction(2) reads. The old action is leaked into a
            // static that lives for the process.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                let h: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = handler;
                act.sa_sigaction = h as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut act.sa_mask);
                let old = Box::into_raw(Box::new(std::mem::zeroed::<libc::sigaction>()));
                if libc::sigaction(sig, &act, old) == 0 {
                    slot.store(old, Ordering::Release);
                } else {
                    drop(Box::from_raw(old));
                }
            }
        }
    });
}

/// This thread's alternate signal stack, if we had to make one; removed
/// and unmapped on drop (the thread's end).
pub(crate) struct AltStack {
    mem: usize,
    len: usize,
}

impl AltStack {
    /// Makes sure this thread has an alternate signal stack.
    pub(crate) fn ensure() -> Option<AltStack> {
        // SAFETY: querying the current altstack with a zeroed out-parameter.
        let mut old: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::sigaltstack(std::ptr::null(), &mut old) } != 0 {
            return None;
        }
        if old.ss_flags & libc::SS_DISABLE == 0 {
            return None; // std (or someone) already gave this thread one
        }
        let len = 64 * 1024;
        // SAFETY: a fresh anonymous mapping.
        let mem = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mem == libc::MAP_FAILED {
            return None;
        }
        let st = libc::stack_t { ss_sp: mem, ss_flags: 0, ss_size: len };
        // SAFETY: st describes our mapping, which lives until drop.
        if unsafe { libc::sigaltstack(&st, std::ptr::null_mut()) } != 0 {
            // SAFETY: our mapping, unused.
            unsafe { libc::munmap(mem, len) };
            return None;
        }
        Some(AltStack { mem: mem as usize, len })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let st = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
        // SAFETY: disable the altstack before unmapping it; we are not on it.
        unsafe {
            libc::sigaltstack(&st, std::ptr::null_mut());
            libc::munmap(self.mem as *mut libc::c_void, self.len);
        }
    }
}
