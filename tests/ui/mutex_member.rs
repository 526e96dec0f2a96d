// A pointer behind a lock could be written without the write barrier, so
// locks only hold `NoGcPointers` contents.
use std::sync::{Mutex, RwLock};
use tricolor_gc::{Member, Trace};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
struct Locked {
    slot: Mutex<Member<Leaf>>,
}

#[derive(Trace)]
struct ReadWrite {
    slots: RwLock<Vec<Member<Leaf>>>,
}

fn main() {}
