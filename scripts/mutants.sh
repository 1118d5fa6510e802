#!/usr/bin/env bash
# Mutation testing of the core crate with cargo-mutants (installed if missing). Not part of
# `npm test`: it rebuilds and reruns the core's tests once per mutant. The random-sequence
# invariant test runs with fewer seeds here so one mutant takes seconds, not half a minute.
# Usage: scripts/mutants.sh [extra cargo-mutants arguments, e.g. --file crates/core/src/engine/mod.rs]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(cargo mutants --version 2>/dev/null)" = "cargo-mutants 27.1.0" ] || cargo install cargo-mutants --version 27.1.0 --locked --force
export TABMUX_FUZZ_SEEDS="${TABMUX_FUZZ_SEEDS:-20}"
exec cargo mutants --package tabmux-core --timeout 120 --output target/mutants "$@"
