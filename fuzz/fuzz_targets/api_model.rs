//! libFuzzer target over the operation language of `tests/api_model.rs`:
//! the input bytes decode to a program (`api_ops::decode`, which accepts
//! every byte string), run against the heap and the reference model with
//! every check of the proptest. A failed check panics (a crash for
//! libFuzzer) with the model's message and an `API_MODEL_REPLAY` hex string
//! for `cargo test --test api_model api_model_replay`; a hang is aborted by
//! the interpreter's watchdog (`API_MODEL_WATCHDOG_SECS`, default 20 s).
//!
//! `cargo fuzz run api_model` (README, "Fuzzing").

#![no_main]

#[path = "../../tests/common/api_ops.rs"]
mod api_ops;

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

/// A program decoded from the whole input (so `cargo fuzz fmt` prints it).
#[derive(Debug)]
struct Program(Vec<api_ops::Op>);

impl<'a> Arbitrary<'a> for Program {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.len();
        Ok(Program(api_ops::decode(u.bytes(n)?)))
    }
    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Program(api_ops::decode(u.take_rest())))
    }
}

fuzz_target!(
    init: {
        api_ops::init_env();
    },
    |p: Program| {
        if let Err(e) = api_ops::run_program(&p.0, api_ops::Families::from_env()) {
            panic!("api_model: {e}\nreplay: API_MODEL_REPLAY={}", api_ops::to_hex(&api_ops::encode(&p.0)));
        }
    }
);
