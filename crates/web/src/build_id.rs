//! The release this wasm was built as, compiled into the wasm itself: a page says it in its
//! hello and names its worker after it, and the worker compares it with the id its shim was
//! stamped with. A shim of one release over a cached glue and wasm of another is then seen by
//! the code that runs, not taken on the shim's word.
//!
//! The id lives in a data segment after a fixed marker; `scripts/build.mjs`'s `stamp()`
//! finds [`MARKER`] in each built wasm and writes the 16 hex digits after it. Until then (a
//! `cargo`/`wasm-pack test` build) it reads `dev`.

/// What precedes the id in the wasm's data (the build looks for exactly these bytes).
pub const MARKER: &[u8; 16] = b"tabmux-build-id:";

/// The marker, then the id: `dev` padded with spaces until the build stamps it.
static STAMP: [u8; 32] = *b"tabmux-build-id:dev             ";

/// The id stamped into this wasm (`dev` when unstamped).
pub fn build_id() -> String {
    // SAFETY: a read of an initialized static of plain bytes. Volatile so the compiler reads
    // the bytes the build wrote into the binary instead of folding in the placeholder.
    #[allow(unsafe_code)]
    let bytes: [u8; 32] = unsafe { core::ptr::read_volatile(&STAMP) };
    // ASCII (hex digits, or `dev` and spaces), so each byte is a char.
    bytes[MARKER.len()..].iter().take_while(|b| **b != b' ').map(|b| char::from(*b)).collect()
}
