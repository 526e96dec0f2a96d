// Row 47: gc-core's internals are not reachable from safe code: no
// integer-to-reference header lookup, no marker, no phase switch, no heap.
fn main() {
    let _ = gc_core::heap::object::header(8);
    gc_core::mark::set_phase(gc_core::mark::Phase::Off);
    let _ = gc_core::heap::heap().sweepgen.load(std::sync::atomic::Ordering::Relaxed);
    gc_core::sweep::finish_sweep(true);
    let _ = gc_core::mutator::stop_the_world();
}
