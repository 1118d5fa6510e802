//! The page's ways into JavaScript: coded errors, JSON on JS strings, and callbacks (a
//! microtask, a timer, an event listener) behind one closure wrapper per kind.

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use tabmux_core::Error;
use wasm_bindgen::prelude::*;

/// A JS `Error` with the message and a `code` property.
pub fn js_error(e: &Error) -> JsValue {
    coded_error(e.kind(), &e.message())
}

/// A JS `Error` with `message` and the wire name of `code` as its `code`.
pub(crate) fn coded_error(code: tabmux_core::ErrorCode, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.as_str().into());
    err.into()
}

#[wasm_bindgen]
extern "C" {
    /// The global `queueMicrotask` (window or worker).
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &JsValue);
    /// `JSON.parse` on the JS string itself: the text is never copied into wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub(crate) fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;
    /// `JSON.stringify`; `undefined` for a value it cannot write (a function, `undefined`).
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub(crate) fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// Runs `f` in a microtask: after the current callback (a listener, a timer) has returned.
pub(crate) fn later(f: impl FnOnce() + 'static) {
    later_boxed(Box::new(f));
}

// The helpers below take boxed callbacks so that wasm-bindgen's closure glue (its wrappers,
// invoke shims and destructors) exists once per kind of callback rather than once per call
// site. Invariant: each is `#[inline(never)]` and takes a `Box<dyn …>`, so there is one
// instantiation per kind.
#[inline(never)]
fn later_boxed(f: Box<dyn FnOnce()>) {
    // Always called, so the closure is always freed.
    queue_microtask(&Closure::once_into_js(f));
}

/// A JS function that calls `f` once with its argument and frees itself then (one
/// instantiation for every such callback: a promise's `then` arms).
#[inline(never)]
pub(crate) fn once_js(f: Box<dyn FnOnce(JsValue)>) -> JsValue {
    Closure::once_into_js(f)
}

#[inline(never)]
fn timer_boxed(ms: u32, f: Box<dyn FnOnce()>) -> Timeout {
    Timeout::new(ms, f)
}

/// A timer that calls `f` once after `ms`, in a microtask after the timer's own callback
/// (starting something from `f` may replace the timer).
pub(crate) fn timer_later(ms: u32, f: impl FnOnce() + 'static) -> Timeout {
    let f: Box<dyn FnOnce()> = Box::new(f);
    timer_boxed(ms, Box::new(move || later_boxed(f)))
}

/// Listens for `event` on `target` until the listener is dropped.
pub(crate) fn listen(
    target: &web_sys::EventTarget,
    event: &'static str,
    f: impl FnMut(&web_sys::Event) + 'static,
) -> EventListener {
    listen_boxed(target, event, Box::new(f))
}

#[inline(never)]
fn listen_boxed(
    target: &web_sys::EventTarget,
    event: &'static str,
    mut f: Box<dyn FnMut(&web_sys::Event)>,
) -> EventListener {
    EventListener::new(target, event, move |ev| f(ev))
}

pub(crate) use tabmux_web::get;
