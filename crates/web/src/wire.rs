//! Conversions between JS values and the core's types, and the worker → tab messages.

use serde::Serialize;
use tabmux_core::{ClientMsg, Error, ErrorReport, Options, Stats, Status, PROTOCOL_VERSION};
use wasm_bindgen::{JsCast, JsValue};

/// Milliseconds since the epoch, as the engine's clock.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Whether a message on a port is a data frame (string, `ArrayBuffer` or typed array)
/// rather than a control object.
pub fn is_frame(v: &JsValue) -> bool {
    v.is_string() || v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v)
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

/// A message from the worker (or the in-page engine) to a tab.
#[derive(Serialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum ToTab<'a> {
    /// The hello was accepted.
    Welcome {
        /// The protocol version.
        v: u32,
        /// The id of this client in the engine.
        #[serde(rename = "clientId")]
        client_id: u32,
    },
    /// The endpoint's status.
    Status {
        /// The status.
        status: &'a Status,
    },
    /// The reply to a stats request.
    Stats {
        /// The request's id.
        id: u32,
        /// The stats.
        stats: &'a Stats,
        /// The engine's wasm memory, in bytes.
        #[serde(rename = "memoryBytes")]
        memory_bytes: u32,
    },
    /// A send with this id was written on the socket.
    Sent {
        /// The tab's request id.
        id: u32,
    },
    /// Sequence numbers were skipped.
    Gap {
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
    /// Something this client asked for went wrong.
    Error {
        /// The stable code and the message.
        #[serde(flatten)]
        error: ErrorReport,
        /// The request this answers, if any.
        id: Option<u32>,
    },
}

impl ToTab<'_> {
    /// An error message for `e`.
    pub fn error(e: &Error, id: Option<u32>) -> JsValue {
        to_js(&ToTab::Error { error: ErrorReport::from(e), id })
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn bad(why: &str) -> Error {
    Error::BadMessage(why.to_string())
}

/// The longest tab id accepted in a hello.
const MAX_TAB_ID: usize = 64;

/// Parses a control message (anything on a port that is not a frame). Never panics:
/// every malformed shape is a [`Error::BadMessage`], a wrong version a
/// [`Error::VersionMismatch`], bad options an [`Error::InvalidOptions`].
pub fn parse_control(v: &JsValue) -> Result<ClientMsg, Error> {
    if !v.is_object() {
        return Err(bad("expected a string, an ArrayBuffer, or an object with a \"t\" field"));
    }
    let t = get(v, "t").as_string().ok_or_else(|| bad("the object has no string \"t\" field"))?;
    match t.as_str() {
        "hello" => {
            let ver = get(v, "v").as_f64().ok_or_else(|| bad("hello has no numeric \"v\" (protocol version)"))?;
            if ver != PROTOCOL_VERSION as f64 {
                return Err(Error::VersionMismatch { got: ver.clamp(0.0, u32::MAX as f64) as u32, want: PROTOCOL_VERSION });
            }
            let tab_id = get(v, "tabId").as_string().ok_or_else(|| bad("hello has no string \"tabId\""))?;
            if tab_id.is_empty() || tab_id.len() > MAX_TAB_ID {
                return Err(bad("hello's tabId must be 1 to 64 characters"));
            }
            let options = parse_options(&get(v, "options"))?;
            let lock = get(v, "lock");
            let lock = match lock.as_string() {
                Some(l) if !l.is_empty() && l.len() <= 128 => Some(l),
                None if lock.is_undefined() || lock.is_null() => None,
                _ => return Err(bad("hello's lock must be a string of 1 to 128 characters")),
            };
            let token = get(v, "token");
            let token = match token.as_string() {
                Some(t) => Some(t),
                None if token.is_undefined() || token.is_null() => None,
                _ => return Err(bad("hello's token must be a string")),
            };
            Ok(ClientMsg::Hello { tab_id, options, lock, token })
        }
        "stats" => Ok(ClientMsg::Stats { id: request_id(v, "stats")? }),
        "send" => Ok(ClientMsg::Send { id: request_id(v, "send")? }),
        "history" => {
            let topic = get(v, "topic");
            let topic = match topic.as_string() {
                Some(t) => Some(t),
                None if topic.is_undefined() || topic.is_null() => None,
                _ => return Err(bad("history's topic must be a string")),
            };
            Ok(ClientMsg::History { id: request_id(v, "history")?, topic })
        }
        "subscribe" | "unsubscribe" => {
            let topic = get(v, "topic").as_string().ok_or_else(|| bad(&format!("{t} needs a string \"topic\"")))?;
            Ok(if t == "subscribe" { ClientMsg::Subscribe { topic } } else { ClientMsg::Unsubscribe { topic } })
        }
        "reconnect" => Ok(ClientMsg::Reconnect),
        "bye" => Ok(ClientMsg::Bye),
        "visible" => Ok(ClientMsg::Visible),
        "online" => Ok(ClientMsg::Online {
            online: get(v, "online").as_bool().ok_or_else(|| bad("online needs a boolean \"online\""))?,
        }),
        "token" => {
            let token = get(v, "token");
            // The message never repeats the token.
            let token = token.as_string().ok_or_else(|| bad("token needs a string \"token\""))?;
            Ok(ClientMsg::Token { token })
        }
        other => Err(bad(&format!("unknown message type {:?}", other.chars().take(40).collect::<String>()))),
    }
}

fn request_id(v: &JsValue, what: &str) -> Result<u32, Error> {
    get(v, "id")
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| bad(&format!("{what} needs an integer \"id\"")))
}

/// Reads and validates `connect()` options from a JS object.
pub fn parse_options(v: &JsValue) -> Result<Options, Error> {
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
