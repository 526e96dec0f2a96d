//! Work buffers (Go: `gcWork`, `workbuf`, `work.full`, `work.empty`).
//!
//! A [`GcWork`] is a marker's private cache of grey objects: two buffers of
//! 253 entries each (a 2 KiB `workbuf` as in Go). Pushing into a full primary
//! swaps in the secondary; when both are full one goes to the global `full`
//! list. Popping from an empty pair takes a full buffer from the global list.
//! The pair hysteresis keeps most traffic local.
//!
//! Invariants:
//! * `wbuf1` and `wbuf2` are both present or both absent (Go asserts the
//!   same).
//! * A buffer in the global `full` list is non-empty; one in `empty` is empty.
//! * `flushed_work` is set whenever this gcWork moved a non-empty buffer to
//!   the global list since it was last cleared (Go: `flushedWork`), which
//!   mark-termination detection reads.

use crossbeam_queue::SegQueue;

/// Entries per work buffer (Go: `_WorkbufSize` 2048 B → 253 pointers).
pub const WORKBUF_ENTRIES: usize = 253;

/// A buffer of grey object slots (Go: `workbuf`).
pub struct WorkBuf {
    n: usize,
    obj: [usize; WORKBUF_ENTRIES],
}

impl WorkBuf {
    fn new() -> Box<WorkBuf> {
        Box::new(WorkBuf { n: 0, obj: [0; WORKBUF_ENTRIES] })
    }
}

/// The global lists (Go: `work.full`, `work.empty`).
pub struct WorkLists {
    full: SegQueue<Box<WorkBuf>>,
    empty: SegQueue<Box<WorkBuf>>,
}

impl WorkLists {
    /// Empty lists.
    pub const fn new() -> WorkLists {
        WorkLists { full: SegQueue::new(), empty: SegQueue::new() }
    }

    fn get_empty(&self) -> Box<WorkBuf> {
        self.empty.pop().unwrap_or_else(WorkBuf::new)
    }

    /// True if no full buffer is waiting.
    pub fn full_is_empty(&self) -> bool {
        self.full.is_empty()
    }
}

impl Default for WorkLists {
    fn default() -> Self {
        Self::new()
    }
}

/// A marker's work cache (Go: `gcWork`).
#[derive(Default)]
pub struct GcWork {
    wbuf1: Option<Box<WorkBuf>>,
    wbuf2: Option<Box<WorkBuf>>,
    /// Set when a non-empty buffer was published (Go: `flushedWork`).
    pub flushed_work: bool,
}

impl GcWork {
    fn init(&mut self, lists: &WorkLists) {
        if self.wbuf1.is_none() {
            self.wbuf1 = Some(lists.get_empty());
            self.wbuf2 = Some(lists.get_empty());
        }
    }

    /// Queues a grey object (Go: `gcWork.put`).
    #[inline]
    pub fn put(&mut self, lists: &WorkLists, obj: usize) {
        if let Some(b) = self.wbuf1.as_deref_mut() {
            if b.n < WORKBUF_ENTRIES {
                b.obj[b.n] = obj;
                b.n += 1;
                return;
            }
        }
        self.put_slow(lists, obj);
    }

    #[cold]
    fn put_slow(&mut self, lists: &WorkLists, obj: usize) {
        self.init(lists);
        core::mem::swap(&mut self.wbuf1, &mut self.wbuf2);
        let b = self.wbuf1.as_deref_mut().expect("initialised");
        if b.n == WORKBUF_ENTRIES {
            let full = self.wbuf1.take().expect("initialised");
            lists.full.push(full);
            self.flushed_work = true;
            self.wbuf1 = Some(lists.get_empty());
        }
        let b = self.wbuf1.as_deref_mut().expect("initialised");
        b.obj[b.n] = obj;
        b.n += 1;
    }

    /// Takes a grey object, from the local buffers first, then the global
    /// list (Go: `gcWork.tryGet`).
    #[inline]
    pub fn try_get(&mut self, lists: &WorkLists) -> Option<usize> {
        if let Some(b) = self.wbuf1.as_deref_mut() {
            if b.n > 0 {
                b.n -= 1;
                return Some(b.obj[b.n]);
            }
        }
        self.try_get_slow(lists)
    }

    #[cold]
    fn try_get_slow(&mut self, lists: &WorkLists) -> Option<usize> {
        self.init(lists);
        core::mem::swap(&mut self.wbuf1, &mut self.wbuf2);
        let b = self.wbuf1.as_deref_mut().expect("initialised");
        if b.n == 0 {
            let full = lists.full.pop()?;
            let old = self.wbuf1.replace(full).expect("initialised");
            lists.empty.push(old);
        }
        let b = self.wbuf1.as_deref_mut().expect("initialised");
        b.n -= 1;
        Some(b.obj[b.n])
    }

    /// Publishes local work so idle markers can take it (Go:
    /// `gcWork.balance`): the secondary buffer if non-empty, else half of the
    /// primary when it holds more than 4 entries.
    pub fn balance(&mut self, lists: &WorkLists) {
        let Some(b2) = self.wbuf2.as_deref() else { return };
        if b2.n > 0 {
            let full = self.wbuf2.replace(lists.get_empty()).expect("present");
            lists.full.push(full);
            self.flushed_work = true;
            return;
        }
        let b1 = self.wbuf1.as_deref_mut().expect("both present");
        if b1.n > 4 {
            let mut half = lists.get_empty();
            let keep = b1.n / 2;
            let moved = b1.n - keep;
            half.obj[..moved].copy_from_slice(&b1.obj[keep..b1.n]);
            half.n = moved;
            b1.n = keep;
            lists.full.push(half);
            self.flushed_work = true;
        }
    }

    /// Moves all local work to the global list (Go: `gcWork.dispose`).
    pub fn dispose(&mut self, lists: &WorkLists) {
        for b in [self.wbuf1.take(), self.wbuf2.take()].into_iter().flatten() {
            if b.n > 0 {
                lists.full.push(b);
                self.flushed_work = true;
            } else {
                lists.empty.push(b);
            }
        }
    }

    /// True if no local work is queued.
    pub fn is_empty(&self) -> bool {
        self.wbuf1.as_deref().is_none_or(|b| b.n == 0) && self.wbuf2.as_deref().is_none_or(|b| b.n == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifo_across_buffers_and_global_list() {
        let lists = WorkLists::new();
        let mut w = GcWork::default();
        let n = WORKBUF_ENTRIES * 5 + 7;
        for i in 1..=n {
            w.put(&lists, i * 8);
        }
        assert!(!lists.full_is_empty(), "overflow reached the global list");
        let mut seen = vec![false; n + 1];
        while let Some(x) = w.try_get(&lists) {
            assert!(!seen[x / 8], "duplicate");
            seen[x / 8] = true;
        }
        assert!(seen[1..].iter().all(|&s| s), "every entry came back");
        assert!(w.is_empty());
    }

    #[test]
    fn balance_and_dispose_publish_work() {
        let lists = WorkLists::new();
        let mut a = GcWork::default();
        for i in 1..=20 {
            a.put(&lists, i * 8);
        }
        a.balance(&lists);
        assert!(a.flushed_work);
        let mut b = GcWork::default();
        let stolen = core::iter::from_fn(|| b.try_get(&lists)).count();
        assert!(stolen > 0 && stolen < 20);
        a.dispose(&lists);
        let rest = core::iter::from_fn(|| b.try_get(&lists)).count();
        assert_eq!(stolen + rest, 20);
    }
}
