//! Sequences of engine inputs decoded from libFuzzer's bytes, with every invariant of
//! `crates/core/tests/driver` checked after each step (the same driver the seeded test runs).
//! The first byte seeds the engine's jitter.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/core/tests/common/mod.rs"]
mod common;
#[path = "../../crates/core/tests/driver/mod.rs"]
mod driver;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else { return };
    driver::run(&mut driver::Bytes(rest), u64::from(seed), 4000, "fuzz input");
});
