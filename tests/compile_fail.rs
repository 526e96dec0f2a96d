//! Misuses of `#[derive(Trace)]` that must not compile: each `tests/ui/*.rs`
//! must fail with the error recorded in the `.stderr` file beside it.
//!
//! Regenerate the `.stderr` files after a deliberate diagnostic change with
//! `TRYBUILD=overwrite cargo test --test compile_fail`, and read the diff:
//! every file must still fail for the reason its header comment gives.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
