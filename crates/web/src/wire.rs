//! Conversions between JS values and the core's types: the clock, frame sizes, objects
//! from fields (status, stats, log events), and the `connect()` options reader.

use tabmux_core::options_reader::{MAX_OPTION_ITEMS, MAX_OPTION_TEXT};
use tabmux_core::{check_mixed_content, read_options, Error, FieldValue, Kind, Options, Source};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// `performance.timeOrigin`: when this context (page or worker) started, in ms since the
    /// epoch. Read once: the engine's clock is this plus `performance.now()`.
    static TIME_ORIGIN: f64 = js_sys::Reflect::get(&get(&js_sys::global(), "performance"), &"timeOrigin".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or_else(js_sys::Date::now);
}

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: monotonic, unmoved by steps of the OS clock.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;

    /// An event seen through its `data`: a `MessageEvent`'s, `undefined` on any other event.
    type DataEvent;
    #[wasm_bindgen(method, getter, structural)]
    fn data(this: &DataEvent) -> JsValue;
}

/// A `message` event's data (a socket's or a port's), read without first asking whether the
/// event is a `MessageEvent` (one JS call per message, not two); `undefined` for an event
/// that is not one.
pub fn event_data(ev: &web_sys::Event) -> JsValue {
    ev.unchecked_ref::<DataEvent>().data()
}

/// The engine's clock: monotonic milliseconds (`performance.timeOrigin` plus
/// `performance.now()`), near ms since the epoch but never stepped by the OS clock. Every
/// deadline is on this clock; wall time is only shown ([`wall_offset_ms`]).
pub fn now_ms() -> u64 {
    ms_at(performance_now())
}

/// The engine's clock at `performance.now()` reading `now` (see [`now_ms`]): for a caller
/// that reads the clock once for several uses.
pub fn ms_at(now: f64) -> u64 {
    (TIME_ORIGIN.with(|o| *o) + now) as u64
}

/// How far the wall clock (`Date.now()`) is ahead of the engine's clock now: added to an
/// instant to show it as ms since the epoch. It moves when the OS clock steps, and when the
/// machine sleeps (the monotonic clock stops on most systems while the wall clock goes on).
pub fn wall_offset_ms() -> i64 {
    js_sys::Date::now() as i64 - now_ms() as i64
}

/// This context's `navigator.onLine` (a page's or a worker's); `None` where there is none.
pub fn navigator_on_line() -> Option<bool> {
    get(&get(&js_sys::global(), "navigator"), "onLine").as_bool()
}

/// The size of a data frame without copying it: UTF-16 code units of a string, bytes of a
/// buffer or view. `None` when the value is not a frame.
pub fn frame_len(v: &JsValue) -> Option<usize> {
    if v.is_string() {
        Some(v.unchecked_ref::<js_sys::JsString>().length() as usize)
    } else if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        Some(b.byte_length() as usize)
    } else if js_sys::ArrayBuffer::is_view(v) {
        Some(v.unchecked_ref::<js_sys::Uint8Array>().byte_length() as usize)
    } else {
        None
    }
}

/// A plain object built from its fields (`tabmux_core::fields`: status, stats and log
/// events), without a serializer. Instants of the engine's clock are shown as wall time.
pub fn object(fields: &[(&str, FieldValue)]) -> JsValue {
    object_at(fields, wall_offset_ms())
}

fn object_at(fields: &[(&str, FieldValue)], wall_offset: i64) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let v = match v {
            FieldValue::Num(n) => JsValue::from(*n as f64),
            FieldValue::At(t) => JsValue::from((*t as i64).saturating_add(wall_offset) as f64),
            FieldValue::Text(t) => JsValue::from_str(t),
            FieldValue::Bool(b) => JsValue::from_bool(*b),
            FieldValue::Null => JsValue::NULL,
            FieldValue::Obj(inner) => object_at(inner, wall_offset),
        };
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    }
    o.into()
}

/// A seed for the engine's random numbers and for ids: `Math.random()` over 53 bits, mixed
/// with the wall clock.
pub fn random_seed() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64 ^ (js_sys::Date::now() as u64)
}

/// `obj[key]`, or `undefined` when reading it throws (a getter, a revoked proxy).
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads and validates `connect()` options from a JS object, including the mixed-content
/// rule for the page (or worker) this runs in: its origin is the page's.
pub fn parse_options(v: &JsValue) -> Result<Options, Error> {
    let options = read_options(&Js(v.clone()))?;
    // A secure page cannot open ws:// (mixed content): say so here, not as a socket that
    // never opens. The worker runs in its pages' origin, so the rule is the same there.
    let protocol = get(&get(&js_sys::global(), "location"), "protocol").as_string().unwrap_or_default();
    check_mixed_content(&options.url, &protocol)?;
    Ok(options)
}

/// A JS value seen as options data: read with `Reflect`, numbers shown in JavaScript's own
/// text (no float formatting in wasm). Sizes are read on the JS side first: a string over
/// `MAX_OPTION_TEXT` characters, or an object or array over `MAX_OPTION_ITEMS` keys or
/// items, is [`Kind::TooLarge`] and never copied into wasm.
struct Js(JsValue);

impl Source for Js {
    fn kind(&self) -> Kind {
        let v = &self.0;
        if v.is_null() || v.is_undefined() {
            Kind::Null
        } else if v.as_bool().is_some() {
            Kind::Bool
        } else if v.as_f64().is_some() {
            Kind::Number
        } else if v.is_string() {
            if v.unchecked_ref::<js_sys::JsString>().length() > MAX_OPTION_TEXT { Kind::TooLarge } else { Kind::String }
        } else if js_sys::Array::is_array(v) {
            if v.unchecked_ref::<js_sys::Array>().length() > MAX_OPTION_ITEMS { Kind::TooLarge } else { Kind::Array }
        } else if v.is_object() && !v.is_function() {
            if js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>()).length() > MAX_OPTION_ITEMS { Kind::TooLarge } else { Kind::Object }
        } else {
            Kind::Other
        }
    }
    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }
    fn text(&self) -> Option<String> {
        // Only a string this reader takes is copied.
        (self.kind() == Kind::String).then(|| self.0.as_string()).flatten()
    }
    fn boolean(&self) -> Option<bool> {
        self.0.as_bool()
    }
    fn keys(&self) -> Vec<String> {
        if self.kind() != Kind::Object {
            return Vec::new();
        }
        js_sys::Object::keys(self.0.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()).collect()
    }
    fn field(&self, key: &str) -> Option<Self> {
        let v = get(&self.0, key);
        (!v.is_undefined()).then_some(Js(v))
    }
    fn items(&self) -> Vec<Self> {
        if self.kind() != Kind::Array {
            return Vec::new();
        }
        self.0.unchecked_ref::<js_sys::Array>().iter().map(Js).collect()
    }
    fn number_text(&self) -> String {
        self.0.unchecked_ref::<js_sys::Number>().to_string_with_radix(10).map(String::from).unwrap_or_default()
    }
}
