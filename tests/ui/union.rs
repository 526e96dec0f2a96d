// Unions cannot be traced: nothing says which field is live.
use tricolor_gc::Trace;

#[derive(Trace)]
union Bits {
    int: u64,
    float: f64,
}

fn main() {}
