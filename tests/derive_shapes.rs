//! `#[derive(Trace)]` over every shape it accepts: the layout facts
//! (`NO_POINTERS`, `POINTER_MAP`) against maps computed by hand, and the
//! number of slots `trace` visits against the number of `Member`s.
//!
//! Hand-computed bitmaps use `#[repr(C)]` types on a 64-bit target (bit `i`
//! = the word at byte `8 * i`); default-repr types are checked for bit counts
//! only, since rustc may reorder their fields.

#![cfg(target_pointer_width = "64")]
// Derived code must be warning-free, including under clippy.
#![deny(warnings)]
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use gc_core::testing::count_slots;
use rstest::rstest;
use tricolor_gc::{Gc, Member, NoGcPointers, Trace, TraceLayout};

/// What the collector learns about a value of `T`.
#[derive(Debug, PartialEq, Eq)]
struct Facts {
    no_pointers: bool,
    exact: bool,
    bits: u128,
    slots: usize,
}

fn facts<T: TraceLayout>(value: &T) -> Facts {
    Facts {
        no_pointers: T::NO_POINTERS,
        exact: T::POINTER_MAP.is_exact(),
        bits: T::POINTER_MAP.bits(),
        slots: count_slots(value),
    }
}

/// Expected facts of an exact map.
const fn exact(bits: u128, slots: usize) -> Facts {
    Facts { no_pointers: bits == 0, exact: true, bits, slots }
}

/// Expected facts of an opaque map (the collector calls `trace`).
const fn opaque(no_pointers: bool, slots: usize) -> Facts {
    Facts { no_pointers, exact: false, bits: 0, slots }
}

fn m() -> Member<Leaf> {
    Member::null()
}

fn m2() -> Member<GraphNode> {
    Member::null()
}

fn assert_no_gc_pointers<T: NoGcPointers + ?Sized>() {}

// ---- the shapes -----------------------------------------------------------

#[derive(Trace)]
struct Leaf {
    v: u64,
}

#[derive(Trace)]
#[repr(C)]
struct Named {
    a: Member<Leaf>,
    x: u64,
    b: Member<Leaf>,
}

/// Default repr: offsets are rustc's choice, the pointer count is not.
#[derive(Trace)]
struct NamedRust {
    x: u8,
    a: Member<Leaf>,
    y: u32,
    b: Member<Leaf>,
}

#[derive(Trace)]
#[repr(C)]
struct Tuple(u32, Member<Leaf>, Member<Leaf>);

#[derive(Trace)]
struct Unit;

#[derive(Trace)]
struct EmptyBraces {}

#[derive(Trace)]
enum AllKinds {
    Unit,
    Tuple(Member<Leaf>, u8),
    Named { a: Member<Leaf>, n: u32, b: Member<Leaf> },
    Skipping(#[trace(skip)] u64, Member<Leaf>),
}

#[derive(Trace)]
enum Plain {
    A,
    B(u32),
    C { s: String },
}

#[derive(Trace)]
enum Never {}

#[derive(Trace)]
#[repr(C)]
struct Pair<A, B> {
    a: A,
    b: B,
}

#[derive(Trace)]
#[repr(C)]
struct WithSkip {
    m: Member<Leaf>,
    #[trace(skip)]
    cache: Vec<u64>,
    #[trace(skip)]
    label: String,
}

/// A skipped field of generic type: the impls require `T: NoGcPointers`.
#[derive(Trace)]
#[repr(C)]
struct GenericSkip<T> {
    m: Member<Leaf>,
    #[trace(skip)]
    extra: T,
}

static STATS_DROPS: AtomicUsize = AtomicUsize::new(0);

#[derive(Trace)]
#[trace(no_pointers)]
struct Stats {
    count: u64,
    name: String,
    history: Vec<(u32, f64)>,
}

impl Drop for Stats {
    fn drop(&mut self) {
        STATS_DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

/// A typed id may name any type, even a non-`Trace` one: a `no_pointers`
/// type only needs its fields to be `NoGcPointers`.
#[derive(Trace)]
#[trace(no_pointers)]
struct Id<T> {
    raw: u32,
    _marker: PhantomData<fn() -> T>,
}

#[derive(Trace)]
#[trace(no_pointers)]
enum Color {
    Rgb(u8, u8, u8),
    Named { name: String },
    None,
}

#[derive(Trace)]
#[repr(C)]
struct Inner {
    x: u64,
    m: Member<Leaf>,
}

#[derive(Trace)]
#[repr(C)]
struct Outer {
    head: Member<Leaf>,
    inner: Inner,
    tail: u64,
    inner2: Inner,
}

#[derive(Trace)]
#[repr(C)]
struct Arrays {
    n: u64,
    ms: [Member<Leaf>; 4],
}

#[derive(Trace)]
#[repr(C)]
struct InnerArray {
    inners: [Inner; 3],
}

/// `m` is the 128th word: the last one a map can describe.
#[derive(Trace)]
#[repr(C)]
struct Edge {
    pad: [u64; 127],
    m: Member<Leaf>,
}

/// `m` is the 129th word: beyond the map, so the layout is opaque.
#[derive(Trace)]
#[repr(C)]
struct Big {
    pad: [u64; 128],
    m: Member<Leaf>,
}

/// Pointers behind owned indirections are traced but not in the map.
#[derive(Trace)]
#[repr(C)]
struct Indirect {
    boxed: Box<Member<Leaf>>,
    list: Vec<Member<Leaf>>,
    maybe: Option<Member<Leaf>>,
}

/// Self-reference through GC pointers is the usual graph node: the map stays
/// exact (a `Member`'s layout does not depend on its target).
#[derive(Trace)]
#[repr(C)]
struct SelfRef {
    next: Member<SelfRef>,
    v: u64,
    prev: Member<Self>,
    maybe: Option<Member<Self>>,
}

#[derive(Trace)]
#[repr(C)]
struct GraphNode {
    edges: [Member<GraphNode>; 2],
    weight: u64,
    parent: Member<Self>,
}

/// Self-reference through owned indirections counts as "may hold pointers".
#[derive(Trace)]
struct List {
    m: Member<Leaf>,
    next: Option<Box<List>>,
}

#[derive(Trace)]
struct Tree {
    v: u64,
    kids: Vec<Self>,
}

#[derive(Trace)]
#[trace(no_pointers)]
struct PlainList {
    v: u64,
    next: Option<Box<PlainList>>,
}

#[derive(Trace)]
#[trace(no_pointers)]
struct GenericPlainList<T> {
    v: T,
    next: Option<Box<GenericPlainList<T>>>,
}

/// Lifetimes, const generics, existing bounds and where clauses pass through.
#[derive(Trace)]
#[repr(C)]
struct Params<'a, T: Clone, const N: usize>
where
    T: Default,
{
    ms: [Member<Leaf>; N],
    t: T,
    _life: PhantomData<&'a ()>,
}

/// The `crate` override (here naming the same facade another way).
#[derive(Trace)]
#[trace(crate = "tricolor_gc")]
struct CratePath {
    m: Member<Leaf>,
}

/// The `crate` override as a bare path.
#[derive(Trace)]
#[trace(crate = ::tricolor_gc)]
struct CratePathBare(Member<Leaf>, u32);

/// A `crate` path through a re-export: its `NoGcPointers` is the real one, so
/// the derive's identity check passes for `skip` and `no_pointers`.
mod facade {
    pub use tricolor_gc::*;
}

#[derive(Trace)]
#[trace(crate = "facade")]
struct CrateReexport {
    m: Member<Leaf>,
    #[trace(skip)]
    n: u64,
}

#[derive(Trace)]
#[trace(crate = "crate::facade", no_pointers)]
struct CrateReexportPlain<T> {
    t: T,
}

/// Maps over the hashers that are `NoGcPointers`.
#[derive(Trace)]
struct Maps {
    by_key: HashMap<u32, Member<Leaf>>,
    set: HashSet<u64, BuildHasherDefault<DefaultHasher>>,
}

/// Wraps a non-derived generic container of pointers.
#[derive(Trace)]
struct Wrapper<T> {
    items: Vec<T>,
}

// ---- the tables -----------------------------------------------------------

#[rstest]
#[case::leaf(facts(&Leaf { v: 1 }), exact(0, 0))]
#[case::named(facts(&Named { a: m(), x: 7, b: m() }), exact(0b101, 2))]
#[case::tuple(facts(&Tuple(1, m(), m())), exact(0b110, 2))]
#[case::unit(facts(&Unit), exact(0, 0))]
#[case::empty_braces(facts(&EmptyBraces {}), exact(0, 0))]
#[case::enum_unit(facts(&AllKinds::Unit), opaque(false, 0))]
#[case::enum_tuple(facts(&AllKinds::Tuple(m(), 3)), opaque(false, 1))]
#[case::enum_named(facts(&AllKinds::Named { a: m(), n: 1, b: m() }), opaque(false, 2))]
#[case::enum_skipping(facts(&AllKinds::Skipping(9, m())), opaque(false, 1))]
#[case::enum_plain(facts(&Plain::C { s: "x".into() }), exact(0, 0))]
#[case::pair_mu(facts(&Pair { a: m(), b: 1u64 }), exact(0b01, 1))]
#[case::pair_um(facts(&Pair { a: 1u64, b: m() }), exact(0b10, 1))]
#[case::pair_mm(facts(&Pair { a: m(), b: m() }), exact(0b11, 2))]
#[case::pair_uu(facts(&Pair { a: 1u64, b: 2u32 }), exact(0, 0))]
#[case::pair_option_some(facts(&Pair { a: Some(m()), b: 1u64 }), opaque(false, 1))]
#[case::pair_option_none(facts(&Pair { a: None::<Member<Leaf>>, b: 1u64 }), opaque(false, 0))]
#[case::pair_nested(facts(&Pair { a: 1u64, b: Pair { a: m(), b: m() } }), exact(0b110, 2))]
#[case::skip(facts(&WithSkip { m: m(), cache: vec![1, 2], label: "l".into() }), exact(0b1, 1))]
#[case::generic_skip(facts(&GenericSkip { m: m(), extra: 5u64 }), exact(0b1, 1))]
#[case::no_pointers_drop(facts(&Stats { count: 1, name: "s".into(), history: vec![] }), exact(0, 0))]
#[case::no_pointers_generic(facts(&Id::<Gc<Leaf>> { raw: 3, _marker: PhantomData }), exact(0, 0))]
#[case::no_pointers_enum(facts(&Color::Rgb(1, 2, 3)), exact(0, 0))]
#[case::nested(facts(&Outer { head: m(), inner: Inner { x: 1, m: m() }, tail: 2, inner2: Inner { x: 3, m: m() } }), exact(0b100101, 3))]
#[case::array(facts(&Arrays { n: 0, ms: [m(), m(), m(), m()] }), exact(0b11110, 4))]
#[case::array_of_structs(facts(&InnerArray { inners: [Inner { x: 0, m: m() }, Inner { x: 0, m: m() }, Inner { x: 0, m: m() }] }), exact(0b101010, 3))]
#[case::word_127(facts(&Edge { pad: [0; 127], m: m() }), exact(1 << 127, 1))]
#[case::beyond_128_words(facts(&Big { pad: [0; 128], m: m() }), opaque(false, 1))]
#[case::indirect(facts(&Indirect { boxed: Box::new(m()), list: vec![m(), m()], maybe: Some(m()) }), opaque(false, 4))]
#[case::self_ref(facts(&SelfRef { next: Member::null(), v: 0, prev: Member::null(), maybe: None }), opaque(false, 2))]
#[case::graph_node(facts(&GraphNode { edges: [m2(), m2()], weight: 1, parent: Member::null() }), exact(0b1011, 3))]
#[case::recursive(facts(&List { m: m(), next: Some(Box::new(List { m: m(), next: None })) }), opaque(false, 2))]
#[case::recursive_self(facts(&Tree { v: 0, kids: vec![Tree { v: 1, kids: vec![] }] }), opaque(false, 0))]
#[case::no_pointers_recursive(facts(&PlainList { v: 0, next: None }), exact(0, 0))]
#[case::no_pointers_recursive_generic(facts(&GenericPlainList { v: 0u8, next: None }), exact(0, 0))]
#[case::params(facts(&Params::<'static, u64, 2> { ms: [m(), m()], t: 0, _life: PhantomData }), exact(0b11, 2))]
#[case::params_zero(facts(&Params::<'static, u64, 0> { ms: [], t: 0, _life: PhantomData }), exact(0, 0))]
#[case::crate_path(facts(&CratePath { m: m() }), exact(0b1, 1))]
#[case::crate_path_bare(facts(&CratePathBare(m(), 0)), exact(0b1, 1))]
#[case::crate_reexport(facts(&CrateReexport { m: m(), n: 0 }), exact(0b1, 1))]
#[case::crate_reexport_plain(facts(&CrateReexportPlain { t: 1u8 }), exact(0, 0))]
#[case::maps(facts(&Maps { by_key: HashMap::from([(1, m()), (2, m())]), set: HashSet::default() }), opaque(false, 2))]
#[case::wrapper(facts(&Wrapper { items: vec![m(), m(), m()] }), opaque(false, 3))]
#[case::wrapper_plain(facts(&Wrapper { items: vec![1u64] }), exact(0, 0))]
fn derived_facts(#[case] actual: Facts, #[case] expected: Facts) {
    assert_eq!(actual, expected);
}

fn needs_drop<T: TraceLayout>(_: &T) -> bool {
    T::NEEDS_DROP
}

/// `NEEDS_DROP`: a derived type (which cannot implement `Drop`) needs a drop
/// pass at sweep exactly when a field does; `Member`s never do, skipped and
/// self-referential fields count by `needs_drop`, and `no_pointers` types
/// (which may implement `Drop`) by `needs_drop::<Self>()`.
#[rstest]
#[case::leaf(needs_drop(&Leaf { v: 1 }), false)]
#[case::members(needs_drop(&Named { a: m(), x: 7, b: m() }), false)]
#[case::unit(needs_drop(&Unit), false)]
#[case::enum_members(needs_drop(&AllKinds::Unit), false)]
#[case::enum_string(needs_drop(&Plain::A), true)]
#[case::pair_string(needs_drop(&Pair { a: String::new(), b: m() }), true)]
#[case::pair_option_member(needs_drop(&Pair { a: Some(m()), b: 1u64 }), false)]
#[case::skipped_vec(needs_drop(&WithSkip { m: m(), cache: vec![], label: String::new() }), true)]
#[case::skipped_plain(needs_drop(&GenericSkip { m: m(), extra: 5u64 }), false)]
#[case::skipped_generic_drop(needs_drop(&GenericSkip { m: m(), extra: String::new() }), true)]
#[case::nested(needs_drop(&Outer { head: m(), inner: Inner { x: 1, m: m() }, tail: 2, inner2: Inner { x: 3, m: m() } }), false)]
#[case::array(needs_drop(&Arrays { n: 0, ms: [m(), m(), m(), m()] }), false)]
#[case::indirect(needs_drop(&Indirect { boxed: Box::new(m()), list: vec![], maybe: None }), true)]
#[case::recursive(needs_drop(&List { m: m(), next: None }), true)]
#[case::recursive_self(needs_drop(&Tree { v: 0, kids: vec![] }), true)]
#[case::graph_node(needs_drop(&GraphNode { edges: [m2(), m2()], weight: 1, parent: Member::null() }), false)]
#[case::no_pointers_with_drop(needs_drop(&Stats { count: 1, name: String::new(), history: vec![] }), true)]
#[case::no_pointers_plain(needs_drop(&Id::<Gc<Leaf>> { raw: 3, _marker: PhantomData }), false)]
#[case::no_pointers_string(needs_drop(&Color::None), true)]
fn derived_needs_drop(#[case] actual: bool, #[case] expected: bool) {
    assert_eq!(actual, expected);
}

/// Default-repr structs: the map is exact and has one bit per `Member`,
/// wherever rustc put them.
#[rstest]
#[case::named_rust(facts(&NamedRust { x: 0, a: m(), y: 0, b: m() }), 2)]
#[case::pair_tuple(facts(&(m(), 1u8, m())), 2)]
fn reordered_fields(#[case] actual: Facts, #[case] members: u32) {
    assert!(actual.exact);
    assert!(!actual.no_pointers);
    assert_eq!(actual.bits.count_ones(), members);
    assert_eq!(actual.slots, members as usize);
}

#[test]
fn never_enum_is_pointer_free() {
    const { assert!(<Never as TraceLayout>::NO_POINTERS) };
    const { assert!(!<Never as TraceLayout>::NEEDS_DROP) };
    assert_eq!(<Never as TraceLayout>::POINTER_MAP.bits(), 0);
}

#[test]
fn no_pointers_types_are_no_gc_pointers() {
    assert_no_gc_pointers::<Stats>();
    assert_no_gc_pointers::<Id<Gc<Leaf>>>();
    assert_no_gc_pointers::<Color>();
    assert_no_gc_pointers::<PlainList>();
    assert_no_gc_pointers::<GenericPlainList<String>>();
    // and usable where `NoGcPointers` is required
    let locked = std::sync::Mutex::new(Stats { count: 0, name: String::new(), history: vec![] });
    assert_eq!(count_slots(&locked), 0);
}

#[test]
fn no_pointers_type_may_implement_drop() {
    let before = STATS_DROPS.load(Ordering::Relaxed);
    drop(Stats { count: 0, name: String::new(), history: vec![] });
    assert_eq!(STATS_DROPS.load(Ordering::Relaxed), before + 1);
}

#[test]
fn trace_is_object_safe_on_derived_types() {
    let values: Vec<Box<dyn Trace>> =
        vec![Box::new(Named { a: m(), x: 0, b: m() }), Box::new(AllKinds::Tuple(m(), 0)), Box::new(Unit)];
    let total: usize = values.iter().map(|v| count_slots(&**v)).sum();
    assert_eq!(total, 3);
}

#[test]
fn pointer_map_is_a_constant() {
    const MAP: tricolor_gc::PointerMap = <Outer as TraceLayout>::POINTER_MAP;
    const NO_POINTERS: bool = <Outer as TraceLayout>::NO_POINTERS;
    assert_eq!(MAP.bits(), 0b100101);
    const { assert!(!NO_POINTERS) };
}

/// Generated code must not clash with user names: fields called `tracer`
/// or like the derive's internals, and items named like the traits, `core`
/// or `tracer` in scope. (Like every derive, it cannot stop a *constant* named
/// like one of its `__tricolor_gc_*` bindings from turning that binding into
/// a constant pattern; that prefix is reserved.)
mod hygiene {
    #![allow(non_camel_case_types, non_upper_case_globals)]

    use super::{count_slots, m, Leaf};
    use tricolor_gc::{Member, TraceLayout};

    struct Trace;
    struct PointerMap;
    struct NoGcPointers;
    struct core;
    struct tracer;
    trait FieldHasNoGcPointers {}
    fn field_must_be_no_gc_pointers() {}
    trait TypesDerivingTraceMustNotImplementDrop_ADestructorCouldMoveAGcPointerOutOfADeadObject {}

    #[derive(tricolor_gc::Trace)]
    struct Clash<T> {
        tracer: Member<Leaf>,
        __tricolor_gc_tracer: Member<Leaf>,
        #[trace(skip)]
        self_: u8,
        t: T,
    }

    #[derive(tricolor_gc::Trace)]
    enum ClashEnum {
        A { tracer: Member<Leaf>, __tricolor_gc_f0: Member<Leaf> },
        B(Member<Leaf>, #[trace(skip)] u8),
    }

    #[derive(tricolor_gc::Trace)]
    #[trace(no_pointers)]
    struct ClashPlain {
        tracer: u64,
    }

    #[test]
    fn names_do_not_clash() {
        let c = Clash { tracer: m(), __tricolor_gc_tracer: m(), self_: 0, t: m() };
        assert_eq!(count_slots(&c), 3);
        const { assert!(!<Clash<u8> as TraceLayout>::NO_POINTERS) };
        let e = ClashEnum::A { tracer: m(), __tricolor_gc_f0: m() };
        assert_eq!(count_slots(&e), 2);
        assert_eq!(count_slots(&ClashEnum::B(m(), 0)), 1);
        assert_eq!(count_slots(&ClashPlain { tracer: 0 }), 0);
    }
}
