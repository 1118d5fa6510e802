//! Conversions between JS values and the core's types: the clock, frame sizes, the
//! serializer for status and stats, and the `connect()` options reader.

use serde::Serialize;
use tabmux_core::{check_mixed_content, Error, Options};
use wasm_bindgen::{JsCast, JsValue};

/// Milliseconds since the epoch, as the engine's clock.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
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

/// The serializer every message to a tab goes through: plain objects, `null` for absent.
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> JsValue {
    let ser = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    // Our own types always serialize; a failure would be a bug, reported as a string.
    v.serialize(&ser).unwrap_or_else(|e| JsValue::from_str(&e.to_string()))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads and validates `connect()` options from a JS object, including the mixed-content
/// rule for the page (or worker) this runs in: its origin is the page's.
pub fn parse_options(v: &JsValue) -> Result<Options, Error> {
    let options = parse_options_only(v)?;
    // A secure page cannot open ws:// (mixed content): say so here, not as a socket that
    // never opens. The worker runs in its pages' origin, so the rule is the same there.
    let protocol = get(&get(&js_sys::global(), "location"), "protocol").as_string().unwrap_or_default();
    check_mixed_content(&options.url, &protocol)?;
    Ok(options)
}

fn parse_options_only(v: &JsValue) -> Result<Options, Error> {
    if !v.is_object() {
        return Err(Error::InvalidOptions("options must be an object with at least a url".into()));
    }
    // serde-wasm-bindgen reads only the fields it knows: check for typos here.
    check_keys(v, Options::KEYS, "")?;
    for (key, keys) in [
        ("backoff", tabmux_core::BackoffOptions::KEYS),
        ("breaker", tabmux_core::BreakerOptions::KEYS),
        ("heartbeat", tabmux_core::HeartbeatOptions::KEYS),
        ("token", tabmux_core::TokenOptions::KEYS),
        ("dedup", tabmux_core::DedupOptions::KEYS),
        ("sequence", tabmux_core::SequenceOptions::KEYS),
        ("topics", tabmux_core::TopicOptions::KEYS),
        ("queue", tabmux_core::QueueOptions::KEYS),
        ("replay", tabmux_core::ReplayOptions::KEYS),
    ] {
        let nested = get(v, key);
        if nested.is_object() {
            check_keys(&nested, keys, &format!("{key}."))?;
        }
    }
    let de = serde_wasm_bindgen::Deserializer::from(v.clone());
    let options: Options = serde_path_to_error::deserialize(de).map_err(|e| {
        // serde-wasm-bindgen's errors are JS Errors whose string form starts "Error: ".
        let text = e.inner().to_string();
        let text = text.strip_prefix("Error: ").unwrap_or(&text);
        let path = e.path().to_string();
        Error::InvalidOptions(if path == "." { text.to_string() } else { format!("{path}: {text}") })
    })?;
    options.validate()?;
    Ok(options)
}

fn check_keys(v: &JsValue, allowed: &[&str], prefix: &str) -> Result<(), Error> {
    for key in js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            let expected = allowed.iter().map(|k| format!("`{prefix}{k}`")).collect::<Vec<_>>().join(", ");
            let shown: String = key.chars().take(40).collect();
            return Err(Error::InvalidOptions(format!("unknown field `{prefix}{shown}`, expected one of {expected}")));
        }
    }
    Ok(())
}
