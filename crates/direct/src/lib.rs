//! tabmux-direct: direct mode, for pages without a SharedWorker (or `mode: "direct"`).
//!
//! The page's entry loads this module with a dynamic import only when it is needed, so a
//! page in shared mode never fetches it. It runs the same engine and driver as the worker,
//! in the page, and hands the client the same protocol messages the worker would get: the
//! client ([`tabmux_tab::TabClient`]) and the dispatch ([`Driver::serve`]) are the ones the
//! shared path uses.
#![allow(unsafe_code)] // wasm-bindgen's generated glue; no hand-written unsafe.

use std::rc::Rc;
use tabmux_core::ClientId;
use tabmux_tab::{js_error, Link, TabClient};
use tabmux_web::{parse_options, Driver, Sink, ToWorker, TokenClaim};
use wasm_bindgen::prelude::*;

thread_local! {
    /// One engine per page: every direct client of the page shares its sockets.
    static DRIVER: Driver = Driver::new(tabmux_web::random_seed());
}

/// A client's way to the engine in this page.
struct DirectLink {
    driver: Driver,
    client: ClientId,
}

impl Link for DirectLink {
    fn post(&self, msg: ToWorker) -> bool {
        self.driver.serve(self.client, msg);
        true
    }

    fn end(&self, _say_bye: bool) {
        self.driver.detach(self.client);
    }
}

/// Connects this page with a socket of its own, driven by the engine. `tab_id` is the
/// page's id from the shared-mode module, so every client of a page reports the same one.
/// Resolves to the client; rejects with `invalid-options` naming the option, as the worker
/// would. `notice` (optional) is the error that sent this page here from a failed worker:
/// the client tells it to its first `error` listener.
#[wasm_bindgen(js_name = connectDirect)]
pub fn connect_direct(options: JsValue, tab_id: String, notice: JsValue) -> js_sys::Promise {
    console_error_panic_hook::set_once();
    let opts = match parse_options(&options) {
        Ok(o) => o,
        Err(e) => return js_sys::Promise::reject(&js_error(&e)),
    };
    let driver = DRIVER.with(Driver::clone);
    let id = tab_id.clone();
    // Called again when the page comes back from the back/forward cache.
    TabClient::local(
        tab_id,
        &options,
        notice,
        Box::new(move |sink, token| {
            let claim = TokenClaim { token: token.0.as_deref(), gen: token.1 };
            let client = driver.attach(Sink::Local(sink), &id, opts.clone(), claim, None)?;
            Ok(Rc::new(DirectLink { driver: driver.clone(), client }) as Rc<dyn Link>)
        }),
    )
}
