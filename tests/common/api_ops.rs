//! The operation language over tricolor-gc's whole public API, its byte
//! encoding, and an interpreter that runs a program of operations against
//! the real heap and a reference model, checking after every operation.
//!
//! Shared by `tests/api_model.rs` (proptest, shrinking) and
//! `fuzz/fuzz_targets/api_model.rs` (cargo-fuzz), each of which includes
//! this file with `#[path]`. It needs only `tricolor-gc` and `parking_lot`.
//!
//! Properties checked (any violation is a failure naming the operation):
//! * every object the model says is reachable (from rooted handles, pending
//!   `Member`s and `GcVec`s on the stack, through `Member` fields, `GcVec`
//!   fields and `Gc<[Member<_>]>` slices) still reads its payload (an id and
//!   checksum, byte patterns, lengths, alignment), every field and vector
//!   reads the model's target, and no two live objects overlap in memory;
//! * no reachable object's drop glue has run, no object's drop glue runs
//!   twice, and after a top-level `collect()` the drop glue of exactly the
//!   unreachable objects has run (identified objects by id, zero-sized ones by
//!   count);
//! * `Weak::upgrade` returns the object while it is reachable, `None` once a
//!   `collect()` has run since it became unreachable, and never an object
//!   whose drop glue or cleanup ran; an upgrade in between may resurrect it;
//! * a cleanup runs exactly once, only after its object is unreachable, and
//!   never after `Cleanup::stop` was called while the object was reachable;
//! * `GcVec` methods agree with a `Vec` model; `with_capacity` of a capacity
//!   whose byte size overflows panics with "capacity overflow" and leaves
//!   everything working; a second thread pushing while this one reads
//!   `get(len())` sees only elements that were pushed;
//! * callbacks that call back into the API work: drop glue that allocates,
//!   calls `collect()` or takes a lock the allocating thread holds; cleanups
//!   that allocate; `retain` closures that call `len`/`get`/`first`/`last`/
//!   `iter`/`contains_ptr`/`push` on the same vector (a `push` may panic, and
//!   the vector must still work); calls that are refused inside `pin` panic
//!   with the documented message and leave the heap working;
//! * no operation hangs: a watchdog thread aborts the process with a message
//!   naming the operation after `API_MODEL_WATCHDOG_SECS` (default 20) s
//!   without progress, since a deadlock cannot be caught otherwise.
//!
//! Op families that exercise the bugs known when this test was written can
//! be switched off with `API_MODEL_SKIP=zst_empty,huge_capacity,vec_race,
//! drop_reentry,retain_reentry` (all run by default).

#![allow(dead_code)]

use parking_lot::Mutex;
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tricolor_gc::{Cleanup, Gc, GcPointee, GcVec, Member, Trace, Weak};

// ---------------------------------------------------------------------------
// The operation language
// ---------------------------------------------------------------------------

/// Where a new object's `Member` field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// `Member::null()`.
    Null,
    /// `Member::new(&root)` of the selected node root.
    New(u8),
    /// `Member::from(root.clone())` (reuses the clone's root slot).
    FromGc(u8),
    /// Moves the selected pending `Member` off the stack into the object.
    Pending(u8),
}

/// One operation. Selectors (`u8`) pick an item modulo the number of
/// candidates; an operation with no candidate does nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `Gc::new(Node)`: two `Member` fields, a `GcVec` field built on the
    /// stack (`with_capacity(cap % 9)`, `fill % 6` pushes of a node root)
    /// and a `Weak` field.
    NewNode {
        a: Src,
        b: Src,
        weak: Option<u8>,
        cap: u8,
        fill: u8,
    },
    /// A 40 KiB object with pointers (large span, traced).
    NewBig {
        a: Src,
    },
    /// `#[repr(align(N))]` objects: 16, 64, 4096 (no pointers, drop glue),
    /// and a 64-aligned node with a `Member`.
    NewAligned {
        align: u8,
        next: Src,
    },
    /// Objects of size-class edge sizes: with drop glue (`drop`) or without
    /// (headerless up to 512 bytes).
    NewBlob {
        size: u8,
        drop: bool,
    },
    /// `Gc::<str>::from` (length 0 needs the `zst_empty` family).
    NewStr {
        len: u16,
        owned: bool,
    },
    /// `Gc::from_vec`: 0 `[u64]`, 1 `[Tag]` (drop glue per element),
    /// 2 `[ZstDrop]`, 3 `[Member<Node>]` (to node roots), 4 `[()]`.
    NewSlice {
        elem: u8,
        len: u16,
    },
    /// A zero-sized object: `ZstDrop` (drop glue) or `()`.
    NewZst {
        drop: bool,
    },
    /// A pointer-free object whose drop glue calls back into the API:
    /// 0 allocates, 1 calls `collect()`, 2 takes the lock `LockedAlloc` holds.
    NewReentrant {
        kind: u8,
    },
    CloneRoot(u8),
    DropRoot(u8),
    /// `Member::set` of field `slot` of an object with fields.
    Link {
        from: u8,
        slot: u8,
        to: u8,
    },
    /// `Member::clear`.
    Unlink {
        from: u8,
        slot: u8,
    },
    /// `Member::get`, `is_null`, `ptr_eq`; the result becomes a root.
    Read {
        from: u8,
        slot: u8,
    },
    /// A pending `Member` on the stack: `Member::new` or `Member::from`.
    PendingNew {
        to: u8,
        from_gc: bool,
    },
    PendingSet {
        p: u8,
        to: u8,
    },
    PendingClear(u8),
    PendingGet(u8),
    PendingDrop(u8),
    /// A `GcVec` on the stack: `new()` or `with_capacity(cap)`.
    VecNew {
        cap: u16,
    },
    /// `GcVec::with_capacity` of a capacity whose byte size overflows.
    VecWithCapHuge(u8),
    VecPush {
        v: u8,
        x: u8,
    },
    VecPop(u8),
    /// `get(i % (len + 2))`.
    VecGet {
        v: u8,
        i: u8,
    },
    VecFirst(u8),
    VecLast(u8),
    /// `set(i % (len + 1), x)`.
    VecSet {
        v: u8,
        i: u8,
        x: u8,
    },
    /// `truncate(n % (len + 2))`.
    VecTruncate {
        v: u8,
        n: u8,
    },
    VecClear(u8),
    /// `retain`, keeping element k if bit `k % 8` of `mask` is set; the
    /// closure re-enters the vector: 0 nothing, 1 `len`, 2 `get`, 3 `first`,
    /// 4 `last`, 5 `iter`, 6 `contains_ptr`, 7 `push`.
    VecRetain {
        v: u8,
        mask: u8,
        reenter: u8,
    },
    /// `position_ptr` and `contains_ptr`.
    VecPosition {
        v: u8,
        x: u8,
    },
    /// `iter`, `to_vec`, `len`, `is_empty`.
    VecIter(u8),
    VecDrop(u8),
    /// A second thread pushes `8 + n % 64` times while this one reads
    /// `get(len())` and `get(len() - 1)`.
    VecRace {
        v: u8,
        x: u8,
        n: u8,
    },
    Downgrade(u8),
    WeakNew,
    WeakClone(u8),
    Upgrade(u8),
    /// Upgrades a node's `Weak` field.
    UpgradeField(u8),
    WeakDrop(u8),
    /// `Gc::add_cleanup`; the cleanup records that it ran and, with `alloc`,
    /// allocates.
    AddCleanup {
        target: u8,
        alloc: bool,
    },
    StopCleanup(u8),
    /// `pin`: allocates a chain of `1 + n % 8` nodes with `Guard::alloc` and
    /// `set_ref`, links it into a rooted node, reads fields with `load`, and
    /// optionally keeps it with `Ref::root`.
    Pin {
        n: u8,
        link: u8,
        root: bool,
    },
    /// A call refused inside a pin: 0 `collect`, 1 `mem_stats`,
    /// 2 `safepoint`, 3 `blocking`, 4 `GcVec::push`, 5 `GcVec::last`.
    PinMisuse(u8),
    /// Moves a root (0), stack vector (1), pending member (2) or weak (3) to
    /// a thread that drops it.
    ThreadDrop {
        what: u8,
        sel: u8,
    },
    /// Moves a node root to a thread that links `n % 5` new nodes to it,
    /// clones it and exits, returning every handle.
    ThreadKeep {
        sel: u8,
        n: u8,
    },
    /// A thread rewires `node.a` between two roots `1 + n % 64` times while
    /// this thread runs `collect()`.
    ThreadRewire {
        node: u8,
        t1: u8,
        t2: u8,
        n: u8,
    },
    /// Holds a lock (the one `NewReentrant { kind: 2 }` drop glue takes)
    /// while allocating `64 * (1 + n % 8)` times four small objects and a
    /// 4 KiB blob.
    LockedAlloc {
        n: u8,
    },
    /// `collect()`, then the strict checks.
    Collect,
    Safepoint,
    MemStats,
    /// `blocking(|| ...)` waiting for a thread that collects and sends
    /// `n % 4` new nodes.
    Blocking {
        n: u8,
    },
    /// `set_gc_percent` of 100, 1, 10, 50, off, 200.
    SetGcPercent(u8),
}

/// Number of `Op` variants (the byte decoder's tag modulus).
pub const N_OPS: u8 = 52;
/// Longest program the byte decoder produces.
pub const MAX_OPS: usize = 256;

/// Groups of operations that can be switched off (`API_MODEL_SKIP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Core,
    /// Zero-sized objects and empty slices and strings.
    ZstEmpty,
    /// `GcVec::with_capacity` of overflowing capacities.
    HugeCapacity,
    /// `VecRace`.
    VecRace,
    /// Drop glue that calls `collect()` or takes a held lock.
    DropReentry,
    /// `retain` closures calling `last`/`push` on the same vector.
    RetainReentry,
}

impl Family {
    const ALL: [(Family, &'static str); 5] = [
        (Family::ZstEmpty, "zst_empty"),
        (Family::HugeCapacity, "huge_capacity"),
        (Family::VecRace, "vec_race"),
        (Family::DropReentry, "drop_reentry"),
        (Family::RetainReentry, "retain_reentry"),
    ];
}

impl Op {
    /// The family an operation belongs to.
    pub fn family(&self) -> Family {
        match *self {
            Op::NewStr { len, .. } if str_len(len) == 0 => Family::ZstEmpty,
            Op::NewZst { .. } => Family::ZstEmpty,
            Op::NewSlice { elem, len } if slice_len(elem, len) == 0 || elem % 5 == 2 || elem % 5 == 4 => {
                Family::ZstEmpty
            }
            Op::VecWithCapHuge(_) => Family::HugeCapacity,
            Op::VecRace { .. } => Family::VecRace,
            Op::NewReentrant { kind } if kind % 3 != 0 => Family::DropReentry,
            Op::LockedAlloc { .. } => Family::DropReentry,
            Op::VecRetain { reenter, .. } if reenter % 8 == 4 || reenter % 8 == 7 => Family::RetainReentry,
            _ => Family::Core,
        }
    }
}

/// The length `NewStr` uses.
pub fn str_len(len: u16) -> usize {
    len as usize % 700
}

/// The length `NewSlice` uses.
pub fn slice_len(elem: u8, len: u16) -> usize {
    len as usize % if elem % 5 == 0 { 5000 } else { 70 }
}

/// The set of enabled families, from `API_MODEL_SKIP`.
#[derive(Clone, Copy, Debug)]
pub struct Families(u32);

impl Families {
    pub const ALL: Families = Families(u32::MAX);

    pub fn from_env() -> Families {
        let mut f = Families::ALL;
        if let Ok(s) = std::env::var("API_MODEL_SKIP") {
            for name in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match Family::ALL.iter().find(|(_, n)| *n == name) {
                    Some((fam, _)) => f.0 &= !(1 << *fam as u32),
                    None => panic!("API_MODEL_SKIP: unknown family {name:?}"),
                }
            }
        }
        f
    }

    pub fn enabled(self, fam: Family) -> bool {
        self.0 & (1 << fam as u32) != 0
    }
}

// ---------------------------------------------------------------------------
// Byte encoding (the fuzz target's input; also how a failing proptest
// program is replayed in a child process)
// ---------------------------------------------------------------------------

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn b(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn src(&mut self) -> Src {
        let mode = self.u8() % 4;
        let sel = self.u8();
        match mode {
            0 => Src::Null,
            1 => Src::New(sel),
            2 => Src::FromGc(sel),
            _ => Src::Pending(sel),
        }
    }
    fn opt(&mut self) -> Option<u8> {
        let flag = self.b();
        let v = self.u8();
        flag.then_some(v)
    }
}

/// Decodes a program from arbitrary bytes (every byte string is a program).
pub fn decode(data: &[u8]) -> Vec<Op> {
    let mut r = Reader { data, pos: 0 };
    let mut ops = Vec::new();
    while !r.done() && ops.len() < MAX_OPS {
        let op = match r.u8() % N_OPS {
            0 => Op::NewNode { a: r.src(), b: r.src(), weak: r.opt(), cap: r.u8(), fill: r.u8() },
            1 => Op::NewBig { a: r.src() },
            2 => Op::NewAligned { align: r.u8(), next: r.src() },
            3 => Op::NewBlob { size: r.u8(), drop: r.b() },
            4 => Op::NewStr { len: r.u16(), owned: r.b() },
            5 => Op::NewSlice { elem: r.u8(), len: r.u16() },
            6 => Op::NewZst { drop: r.b() },
            7 => Op::NewReentrant { kind: r.u8() },
            8 => Op::CloneRoot(r.u8()),
            9 => Op::DropRoot(r.u8()),
            10 => Op::Link { from: r.u8(), slot: r.u8(), to: r.u8() },
            11 => Op::Unlink { from: r.u8(), slot: r.u8() },
            12 => Op::Read { from: r.u8(), slot: r.u8() },
            13 => Op::PendingNew { to: r.u8(), from_gc: r.b() },
            14 => Op::PendingSet { p: r.u8(), to: r.u8() },
            15 => Op::PendingClear(r.u8()),
            16 => Op::PendingGet(r.u8()),
            17 => Op::PendingDrop(r.u8()),
            18 => Op::VecNew { cap: r.u16() },
            19 => Op::VecWithCapHuge(r.u8()),
            20 => Op::VecPush { v: r.u8(), x: r.u8() },
            21 => Op::VecPop(r.u8()),
            22 => Op::VecGet { v: r.u8(), i: r.u8() },
            23 => Op::VecFirst(r.u8()),
            24 => Op::VecLast(r.u8()),
            25 => Op::VecSet { v: r.u8(), i: r.u8(), x: r.u8() },
            26 => Op::VecTruncate { v: r.u8(), n: r.u8() },
            27 => Op::VecClear(r.u8()),
            28 => Op::VecRetain { v: r.u8(), mask: r.u8(), reenter: r.u8() },
            29 => Op::VecPosition { v: r.u8(), x: r.u8() },
            30 => Op::VecIter(r.u8()),
            31 => Op::VecDrop(r.u8()),
            32 => Op::VecRace { v: r.u8(), x: r.u8(), n: r.u8() },
            33 => Op::Downgrade(r.u8()),
            34 => Op::WeakNew,
            35 => Op::WeakClone(r.u8()),
            36 => Op::Upgrade(r.u8()),
            37 => Op::UpgradeField(r.u8()),
            38 => Op::WeakDrop(r.u8()),
            39 => Op::AddCleanup { target: r.u8(), alloc: r.b() },
            40 => Op::StopCleanup(r.u8()),
            41 => Op::Pin { n: r.u8(), link: r.u8(), root: r.b() },
            42 => Op::PinMisuse(r.u8()),
            43 => Op::ThreadDrop { what: r.u8(), sel: r.u8() },
            44 => Op::ThreadKeep { sel: r.u8(), n: r.u8() },
            45 => Op::ThreadRewire { node: r.u8(), t1: r.u8(), t2: r.u8(), n: r.u8() },
            46 => Op::LockedAlloc { n: r.u8() },
            47 => Op::Collect,
            48 => Op::Safepoint,
            49 => Op::MemStats,
            50 => Op::Blocking { n: r.u8() },
            _ => Op::SetGcPercent(r.u8()),
        };
        ops.push(op);
    }
    ops
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn b(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    fn src(&mut self, s: Src) {
        let (m, v) = match s {
            Src::Null => (0, 0),
            Src::New(v) => (1, v),
            Src::FromGc(v) => (2, v),
            Src::Pending(v) => (3, v),
        };
        self.u8(m);
        self.u8(v);
    }
    fn opt(&mut self, o: Option<u8>) {
        self.b(o.is_some());
        self.u8(o.unwrap_or(0));
    }
}

/// Encodes a program so that `decode(&encode(p)) == p` (for `p.len() <= MAX_OPS`).
pub fn encode(ops: &[Op]) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    for op in ops {
        match *op {
            Op::NewNode { a, b, weak, cap, fill } => {
                w.u8(0);
                w.src(a);
                w.src(b);
                w.opt(weak);
                w.u8(cap);
                w.u8(fill);
            }
            Op::NewBig { a } => {
                w.u8(1);
                w.src(a);
            }
            Op::NewAligned { align, next } => {
                w.u8(2);
                w.u8(align);
                w.src(next);
            }
            Op::NewBlob { size, drop } => {
                w.u8(3);
                w.u8(size);
                w.b(drop);
            }
            Op::NewStr { len, owned } => {
                w.u8(4);
                w.u16(len);
                w.b(owned);
            }
            Op::NewSlice { elem, len } => {
                w.u8(5);
                w.u8(elem);
                w.u16(len);
            }
            Op::NewZst { drop } => {
                w.u8(6);
                w.b(drop);
            }
            Op::NewReentrant { kind } => {
                w.u8(7);
                w.u8(kind);
            }
            Op::CloneRoot(s) => {
                w.u8(8);
                w.u8(s);
            }
            Op::DropRoot(s) => {
                w.u8(9);
                w.u8(s);
            }
            Op::Link { from, slot, to } => {
                w.u8(10);
                w.u8(from);
                w.u8(slot);
                w.u8(to);
            }
            Op::Unlink { from, slot } => {
                w.u8(11);
                w.u8(from);
                w.u8(slot);
            }
            Op::Read { from, slot } => {
                w.u8(12);
                w.u8(from);
                w.u8(slot);
            }
            Op::PendingNew { to, from_gc } => {
                w.u8(13);
                w.u8(to);
                w.b(from_gc);
            }
            Op::PendingSet { p, to } => {
                w.u8(14);
                w.u8(p);
                w.u8(to);
            }
            Op::PendingClear(s) => {
                w.u8(15);
                w.u8(s);
            }
            Op::PendingGet(s) => {
                w.u8(16);
                w.u8(s);
            }
            Op::PendingDrop(s) => {
                w.u8(17);
                w.u8(s);
            }
            Op::VecNew { cap } => {
                w.u8(18);
                w.u16(cap);
            }
            Op::VecWithCapHuge(s) => {
                w.u8(19);
                w.u8(s);
            }
            Op::VecPush { v, x } => {
                w.u8(20);
                w.u8(v);
                w.u8(x);
            }
            Op::VecPop(s) => {
                w.u8(21);
                w.u8(s);
            }
            Op::VecGet { v, i } => {
                w.u8(22);
                w.u8(v);
                w.u8(i);
            }
            Op::VecFirst(s) => {
                w.u8(23);
                w.u8(s);
            }
            Op::VecLast(s) => {
                w.u8(24);
                w.u8(s);
            }
            Op::VecSet { v, i, x } => {
                w.u8(25);
                w.u8(v);
                w.u8(i);
                w.u8(x);
            }
            Op::VecTruncate { v, n } => {
                w.u8(26);
                w.u8(v);
                w.u8(n);
            }
            Op::VecClear(s) => {
                w.u8(27);
                w.u8(s);
            }
            Op::VecRetain { v, mask, reenter } => {
                w.u8(28);
                w.u8(v);
                w.u8(mask);
                w.u8(reenter);
            }
            Op::VecPosition { v, x } => {
                w.u8(29);
                w.u8(v);
                w.u8(x);
            }
            Op::VecIter(s) => {
                w.u8(30);
                w.u8(s);
            }
            Op::VecDrop(s) => {
                w.u8(31);
                w.u8(s);
            }
            Op::VecRace { v, x, n } => {
                w.u8(32);
                w.u8(v);
                w.u8(x);
                w.u8(n);
            }
            Op::Downgrade(s) => {
                w.u8(33);
                w.u8(s);
            }
            Op::WeakNew => w.u8(34),
            Op::WeakClone(s) => {
                w.u8(35);
                w.u8(s);
            }
            Op::Upgrade(s) => {
                w.u8(36);
                w.u8(s);
            }
            Op::UpgradeField(s) => {
                w.u8(37);
                w.u8(s);
            }
            Op::WeakDrop(s) => {
                w.u8(38);
                w.u8(s);
            }
            Op::AddCleanup { target, alloc } => {
                w.u8(39);
                w.u8(target);
                w.b(alloc);
            }
            Op::StopCleanup(s) => {
                w.u8(40);
                w.u8(s);
            }
            Op::Pin { n, link, root } => {
                w.u8(41);
                w.u8(n);
                w.u8(link);
                w.b(root);
            }
            Op::PinMisuse(s) => {
                w.u8(42);
                w.u8(s);
            }
            Op::ThreadDrop { what, sel } => {
                w.u8(43);
                w.u8(what);
                w.u8(sel);
            }
            Op::ThreadKeep { sel, n } => {
                w.u8(44);
                w.u8(sel);
                w.u8(n);
            }
            Op::ThreadRewire { node, t1, t2, n } => {
                w.u8(45);
                w.u8(node);
                w.u8(t1);
                w.u8(t2);
                w.u8(n);
            }
            Op::LockedAlloc { n } => {
                w.u8(46);
                w.u8(n);
            }
            Op::Collect => w.u8(47),
            Op::Safepoint => w.u8(48),
            Op::MemStats => w.u8(49),
            Op::Blocking { n } => {
                w.u8(50);
                w.u8(n);
            }
            Op::SetGcPercent(s) => {
                w.u8(51);
                w.u8(s);
            }
        }
    }
    w.0
}

/// Lower-case hex of `bytes` (for `API_MODEL_REPLAY`).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Inverse of `to_hex`.
pub fn from_hex(s: &str) -> Vec<u8> {
    let s = s.trim();
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("bad hex")).collect()
}

// ---------------------------------------------------------------------------
// Global records written by drop glue and cleanups (which run on any thread)
// ---------------------------------------------------------------------------

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Drop-glue deaths of zero-sized objects (which carry no id).
static ANON_DEAD: AtomicU64 = AtomicU64::new(0);
/// Errors seen inside drop glue and cleanups (which must not panic).
static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The lock `LockedAlloc` holds while allocating and `Reentrant` kind 2
/// drop glue takes.
static TEST_LOCK: Mutex<()> = Mutex::new(());

fn dead() -> &'static Mutex<HashMap<u64, u32>> {
    static D: OnceLock<Mutex<HashMap<u64, u32>>> = OnceLock::new();
    D.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cleanups_ran() -> &'static Mutex<HashMap<u64, u32>> {
    static C: OnceLock<Mutex<HashMap<u64, u32>>> = OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

fn error(msg: String) {
    ERRORS.lock().push(msg);
}

fn record_drop(id: u64) {
    let n = {
        let mut d = dead().lock();
        let n = d.entry(id).or_insert(0);
        *n += 1;
        *n
    };
    if n > 1 {
        error(format!("drop glue of object {id} ran {n} times"));
    }
}

fn fresh_ids(n: usize) -> u64 {
    NEXT_ID.fetch_add(n as u64, Ordering::Relaxed)
}

pub fn checksum(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ 0xD1B5_4A32_D192_ED03
}

fn byte_at(id: u64, i: usize) -> u8 {
    (checksum(id).rotate_left((i % 61) as u32) as u8) ^ ((i >> 3) as u8)
}

fn fill_bytes(b: &mut [u8], id: u64) {
    let idb = id.to_le_bytes();
    for (i, x) in b.iter_mut().enumerate() {
        *x = if i < 8 { idb[i] } else { byte_at(id, i) };
    }
}

fn check_bytes(b: &[u8], id: u64) -> Result<(), String> {
    let idb = id.to_le_bytes();
    for (i, &x) in b.iter().enumerate() {
        let want = if i < 8 { idb[i] } else { byte_at(id, i) };
        if x != want {
            return Err(format!("byte {i} of {} is {x:#04x}, expected {want:#04x}", b.len()));
        }
    }
    Ok(())
}

fn make_str(id: u64, len: usize) -> String {
    (0..len).map(|i| (b'a' + byte_at(id, i) % 26) as char).collect()
}

// ---------------------------------------------------------------------------
// Object types
// ---------------------------------------------------------------------------

/// Identity with drop glue that records the death.
#[derive(Trace)]
#[trace(no_pointers)]
pub struct Tag {
    id: u64,
    check: u64,
}

impl Tag {
    fn new(id: u64) -> Tag {
        Tag { id, check: checksum(id) }
    }
    fn verify(&self, id: u64) -> Result<(), String> {
        if self.id != id || self.check != checksum(id) {
            return Err(format!("tag reads id {} check {:#x}, expected id {id}", self.id, self.check));
        }
        Ok(())
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        if self.check != checksum(self.id) {
            error(format!("drop glue saw a corrupted tag (id {} check {:#x})", self.id, self.check));
        }
        record_drop(self.id);
    }
}

#[derive(Trace)]
pub struct Node {
    tag: Tag,
    a: Member<Node>,
    b: Member<Node>,
    vec: GcVec<Node>,
    weak: Weak<Node>,
}

impl Node {
    fn plain(id: u64) -> Node {
        Node { tag: Tag::new(id), a: Member::null(), b: Member::null(), vec: GcVec::new(), weak: Weak::new() }
    }
}

const BIG_WORDS: usize = 5000;

/// A 40 KiB object with a pointer: a large span that is scanned.
#[derive(Trace)]
pub struct BigNode {
    a: Member<Node>,
    tag: Tag,
    pad: [u64; BIG_WORDS],
}

#[derive(Trace)]
#[repr(align(64))]
pub struct AlignNode {
    tag: Tag,
    next: Member<Node>,
}

/// `N` bytes (align 1) of a pattern of `id`, with drop glue.
#[derive(Trace)]
#[trace(no_pointers)]
pub struct Blob<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Blob<N> {
    fn make(id: u64) -> Self {
        let mut bytes = [0u8; N];
        fill_bytes(&mut bytes, id);
        Blob { bytes }
    }
}

impl<const N: usize> Drop for Blob<N> {
    fn drop(&mut self) {
        let id = u64::from_le_bytes(self.bytes[..8].try_into().unwrap());
        if let Err(e) = check_bytes(&self.bytes, id) {
            error(format!("drop glue of Blob<{N}> {id}: {e}"));
        }
        record_drop(id);
    }
}

/// `N` bytes of a pattern, no drop glue (headerless up to 512 bytes).
#[derive(Trace)]
#[trace(no_pointers)]
pub struct Plain<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Plain<N> {
    fn make(id: u64) -> Self {
        let mut bytes = [0u8; N];
        fill_bytes(&mut bytes, id);
        Plain { bytes }
    }
}

macro_rules! aligned {
    ($($name:ident = $n:literal),*) => {$(
        #[derive(Trace)]
        #[trace(no_pointers)]
        #[repr(align($n))]
        pub struct $name {
            id: u64,
            check: u64,
        }
        impl Drop for $name {
            fn drop(&mut self) {
                if self.check != checksum(self.id) {
                    error(format!("drop glue saw a corrupted {} (id {})", stringify!($name), self.id));
                }
                record_drop(self.id);
            }
        }
        impl Check for $name {
            fn check(&self, e: &Exp) -> Result<(), String> {
                if self.id != e.id || self.check != checksum(e.id) {
                    return Err(format!("reads id {} check {:#x}", self.id, self.check));
                }
                Ok(())
            }
        }
    )*};
}
aligned!(Al16 = 16, Al64 = 64, Al4096 = 4096);

/// Zero-sized, with drop glue (counted in `ANON_DEAD`).
#[derive(Trace)]
#[trace(no_pointers)]
pub struct ZstDrop;

impl Drop for ZstDrop {
    fn drop(&mut self) {
        ANON_DEAD.fetch_add(1, Ordering::Relaxed);
    }
}

/// Drop glue that calls back into the API.
#[derive(Trace)]
#[trace(no_pointers)]
pub struct Reentrant {
    id: u64,
    check: u64,
    kind: u8,
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        if self.check != checksum(self.id) {
            error(format!("drop glue saw a corrupted Reentrant (id {})", self.id));
        }
        record_drop(self.id);
        match self.kind {
            0 => scratch_alloc("drop glue"),
            1 => tricolor_gc::collect(),
            _ => drop(TEST_LOCK.lock()),
        }
    }
}

/// Garbage allocated by callbacks (not in the model).
#[derive(Trace)]
#[trace(no_pointers)]
pub struct Scratch {
    a: u64,
    b: u64,
}

/// A node allocated by callbacks (not in the model).
#[derive(Trace)]
pub struct ScratchNode {
    next: Member<ScratchNode>,
    v: u64,
}

/// Same size class as `Reentrant`, with (empty) drop glue.
#[derive(Trace)]
#[trace(no_pointers)]
pub struct ScratchDrop {
    a: u64,
    b: u64,
    c: u8,
}

impl Drop for ScratchDrop {
    fn drop(&mut self) {
        if self.b != checksum(self.a) {
            error(format!("drop glue saw a corrupted ScratchDrop ({:#x} {:#x})", self.a, self.b));
        }
    }
}

/// Allocates from a callback and checks what it reads back.
fn scratch_alloc(who: &str) {
    let g = Gc::new(Scratch { a: 7, b: checksum(7) });
    let s = Gc::<str>::from("callback");
    let v = Gc::from_vec(vec![1u64, 2, 3]);
    let n = Gc::new(ScratchNode { next: Member::null(), v: 9 });
    n.next.set(&n);
    let back = n.next.get();
    if g.a != 7 || g.b != checksum(7) || &*s != "callback" || *v != [1u64, 2, 3][..] || back.map(|b| b.v) != Some(9) {
        error(format!("{who}: an object allocated in a callback reads wrong"));
    }
    n.next.clear();
}

// ---------------------------------------------------------------------------
// Type-erased handles
// ---------------------------------------------------------------------------

/// What the model expects of an object.
#[derive(Clone, Copy, Debug)]
pub struct Exp {
    id: u64,
    len: usize,
}

/// Payload checks of each object type.
pub trait Check: GcPointee {
    fn check(&self, e: &Exp) -> Result<(), String>;
    /// The object's `Member<Node>` fields, in the model's edge order.
    fn members(&self) -> Vec<&Member<Node>> {
        Vec::new()
    }
}

impl Check for Node {
    fn check(&self, e: &Exp) -> Result<(), String> {
        self.tag.verify(e.id)
    }
    fn members(&self) -> Vec<&Member<Node>> {
        vec![&self.a, &self.b]
    }
}

impl Check for BigNode {
    fn check(&self, e: &Exp) -> Result<(), String> {
        self.tag.verify(e.id)?;
        match self.pad.iter().enumerate().find(|(i, &w)| w != checksum(e.id) ^ *i as u64) {
            Some((i, w)) => Err(format!("pad word {i} is {w:#x}")),
            None => Ok(()),
        }
    }
    fn members(&self) -> Vec<&Member<Node>> {
        vec![&self.a]
    }
}

impl Check for AlignNode {
    fn check(&self, e: &Exp) -> Result<(), String> {
        self.tag.verify(e.id)
    }
    fn members(&self) -> Vec<&Member<Node>> {
        vec![&self.next]
    }
}

impl<const N: usize> Check for Blob<N> {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_bytes(&self.bytes, e.id)
    }
}

impl<const N: usize> Check for Plain<N> {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_bytes(&self.bytes, e.id)
    }
}

impl Check for ZstDrop {
    fn check(&self, _: &Exp) -> Result<(), String> {
        Ok(())
    }
}

impl Check for () {
    fn check(&self, _: &Exp) -> Result<(), String> {
        Ok(())
    }
}

impl Check for Reentrant {
    fn check(&self, e: &Exp) -> Result<(), String> {
        if self.id != e.id || self.check != checksum(e.id) || self.kind as usize != e.len {
            return Err(format!("reads id {} kind {}", self.id, self.kind));
        }
        Ok(())
    }
}

fn check_len(got: usize, e: &Exp) -> Result<(), String> {
    if got != e.len {
        return Err(format!("length is {got}, expected {}", e.len));
    }
    Ok(())
}

impl Check for str {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_len(self.len(), e)?;
        if self != make_str(e.id, e.len) {
            return Err("string contents differ".into());
        }
        Ok(())
    }
}

impl Check for [u64] {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_len(self.len(), e)?;
        match self.iter().enumerate().find(|(i, &w)| w != checksum(e.id) ^ *i as u64) {
            Some((i, w)) => Err(format!("element {i} is {w:#x}")),
            None => Ok(()),
        }
    }
}

impl Check for [Tag] {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_len(self.len(), e)?;
        for (i, t) in self.iter().enumerate() {
            t.verify(e.id + 1 + i as u64).map_err(|m| format!("element {i}: {m}"))?;
        }
        Ok(())
    }
}

impl Check for [ZstDrop] {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_len(self.len(), e)
    }
}

impl Check for [()] {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_len(self.len(), e)
    }
}

impl Check for [Member<Node>] {
    fn check(&self, e: &Exp) -> Result<(), String> {
        check_len(self.len(), e)
    }
    fn members(&self) -> Vec<&Member<Node>> {
        self.iter().collect()
    }
}

/// A rooted handle of any object type.
pub trait DynHandle: Send + Sync {
    fn any(&self) -> &dyn Any;
    fn check(&self, e: &Exp) -> Result<(), String>;
    fn members(&self) -> Vec<&Member<Node>>;
    fn addr(&self) -> usize;
    fn size(&self) -> usize;
    fn align(&self) -> usize;
    fn clone_box(&self) -> Box<dyn DynHandle>;
    fn downgrade(&self) -> Box<dyn DynWeak>;
    fn add_cleanup(&self, f: Box<dyn FnOnce() + Send>) -> Cleanup;
    /// `Gc::ptr_eq` (false for handles of different types).
    fn ptr_eq(&self, other: &dyn DynHandle) -> bool;
}

impl<T: ?Sized + Check> DynHandle for Gc<T> {
    fn any(&self) -> &dyn Any {
        self
    }
    fn check(&self, e: &Exp) -> Result<(), String> {
        (**self).check(e)
    }
    fn members(&self) -> Vec<&Member<Node>> {
        (**self).members()
    }
    fn addr(&self) -> usize {
        Gc::as_ptr(self) as *const u8 as usize
    }
    fn size(&self) -> usize {
        core::mem::size_of_val::<T>(&**self)
    }
    fn align(&self) -> usize {
        core::mem::align_of_val::<T>(&**self)
    }
    fn clone_box(&self) -> Box<dyn DynHandle> {
        Box::new(self.clone())
    }
    fn downgrade(&self) -> Box<dyn DynWeak> {
        Box::new(Gc::downgrade(self))
    }
    fn add_cleanup(&self, f: Box<dyn FnOnce() + Send>) -> Cleanup {
        Gc::add_cleanup(self, f)
    }
    fn ptr_eq(&self, other: &dyn DynHandle) -> bool {
        other.any().downcast_ref::<Gc<T>>().is_some_and(|o| Gc::ptr_eq(self, o))
    }
}

/// A weak pointer of any object type.
pub trait DynWeak: Send + Sync {
    fn upgrade(&self) -> Option<Box<dyn DynHandle>>;
    fn clone_box(&self) -> Box<dyn DynWeak>;
}

impl<T: ?Sized + Check> DynWeak for Weak<T> {
    fn upgrade(&self) -> Option<Box<dyn DynHandle>> {
        Weak::upgrade(self).map(|g| Box::new(g) as Box<dyn DynHandle>)
    }
    fn clone_box(&self) -> Box<dyn DynWeak> {
        Box::new(self.clone())
    }
}

fn as_node(h: &dyn DynHandle) -> Option<&Gc<Node>> {
    h.any().downcast_ref::<Gc<Node>>()
}

type Ctor = fn(u64) -> Box<dyn DynHandle>;

fn new_blob<const N: usize>(id: u64) -> Box<dyn DynHandle> {
    Box::new(Gc::new(Blob::<N>::make(id)))
}

fn new_plain<const N: usize>(id: u64) -> Box<dyn DynHandle> {
    Box::new(Gc::new(Plain::<N>::make(id)))
}

/// Blobs with drop glue (one header word, so the slot is `N + 8`): slots at
/// and around size-class edges, the 32 KiB small-object limit and above.
const DROP_BLOBS: &[(usize, Ctor)] = &[
    (8, new_blob::<8>),
    (16, new_blob::<16>),
    (24, new_blob::<24>),
    (32, new_blob::<32>),
    (40, new_blob::<40>),
    (48, new_blob::<48>),
    (56, new_blob::<56>),
    (64, new_blob::<64>),
    (120, new_blob::<120>),
    (128, new_blob::<128>),
    (248, new_blob::<248>),
    (256, new_blob::<256>),
    (504, new_blob::<504>),
    (505, new_blob::<505>),
    (512, new_blob::<512>),
    (513, new_blob::<513>),
    (1016, new_blob::<1016>),
    (4088, new_blob::<4088>),
    (8184, new_blob::<8184>),
    (32752, new_blob::<32752>),
    (32760, new_blob::<32760>),
    (32761, new_blob::<32761>),
    (32768, new_blob::<32768>),
    (32769, new_blob::<32769>),
    (65536, new_blob::<65536>),
    (100_000, new_blob::<100_000>),
];

/// Blobs without drop glue: headerless up to 512 bytes, then with a header.
const PLAIN_BLOBS: &[(usize, Ctor)] = &[
    (8, new_plain::<8>),
    (16, new_plain::<16>),
    (24, new_plain::<24>),
    (32, new_plain::<32>),
    (48, new_plain::<48>),
    (64, new_plain::<64>),
    (80, new_plain::<80>),
    (128, new_plain::<128>),
    (256, new_plain::<256>),
    (504, new_plain::<504>),
    (512, new_plain::<512>),
    (513, new_plain::<513>),
    (1024, new_plain::<1024>),
    (32760, new_plain::<32760>),
    (32768, new_plain::<32768>),
    (32769, new_plain::<32769>),
    (40_000, new_plain::<40_000>),
];

/// Capacities whose byte size (`cap * 8`) overflows `usize`.
pub const HUGE_CAPS: [usize; 4] = [usize::MAX / 8 + 1, usize::MAX / 4, usize::MAX / 2 + 1, usize::MAX];

const GC_PERCENTS: [i32; 6] = [100, 1, 10, 50, -1, 200];

// ---------------------------------------------------------------------------
// Panics that an operation expects
// ---------------------------------------------------------------------------

thread_local! {
    static EXPECTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook that stays quiet for panics `expect_panic` catches.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTING.with(|e| e.get()) {
                prev(info);
            }
        }));
    });
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".into()
    }
}

/// Runs `f`, returning its panic message if it panicked.
fn expect_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let was = EXPECTING.with(|e| e.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    EXPECTING.with(|e| e.set(was));
    r.map_err(|p| panic_message(&*p))
}

// ---------------------------------------------------------------------------
// The watchdog
// ---------------------------------------------------------------------------

static PROGRESS: AtomicU64 = AtomicU64::new(0);
static ARMED: AtomicBool = AtomicBool::new(false);
static CURRENT: Mutex<String> = Mutex::new(String::new());

/// Records progress (an operation started or a loop turned).
pub fn progress() {
    PROGRESS.fetch_add(1, Ordering::Relaxed);
}

fn watchdog_secs() -> u64 {
    std::env::var("API_MODEL_WATCHDOG_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20)
}

/// Starts (once) a thread that aborts the process with a message if an
/// armed program makes no progress for `API_MODEL_WATCHDOG_SECS` seconds.
pub fn start_watchdog() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let limit = Duration::from_secs(watchdog_secs());
        std::thread::Builder::new()
            .name("api-model-watchdog".into())
            .spawn(move || {
                let mut last = PROGRESS.load(Ordering::Relaxed);
                let mut since = Instant::now();
                loop {
                    // A timer, not synchronisation: the watchdog only
                    // measures how long the counter has stood still.
                    std::thread::sleep(Duration::from_millis(200));
                    let now = PROGRESS.load(Ordering::Relaxed);
                    if now != last || !ARMED.load(Ordering::Relaxed) {
                        last = now;
                        since = Instant::now();
                    } else if since.elapsed() >= limit {
                        let what = CURRENT
                            .try_lock_for(Duration::from_millis(500))
                            .map_or_else(|| "(unknown)".to_string(), |s| s.clone());
                        let msg =
                            format!("\napi_model watchdog: no progress for {} s (a hang): {what}\n", limit.as_secs());
                        // Not through std's stderr lock: a hung thread may hold it.
                        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open("/dev/stderr") {
                            use std::io::Write;
                            let _ = f.write_all(msg.as_bytes());
                        }
                        std::process::abort();
                    }
                }
            })
            .expect("cannot start the watchdog");
    });
}

/// Sets `GODEBUG` (unless the caller chose it) before the first GC
/// operation of the process (the configuration is read lazily, once).
pub fn init_env() {
    if std::env::var_os("GODEBUG").is_none() {
        std::env::set_var("GODEBUG", "gccheckmark=1,clobberfree=1");
    }
    install_panic_hook();
    start_watchdog();
}

// ---------------------------------------------------------------------------
// The model and the interpreter
// ---------------------------------------------------------------------------

struct MObj {
    kind: &'static str,
    exp: Exp,
    /// Targets of `members()`, in order.
    edges: Vec<Option<u64>>,
    /// A node's `GcVec` field.
    vec: Vec<u64>,
    /// A node's `Weak` field.
    weak: Option<u64>,
    is_node: bool,
    /// Ids its drop glue records.
    drop_ids: Vec<u64>,
    /// Zero-sized drop-glue deaths it accounts for.
    anon: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CState {
    Active,
    /// `stop` while the target was reachable: must never run.
    StoppedReachable,
    /// `stop` while it was unreachable and not yet known dead: may have run.
    StoppedLimbo,
    /// Its target is known dead; it ran exactly once (or never, if stopped).
    Settled,
}

struct MCleanup {
    cid: u64,
    target: u64,
    handle: Cleanup,
    state: CState,
}

#[derive(Clone, Copy)]
enum VecRef {
    Stack(usize),
    Node(usize),
}

/// One program's state: the real handles beside the model.
pub struct Interp {
    objs: HashMap<u64, MObj>,
    roots: Vec<(u64, Box<dyn DynHandle>)>,
    pending: Vec<(Option<u64>, Member<Node>)>,
    svecs: Vec<(Vec<u64>, GcVec<Node>)>,
    weaks: Vec<(Option<u64>, Box<dyn DynWeak>)>,
    cleanups: Vec<MCleanup>,
    /// Unreachable at a completed `collect()`: gone for good.
    dead_known: HashSet<u64>,
    /// An upgrade returned `None`: collected.
    weak_dead: HashSet<u64>,
    anon_base: u64,
    anon_dead: u64,
    case_ids: Vec<u64>,
    case_cleanups: Vec<u64>,
    families: Families,
}

macro_rules! ensure {
    ($c:expr, $($fmt:tt)*) => {
        if !$c {
            return Err(format!($($fmt)*));
        }
    };
}

fn pick(n: usize, sel: u8) -> Option<usize> {
    (n > 0).then(|| sel as usize % n)
}

/// Runs `ops` from a fresh model (the heap may hold other programs'
/// leftovers), then drops every handle, collects and checks that everything
/// died. Returns the first failure.
pub fn run_program(ops: &[Op], families: Families) -> Result<(), String> {
    let hex = to_hex(&encode(ops));
    tricolor_gc::set_gc_percent(100);
    let mut it = Interp {
        objs: HashMap::new(),
        roots: Vec::new(),
        pending: Vec::new(),
        svecs: Vec::new(),
        weaks: Vec::new(),
        cleanups: Vec::new(),
        dead_known: HashSet::new(),
        weak_dead: HashSet::new(),
        anon_base: ANON_DEAD.load(Ordering::Relaxed),
        anon_dead: 0,
        case_ids: Vec::new(),
        case_cleanups: Vec::new(),
        families,
    };
    let r = (|| {
        for (i, op) in ops.iter().enumerate() {
            *CURRENT.lock() = format!("op #{i} {op:?} of API_MODEL_REPLAY={hex}");
            progress();
            ARMED.store(true, Ordering::Relaxed);
            if !families.enabled(op.family()) {
                continue;
            }
            it.step(op).map_err(|e| format!("op #{i} {op:?}: {e}"))?;
            it.verify(false).map_err(|e| format!("after op #{i} {op:?}: {e}"))?;
        }
        *CURRENT.lock() = format!("final drop-all and collect() of API_MODEL_REPLAY={hex}");
        progress();
        it.finish().map_err(|e| format!("at the end (everything dropped, collect()): {e}"))
    })();
    ARMED.store(false, Ordering::Relaxed);
    it.forget_records();
    r
}

impl Interp {
    fn add_obj(&mut self, id: u64, kind: &'static str, exp: Exp, edges: Vec<Option<u64>>) -> &mut MObj {
        self.objs.entry(id).or_insert(MObj {
            kind,
            exp,
            edges,
            vec: Vec::new(),
            weak: None,
            is_node: false,
            drop_ids: Vec::new(),
            anon: 0,
        })
    }

    fn node_roots(&self) -> Vec<usize> {
        (0..self.roots.len()).filter(|&i| as_node(&*self.roots[i].1).is_some()).collect()
    }

    fn pick_node(&self, sel: u8) -> Option<usize> {
        let c = self.node_roots();
        pick(c.len(), sel).map(|i| c[i])
    }

    fn node(&self, ri: usize) -> &Gc<Node> {
        as_node(&*self.roots[ri].1).expect("a node root")
    }

    fn pick_vec(&self, sel: u8) -> Option<VecRef> {
        let nodes = self.node_roots();
        let n = self.svecs.len() + nodes.len();
        pick(n, sel).map(|i| {
            if i < self.svecs.len() {
                VecRef::Stack(i)
            } else {
                VecRef::Node(nodes[i - self.svecs.len()])
            }
        })
    }

    fn vec_of(&self, r: VecRef) -> &GcVec<Node> {
        match r {
            VecRef::Stack(i) => &self.svecs[i].1,
            VecRef::Node(ri) => &self.node(ri).vec,
        }
    }

    fn vec_model(&mut self, r: VecRef) -> &mut Vec<u64> {
        match r {
            VecRef::Stack(i) => &mut self.svecs[i].0,
            VecRef::Node(ri) => {
                let id = self.roots[ri].0;
                &mut self.objs.get_mut(&id).unwrap().vec
            }
        }
    }

    fn node_id(g: &Gc<Node>) -> u64 {
        g.tag.id
    }

    /// A `Member` for a new object, and its model target.
    fn take_src(&mut self, s: Src) -> (Option<u64>, Member<Node>) {
        match s {
            Src::Null => (None, Member::null()),
            Src::New(sel) => match self.pick_node(sel) {
                Some(ri) => (Some(self.roots[ri].0), Member::new(self.node(ri))),
                None => (None, Member::null()),
            },
            Src::FromGc(sel) => match self.pick_node(sel) {
                Some(ri) => (Some(self.roots[ri].0), Member::from(self.node(ri).clone())),
                None => (None, Member::from_opt(None)),
            },
            Src::Pending(sel) => match pick(self.pending.len(), sel) {
                Some(i) => self.pending.swap_remove(i),
                None => (None, Member::null()),
            },
        }
    }

    fn push_root(&mut self, id: u64, h: Box<dyn DynHandle>) {
        self.roots.push((id, h));
    }

    fn reachable(&self) -> HashSet<u64> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u64> = self.roots.iter().map(|r| r.0).collect();
        stack.extend(self.pending.iter().filter_map(|p| p.0));
        for (m, _) in &self.svecs {
            stack.extend(m.iter().copied());
        }
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                if let Some(o) = self.objs.get(&id) {
                    stack.extend(o.edges.iter().flatten().copied());
                    stack.extend(o.vec.iter().copied());
                }
            }
        }
        seen
    }

    fn new_obj_ids(&mut self, n: usize) -> u64 {
        let base = fresh_ids(n);
        self.case_ids.extend(base..base + n as u64);
        base
    }

    // --- operations -------------------------------------------------------

    fn step(&mut self, op: &Op) -> Result<(), String> {
        match *op {
            Op::NewNode { a, b, weak, cap, fill } => {
                let id = self.new_obj_ids(1);
                let (ea, ma) = self.take_src(a);
                let (eb, mb) = self.take_src(b);
                let (ew, w) = match weak.and_then(|s| self.pick_node(s)) {
                    Some(ri) => (Some(self.roots[ri].0), Gc::downgrade(self.node(ri))),
                    None => (None, Weak::new()),
                };
                let v = if cap % 9 == 0 { GcVec::new() } else { GcVec::with_capacity((cap % 9) as usize) };
                let mut vm = Vec::new();
                if let Some(ri) = self.pick_node(fill) {
                    for _ in 0..fill % 6 {
                        v.push(self.node(ri));
                        vm.push(self.roots[ri].0);
                    }
                }
                let g = Gc::new(Node { tag: Tag::new(id), a: ma, b: mb, vec: v, weak: w });
                let o = self.add_obj(id, "Node", Exp { id, len: 0 }, vec![ea, eb]);
                o.vec = vm;
                o.weak = ew;
                o.is_node = true;
                o.drop_ids = vec![id];
                self.push_root(id, Box::new(g));
            }
            Op::NewBig { a } => {
                let id = self.new_obj_ids(1);
                let (ea, ma) = self.take_src(a);
                let mut pad = [0u64; BIG_WORDS];
                for (i, w) in pad.iter_mut().enumerate() {
                    *w = checksum(id) ^ i as u64;
                }
                let g = Gc::new(BigNode { a: ma, tag: Tag::new(id), pad });
                self.add_obj(id, "BigNode", Exp { id, len: 0 }, vec![ea]).drop_ids = vec![id];
                self.push_root(id, Box::new(g));
            }
            Op::NewAligned { align, next } => {
                let id = self.new_obj_ids(1);
                let (h, kind, edges): (Box<dyn DynHandle>, _, _) = match align % 4 {
                    0 => (Box::new(Gc::new(Al16 { id, check: checksum(id) })), "Al16", vec![]),
                    1 => (Box::new(Gc::new(Al64 { id, check: checksum(id) })), "Al64", vec![]),
                    2 => (Box::new(Gc::new(Al4096 { id, check: checksum(id) })), "Al4096", vec![]),
                    _ => {
                        let (e, m) = self.take_src(next);
                        (Box::new(Gc::new(AlignNode { tag: Tag::new(id), next: m })), "AlignNode", vec![e])
                    }
                };
                self.add_obj(id, kind, Exp { id, len: 0 }, edges).drop_ids = vec![id];
                self.push_root(id, h);
            }
            Op::NewBlob { size, drop } => {
                let id = self.new_obj_ids(1);
                let table = if drop { DROP_BLOBS } else { PLAIN_BLOBS };
                let (n, ctor) = table[size as usize % table.len()];
                let h = ctor(id);
                let kind = if drop { "Blob" } else { "Plain" };
                let o = self.add_obj(id, kind, Exp { id, len: n }, vec![]);
                if drop {
                    o.drop_ids = vec![id];
                }
                self.push_root(id, h);
            }
            Op::NewStr { len, owned } => {
                let len = str_len(len);
                let id = self.new_obj_ids(1);
                let s = make_str(id, len);
                let g: Gc<str> = if owned { Gc::from(s) } else { Gc::from(s.as_str()) };
                self.add_obj(id, "str", Exp { id, len }, vec![]);
                self.push_root(id, Box::new(g));
            }
            Op::NewSlice { elem, len } => {
                let len = slice_len(elem, len);
                let elem = elem % 5;
                let id = self.new_obj_ids(if elem == 1 { 1 + len } else { 1 });
                let exp = Exp { id, len };
                let (h, kind, edges, drop_ids, anon): (Box<dyn DynHandle>, _, _, Vec<u64>, u64) = match elem {
                    0 => {
                        let v: Vec<u64> = (0..len).map(|i| checksum(id) ^ i as u64).collect();
                        (Box::new(Gc::from_vec(v)), "[u64]", vec![], vec![], 0)
                    }
                    1 => {
                        let v: Vec<Tag> = (0..len).map(|i| Tag::new(id + 1 + i as u64)).collect();
                        (Box::new(Gc::from(v)), "[Tag]", vec![], (id + 1..id + 1 + len as u64).collect(), 0)
                    }
                    2 => {
                        let v: Vec<ZstDrop> = (0..len).map(|_| ZstDrop).collect();
                        (Box::new(Gc::from_vec(v)), "[ZstDrop]", vec![], vec![], len as u64)
                    }
                    3 => {
                        let nodes = self.node_roots();
                        let mut edges = Vec::new();
                        let v: Vec<Member<Node>> = (0..len)
                            .map(|k| {
                                if nodes.is_empty() || k % 3 == 2 {
                                    edges.push(None);
                                    Member::null()
                                } else {
                                    let ri = nodes[k % nodes.len()];
                                    edges.push(Some(self.roots[ri].0));
                                    Member::new(self.node(ri))
                                }
                            })
                            .collect();
                        (Box::new(v.into_iter().collect::<Gc<[Member<Node>]>>()), "[Member<Node>]", edges, vec![], 0)
                    }
                    _ => (Box::new(Gc::from_vec(vec![(); len])), "[()]", vec![], vec![], 0),
                };
                let o = self.add_obj(id, kind, exp, edges);
                o.drop_ids = drop_ids;
                o.anon = anon;
                self.push_root(id, h);
            }
            Op::NewZst { drop } => {
                let id = self.new_obj_ids(1);
                let h: Box<dyn DynHandle> = if drop { Box::new(Gc::new(ZstDrop)) } else { Box::new(Gc::new(())) };
                self.add_obj(id, if drop { "ZstDrop" } else { "()" }, Exp { id, len: 0 }, vec![]).anon = drop as u64;
                self.push_root(id, h);
            }
            Op::NewReentrant { kind } => {
                let id = self.new_obj_ids(1);
                let kind = kind % 3;
                let g = Gc::new(Reentrant { id, check: checksum(id), kind });
                self.add_obj(id, "Reentrant", Exp { id, len: kind as usize }, vec![]).drop_ids = vec![id];
                self.push_root(id, Box::new(g));
            }
            Op::CloneRoot(sel) => {
                if let Some(i) = pick(self.roots.len(), sel) {
                    let c = self.roots[i].1.clone_box();
                    ensure!(c.ptr_eq(&*self.roots[i].1), "Gc::ptr_eq(clone, original) is false");
                    let id = self.roots[i].0;
                    self.push_root(id, c);
                }
            }
            Op::DropRoot(sel) => {
                if let Some(i) = pick(self.roots.len(), sel) {
                    drop(self.roots.swap_remove(i));
                }
            }
            Op::Link { from, slot, to } => {
                let c: Vec<usize> = (0..self.roots.len()).filter(|&i| !self.roots[i].1.members().is_empty()).collect();
                let (Some(fi), Some(ti)) = (pick(c.len(), from).map(|i| c[i]), self.pick_node(to)) else {
                    return Ok(());
                };
                let ms = self.roots[fi].1.members();
                let k = slot as usize % ms.len();
                ms[k].set(self.node(ti));
                ensure!(ms[k].ptr_eq(self.node(ti)), "Member::ptr_eq is false right after set");
                let (fid, tid) = (self.roots[fi].0, self.roots[ti].0);
                self.objs.get_mut(&fid).unwrap().edges[k] = Some(tid);
            }
            Op::Unlink { from, slot } => {
                let c: Vec<usize> = (0..self.roots.len()).filter(|&i| !self.roots[i].1.members().is_empty()).collect();
                let Some(fi) = pick(c.len(), from).map(|i| c[i]) else { return Ok(()) };
                let ms = self.roots[fi].1.members();
                let k = slot as usize % ms.len();
                if slot & 0x80 != 0 {
                    ms[k].set_opt(None);
                } else {
                    ms[k].clear();
                }
                ensure!(ms[k].is_null(), "Member::is_null is false right after clear");
                let fid = self.roots[fi].0;
                self.objs.get_mut(&fid).unwrap().edges[k] = None;
            }
            Op::Read { from, slot } => {
                let c: Vec<usize> = (0..self.roots.len()).filter(|&i| !self.roots[i].1.members().is_empty()).collect();
                let Some(fi) = pick(c.len(), from).map(|i| c[i]) else { return Ok(()) };
                let ms = self.roots[fi].1.members();
                let k = slot as usize % ms.len();
                let want = self.objs[&self.roots[fi].0].edges[k];
                let got = ms[k].get();
                ensure!(ms[k].is_null() == want.is_none(), "is_null disagrees with the model");
                ensure!(
                    got.as_ref().map(Self::node_id) == want,
                    "field {k} reads {:?}, model {want:?}",
                    got.as_ref().map(Self::node_id)
                );
                if let Some(g) = got {
                    ensure!(ms[k].points_to(Gc::as_ptr(&g)), "Member::points_to is false for its own target");
                    let id = want.unwrap();
                    self.push_root(id, Box::new(g));
                }
            }
            Op::PendingNew { to, from_gc } => {
                if let Some(ri) = self.pick_node(to) {
                    let m = if from_gc { Member::from(self.node(ri).clone()) } else { Member::from(self.node(ri)) };
                    self.pending.push((Some(self.roots[ri].0), m));
                } else {
                    self.pending.push((None, Member::default()));
                }
            }
            Op::PendingSet { p, to } => {
                if let (Some(pi), Some(ri)) = (pick(self.pending.len(), p), self.pick_node(to)) {
                    self.pending[pi].1.set(self.node(ri));
                    self.pending[pi].0 = Some(self.roots[ri].0);
                }
            }
            Op::PendingClear(p) => {
                if let Some(pi) = pick(self.pending.len(), p) {
                    self.pending[pi].1.clear();
                    self.pending[pi].0 = None;
                }
            }
            Op::PendingGet(p) => {
                if let Some(pi) = pick(self.pending.len(), p) {
                    let got = self.pending[pi].1.get();
                    let want = self.pending[pi].0;
                    ensure!(
                        got.as_ref().map(Self::node_id) == want,
                        "pending member reads {:?}, model {want:?}",
                        got.as_ref().map(Self::node_id)
                    );
                    if let Some(g) = got {
                        self.push_root(want.unwrap(), Box::new(g));
                    }
                }
            }
            Op::PendingDrop(p) => {
                if let Some(pi) = pick(self.pending.len(), p) {
                    drop(self.pending.swap_remove(pi));
                }
            }
            Op::VecNew { cap } => {
                let v = if cap == 0 { GcVec::new() } else { GcVec::with_capacity(cap as usize) };
                ensure!(v.is_empty() && v.first().is_none(), "a new GcVec is not empty");
                self.svecs.push((Vec::new(), v));
            }
            Op::VecWithCapHuge(k) => {
                let cap = HUGE_CAPS[k as usize % HUGE_CAPS.len()];
                match expect_panic(|| GcVec::<Node>::with_capacity(cap)) {
                    Ok(v) => {
                        let l = v.len();
                        std::mem::forget(v);
                        return Err(format!(
                            "GcVec::with_capacity({cap:#x}) returned a vector (len {l}) instead of panicking"
                        ));
                    }
                    Err(m) => ensure!(
                        m.contains("capacity overflow"),
                        "GcVec::with_capacity({cap:#x}) panicked with {m:?}, expected \"capacity overflow\""
                    ),
                }
            }
            Op::VecPush { v, x } => {
                if let (Some(vr), Some(xi)) = (self.pick_vec(v), self.pick_node(x)) {
                    self.vec_of(vr).push(self.node(xi));
                    let xid = self.roots[xi].0;
                    self.vec_model(vr).push(xid);
                }
            }
            Op::VecPop(v) => {
                if let Some(vr) = self.pick_vec(v) {
                    let got = self.vec_of(vr).pop();
                    let want = self.vec_model(vr).pop();
                    ensure!(
                        got.as_ref().map(Self::node_id) == want,
                        "pop returned {:?}, model {want:?}",
                        got.as_ref().map(Self::node_id)
                    );
                    if let Some(g) = got {
                        self.push_root(want.unwrap(), Box::new(g));
                    }
                }
            }
            Op::VecGet { v, i } => {
                if let Some(vr) = self.pick_vec(v) {
                    let m = self.vec_model(vr).clone();
                    let i = i as usize % (m.len() + 2);
                    let got = self.vec_of(vr).get(i);
                    ensure!(
                        got.as_ref().map(Self::node_id) == m.get(i).copied(),
                        "get({i}) returned {:?}, model {:?}",
                        got.as_ref().map(Self::node_id),
                        m.get(i)
                    );
                }
            }
            Op::VecFirst(v) | Op::VecLast(v) => {
                if let Some(vr) = self.pick_vec(v) {
                    let m = self.vec_model(vr).clone();
                    let (got, want) = if matches!(op, Op::VecFirst(_)) {
                        (self.vec_of(vr).first(), m.first().copied())
                    } else {
                        (self.vec_of(vr).last(), m.last().copied())
                    };
                    ensure!(
                        got.as_ref().map(Self::node_id) == want,
                        "returned {:?}, model {want:?}",
                        got.as_ref().map(Self::node_id)
                    );
                    if let Some(g) = got {
                        self.push_root(want.unwrap(), Box::new(g));
                    }
                }
            }
            Op::VecSet { v, i, x } => {
                if let (Some(vr), Some(xi)) = (self.pick_vec(v), self.pick_node(x)) {
                    let len = self.vec_model(vr).len();
                    let i = i as usize % (len + 1);
                    let ok = self.vec_of(vr).set(i, self.node(xi));
                    ensure!(ok == (i < len), "set({i}) on length {len} returned {ok}");
                    if ok {
                        let xid = self.roots[xi].0;
                        self.vec_model(vr)[i] = xid;
                    }
                }
            }
            Op::VecTruncate { v, n } => {
                if let Some(vr) = self.pick_vec(v) {
                    let n = n as usize % (self.vec_model(vr).len() + 2);
                    self.vec_of(vr).truncate(n);
                    self.vec_model(vr).truncate(n);
                }
            }
            Op::VecClear(v) => {
                if let Some(vr) = self.pick_vec(v) {
                    self.vec_of(vr).clear();
                    self.vec_model(vr).clear();
                }
            }
            Op::VecRetain { v, mask, reenter } => self.retain(v, mask, reenter % 8)?,
            Op::VecPosition { v, x } => {
                if let (Some(vr), Some(xi)) = (self.pick_vec(v), self.pick_node(x)) {
                    let xid = self.roots[xi].0;
                    let want = self.vec_model(vr).iter().position(|&e| e == xid);
                    let got = self.vec_of(vr).position_ptr(self.node(xi));
                    ensure!(got == want, "position_ptr returned {got:?}, model {want:?}");
                    let c = self.vec_of(vr).contains_ptr(self.node(xi));
                    ensure!(c == want.is_some(), "contains_ptr returned {c}");
                }
            }
            Op::VecIter(v) => {
                if let Some(vr) = self.pick_vec(v) {
                    let m = self.vec_model(vr).clone();
                    let vec = self.vec_of(vr);
                    let a: Vec<u64> = vec.iter().map(|g| g.tag.id).collect();
                    let b: Vec<u64> = vec.to_vec().iter().map(Self::node_id).collect();
                    let c: Vec<u64> = vec.into_iter().map(|g| g.tag.id).collect();
                    ensure!(a == m && b == m && c == m, "iter/to_vec read {a:?}/{b:?}/{c:?}, model {m:?}");
                    ensure!(
                        vec.len() == m.len() && vec.is_empty() == m.is_empty(),
                        "len {} model {}",
                        vec.len(),
                        m.len()
                    );
                }
            }
            Op::VecDrop(v) => {
                if let Some(i) = pick(self.svecs.len(), v) {
                    drop(self.svecs.swap_remove(i));
                }
            }
            Op::VecRace { v, x, n } => self.vec_race(v, x, 8 + n as usize % 64)?,
            Op::Downgrade(sel) => {
                if let Some(i) = pick(self.roots.len(), sel) {
                    let w = self.roots[i].1.downgrade();
                    self.weaks.push((Some(self.roots[i].0), w));
                }
            }
            Op::WeakNew => {
                let w: Weak<Node> = if self.weaks.len() % 2 == 0 { Weak::new() } else { Weak::default() };
                self.weaks.push((None, Box::new(w)));
            }
            Op::WeakClone(sel) => {
                if let Some(i) = pick(self.weaks.len(), sel) {
                    let w = self.weaks[i].1.clone_box();
                    self.weaks.push((self.weaks[i].0, w));
                }
            }
            Op::Upgrade(sel) => {
                if let Some(i) = pick(self.weaks.len(), sel) {
                    let got = self.weaks[i].1.upgrade();
                    let target = self.weaks[i].0;
                    self.check_upgrade(target, got)?;
                }
            }
            Op::UpgradeField(sel) => {
                if let Some(ri) = self.pick_node(sel) {
                    let got = self.node(ri).weak.upgrade().map(|g| Box::new(g) as Box<dyn DynHandle>);
                    let target = self.objs[&self.roots[ri].0].weak;
                    self.check_upgrade(target, got)?;
                }
            }
            Op::WeakDrop(sel) => {
                if let Some(i) = pick(self.weaks.len(), sel) {
                    drop(self.weaks.swap_remove(i));
                }
            }
            Op::AddCleanup { target, alloc } => {
                if let Some(i) = pick(self.roots.len(), target) {
                    let cid = fresh_ids(1);
                    self.case_cleanups.push(cid);
                    let f = Box::new(move || {
                        *cleanups_ran().lock().entry(cid).or_insert(0) += 1;
                        if alloc {
                            scratch_alloc("cleanup");
                        }
                    });
                    let handle = self.roots[i].1.add_cleanup(f);
                    self.cleanups.push(MCleanup { cid, target: self.roots[i].0, handle, state: CState::Active });
                }
            }
            Op::StopCleanup(sel) => {
                if let Some(i) = pick(self.cleanups.len(), sel) {
                    let reach = self.reachable();
                    let c = &mut self.cleanups[i];
                    c.handle.stop();
                    if c.state == CState::Active {
                        c.state =
                            if reach.contains(&c.target) { CState::StoppedReachable } else { CState::StoppedLimbo };
                    }
                }
            }
            Op::Pin { n, link, root } => self.pin_op(1 + n as usize % 8, link, root)?,
            Op::PinMisuse(k) => self.pin_misuse(k % 6)?,
            Op::ThreadDrop { what, sel } => match what % 4 {
                0 => {
                    if let Some(i) = pick(self.roots.len(), sel) {
                        let (_, h) = self.roots.swap_remove(i);
                        join(std::thread::spawn(move || drop(h)))?;
                    }
                }
                1 => {
                    if let Some(i) = pick(self.svecs.len(), sel) {
                        let (_, v) = self.svecs.swap_remove(i);
                        join(std::thread::spawn(move || {
                            let _ = v.len();
                            drop(v)
                        }))?;
                    }
                }
                2 => {
                    if let Some(i) = pick(self.pending.len(), sel) {
                        let (_, m) = self.pending.swap_remove(i);
                        join(std::thread::spawn(move || drop(m)))?;
                    }
                }
                _ => {
                    if let Some(i) = pick(self.weaks.len(), sel) {
                        let (_, w) = self.weaks.swap_remove(i);
                        join(std::thread::spawn(move || drop(w)))?;
                    }
                }
            },
            Op::ThreadKeep { sel, n } => {
                if let Some(ri) = self.pick_node(sel) {
                    let n = n as usize % 5;
                    let base = self.new_obj_ids(n);
                    let (id, h) = self.roots.swap_remove(ri);
                    let t = std::thread::Builder::new()
                        .stack_size(8 << 20)
                        .spawn(move || {
                            let g = as_node(&*h).unwrap();
                            let kids: Vec<Gc<Node>> = (0..n as u64)
                                .map(|k| {
                                    let mut node = Node::plain(base + k);
                                    node.a = Member::new(g);
                                    Gc::new(node)
                                })
                                .collect();
                            let c = h.clone_box();
                            (h, c, kids)
                        })
                        .unwrap();
                    let (h, c, kids) = join(t)?;
                    self.push_root(id, h);
                    self.push_root(id, c);
                    for (k, g) in kids.into_iter().enumerate() {
                        let kid = base + k as u64;
                        let o = self.add_obj(kid, "Node", Exp { id: kid, len: 0 }, vec![Some(id), None]);
                        o.is_node = true;
                        o.drop_ids = vec![kid];
                        self.push_root(kid, Box::new(g));
                    }
                }
            }
            Op::ThreadRewire { node, t1, t2, n } => {
                let (Some(ni), Some(i1), Some(i2)) = (self.pick_node(node), self.pick_node(t1), self.pick_node(t2))
                else {
                    return Ok(());
                };
                let n = 1 + n as usize % 64;
                let (g, a, b) = (self.node(ni).clone(), self.node(i1).clone(), self.node(i2).clone());
                let r = std::thread::scope(|s| {
                    let t = s.spawn(|| {
                        for k in 0..n {
                            g.a.set(if k % 2 == 0 { &a } else { &b });
                            progress();
                        }
                    });
                    tricolor_gc::collect();
                    t.join()
                });
                r.map_err(|p| format!("rewiring thread panicked: {}", panic_message(&*p)))?;
                let want = if (n - 1) % 2 == 0 { self.roots[i1].0 } else { self.roots[i2].0 };
                let nid = self.roots[ni].0;
                self.objs.get_mut(&nid).unwrap().edges[0] = Some(want);
            }
            Op::LockedAlloc { n } => {
                // Enough objects of `Reentrant`'s size class to refill its
                // span several times (lazy sweeps on this thread) and enough
                // bytes to start cycles at a low GOGC.
                let rounds = 64 * (1 + n as usize % 8);
                let _held = TEST_LOCK.lock();
                for k in 0..rounds as u64 {
                    for j in 0..4 {
                        let s = Gc::new(ScratchDrop { a: k + j, b: checksum(k + j), c: 0 });
                        ensure!(s.b == checksum(k + j), "scratch object reads wrong");
                    }
                    let p = Gc::new(Plain::<4096>::make(k));
                    ensure!(check_bytes(&p.bytes, k).is_ok(), "scratch blob reads wrong");
                    progress();
                }
            }
            Op::Collect => {
                tricolor_gc::collect();
                self.settle()?;
            }
            Op::Safepoint => tricolor_gc::safepoint(),
            Op::MemStats => {
                let s = tricolor_gc::mem_stats();
                ensure!(s.frees <= s.mallocs, "mem_stats: frees {} > mallocs {}", s.frees, s.mallocs);
                ensure!(
                    s.heap_alloc <= s.total_alloc,
                    "mem_stats: heap_alloc {} > total_alloc {}",
                    s.heap_alloc,
                    s.total_alloc
                );
                ensure!(s.heap_inuse <= s.heap_sys, "mem_stats: heap_inuse {} > heap_sys {}", s.heap_inuse, s.heap_sys);
                ensure!(
                    s.num_forced_gc <= s.num_gc,
                    "mem_stats: forced cycles {} > cycles {}",
                    s.num_forced_gc,
                    s.num_gc
                );
            }
            Op::Blocking { n } => {
                let n = n as usize % 4;
                let base = self.new_obj_ids(n);
                let (tx, rx) = std::sync::mpsc::channel();
                let got: Vec<Gc<Node>> = std::thread::scope(|s| {
                    s.spawn(move || {
                        tricolor_gc::collect();
                        for k in 0..n as u64 {
                            let _ = tx.send(Gc::new(Node::plain(base + k)));
                        }
                    });
                    tricolor_gc::blocking(|| rx.iter().collect())
                });
                ensure!(got.len() == n, "received {} of {n} nodes", got.len());
                for (k, g) in got.into_iter().enumerate() {
                    let kid = base + k as u64;
                    let o = self.add_obj(kid, "Node", Exp { id: kid, len: 0 }, vec![None, None]);
                    o.is_node = true;
                    o.drop_ids = vec![kid];
                    self.push_root(kid, Box::new(g));
                }
            }
            Op::SetGcPercent(k) => {
                tricolor_gc::set_gc_percent(GC_PERCENTS[k as usize % GC_PERCENTS.len()]);
            }
        }
        Ok(())
    }

    fn check_upgrade(&mut self, target: Option<u64>, got: Option<Box<dyn DynHandle>>) -> Result<(), String> {
        let Some(t) = target else {
            ensure!(got.is_none(), "upgrade of an empty Weak returned an object");
            return Ok(());
        };
        let dead = self.dead_known.contains(&t) || self.weak_dead.contains(&t);
        let reachable = self.reachable().contains(&t);
        match got {
            None => {
                ensure!(!reachable, "upgrade returned None for reachable object {t}");
                self.weak_dead.insert(t);
            }
            Some(h) => {
                ensure!(!dead, "upgrade returned object {t}, which a collect() already found unreachable (or an upgrade found gone)");
                let o = &self.objs[&t];
                h.check(&o.exp).map_err(|e| format!("upgraded object {t} ({}): {e}", o.kind))?;
                if let Some((_, r)) = self.roots.iter().find(|r| r.0 == t) {
                    ensure!(r.ptr_eq(&*h), "upgrade returned another object than the rooted {t}");
                }
                // An upgrade of an unreachable object not yet collected
                // resurrects it: verify() then checks that nothing it
                // reaches was dropped.
                self.push_root(t, h);
            }
        }
        Ok(())
    }

    fn retain(&mut self, v: u8, mask: u8, reenter: u8) -> Result<(), String> {
        let Some(vr) = self.pick_vec(v) else { return Ok(()) };
        let pre = self.vec_model(vr).clone();
        let vec = self.vec_of(vr);
        let mut errs: Vec<String> = Vec::new();
        let mut k = 0usize;
        let mut pushed = 0usize;
        let mut push_panics = 0usize;
        vec.retain(|g| {
            let i = k;
            k += 1;
            progress();
            // After an accepted push the vector legitimately differs.
            let exact = pushed == 0;
            let seen: Option<(String, Option<u64>, Option<u64>)> = match reenter {
                1 => Some(("len()".into(), Some(vec.len() as u64), Some(pre.len() as u64))),
                2 => Some((format!("get({i})"), vec.get(i).map(|x| x.tag.id), pre.get(i).copied())),
                3 => Some(("first()".into(), vec.first().map(|x| x.tag.id), pre.first().copied())),
                4 => Some(("last()".into(), vec.last().map(|x| x.tag.id), pre.last().copied())),
                5 => {
                    let ids: Vec<u64> = vec.iter().map(|x| x.tag.id).collect();
                    if exact && ids != pre {
                        errs.push(format!("inside retain, iter() read {ids:?}, expected {pre:?}"));
                    }
                    None
                }
                6 => Some(("contains_ptr()".into(), Some(vec.contains_ptr(g) as u64), Some(1))),
                7 => {
                    match expect_panic(|| vec.push(g)) {
                        Ok(()) => pushed += 1,
                        Err(_) => push_panics += 1,
                    }
                    None
                }
                _ => None,
            };
            if let Some((what, got, want)) = seen {
                if exact && got != want {
                    errs.push(format!("inside retain, {what} returned {got:?}, expected {want:?}"));
                }
            }
            if Some(g.tag.id) != pre.get(i).copied() {
                errs.push(format!("retain passed element {} at {i}, expected {:?}", g.tag.id, pre.get(i)));
            }
            (mask >> (i % 8)) & 1 == 1
        });
        if let Some(e) = errs.into_iter().next() {
            return Err(e);
        }
        ensure!(k == pre.len(), "retain called its closure {k} times for {} elements", pre.len());
        let want: Vec<u64> =
            pre.iter().enumerate().filter(|(i, _)| (mask >> (i % 8)) & 1 == 1).map(|(_, &x)| x).collect();
        let got: Vec<u64> = vec.iter().map(|x| x.tag.id).collect();
        if pushed == 0 {
            ensure!(
                got == want,
                "after retain the vector is {got:?}, model {want:?} (push panicked {push_panics} times)"
            );
        } else {
            // A push inside retain was accepted: whatever order it chose,
            // only known elements may be there.
            for x in &got {
                ensure!(pre.contains(x), "after retain with pushes, unknown element {x}");
            }
        }
        // The vector still works.
        if let Some(&x) = got.first() {
            let g = vec.get(0).ok_or("get(0) failed after retain")?;
            ensure!(g.tag.id == x, "get(0) after retain");
        }
        *self.vec_model(vr) = got;
        Ok(())
    }

    fn vec_race(&mut self, v: u8, x: u8, n: usize) -> Result<(), String> {
        let (Some(vr), Some(xi)) = (self.pick_vec(v), self.pick_node(x)) else { return Ok(()) };
        let xh = self.node(xi).clone();
        let xid = self.roots[xi].0;
        // Rounds on fresh vectors first, so that every round races with
        // several growths of the backing array (the race is timing-bound).
        let pre = self.vec_model(vr).clone();
        let fresh: Vec<GcVec<Node>> = (0..RACE_ROUNDS).map(|_| GcVec::new()).collect();
        let mut vecs: Vec<(&GcVec<Node>, &[u64])> = fresh.iter().map(|v| (v, &[][..])).collect();
        vecs.push((self.vec_of(vr), &pre));
        race(&vecs, &xh, xid, n)?;
        drop(vecs);
        drop(fresh);
        self.vec_model(vr).extend(std::iter::repeat_n(xid, n));
        let want = self.vec_model(vr).len();
        ensure!(self.vec_of(vr).len() == want, "after the race len is {}, expected {want}", self.vec_of(vr).len());
        Ok(())
    }

    fn pin_op(&mut self, n: usize, link: u8, root: bool) -> Result<(), String> {
        let base = self.new_obj_ids(n);
        let target = self.pick_node(link).map(|ri| (self.roots[ri].0, self.node(ri).clone()));
        let checks: Vec<(Gc<Node>, Vec<Option<u64>>)> = self
            .node_roots()
            .into_iter()
            .take(4)
            .map(|ri| (self.node(ri).clone(), self.objs[&self.roots[ri].0].edges.clone()))
            .collect();
        let (rooted, err) = tricolor_gc::pin(|g| {
            let mut err = None;
            let mut prev = None;
            for k in 0..n as u64 {
                let r = g.alloc(Node::plain(base + k));
                if let Some(p) = prev {
                    r.a.set_ref(p);
                }
                prev = Some(r);
            }
            let last = prev.unwrap();
            let mut cur = Some(last);
            let mut k = n as u64;
            while let Some(c) = cur {
                k -= 1;
                if c.tag.id != base + k {
                    err = Some(format!("pinned chain reads {} at {k}", c.tag.id));
                }
                cur = c.a.load(g);
            }
            for (h, edges) in &checks {
                let r = h.to_ref(g);
                let a = r.a.load(g).map(|x| x.tag.id);
                let b = r.b.load(g).map(|x| x.tag.id);
                if a != edges[0] || b != edges[1] {
                    err = Some(format!("load read {a:?}/{b:?}, model {:?}", edges));
                }
            }
            if let Some((_, t)) = &target {
                let tr = t.to_ref(g);
                tr.b.set_ref(last);
                if !tr.b.load(g).is_some_and(|r| tricolor_gc::Ref::ptr_eq(r, last)) {
                    err = Some("set_ref then load disagree".into());
                }
            }
            (root.then(|| last.root()), err)
        });
        drop(checks);
        if let Some(e) = err {
            return Err(e);
        }
        for k in 0..n as u64 {
            let id = base + k;
            let prev = (k > 0).then(|| id - 1);
            let o = self.add_obj(id, "Node", Exp { id, len: 0 }, vec![prev, None]);
            o.is_node = true;
            o.drop_ids = vec![id];
        }
        let last = base + n as u64 - 1;
        if let Some((tid, _)) = target {
            self.objs.get_mut(&tid).unwrap().edges[1] = Some(last);
        }
        if let Some(g) = rooted {
            self.push_root(last, Box::new(g));
        }
        Ok(())
    }

    fn pin_misuse(&mut self, k: u8) -> Result<(), String> {
        let node = self.pick_node(0).map(|ri| self.node(ri).clone());
        let v: GcVec<Node> = GcVec::new();
        let r = expect_panic(|| {
            tricolor_gc::pin(|_g| match k {
                0 => tricolor_gc::collect(),
                1 => drop(tricolor_gc::mem_stats()),
                2 => tricolor_gc::safepoint(),
                3 => tricolor_gc::blocking(|| ()),
                4 => {
                    if let Some(n) = &node {
                        v.push(n)
                    } else {
                        tricolor_gc::collect()
                    }
                }
                // `last` is a reader now (no lock), so fine inside a pin;
                // `pop` is a writer and must be refused.
                _ => drop(v.pop()),
            })
        });
        match r {
            Ok(()) => Err(format!("call {k} inside pin did not panic")),
            Err(m) => {
                ensure!(m.contains("inside tricolor_gc::pin"), "call {k} inside pin panicked with {m:?}");
                ensure!(v.is_empty(), "the refused push changed the vector");
                Ok(())
            }
        }
    }

    // --- checks -----------------------------------------------------------

    /// After a top-level `collect()`: the drop glue and cleanups of exactly
    /// the unreachable objects have run; they leave the model.
    fn settle(&mut self) -> Result<(), String> {
        let reach = self.reachable();
        let gone: Vec<u64> = self.objs.keys().filter(|id| !reach.contains(id)).copied().collect();
        {
            let d = dead().lock();
            for id in &gone {
                let o = &self.objs[id];
                for did in &o.drop_ids {
                    let n = d.get(did).copied().unwrap_or(0);
                    ensure!(
                        n == 1,
                        "unreachable object {id} ({}): drop glue of {did} ran {n} times by the end of collect()",
                        o.kind
                    );
                }
            }
        }
        let anon_unreach: u64 = gone.iter().map(|id| self.objs[id].anon).sum();
        let actual = ANON_DEAD.load(Ordering::Relaxed) - self.anon_base;
        ensure!(
            actual == self.anon_dead + anon_unreach,
            "after collect() {actual} zero-sized objects were dropped, expected {}",
            self.anon_dead + anon_unreach
        );
        self.anon_dead += anon_unreach;
        let gone_set: HashSet<u64> = gone.iter().copied().collect();
        {
            let ran = cleanups_ran().lock();
            for c in &mut self.cleanups {
                if c.state == CState::Settled || !gone_set.contains(&c.target) {
                    continue;
                }
                let n = ran.get(&c.cid).copied().unwrap_or(0);
                match c.state {
                    CState::Active => ensure!(
                        n == 1,
                        "cleanup {} of unreachable object {} ran {n} times by the end of collect()",
                        c.cid,
                        c.target
                    ),
                    CState::StoppedReachable => ensure!(n == 0, "stopped cleanup {} ran", c.cid),
                    _ => ensure!(n <= 1, "cleanup {} ran {n} times", c.cid),
                }
                c.state = CState::Settled;
            }
        }
        for id in gone {
            self.objs.remove(&id);
            self.dead_known.insert(id);
            self.weak_dead.remove(&id);
        }
        Ok(())
    }

    /// After every operation: reachable objects are intact and alive, and
    /// nothing reachable was dropped or cleaned up.
    fn verify(&self, _strict: bool) -> Result<(), String> {
        if let Some(e) = ERRORS.lock().drain(..).next() {
            return Err(format!("in a callback: {e}"));
        }
        let reach = self.reachable();
        for id in &reach {
            ensure!(!self.weak_dead.contains(id), "object {id} is reachable again after an upgrade returned None");
            ensure!(!self.dead_known.contains(id), "model error: dead object {id} reachable");
        }
        {
            let d = dead().lock();
            for id in &reach {
                let o = &self.objs[id];
                for did in &o.drop_ids {
                    ensure!(!d.contains_key(did), "reachable object {id} ({}): its drop glue ({did}) ran", o.kind);
                }
            }
        }
        {
            let ran = cleanups_ran().lock();
            for c in &self.cleanups {
                let n = ran.get(&c.cid).copied().unwrap_or(0);
                ensure!(n <= 1, "cleanup {} ran {n} times", c.cid);
                ensure!(
                    n == 0 || !reach.contains(&c.target),
                    "cleanup {} ran while object {} is reachable",
                    c.cid,
                    c.target
                );
                ensure!(n == 0 || c.state != CState::StoppedReachable, "cleanup {} ran after stop()", c.cid);
            }
        }
        let limbo_anon: u64 = self.objs.iter().filter(|(id, _)| !reach.contains(id)).map(|(_, o)| o.anon).sum();
        let actual = ANON_DEAD.load(Ordering::Relaxed) - self.anon_base;
        ensure!(
            actual >= self.anon_dead && actual <= self.anon_dead + limbo_anon,
            "{actual} zero-sized objects were dropped, expected {} to {} (a rooted one was dropped?)",
            self.anon_dead,
            self.anon_dead + limbo_anon
        );
        self.walk()
    }

    /// Reads the real heap from every root and compares with the model.
    fn walk(&self) -> Result<(), String> {
        let mut addrs: HashMap<u64, (usize, usize)> = HashMap::new();
        let mut stack: Vec<(u64, Box<dyn DynHandle>)> = Vec::new();
        let see = |id: u64, h: &dyn DynHandle, addrs: &mut HashMap<u64, (usize, usize)>| -> Result<bool, String> {
            let o = self.objs.get(&id).ok_or_else(|| format!("model error: no object {id}"))?;
            h.check(&o.exp).map_err(|e| format!("object {id} ({}): {e}", o.kind))?;
            ensure!(
                h.addr() % h.align() == 0,
                "object {id} ({}) at {:#x} is not aligned to {}",
                o.kind,
                h.addr(),
                h.align()
            );
            match addrs.get(&id) {
                Some(&(a, _)) => {
                    ensure!(a == h.addr(), "two handles to object {id} disagree: {a:#x} and {:#x}", h.addr());
                    Ok(false)
                }
                None => {
                    addrs.insert(id, (h.addr(), h.size()));
                    Ok(true)
                }
            }
        };
        for (id, h) in &self.roots {
            if see(*id, &**h, &mut addrs)? {
                stack.push((*id, h.clone_box()));
            }
        }
        for (want, m) in &self.pending {
            let got = m.get();
            ensure!(
                got.as_ref().map(Self::node_id) == *want,
                "pending member reads {:?}, model {want:?}",
                got.as_ref().map(Self::node_id)
            );
            if let (Some(g), Some(id)) = (got, want) {
                if see(*id, &g, &mut addrs)? {
                    stack.push((*id, Box::new(g)));
                }
            }
        }
        for (want, v) in &self.svecs {
            let got = v.to_vec();
            let ids: Vec<u64> = got.iter().map(Self::node_id).collect();
            ensure!(&ids == want, "stack GcVec reads {ids:?}, model {want:?}");
            for (g, id) in got.into_iter().zip(want) {
                if see(*id, &g, &mut addrs)? {
                    stack.push((*id, Box::new(g)));
                }
            }
        }
        while let Some((id, h)) = stack.pop() {
            let o = &self.objs[&id];
            for (k, m) in h.members().into_iter().enumerate() {
                let got = m.get();
                ensure!(
                    got.as_ref().map(Self::node_id) == o.edges[k],
                    "object {id} ({}) field {k} reads {:?}, model {:?}",
                    o.kind,
                    got.as_ref().map(Self::node_id),
                    o.edges[k]
                );
                if let (Some(g), Some(t)) = (got, o.edges[k]) {
                    if see(t, &g, &mut addrs)? {
                        stack.push((t, Box::new(g)));
                    }
                }
            }
            if let Some(n) = as_node(&*h) {
                let got = n.vec.to_vec();
                let ids: Vec<u64> = got.iter().map(Self::node_id).collect();
                ensure!(ids == o.vec, "node {id}'s GcVec reads {ids:?}, model {:?}", o.vec);
                for (g, t) in got.into_iter().zip(&o.vec) {
                    if see(*t, &g, &mut addrs)? {
                        stack.push((*t, Box::new(g)));
                    }
                }
            }
        }
        // No two live objects overlap; a zero-sized one lies inside none.
        let mut sized: Vec<(usize, usize, u64)> =
            addrs.iter().filter(|(_, &(_, s))| s > 0).map(|(&id, &(a, s))| (a, a + s, id)).collect();
        sized.sort_unstable();
        for w in sized.windows(2) {
            ensure!(w[0].1 <= w[1].0, "live objects {} and {} overlap at {:#x}", w[0].2, w[1].2, w[1].0);
        }
        for (&id, &(a, s)) in &addrs {
            if s == 0 {
                let i = sized.partition_point(|x| x.0 <= a);
                if i > 0 && a < sized[i - 1].1 {
                    return Err(format!("zero-sized object {id} at {a:#x} lies inside live object {}", sized[i - 1].2));
                }
            }
        }
        Ok(())
    }

    /// Drops every handle, collects and checks that everything died.
    fn finish(&mut self) -> Result<(), String> {
        self.roots.clear();
        self.pending.clear();
        self.svecs.clear();
        tricolor_gc::set_gc_percent(100);
        tricolor_gc::collect();
        self.settle()?;
        self.verify(true)?;
        ensure!(self.objs.is_empty(), "model error: {} objects left", self.objs.len());
        for (t, w) in self.weaks.drain(..) {
            ensure!(
                w.upgrade().is_none(),
                "upgrade of a weak to {t:?} returned an object after everything was dropped and collected"
            );
        }
        Ok(())
    }

    /// Forgets this program's records (the process runs many programs).
    fn forget_records(&mut self) {
        let mut d = dead().lock();
        for id in &self.case_ids {
            d.remove(id);
        }
        drop(d);
        let mut c = cleanups_ran().lock();
        for id in &self.case_cleanups {
            c.remove(id);
        }
    }
}

/// Rounds of `VecRace` on fresh vectors.
const RACE_ROUNDS: usize = 64;

/// One thread pushes `x` `n` times onto each vector in turn while this one
/// reads around `len()` of the vector being pushed to; every element read
/// must be one that was there (`pre`) or pushed.
fn race(vecs: &[(&GcVec<Node>, &[u64])], xh: &Gc<Node>, xid: u64, n: usize) -> Result<(), String> {
    use std::sync::atomic::AtomicUsize;
    // Round k starts when this thread sets `go` to k and ends when the
    // pusher sets `fin` to k + 1; this thread reads all round long.
    let go = AtomicUsize::new(usize::MAX);
    let fin = AtomicUsize::new(0);
    const ABORT: usize = usize::MAX - 1;
    /// Releases the pusher if this thread unwinds (a panic in `get`).
    struct Release<'a>(&'a AtomicUsize);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.store(ABORT, Ordering::Release);
        }
    }
    let mut bad: Option<String> = None;
    let r = std::thread::scope(|s| {
        let _release = Release(&go);
        let t = s.spawn(|| {
            for (k, (vec, _)) in vecs.iter().enumerate() {
                loop {
                    match go.load(Ordering::Acquire) {
                        g if g == k => break,
                        ABORT => return,
                        _ => std::thread::yield_now(),
                    }
                }
                for _ in 0..n {
                    vec.push(xh);
                }
                fin.store(k + 1, Ordering::Release);
            }
        });
        for (k, &(vec, pre)) in vecs.iter().enumerate() {
            go.store(k, Ordering::Release);
            loop {
                let finished = fin.load(Ordering::Acquire) > k;
                let l = vec.len();
                for i in [l.wrapping_sub(1), l, l + 1] {
                    if let Some(g) = vec.get(i) {
                        let id = g.tag.id;
                        let ok = if i < pre.len() { id == pre[i] } else { id == xid && i < pre.len() + n };
                        if !ok && bad.is_none() {
                            bad = Some(format!("get({i}) at len {l} returned {id} during the race"));
                        }
                    }
                }
                if finished {
                    break;
                }
            }
            progress();
        }
        t.join()
    });
    r.map_err(|p| format!("pushing thread panicked: {}", panic_message(&*p)))?;
    bad.map_or(Ok(()), Err)
}

fn join<T>(h: std::thread::JoinHandle<T>) -> Result<T, String> {
    h.join().map_err(|p| format!("thread panicked: {}", panic_message(&*p)))
}

/// Deadlocks on purpose with the watchdog armed (its self-test).
pub fn selftest_hang() -> ! {
    *CURRENT.lock() = "selftest: a deliberate self-deadlock".into();
    ARMED.store(true, Ordering::Relaxed);
    let _a = TEST_LOCK.lock();
    let _b = TEST_LOCK.lock();
    unreachable!("a parking_lot mutex is not reentrant")
}
