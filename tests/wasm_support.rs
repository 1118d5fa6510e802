//! Helpers shared by the wasm test files of the worker and tab crates (included with
//! `#[path]`): where the dev server of this `npm test` run listens, polling, control calls.
#![allow(dead_code)]

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The dev server `npm test` started for this run, baked in at compile time.
pub const HTTP: &str = match option_env!("TABMUX_TEST_HTTP") {
    Some(s) => s,
    None => "http://127.0.0.1:8080",
};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in a page or a worker.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str) -> js_sys::Promise;
}

pub fn ws_url(channel: &str) -> String {
    format!("{}/ws/{channel}", HTTP.replacen("http://", "ws://", 1))
}

/// `v[k]`, or undefined when `v` is not an object.
pub fn get(v: &JsValue, k: &str) -> JsValue {
    if !v.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(v, &k.into()).unwrap()
}

/// Polls `cond` every 25 ms for up to 10 s.
pub async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        TimeoutFuture::new(25).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits `ms` milliseconds.
pub async fn sleep_ms(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// GETs a control endpoint of the dev server and returns its JSON.
pub async fn ctl(path: &str) -> JsValue {
    let resp: web_sys::Response = JsFuture::from(global_fetch(&format!("{HTTP}{path}"))).await.unwrap().unchecked_into();
    assert!(resp.ok(), "{path}: HTTP {}", resp.status());
    JsFuture::from(resp.json().unwrap()).await.unwrap()
}

/// Whether the dev server no longer holds a socket on `channel` (polled for up to 5 s).
pub async fn channel_closed(channel: &str) -> bool {
    for _ in 0..200 {
        if get(&get(&ctl("/control/stats").await, "byChannel"), channel).is_undefined() {
            return true;
        }
        TimeoutFuture::new(25).await;
    }
    false
}
