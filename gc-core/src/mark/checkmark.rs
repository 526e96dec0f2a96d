//! Checkmark verification (Go: `GODEBUG=gccheckmark=1`, mcheckmark.go).
//!
//! After marking, with the world still stopped, a second, independent and
//! deliberately simple traversal walks the graph from the roots with its own
//! bitmap and checks that every object it reaches carries a mark bit. A
//! reachable but unmarked object is exactly the bug that would free a live
//! object, so finding one aborts with its address, its slot (span, class,
//! index) and, if its header can be trusted, its type.
//!
//! Invariants:
//! * Runs only with the world stopped, after the mark phase and before
//!   sweeping; leaves every check bit clear when it returns.
//! * The error path never trusts the slot it reports: a reachable unmarked
//!   slot may be free, clobbered (`clobberfree`) or headerless, so its
//!   header word is printed raw and followed to a `TypeInfo` only after it
//!   passed [`type_name`]'s checks (not a heap address, readable as probed
//!   by the kernel, fields consistent with the span); otherwise the report
//!   says why the word is not a type descriptor.

use crate::heap::arena::{arena_of, span_of};
use crate::heap::object::{self, header, info_of, TypeInfo, DEAD, DROPPING};
use crate::heap::size_class::PAGE_SIZE;
use crate::heap::span::Span;
use crate::heap::Heap;
use crate::trace::tracer::SlotVisitor;
use crate::trace::Tracer;
use core::mem::{align_of, offset_of, size_of};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The word `GODEBUG=clobberfree=1` fills freed slots with (`sweep.rs`).
const CLOBBER: usize = 0xdead_beef_dead_beef;

/// Aborts with checkmark's message for the reachable, unmarked slot `idx`
/// of `span`, reached as `p`.
#[cold]
#[inline(never)]
fn report_unmarked(span: &Span, idx: usize, p: usize) -> ! {
    let what = if span.class.is_headerless() {
        format!("a headerless object of {} bytes", span.elemsize)
    } else {
        // SAFETY: `p` is reachable, so its slot is allocated and, in a span
        // with headers, starts with its header word (whose value is checked
        // before it is followed).
        let word = unsafe { header(span.slot_addr(idx)) }.load(Ordering::Acquire);
        match type_name(word, span) {
            Ok(name) => format!("{name}, header {word:#x}"),
            Err(why) => format!("header {word:#x} is not a type descriptor: {why}"),
        }
    };
    fatal(&format!(
        "checkmark found a reachable object that was not marked: {p:#x} ({what}; slot {idx} of the span at {:#x}, {})",
        span.base,
        describe_class(span)
    ))
}

/// Prints `tricolor-gc: fatal error: {msg}` and aborts. The line goes to
/// the process's stderr itself, not through `eprintln!`, which a test
/// harness capturing output (and inherited by the GC's threads) would keep
/// in a buffer the abort discards.
fn fatal(msg: &str) -> ! {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("tricolor-gc: fatal error: {msg}\n").as_bytes());
    std::process::abort();
}

/// The span's class, for reports.
fn describe_class(span: &Span) -> String {
    let c = span.class;
    match c.size_class() {
        0 => format!("a large span of {} bytes", span.elemsize),
        n => format!(
            "span class {} (size class {n}, {}{}, {}-byte slots)",
            c.0,
            if c.is_headerless() { "headerless" } else { "with headers" },
            if c.noscan() { ", noscan" } else { "" },
            span.elemsize
        ),
    }
}

/// The cheap part of [`type_name`]'s checks, for the header of every
/// object the traversal scans: a reason if `word` cannot be a header.
fn header_problem(word: usize) -> Option<&'static str> {
    let addr = word & !(DROPPING | DEAD);
    if word == CLOBBER {
        Some("it is the clobberfree pattern: the slot was freed")
    } else if addr == 0 {
        Some("it is null")
    } else if addr % align_of::<TypeInfo>() != 0 {
        Some("it is misaligned")
    } else if arena_of(addr).is_some() {
        Some("it points into the GC heap")
    } else {
        None
    }
}

/// The type named by the header word `word` of a slot of `span`, or why the
/// word is not a header: the descriptor is dereferenced, and its `name`
/// called, only if it is readable and consistent with the span.
fn type_name(word: usize, span: &Span) -> Result<&'static str, &'static str> {
    if let Some(why) = header_problem(word) {
        return Err(why);
    }
    let addr = word & !(DROPPING | DEAD);
    let mut raw = [0u8; size_of::<TypeInfo>()];
    if !copy_if_readable(addr, &mut raw) {
        return Err("it points to unreadable memory");
    }
    let word_at = |o: usize| usize::from_ne_bytes(raw[o..o + size_of::<usize>()].try_into().expect("one word"));
    let bool_at = |o: usize| match raw[o] {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    };
    let (size, align) = (word_at(offset_of!(TypeInfo, size)), word_at(offset_of!(TypeInfo, align)));
    let flags = [
        bool_at(offset_of!(TypeInfo, no_pointers)),
        bool_at(offset_of!(TypeInfo, map_exact)),
        bool_at(offset_of!(TypeInfo, is_slice)),
        bool_at(offset_of!(TypeInfo, headerless)),
    ];
    let [Some(no_pointers), Some(_), Some(is_slice), Some(headerless)] = flags else {
        return Err("its flags are not booleans");
    };
    let name_fn = word_at(offset_of!(TypeInfo, name));
    if headerless || no_pointers != span.class.noscan() {
        return Err("its layout does not match the span's class");
    }
    if !align.is_power_of_two() || align > PAGE_SIZE {
        return Err("its alignment is not a power of two up to a page");
    }
    if !is_slice && span.class.size_class() != 0 && object::slot_size(size, align, false) > span.elemsize {
        return Err("its size does not fit the slot");
    }
    if word_at(offset_of!(TypeInfo, trace)) == 0 || name_fn == 0 || !copy_if_readable(name_fn, &mut [0u8; 1]) {
        return Err("its function pointers are not readable code");
    }
    // The word passed every check a garbage word could fail without being
    // followed: take it for the `TypeInfo` it claims to be.
    // SAFETY: as said; this runs only on the way to an abort.
    Ok((unsafe { info_of(word) }.name)())
}

/// Copies `out.len()` bytes at `addr` into `out` if they are mapped and
/// readable, without this process ever loading them: the kernel copies them
/// into a pipe (an unreadable page makes `write` fail with `EFAULT`), and
/// they are read back from it. Only for error paths: two system calls.
fn copy_if_readable(addr: usize, out: &mut [u8]) -> bool {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `pipe` writes two descriptors into the two-element array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: `write` reads `addr..addr + len` inside the kernel, which
    // reports an unmapped or unreadable byte as EFAULT instead of faulting
    // this process; the descriptor is our own pipe, whose buffer (at least a
    // page) holds the few bytes written.
    let written = unsafe { libc::write(fds[1], addr as *const libc::c_void, out.len()) };
    // SAFETY: reads at most `out.len()` bytes into `out`, which we own.
    let ok =
        written == out.len() as isize && unsafe { libc::read(fds[0], out.as_mut_ptr().cast(), out.len()) } == written;
    // SAFETY: closes the two descriptors opened above, once each.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    ok
}

struct Check {
    stack: Vec<usize>,
    checked: u64,
}

impl Check {
    fn reach(&mut self, p: usize) {
        let s = span_of(p);
        if s.is_null() {
            fatal(&format!("checkmark: pointer {p:#x} is not in the GC heap"));
        }
        // SAFETY: live spans only (reachable objects are allocated).
        let span = unsafe { &*s };
        let idx = span.obj_index(p);
        if span.check_bits.set(idx) {
            return;
        }
        self.checked += 1;
        if !span.mark_bits.get(idx) {
            report_unmarked(span, idx, p);
        }
        if !span.class.noscan() {
            self.stack.push(span.slot_addr(idx));
        }
    }
}

impl SlotVisitor for Check {
    fn visit(&mut self, slot: &AtomicUsize) {
        let w = slot.load(Ordering::Acquire);
        if w != 0 && w & 1 == 0 {
            self.reach(w);
        }
    }
}

/// Verifies the marking from `roots`; returns the number of objects reached.
pub fn verify(heap: &Heap, roots: impl IntoIterator<Item = usize>) -> u64 {
    let mut c = Check { stack: Vec::new(), checked: 0 };
    for r in roots {
        c.reach(r);
    }
    while let Some(slot) = c.stack.pop() {
        // SAFETY: reached objects are in live spans.
        let span = unsafe { &*span_of(slot) };
        if span.class.is_headerless() {
            let mut bits = span.ptr_bits_of(slot);
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // SAFETY: pointer bits mark `Member` words of the object.
                c.visit(unsafe { &*((slot + i * 8) as *const AtomicUsize) });
            }
            continue;
        }
        // SAFETY: a reached object in a span with headers: its slot is
        // allocated and starts with its header word (validated below).
        let word = unsafe { header(slot) }.load(Ordering::Acquire);
        if let Some(why) = header_problem(word) {
            fatal(&format!(
                "checkmark reached a marked object whose header {word:#x} is not a type descriptor ({why}): \
                 slot {slot:#x}, {}",
                describe_class(span)
            ));
        }
        // SAFETY: `header_problem` found the word to be a descriptor.
        let info = unsafe { info_of(word) };
        let p = object::object_of(slot, info);
        let len = object::len_of(p, info);
        // SAFETY: a reached object is allocated and marked; the world is
        // stopped so it cannot change.
        unsafe { object::trace_or_abort(info, p, len, &mut Tracer::new(&mut c), "checkmark") };
    }
    heap.for_each_span(|s| s.check_bits.clear());
    c.checked
}
