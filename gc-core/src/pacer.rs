//! The heap goal (Go: mgcpacer.go `gcControllerState.commit`,
//! `heapGoalInternal`, `memoryLimitHeapGoal`).
//!
//! This is the GOGC / GOMEMLIMIT part of Go's pacer. Marking currently runs
//! inside the stop-the-world pause, so the trigger equals the goal; the
//! concurrent pacer (trigger ratio, assists, 25 % worker budget) comes with
//! concurrent marking and will replace `trigger` without changing `goal`.
//!
//! Invariants: `goal >= heap_marked` unless the memory limit forces it lower
//! (then the limit wins, as in Go); with GOGC=off and no memory limit the
//! goal is infinite and no cycle is ever triggered by allocation.

use crate::env;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

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

fn init() {
    if GC_PERCENT.load(Ordering::Acquire) == i64::MIN {
        let c = env::config();
        let p = c.gc_percent.map_or(OFF, |p| p as i64);
        let _ = GC_PERCENT.compare_exchange(i64::MIN, p, Ordering::AcqRel, Ordering::Acquire);
        let _ = MEMORY_LIMIT.compare_exchange(u64::MAX, c.memory_limit, Ordering::AcqRel, Ordering::Acquire);
        commit();
    }
}

/// GOGC as a number, `None` when off.
pub fn gc_percent() -> Option<u32> {
    init();
    let p = GC_PERCENT.load(Ordering::Acquire);
    (p >= 0).then_some(p as u32)
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

/// The memory limit in bytes.
pub fn memory_limit() -> u64 {
    init();
    MEMORY_LIMIT.load(Ordering::Acquire)
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
    // Go keeps max(3 %, 1 MiB) of headroom under the limit for non-heap
    // memory and fragmentation (memoryLimitHeapGoalHeadroomPercent).
    let headroom = (memory_limit / 100 * 3).max(1 << 20);
    percent_goal.min(memory_limit.saturating_sub(headroom))
}

/// Recomputes goal and trigger from the last marked size.
pub fn commit() {
    let goal = goal_for(HEAP_MARKED.load(Ordering::Acquire), gc_percent_raw(), MEMORY_LIMIT.load(Ordering::Acquire));
    TRIGGER.store(goal, Ordering::Release);
}

fn gc_percent_raw() -> Option<u32> {
    let p = GC_PERCENT.load(Ordering::Acquire);
    (p >= 0).then_some(p as u32)
}

/// Records the result of a mark phase and recomputes the goal.
pub fn end_cycle(marked: u64) {
    init();
    HEAP_MARKED.store(marked, Ordering::Release);
    commit();
}

/// The current heap goal (Go: `NextGC`).
pub fn goal() -> u64 {
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

    #[test]
    fn memory_limit_caps_goal() {
        let limit = 100 << 20;
        let g = goal_for(80 << 20, Some(100), limit);
        assert_eq!(g, limit - limit / 100 * 3);
        let g = goal_for(80 << 20, None, limit);
        assert_eq!(g, limit - limit / 100 * 3, "GOGC=off with a limit still collects");
    }
}
