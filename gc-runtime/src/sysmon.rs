//! sysmon (Go: `proc.go:sysmon`, `retake`, `schedtrace`): a dedicated
//! thread without a P.
//!
//! Invariants:
//!
//! * Back-off: 20 µs per round; after 50 rounds in a row that retook
//!   nothing the delay doubles each round, capped at 10 ms; a round that
//!   retakes resets it. Unlike Go, while some P runs a G the sleep is also
//!   capped at 2 ms and at that P's 10 ms mark, so a slice is flagged
//!   within ~12 ms of its start rather than up to 30 ms (Go notices a
//!   slice's start only at its next round, up to 10 ms late). When every P is idle and no G is in a syscall it
//!   blocks on `sysmon_note` until a P is taken again (Go's `sysmonwait`);
//!   the check and the wait are under the note's lock, so the wake-up from
//!   `pidleget` cannot be lost.
//! * `retake`: a P in `_Prunning` whose `schedtick` did not move for 10 ms
//!   (Go's `forcePreemptNS`) gets its `preempt` flag set: the running G
//!   yields at its next safepoint. A P in `_Psyscall` seen in the same
//!   syscall (same `syscalltick`) on a second round is retaken by CAS to
//!   `_Pidle` and handed off (`handoffp`), unless its run queue is empty,
//!   some M spins or some P is idle, and it has been < 10 ms. The CAS
//!   races with `exitsyscall`'s CAS `_Psyscall → _Prunning`: exactly one wins.
//! * `GODEBUG=schedtrace=X` prints Go's `SCHED` line every X ms (and
//!   `scheddetail=1` the per-P and per-M lines) to stderr from here.

use crate::proc::{Sched, P_IDLE, P_RUNNING, P_SYSCALL};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Go's `forcePreemptNS`.
const FORCE_PREEMPT: Duration = Duration::from_millis(10);

/// The longest sysmon sleep while some P is running a G: bounds how late
/// a time slice's start is noticed, so a G is flagged by ~12 ms.
const BUSY_DELAY: Duration = Duration::from_millis(2);

#[derive(Clone, Copy)]
struct Tick {
    status: u32,
    schedtick: u32,
    schedwhen: Instant,
    syscalltick: u32,
    syscallwhen: Instant,
}

/// Starts sysmon for `s`.
pub(crate) fn start(s: Arc<Sched>) -> std::io::Result<()> {
    std::thread::Builder::new().name("gc-runtime-sysmon".into()).spawn(move || sysmon(&s)).map(drop)
}

fn sysmon(s: &Arc<Sched>) {
    let n = s.nprocs();
    let start = Instant::now();
    let mut ticks =
        vec![Tick { status: P_IDLE, schedtick: 0, schedwhen: start, syscalltick: 0, syscallwhen: start }; n];
    let mut idle = 0u32;
    let mut delay = Duration::from_micros(20);
    let period = Duration::from_millis(u64::from(s.debug.schedtrace));
    let mut next_trace = start + period;
    let mut busy_deadline: Option<Instant> = None;
    loop {
        if idle == 0 {
            delay = Duration::from_micros(20);
        } else if idle > 50 {
            delay = (delay * 2).min(Duration::from_millis(10));
        }
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // While a P runs, wake in time for its 10 ms mark, and at least
        // every BUSY_DELAY so a new slice is noticed promptly (its start
        // is known only to within one round).
        let mut sleep_for = delay;
        if let Some(d) = busy_deadline {
            sleep_for = sleep_for.min(BUSY_DELAY).min(d.saturating_duration_since(Instant::now()));
        }
        crate::proc::sysmon_sleep(s, Some(sleep_for));
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        if s.debug.schedtrace == 0 && wait_while_idle(s) {
            idle = 0;
            continue;
        }
        let now = Instant::now();
        let (retook, deadline) = retake(s, &mut ticks, now);
        busy_deadline = deadline;
        if retook > 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        if s.debug.schedtrace > 0 && now >= next_trace {
            next_trace += period;
            let line = schedtrace(s, start, s.debug.scheddetail);
            eprint!("{line}");
        }
    }
}

/// Blocks while every P is idle and no G is in a syscall; true if it did.
fn wait_while_idle(s: &Sched) -> bool {
    let all_idle = || s.npidle.load(Ordering::SeqCst) == s.nprocs() && s.nsyscall.load(Ordering::SeqCst) == 0;
    if !all_idle() {
        return false;
    }
    let (m, cv) = &s.sysmon_note;
    let mut w = m.lock();
    *w = true;
    if !all_idle() || s.shutdown.load(Ordering::SeqCst) {
        *w = false;
        return false;
    }
    cv.wait_for(&mut w, Duration::from_secs(60));
    *w = false;
    true
}

/// Returns how many Ps were retaken from syscalls, and the earliest time a
/// running P's slice reaches 10 ms (`None` if no P runs).
fn retake(s: &Arc<Sched>, ticks: &mut [Tick], now: Instant) -> (usize, Option<Instant>) {
    let mut n = 0;
    let mut deadline: Option<Instant> = None;
    for (i, p) in s.procs.iter().enumerate() {
        let st = p.status.load(Ordering::SeqCst);
        let t = &mut ticks[i];
        let entered = st != t.status;
        t.status = st;
        if st == P_RUNNING || st == P_SYSCALL {
            let tick = p.schedtick.load(Ordering::Relaxed);
            if t.schedtick != tick || entered {
                t.schedtick = tick;
                t.schedwhen = now;
            } else if st == P_RUNNING && now.duration_since(t.schedwhen) >= FORCE_PREEMPT {
                // Go's preemptone: flag the running G (here: its P).
                p.preempt.store(true, Ordering::Relaxed);
                // Allocation is a safepoint too (gc-core's hook).
                gc_core::sched::set_preempt_pending(true);
            }
            if st == P_RUNNING {
                // A flagged P's next slice must be noticed promptly too.
                let d = if p.preempt.load(Ordering::Relaxed) { now + BUSY_DELAY } else { t.schedwhen + FORCE_PREEMPT };
                deadline = Some(deadline.map_or(d, |x| x.min(d)));
            }
        }
        if st != P_SYSCALL {
            continue;
        }
        let tick = p.syscalltick.load(Ordering::Relaxed);
        if t.syscalltick != tick || entered {
            t.syscalltick = tick;
            t.syscallwhen = now;
            continue;
        }
        let spare = s.nmspinning.load(Ordering::SeqCst) + s.npidle.load(Ordering::SeqCst) > 0;
        let has_work = !p.runq.is_empty() || !p.runnext.load(Ordering::SeqCst).is_null();
        if !has_work && spare && now.duration_since(t.syscallwhen) < FORCE_PREEMPT {
            continue;
        }
        if p.status.compare_exchange(P_SYSCALL, P_IDLE, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            t.status = P_IDLE;
            n += 1;
            s.handoffp(i);
        }
    }
    (n, deadline)
}

/// Go's `schedtrace(detailed)` text.
pub(crate) fn schedtrace(s: &Sched, start: Instant, detailed: bool) -> String {
    let mut out = String::new();
    let ms = start.elapsed().as_millis();
    let allm = s.allm.lock().clone();
    let _ = write!(
        out,
        "SCHED {ms}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} needspinning={} idlethreads={} runqueue={}",
        s.nprocs(),
        s.npidle.load(Ordering::SeqCst),
        allm.len() + 1,
        s.nmspinning.load(Ordering::SeqCst),
        u8::from(s.needspinning.load(Ordering::SeqCst)),
        s.nmidle.load(Ordering::SeqCst),
        s.runqsize.load(Ordering::SeqCst),
    );
    if detailed {
        let _ = writeln!(out, " gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false");
    }
    for (i, p) in s.procs.iter().enumerate() {
        let mut len = p.runq.len();
        if !p.runnext.load(Ordering::Relaxed).is_null() {
            len += 1;
        }
        if detailed {
            let _ = writeln!(
                out,
                "  P{i}: status={} schedtick={} syscalltick={} m={} runqsize={} gfreecnt={} timerslen={}",
                p.status.load(Ordering::Relaxed),
                p.schedtick.load(Ordering::Relaxed),
                p.syscalltick.load(Ordering::Relaxed),
                p.m_id.load(Ordering::Relaxed),
                p.runq.len(),
                s.stacks.pooled(),
                p.timers.len(),
            );
        } else {
            out.push(if i == 0 { '[' } else { ' ' });
            let _ = write!(out, "{len}");
        }
    }
    if detailed {
        for m in &allm {
            let curg = m.curg.load(Ordering::Relaxed);
            let curg = if curg == 0 { -1 } else { curg as i64 };
            let _ = writeln!(
                out,
                "  M{}: p={} curg={} mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning={} blocked={} lockedg=-1",
                m.id,
                m.p.load(Ordering::Relaxed),
                curg,
                m.spinning.load(Ordering::Relaxed),
                m.p.load(Ordering::Relaxed) < 0,
            );
        }
        if let Some(all) = &s.allgs {
            let running: std::collections::HashMap<u64, usize> =
                allm.iter().map(|m| (m.curg.load(Ordering::Relaxed), m.id)).collect();
            for (&id, g) in all.lock().iter() {
                // SAFETY: a G in allgs is live while the lock is held (it
                // is removed under the lock before being freed); we read
                // only its atomics.
                let g = unsafe { g.as_ref() };
                let status = g.status.load(Ordering::Relaxed);
                let reason =
                    if status == crate::proc::G_WAITING { g.wait_reason().map_or("", |r| r.as_str()) } else { "" };
                let m = running.get(&id).map_or(-1, |&m| m as i64);
                let _ = writeln!(out, "  G{id}: status={status}({reason}) m={m} lockedm=-1");
            }
        }
    } else {
        out.push_str("]\n");
    }
    out
}
