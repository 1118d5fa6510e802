//! tabmux-web: the browser shell around [`tabmux_core::Engine`], and the page ⇄ worker
//! protocol.
//!
//! Both the SharedWorker and the in-page engine of direct mode run a [`Driver`]: it feeds
//! WebSocket and timer events into the engine and carries out its actions. Frames stay JS
//! values from the socket to every [`Sink`]; they never enter wasm memory. [`protocol`] is
//! the one definition of the messages between a page and the worker.
#![allow(unsafe_code)] // wasm-bindgen's generated extern glue needs it; by hand only `build_id`'s one read.

mod build_id;
mod driver;
pub mod locks;
pub mod protocol;
pub mod timer;
mod wire;

pub use build_id::build_id;
pub use driver::{js_message, Driver, SeqReader, Sink, TokenClaim};
pub use protocol::{is_frame, names_made, post_of, ToTab, ToWorker};
pub use wire::{event_data, frame_len, get, now_ms, object, parse_options, performance_now, random_seed};
