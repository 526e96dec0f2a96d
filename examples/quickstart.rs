//! Quickstart: build a small cyclic graph, drop it, collect, and look at the
//! heap statistics.
//!
//! Run with `cargo run --example quickstart`.

use std::sync::atomic::{AtomicUsize, Ordering};
use tricolor_gc::{Gc, Member, Trace};

/// Counts destructors: a pointer-free type may implement `Drop`.
#[derive(Trace)]
#[trace(no_pointers)]
struct Tag(&'static str);

static FREED: AtomicUsize = AtomicUsize::new(0);

impl Drop for Tag {
    fn drop(&mut self) {
        FREED.fetch_add(1, Ordering::SeqCst);
        println!("  freed {}", self.0);
    }
}

/// A graph node: plain data, one pointer-free field with a destructor, and
/// two GC pointer fields.
#[derive(Trace)]
struct Person {
    name: Tag,
    friend: Member<Person>,
    boss: Member<Person>,
}

fn main() {
    let alice = Gc::new(Person { name: Tag("alice"), friend: Member::null(), boss: Member::null() });
    let bob = Gc::new(Person { name: Tag("bob"), friend: Member::new(&alice), boss: Member::null() });
    let carol = Gc::new(Person { name: Tag("carol"), friend: Member::null(), boss: Member::new(&bob) });
    alice.friend.set(&bob); // alice <-> bob is a cycle
    alice.boss.set(&carol); // and carol -> bob -> alice -> carol another

    let via_field = bob.friend.get().expect("bob has a friend");
    println!("bob's friend is {}", via_field.name.0);
    drop(via_field);

    let keep = Gc::new(Person { name: Tag("dave"), friend: Member::null(), boss: Member::null() });
    println!("dropping alice, bob and carol (all in cycles) and collecting:");
    drop((alice, bob, carol));
    tricolor_gc::collect();
    println!("freed {} objects; dave is still here: {}", FREED.load(Ordering::SeqCst), keep.name.0);

    let s = tricolor_gc::mem_stats();
    println!(
        "mem_stats: {} cycles, heap_alloc {} B, heap_sys {} MiB, mallocs {}, frees {}, live roots {}, max pause {:?}",
        s.num_gc,
        s.heap_alloc,
        s.heap_sys >> 20,
        s.mallocs,
        s.frees,
        s.roots,
        s.pause_max
    );
}
