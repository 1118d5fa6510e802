//! tabmux-web: the browser shell around [`tabmux_core::Engine`].
//!
//! Both the SharedWorker and the in-page fallback run a [`Driver`]: it feeds WebSocket and
//! timer events into the engine and carries out its actions. Frames stay JS values from
//! the socket to every [`Sink`]; they never enter wasm memory.
#![allow(unsafe_code)] // wasm-bindgen's generated extern glue needs it; none is written by hand.

mod driver;
mod wire;

pub use driver::{Driver, Sink};
pub use wire::{frame_len, is_frame, now_ms, parse_control, parse_options, to_js, ToTab};
