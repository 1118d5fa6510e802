//! tabmux-tab: the client a page uses.
//!
//! `connect(options)` attaches this page to the SharedWorker's engine over a port, or,
//! where there is no SharedWorker (or `mode: "direct"`), runs the same engine in the page
//! with a direct socket. Either way the client behaves the same: `message`, `status` and
//! `error` events, `send`, `stats`, `reconnect`, `close`.
#![allow(unsafe_code)] // wasm-bindgen's generated glue; no hand-written unsafe.

mod client;
mod listeners;

pub use client::{connect, TabClient};
