//! The pacer (Go: mgcpacer.go `gcControllerState`: `commit`, `trigger`,
//! `heapGoalInternal`, `memoryLimitHeapGoal`, `startCycle`, `revise`,
//! `endCycle`; design 44167).
//!
//! * **Goal**: `heap_marked × (1 + GOGC/100)`, at least 4 MiB × GOGC/100,
//!   capped by GOMEMLIMIT less max(3 %, 1 MiB) of headroom, but never below
//!   `heap_marked` (Go's `memoryLimitHeapGoal`): a limit below the live
//!   heap makes cycles run back to back, and the GC CPU limiter
//!   (`limiter.rs`) keeps that from taking the mutators' CPU.
//! * **Trigger**: the goal less a runway, the heap the mutators will allocate
//!   while marking runs: `runway = cons/mark × (1 − u)/u × last scan work`
//!   with `u = 0.25`, clamped to [45/64, 61/64] of the way from
//!   `heap_marked` to the goal (and at most `goal − 4 MiB` for big heaps).
//! * **cons/mark**: measured at the end of each cycle as the bytes allocated
//!   during marking per unit of scan work, scaled by the utilisation the
//!   markers got; the maximum of the last four measurements is used (Go
//!   1.23's rule, biased toward earlier, harder cycles).
//! * **Assists**: while marking, a mutator that allocates `b` bytes owes
//!   `b × assist_work_per_byte` bytes of scan work, where the ratio spreads
//!   the remaining expected scan work over the bytes left before the goal
//!   (`revise`). Background markers bank their scan work as credit that
//!   assists take before scanning themselves (Go: `bgScanCredit`).
//!
//! Invariants: `goal >= heap_marked`, whatever the memory limit (as in
//! Go); `heap_marked <= trigger <= goal`; with
//! GOGC=off and no memory limit the goal is infinite and no cycle is ever
//! triggered by allocation.

use crate::env;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// Go's `defaultHeapMinimum`: 4 MiB at GOGC=100.
pub const HEAP_MINIMUM: u64 = 4 << 20;
const OFF: i64 = -1;

static GC_PERCENT: AtomicI64 = AtomicI64::new(i64::MIN);
static MEMORY_LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);
/// Live heap bytes after the last mark (Go: `heapMarked`).
static HEAP_MARKED: AtomicU64 = AtomicU64::new(0);
/// Bytes of heap_live at which the next cycle starts; 0 until the
/// environment has been read (see `should_trigger_slow`).
static TRIGGER: AtomicU64 = AtomicU64::new(0);
/// The heap goal of the next (or running) cycle (Go: `heapGoal`).
static GOAL: AtomicU64 = AtomicU64::new(0);
/// The goal of the last completed cycle (Go: `lastHeapGoal`).
static LAST_HEAP_GOAL: AtomicU64 = AtomicU64::new(0);
/// Scan work of the last cycle, in bytes (Go: `lastHeapScan`).
static LAST_SCAN: AtomicU64 = AtomicU64::new(0);
/// Scan work done so far this cycle, flushed by markers in batches (Go:
/// `heapScanWork`).
static SCAN_WORK: AtomicU64 = AtomicU64::new(0);
/// Scan work banked by background markers for assists to take (Go:
/// `bgScanCredit`); may go briefly negative under races, as in Go.
static BG_CREDIT: AtomicI64 = AtomicI64::new(0);
/// Nanoseconds mutators spent assisting this cycle (Go: `assistTime`).
static ASSIST_NS: AtomicU64 = AtomicU64::new(0);

/// Go's `gcBackgroundUtilization` (= `gcGoalUtilization`).
pub const BACKGROUND_UTILIZATION: f64 = 0.25;
/// Go's `gcOverAssistWork`: the least scan work an assist does, so that
/// assists are rare and worth their setup.
pub const OVER_ASSIST_WORK: u64 = 64 << 10;
/// Go's `gcCreditSlack`: scan work a marker accumulates before flushing it.
pub const CREDIT_SLACK: u64 = 2000;

/// Per-cycle state that is written at cycle start and end only.
struct CycleState {
    /// When marking started (Go: `markStartTime`).
    mark_start: Option<Instant>,
    /// cons/mark measurements of the last four cycles, newest last.
    cons_mark: [f64; 4],
}

impl CycleState {
    /// The estimate the trigger uses: the largest of the last four (Go
    /// 1.23's rule).
    fn cons_mark(&self) -> f64 {
        self.cons_mark.iter().copied().fold(0.0, f64::max)
    }
}

static STATE: Mutex<CycleState> = Mutex::new(CycleState { mark_start: None, cons_mark: [0.0; 4] });
/// `heap_live` when the cycle started (Go: `triggered`); written at cycle
/// start, read by the assist ratio and at cycle end.
static TRIGGERED: AtomicU64 = AtomicU64::new(0);

fn init() {
    if GC_PERCENT.load(Ordering::Acquire) == i64::MIN {
        let c = env::config();
        let p = c.gc_percent.map_or(OFF, |p| p as i64);
        let _ = GC_PERCENT.compare_exchange(i64::MIN, p, Ordering::AcqRel, Ordering::Acquire);
        let _ = MEMORY_LIMIT.compare_exchange(u64::MAX, c.memory_limit, Ordering::AcqRel, Ordering::Acquire);
        commit();
    }
}

/// The GOGC setting (-1 when collection is off).
pub fn gc_percent() -> i64 {
    init();
    GC_PERCENT.load(Ordering::Acquire).max(-1)
}

/// The soft memory limit in bytes.
pub fn memory_limit() -> u64 {
    init();
    MEMORY_LIMIT.load(Ordering::Acquire)
}

/// Go's `debug.SetGCPercent`: sets GOGC (a negative value turns collection
/// off) and returns the previous setting (-1 for off).
pub fn set_gc_percent(percent: i32) -> i32 {
    init();
    let new = if percent < 0 { OFF } else { percent as i64 };
    let old = GC_PERCENT.swap(new, Ordering::AcqRel);
    commit();
    if old < 0 {
        -1
    } else {
        old as i32
    }
}

/// Go's `debug.SetMemoryLimit`: sets the soft memory limit in bytes and
/// returns the previous one. A negative value only reads it.
pub fn set_memory_limit(limit: i64) -> i64 {
    init();
    let old = MEMORY_LIMIT.load(Ordering::Acquire);
    if limit >= 0 {
        MEMORY_LIMIT.store(limit as u64, Ordering::Release);
        commit();
    }
    old.min(i64::MAX as u64) as i64
}

/// Computes the heap goal for `marked` live bytes.
pub fn goal_for(marked: u64, gc_percent: Option<u32>, memory_limit: u64) -> u64 {
    let percent_goal = match gc_percent {
        Some(p) => {
            let g = marked.saturating_add(marked.saturating_mul(p as u64) / 100);
            g.max(HEAP_MINIMUM * p as u64 / 100)
        }
        None => u64::MAX,
    };
    if memory_limit >= env::NO_MEMORY_LIMIT {
        return percent_goal;
    }
    percent_goal.min(memory_limit_goal(marked, memory_limit))
}

/// Go's `memoryLimitHeapGoal` with the heap as all the memory counted
/// against the limit: the limit less max(3 %, 1 MiB) of headroom for
/// fragmentation (`memoryLimitHeapGoalHeadroomPercent`,
/// `memoryLimitMinHeapGoalHeadroom`; the whole headroom when the limit is
/// less than twice it), and never below the marked heap. That floor is
/// what keeps a limit below the live heap from a death spiral: with a goal
/// under `marked`, every allocation during marking would owe all the
/// remaining scan work (`assist_work_per_byte` has no runway left). At the
/// floor the collector runs back to back, assists see 10 % of runway (the
/// goal × 1.1 of `revise`), and the GC CPU limiter bounds what they cost.
fn memory_limit_goal(marked: u64, limit: u64) -> u64 {
    let headroom = (limit / 100 * 3).max(1 << 20);
    let goal = if limit < 2 * headroom { headroom } else { limit - headroom };
    goal.max(marked)
}

/// Recomputes goal and trigger from the last marked size (Go: `commit`).
pub fn commit() {
    let marked = HEAP_MARKED.load(Ordering::Acquire);
    let goal = goal_for(marked, gc_percent_raw(), MEMORY_LIMIT.load(Ordering::Acquire));
    let cons_mark = STATE.lock().cons_mark();
    let trigger = trigger_for(marked, goal, cons_mark, LAST_SCAN.load(Ordering::Acquire));
    GOAL.store(goal, Ordering::Release);
    TRIGGER.store(trigger, Ordering::Release);
}

/// Go's `trigger`: where between `marked` and `goal` the next cycle starts.
pub fn trigger_for(marked: u64, goal: u64, cons_mark: f64, last_scan: u64) -> u64 {
    if goal == u64::MAX {
        return u64::MAX;
    }
    if marked >= goal {
        return goal;
    }
    let runway_room = goal - marked;
    let min_trigger = marked + runway_room / 64 * 45;
    let mut max_trigger = marked + runway_room / 64 * 61;
    if goal > HEAP_MINIMUM && goal - HEAP_MINIMUM > max_trigger {
        max_trigger = goal - HEAP_MINIMUM;
    }
    let max_trigger = max_trigger.max(min_trigger);
    let u = BACKGROUND_UTILIZATION;
    let runway = (cons_mark * (1.0 - u) / u * last_scan as f64) as u64;
    let trigger = if runway > goal { min_trigger } else { goal - runway };
    trigger.clamp(min_trigger, max_trigger)
}

fn gc_percent_raw() -> Option<u32> {
    let p = GC_PERCENT.load(Ordering::Acquire);
    (p >= 0).then_some(p as u32)
}

/// Starts a cycle's accounting (Go: `startCycle`); the world is stopped.
pub fn start_cycle(heap_live: u64) {
    init();
    STATE.lock().mark_start = Some(Instant::now());
    TRIGGERED.store(heap_live, Ordering::Release);
    SCAN_WORK.store(0, Ordering::Release);
    BG_CREDIT.store(0, Ordering::Release);
    ASSIST_NS.store(0, Ordering::Release);
    crate::gccpu::cycle_start();
}

/// Adds scan work done by a marker (`background`: a dedicated worker, whose
/// work also becomes credit for assists).
#[inline]
pub fn add_scan_work(work: u64, background: bool) {
    SCAN_WORK.fetch_add(work, Ordering::Relaxed);
    if background {
        BG_CREDIT.fetch_add(work as i64, Ordering::Relaxed);
    }
}

/// Takes up to `want` units of background credit; returns what it took.
pub fn steal_bg_credit(want: u64) -> u64 {
    let have = BG_CREDIT.load(Ordering::Relaxed);
    if have <= 0 {
        return 0;
    }
    let take = (have as u64).min(want);
    BG_CREDIT.fetch_sub(take as i64, Ordering::Relaxed);
    take
}

/// Records time spent in an assist.
pub fn add_assist_time(d: Duration) {
    ASSIST_NS.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
}

/// Scan work owed per byte allocated during marking (Go: `revise`,
/// `assistWorkPerByte`), computed from the current counters.
pub fn assist_work_per_byte(heap_live: u64) -> f64 {
    let work = SCAN_WORK.load(Ordering::Relaxed);
    let last = LAST_SCAN.load(Ordering::Relaxed);
    let mut goal = GOAL.load(Ordering::Relaxed);
    if goal == u64::MAX {
        // GOGC=off during a forced cycle: Go pretends GOGC=100000.
        goal = heap_live.saturating_mul(1000);
    }
    // Without a previous cycle, expect to scan the whole live heap.
    let max_work = heap_live.max(work);
    let mut expected = if last == 0 { max_work } else { last };
    if work > expected {
        // The heap is growing: extrapolate the goal (Go's "hard goal").
        let triggered = TRIGGERED.load(Ordering::Relaxed);
        let base = goal;
        goal = triggered + (((goal.saturating_sub(triggered)) as f64) * max_work as f64 / expected as f64) as u64;
        goal = goal.min(base.saturating_mul(2));
        expected = max_work;
    }
    if heap_live > goal {
        goal = goal + goal / 10;
        expected = max_work;
    }
    let remaining_work = expected.saturating_sub(work).max(1000);
    let remaining_bytes = goal.saturating_sub(heap_live).max(1);
    remaining_work as f64 / remaining_bytes as f64
}

/// Records the result of a mark phase and recomputes goal and trigger (Go:
/// `endCycle` + `resetLive` + `commit`). `u_extra` is the markers'
/// utilisation beyond the 25 % goal (Go's `idleUtilization`, plus a whole
/// thread's excess when markers are threads); `heap_live` is the live heap
/// just before it is reset to `marked`.
pub fn end_cycle(marked: u64, heap_live: u64, u_extra: f64) {
    init();
    LAST_HEAP_GOAL.store(GOAL.load(Ordering::Acquire), Ordering::Release);
    let work = SCAN_WORK.load(Ordering::Acquire);
    {
        let mut st = STATE.lock();
        if let Some(t0) = st.mark_start.take() {
            let d = t0.elapsed().as_secs_f64();
            let procs = crate::sched::procs() as f64;
            let triggered = TRIGGERED.load(Ordering::Acquire);
            if d > 0.0 && work > 0 && heap_live > triggered {
                let assist = ASSIST_NS.load(Ordering::Acquire) as f64 / 1e9;
                let u = (BACKGROUND_UTILIZATION + assist / (d * procs)).min(0.95);
                let u_idle = u_extra;
                let now = (heap_live - triggered) as f64 * (u + u_idle) / (work as f64 * (1.0 - u));
                st.cons_mark.rotate_left(1);
                st.cons_mark[3] = now;
            }
        }
    }
    if work > 0 {
        LAST_SCAN.store(work, Ordering::Release);
    }
    HEAP_MARKED.store(marked, Ordering::Release);
    commit();
}

/// The goal the last completed cycle ran against (Go: `lastHeapGoal`,
/// recorded in `endCycle` before `commit` sets the next one).
pub fn last_heap_goal() -> u64 {
    LAST_HEAP_GOAL.load(Ordering::Acquire)
}

/// The pacer's state after a cycle, for `GODEBUG=gcpacertrace=1` (Go
/// prints its own at `endCycle` and `commit`).
pub fn trace_line() -> String {
    let (estimate, cons_mark) = {
        let st = STATE.lock();
        (st.cons_mark(), st.cons_mark)
    };
    format!(
        "pacer: marked {} B, goal {} B, trigger {} B, last scan work {} B, cons/mark {:.4} (last 4: {:.4?}), assist {:.3} ms",
        HEAP_MARKED.load(Ordering::Acquire),
        GOAL.load(Ordering::Acquire),
        TRIGGER.load(Ordering::Acquire),
        LAST_SCAN.load(Ordering::Acquire),
        estimate,
        cons_mark,
        ASSIST_NS.load(Ordering::Acquire) as f64 / 1e6,
    )
}

/// The current heap goal (Go: `NextGC`).
pub fn goal() -> u64 {
    init();
    GOAL.load(Ordering::Acquire)
}

/// The current trigger: the `heap_live` at which the next cycle starts
/// (`u64::MAX` when collection is off).
pub fn trigger() -> u64 {
    init();
    TRIGGER.load(Ordering::Acquire)
}

/// Live bytes after the last cycle.
pub fn heap_marked() -> u64 {
    HEAP_MARKED.load(Ordering::Acquire)
}

/// True if `heap_live` has reached the trigger (Go: `gcTrigger.test` for
/// `gcTriggerHeap`). Cheap: two relaxed loads.
#[inline]
pub fn should_trigger(heap_live: isize) -> bool {
    let t = TRIGGER.load(Ordering::Relaxed);
    heap_live >= 0 && heap_live as u64 >= t && should_trigger_slow(heap_live as u64)
}

/// Confirms a trigger, reading the environment first if nothing has yet
/// (`TRIGGER` starts at 0 so the first check always lands here).
#[cold]
fn should_trigger_slow(heap_live: u64) -> bool {
    init();
    let t = TRIGGER.load(Ordering::Acquire);
    t != u64::MAX && heap_live >= t
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0, Some(100), 4 << 20)]
    #[case(10 << 20, Some(100), 20 << 20)]
    #[case(10 << 20, Some(50), 15 << 20)]
    #[case(1 << 20, Some(200), 8 << 20)]
    #[case(10 << 20, None, u64::MAX)]
    fn goal_follows_gogc(#[case] marked: u64, #[case] p: Option<u32>, #[case] goal: u64) {
        assert_eq!(goal_for(marked, p, env::NO_MEMORY_LIMIT), goal);
    }

    /// Go's trigger bounds: at least 45/64 and at most 61/64 of the way from
    /// the marked heap to the goal (or goal − 4 MiB for big heaps), the goal
    /// less the runway in between.
    #[rstest]
    #[case(0, 4 << 20, 0.0, 0, (4 << 20) / 64 * 61)]
    #[case(100 << 20, 200 << 20, 0.0, 0, (200 << 20) - HEAP_MINIMUM)]
    #[case(100 << 20, 200 << 20, 10.0, 100 << 20, (100 << 20) + (100 << 20) / 64 * 45)]
    #[case(100 << 20, 200 << 20, 0.05, 100 << 20, (200 << 20) - 15 * (1 << 20))]
    #[case(10 << 20, 10 << 20, 0.5, 1 << 20, 10 << 20)]
    fn trigger_follows_the_runway(
        #[case] marked: u64,
        #[case] goal: u64,
        #[case] cons_mark: f64,
        #[case] last_scan: u64,
        #[case] want: u64,
    ) {
        let t = trigger_for(marked, goal, cons_mark, last_scan);
        assert!(t.abs_diff(want) <= 64, "trigger {t}, want {want}");
        assert!(t >= marked.min(goal) && t <= goal);
    }

    #[test]
    fn memory_limit_caps_goal() {
        let limit = 100 << 20;
        let g = goal_for(80 << 20, Some(100), limit);
        assert_eq!(g, limit - limit / 100 * 3);
        let g = goal_for(80 << 20, None, limit);
        assert_eq!(g, limit - limit / 100 * 3, "GOGC=off with a limit still collects");
        // Below twice the 1 MiB minimum headroom the goal is the headroom.
        assert_eq!(goal_for(0, Some(100), 3 << 19), 1 << 20);
    }

    /// A limit below the live heap puts the goal at the live heap, never
    /// under it (Go: `memoryLimitHeapGoal`'s `max(goal, heapMarked)`), and
    /// the trigger with it: cycles run back to back.
    #[rstest]
    #[case(200 << 20, 128 << 20)]
    #[case(32 << 20, 8 << 20)]
    #[case(5 << 20, 1 << 20)]
    fn memory_limit_below_live_heap_floors_goal_at_marked(#[case] marked: u64, #[case] limit: u64) {
        for p in [Some(50), Some(100), None] {
            let g = goal_for(marked, p, limit);
            assert_eq!(g, marked);
            assert_eq!(trigger_for(marked, g, 0.5, marked), marked);
        }
    }
}
