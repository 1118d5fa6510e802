//! tabmux-tab: the thin client a page uses.
//!
//! In shared mode (`connectShared`) the page only says hello to the SharedWorker, routes
//! what it sends to listeners and subscriptions, holds its liveness lock and replaces a dead
//! worker: no engine, no option parser beyond `mode` and `workerUrl`. `pickTransport` says
//! whether this browser goes shared or direct; direct mode is the `tabmux-direct` module,
//! which reuses this crate's [`TabClient`] over a [`Link`] to an engine in the page. Either
//! way the client behaves the same: `message`, `status`, `error` and `gap` events, `send`,
//! `subscribe`, `history`, `stats`, `reconnect`, `setToken`, `close`.
#![allow(unsafe_code)] // wasm-bindgen's generated glue; no hand-written unsafe.

mod api;
mod client;
mod js;
mod lifetime;
mod listeners;
mod page;
mod shared;

pub use api::Op;
pub use client::TabClient;
pub use client::Link;
pub use js::js_error;
pub use shared::{connect_shared, pick_transport, tab_id};

// The page's allocator: talc instead of std's dlmalloc (about 4 KB less gzip in the page's
// wasm). The module (and the direct module, which links this crate) allocates little and
// briefly, so the smaller allocator costs nothing measurable.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
