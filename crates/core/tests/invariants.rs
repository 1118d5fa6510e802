//! Random input sequences (seeded, so every failure replays) with the engine's invariants
//! checked after every step (see `driver/mod.rs`). `TABMUX_FUZZ_SEEDS` raises the number of
//! sequences (CI runs the default); `fuzz/` runs the same driver under libFuzzer.
mod common;
mod driver;

use tabmux_core::Rng;

#[test]
fn random_sequences_keep_every_invariant() {
    let seeds: u64 = std::env::var("TABMUX_FUZZ_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    for seed in 0..seeds {
        driver::run(&mut Rng::new(seed), seed, 400, &format!("seed {seed}"));
    }
}

#[test]
fn byte_choices_read_one_byte_below_256_and_two_above_and_end_when_empty() {
    use driver::{Bytes, Choices};
    let mut b = Bytes(&[7, 1, 2, 9]);
    assert_eq!(b.pick(5), Some(2));
    assert_eq!(b.pick(1000), Some(258));
    assert_eq!(b.pick(300), None, "one byte left, two needed");
    assert_eq!(b.pick(10), Some(9));
    assert_eq!(b.pick(10), None);
}

#[test]
fn an_empty_or_short_input_still_ends_with_nothing_left() {
    driver::run(&mut driver::Bytes(&[]), 0, 400, "empty");
    // Attach to a, open its socket, then the bytes run out: the cleanup still closes it.
    driver::run(&mut driver::Bytes(&[0, 0, 0, 0, 3, 0]), 1, 400, "short");
}
