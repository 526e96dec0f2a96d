// A map's hasher is stored in the map: a `BuildHasher` that holds a `Member`
// (or a `Gc`) would hide it from the collector, so `HashMap<K, V, S>` and
// `HashSet<T, S>` are traceable only over a `NoGcPointers` hasher.
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use tricolor_gc::{Gc, Member, Trace, TraceLayout};

#[derive(Trace)]
struct Leaf {
    v: u64,
}

struct MemberHasher(#[allow(dead_code)] Member<Leaf>);
impl BuildHasher for MemberHasher {
    type Hasher = DefaultHasher;
    fn build_hasher(&self) -> DefaultHasher {
        DefaultHasher::new()
    }
}

struct RootHasher(#[allow(dead_code)] Gc<Leaf>);
impl BuildHasher for RootHasher {
    type Hasher = DefaultHasher;
    fn build_hasher(&self) -> DefaultHasher {
        DefaultHasher::new()
    }
}

// Untraced `Member` in the hasher: its target could be freed.
#[derive(Trace)]
struct HidesMember {
    map: HashMap<u32, u32, MemberHasher>,
}

// A root inside a heap object: never collected.
#[derive(Trace)]
struct HidesRoot {
    set: HashSet<u32, RootHasher>,
}

fn needs_layout<T: TraceLayout>() {}

fn main() {
    needs_layout::<HashMap<u32, u32, MemberHasher>>();
    needs_layout::<HashSet<u32, RootHasher>>();
}
