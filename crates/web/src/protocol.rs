//! The page ⇄ worker protocol: one enum per direction, each with `encode` and `decode`.
//!
//! Both sides use this module and nothing else to build or read a port message: the thin
//! page client (`crates/tab`), the SharedWorker (`crates/worker`) and the in-page engine of
//! direct mode (`crates/direct`, which speaks the same messages without a port). So the two
//! sides cannot drift apart.
//!
//! On the wire a string, an `ArrayBuffer` or a typed array is a data frame (page → worker:
//! send it; worker → page: it arrived), passed on untouched. Every other message is a plain
//! object whose `t` field names it.

use tabmux_core::integrity::MAX_TOPIC_BYTES;
use tabmux_core::token::MAX_TOKEN_BYTES;
use tabmux_core::{Error, ErrorCode, PROTOCOL_VERSION};
use wasm_bindgen::{JsCast, JsValue};

/// A message from a page to the worker (or to the in-page engine).
#[derive(Debug, Clone)]
pub enum ToWorker {
    /// A bare data frame: send it, with no answer.
    Frame(JsValue),
    /// `[message, …]`: several messages posted together (a page's sends of one task), in
    /// order; none of them a batch itself.
    Batch(js_sys::Array),
    /// `{ t: "hello", v, tabId, options, lock?, token? }`: attach to `options.url`.
    Hello {
        /// The page's release: the build id of the worker files it was built with (a hash
        /// made by scripts/build.mjs; `None` reads as "dev"). A worker of another release
        /// refuses the hello.
        build: Option<String>,
        /// The page's id (several clients in one page share it).
        tab_id: String,
        /// The `connect()` options as the page passed them; the worker validates them.
        options: JsValue,
        /// A Web Lock the page holds while it lives: granted to the worker, the page is gone.
        lock: Option<String>,
        /// The page's last token (its own `setToken`, or the worker's last word), in a hello to
        /// a replacement worker (never echoed).
        token: Option<String>,
        /// The number of the change `token` came from (`gen`; 0 when absent): the newest
        /// of the tabs' wins ([`tabmux_core::engine::TokenClaim`]).
        token_gen: u64,
        /// With `sequence` on, in a hello to a replacement worker: the last sequence number
        /// this page delivered. The new worker resumes the stream after the lowest of them.
        seq: Option<u64>,
    },
    /// `{ t: "stats", id }`: answered with [`ToTab::Stats`].
    Stats {
        /// Echoed in the answer.
        id: u32,
    },
    /// `{ t: "reconnect" }`: try now if the socket is not open or opening.
    Reconnect,
    /// `{ t: "bye", handled? }`: this client is going away, having handled `handled` of the
    /// frames posted to it (data and topic frames since it attached). The worker hands what
    /// it posted past that to the next page of the same endpoint (`tabmux_core::away`).
    Bye {
        /// Frames handled in all; `None` when the page does not say.
        handled: Option<u64>,
    },
    /// `{ t: "lock", lock? }`: the page's liveness lock from now on. Without `lock`, the page
    /// is about to let its lock go while it stays (before an unload that may keep it in the
    /// back/forward cache): the release is not its death. With one, watch that lock again.
    Liveness {
        /// The lock the page now holds, or none.
        lock: Option<String>,
    },
    /// `{ t: "token", token }`: the page has this token (debounced across tabs); `token:
    /// null` signs out (at once, for every tab).
    Token {
        /// The token (never logged or echoed), or none.
        token: Option<String>,
    },
    /// `{ t: "answer", req, token?, error? }`: the page's `token.get` answered question
    /// `req` ([`ToTab::AskToken`]) with a token, with none (`token: null`), or failed.
    TokenAnswer {
        /// The question.
        req: u64,
        /// The token, none, or why there is none.
        result: Result<Option<String>, String>,
    },
    /// `{ t: "online", online }`: the page saw the browser go online or offline.
    Online {
        /// Online or not.
        online: bool,
    },
    /// `{ t: "visible", visible? }`: the page became visible (or, with `visible: false`,
    /// hidden). Also said right after the hello, so the worker knows each page's state.
    Visible {
        /// Visible or hidden.
        visible: bool,
    },
    /// `{ t: "exclusive", topic?, on }`: this client has (`on`) or no longer has an exclusive
    /// handler for frames without a topic, or for `topic` (which it subscribed to).
    Exclusive {
        /// The topic, or none for frames without one.
        topic: Option<String>,
        /// Registered or dropped.
        on: bool,
    },
    /// `{ t: "send", id, data }`: send `data`; answered [`ToTab::Sent`] once written, or an
    /// error with this id.
    Send {
        /// The page's request id.
        id: u32,
        /// The frame (string, `ArrayBuffer` or typed array; anything else is refused).
        data: JsValue,
    },
    /// `{ t: "drained", n }`: the page has handled `n` frames (data and topic frames) from
    /// this worker in all, said after every `tabmux_core::backlog::DRAIN_EVERY` of them. A
    /// page that stops saying it is not posted more than the backlog's bound.
    Drained {
        /// Frames handled since the hello, a multiple of `DRAIN_EVERY`.
        total: u64,
    },
    /// `{ t: "subscribe", topic }`.
    Subscribe {
        /// The topic.
        topic: String,
    },
    /// `{ t: "unsubscribe", topic }`.
    Unsubscribe {
        /// The topic.
        topic: String,
    },
    /// `{ t: "history", id, topic? }`: answered with [`ToTab::History`].
    History {
        /// The page's request id.
        id: u32,
        /// The topic, or none for frames without one.
        topic: Option<String>,
    },
}

/// A message from the worker (or the in-page engine) to a page.
#[derive(Debug, Clone)]
pub enum ToTab {
    /// A data frame for every `message` listener, passed on untouched.
    Frame(JsValue),
    /// `[message, …]`: several messages posted together, in order, each as it would have
    /// been posted alone: frames ([`ToTab::Frame`], [`ToTab::Topic`]) and the
    /// acknowledgements of written sends ([`ToTab::Sent`]).
    Batch(js_sys::Array),
    /// `{ t: "welcome", v, clientId }`: the hello was accepted.
    Welcome {
        /// The id of this client in the engine.
        client_id: u32,
    },
    /// `{ t: "alive", lock }`: the Web Lock the worker holds for life.
    Alive {
        /// Its name.
        lock: String,
    },
    /// `{ t: "status", status }`: the endpoint's status (see `tabmux_core::Status`).
    Status {
        /// The status object.
        status: JsValue,
    },
    /// `{ t: "stats", id, stats, memoryBytes }`: the answer to [`ToWorker::Stats`].
    Stats {
        /// The request's id.
        id: u32,
        /// The stats object.
        stats: JsValue,
        /// The engine's wasm memory, in bytes.
        memory_bytes: u32,
    },
    /// `{ t: "sent", id }`: a send with this id was written on the socket.
    Sent {
        /// The page's request id.
        id: u32,
    },
    /// `{ t: "gap", from, to }`: sequence numbers were skipped.
    Gap {
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
    /// `{ t: "error", code, message, id, reason? }`: something went wrong (`id` is null unless
    /// it answers a request).
    Error {
        /// The stable code.
        code: ErrorCode,
        /// The human message.
        message: String,
        /// The request this answers, if any.
        id: Option<u32>,
        /// Why, alone (the worker's crash report says what the browser said), where there is
        /// a why apart from the message.
        reason: Option<String>,
    },
    /// `{ t: "history", id, frames }`: the answer to [`ToWorker::History`].
    History {
        /// The request's id.
        id: u32,
        /// The frames, oldest first (a JS array).
        frames: JsValue,
    },
    /// `{ t: "topic", topic, data, one? }`: a frame of a topic this client subscribed to;
    /// with `one: true`, this client's exclusive handlers of the topic run for it too.
    Topic {
        /// The topic.
        topic: String,
        /// The frame, untouched.
        data: JsValue,
        /// Whether this client was chosen for its exclusive handlers (`tabmux_core::leader`).
        one: bool,
    },
    /// `{ t: "one", data }`: a data frame for every `message` listener, and for this
    /// client's exclusive ones: it was chosen among the tabs (`tabmux_core::leader`).
    One(JsValue),
    /// `{ t: "leader", leader }`: this client leads its endpoint from now on, or no longer.
    Leader {
        /// Whether it leads.
        leader: bool,
    },
    /// `{ t: "lagged", missed }`: this page fell too far behind (it stopped handling
    /// frames) and `missed` frames were not posted to it; it receives again from here.
    Lagged {
        /// Frames not posted to this page.
        missed: u64,
    },
    /// `{ t: "log", event }`: a debug-log event (`tabmux_core::LogEvent`), only to a client
    /// with `debug` (or a `logger`).
    Log {
        /// The event object.
        event: JsValue,
    },
    /// `{ t: "ask", req }`: call `token.get` and answer with [`ToWorker::TokenAnswer`].
    AskToken {
        /// The question.
        req: u64,
    },
    /// `{ t: "token", token, gen }`: the endpoint's token now (null after a sign-out) and
    /// the number of that change; the page carries both to a replacement worker.
    Token {
        /// The token, or none.
        token: Option<String>,
        /// The change's number.
        gen: u64,
    },
}

/// Whether a message on a port is a data frame (string, `ArrayBuffer` or typed array)
/// rather than a control object.
pub fn is_frame(v: &JsValue) -> bool {
    v.is_string() || v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v)
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A message object `{ t, ...fields }`.
fn object(t: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&o, &"t".into(), &t.into());
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

fn bad(why: &str) -> Error {
    Error::BadMessage(why.to_string())
}

/// The longest tab id accepted in a hello.
const MAX_TAB_ID: u32 = 64;
/// The longest lock name accepted in a hello.
const MAX_LOCK: u32 = 128;
/// The longest build id accepted in a hello.
const MAX_BUILD: u32 = 64;
/// The longest message type (`t`) there is, with room.
const MAX_TYPE: u32 = 16;

/// A string field of a port message, copied into wasm only once its length (UTF-16 units,
/// read on the JS string) is at most `max`: a page cannot make the worker copy a 100 MB
/// string. `Ok(None)` for undefined or null; `Err(())` for anything else or too long. The
/// checks on the copy (bytes, emptiness) still apply where the message needs them.
fn short_string(v: &JsValue, max: u32) -> Result<Option<String>, ()> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.dyn_ref::<js_sys::JsString>() {
        Some(s) if s.length() <= max => Ok(v.as_string()),
        _ => Err(()),
    }
}

/// A string or null, as a message field.
fn opt_str(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// A whole number 0 to 9e15 (`Ok(None)` when absent); `Err(())` for anything else.
fn whole(n: &JsValue) -> Result<Option<u64>, ()> {
    if n.is_undefined() {
        return Ok(None);
    }
    n.as_f64().filter(|n| n.fract() == 0.0 && (0.0..=9e15).contains(n)).map(|n| Some(n as u64)).ok_or(())
}

/// A required string field of at most `max` UTF-16 units (see [`short_string`]).
fn required_string(v: &JsValue, key: &str, max: u32) -> Option<String> {
    short_string(&get(v, key), max).ok().flatten()
}

/// An optional string field of 1 to `max` units.
fn nonempty(v: &JsValue, key: &str, max: u32) -> Result<Option<String>, ()> {
    match short_string(&get(v, key), max)? {
        Some(s) if s.is_empty() => Err(()),
        other => Ok(other),
    }
}

/// The optional `lock` field of a hello or a lock message: 1 to 128 characters.
fn lock_name(v: &JsValue, what: &str) -> Result<Option<String>, Error> {
    nonempty(v, "lock", MAX_LOCK).map_err(|()| bad(&[what, "'s lock must be a string of 1 to 128 characters"].concat()))
}

/// A topic field of at most 256 characters (the engine checks it further).
fn topic(v: &JsValue, what: &str) -> Result<String, Error> {
    required_string(v, "topic", MAX_TOPIC_BYTES as u32).ok_or_else(|| bad(&[what, " needs a \"topic\" string of at most 256 characters"].concat()))
}

fn request_id(v: &JsValue, what: &str) -> Result<u32, Error> {
    get(v, "id")
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| bad(&[what, " needs an integer \"id\""].concat()))
}

impl ToWorker {
    /// The message as posted on a port.
    pub fn encode(&self) -> JsValue {
        match self {
            ToWorker::Frame(data) => data.clone(),
            ToWorker::Batch(items) => items.into(),
            ToWorker::Hello { build, tab_id, options, lock, token, token_gen, seq } => {
                let mut fields = vec![
                    ("v", JsValue::from(PROTOCOL_VERSION)),
                    ("tabId", JsValue::from_str(tab_id)),
                    ("options", options.clone()),
                ];
                if let Some(b) = build {
                    fields.push(("build", b.as_str().into()));
                }
                if let Some(l) = lock {
                    fields.push(("lock", l.as_str().into()));
                }
                if let Some(t) = token {
                    fields.push(("token", t.as_str().into()));
                }
                if *token_gen > 0 {
                    fields.push(("gen", (*token_gen as f64).into()));
                }
                if let Some(n) = seq {
                    fields.push(("seq", (*n as f64).into()));
                }
                object("hello", &fields)
            }
            ToWorker::Stats { id } => object("stats", &[("id", (*id).into())]),
            ToWorker::Reconnect => object("reconnect", &[]),
            ToWorker::Bye { handled } => match handled {
                Some(n) => object("bye", &[("handled", (*n as f64).into())]),
                None => object("bye", &[]),
            },
            ToWorker::Liveness { lock } => match lock {
                Some(l) => object("lock", &[("lock", l.as_str().into())]),
                None => object("lock", &[]),
            },
            ToWorker::Token { token } => object("token", &[("token", opt_str(token))]),
            ToWorker::TokenAnswer { req, result } => match result {
                Ok(token) => object("answer", &[("req", (*req as f64).into()), ("token", opt_str(token))]),
                Err(e) => object("answer", &[("req", (*req as f64).into()), ("error", e.as_str().into())]),
            },
            ToWorker::Online { online } => object("online", &[("online", (*online).into())]),
            ToWorker::Visible { visible } => object("visible", &[("visible", (*visible).into())]),
            ToWorker::Exclusive { topic, on } => {
                let mut fields = vec![("on", JsValue::from(*on))];
                if let Some(t) = topic {
                    fields.push(("topic", t.as_str().into()));
                }
                object("exclusive", &fields)
            }
            ToWorker::Drained { total } => object("drained", &[("n", (*total as f64).into())]),
            ToWorker::Send { id, data } => object("send", &[("id", (*id).into()), ("data", data.clone())]),
            ToWorker::Subscribe { topic } => object("subscribe", &[("topic", topic.as_str().into())]),
            ToWorker::Unsubscribe { topic } => object("unsubscribe", &[("topic", topic.as_str().into())]),
            ToWorker::History { id, topic } => {
                let mut fields = vec![("id", JsValue::from(*id))];
                if let Some(t) = topic {
                    fields.push(("topic", t.as_str().into()));
                }
                object("history", &fields)
            }
        }
    }

    /// Reads a message from a port. Never panics: every malformed shape is a
    /// [`Error::BadMessage`], a wrong version a [`Error::VersionMismatch`]. (A hello's
    /// options are checked by whoever attaches it.)
    pub fn decode(v: &JsValue) -> Result<ToWorker, Error> {
        if is_frame(v) {
            return Ok(ToWorker::Frame(v.clone()));
        }
        if js_sys::Array::is_array(v) {
            return Ok(ToWorker::Batch(v.clone().unchecked_into()));
        }
        if !v.is_object() {
            return Err(bad("expected a string, an ArrayBuffer, or an object with a \"t\" field"));
        }
        let t = required_string(v, "t", MAX_TYPE).ok_or_else(|| bad("the object has no \"t\" field naming a message type"))?;
        Ok(match t.as_str() {
            "hello" => {
                let ver = get(v, "v").as_f64().ok_or_else(|| bad("hello has no numeric \"v\" (protocol version)"))?;
                if ver != PROTOCOL_VERSION as f64 {
                    return Err(Error::VersionMismatch { got: ver.clamp(0.0, u32::MAX as f64) as u32, want: PROTOCOL_VERSION });
                }
                let tab_id = nonempty(v, "tabId", MAX_TAB_ID)
                    .ok()
                    .flatten()
                    .filter(|t| t.len() <= MAX_TAB_ID as usize)
                    .ok_or_else(|| bad("hello's tabId must be a string of 1 to 64 characters"))?;
                let lock = lock_name(v, "hello")?;
                let token = short_string(&get(v, "token"), MAX_TOKEN_BYTES as u32)
                    .map_err(|()| bad("hello's token must be a string of at most 8192 characters"))?;
                let build = nonempty(v, "build", MAX_BUILD)
                    .map_err(|()| bad("hello's build must be a string of 1 to 64 characters"))?;
                let seq = match get(v, "seq") {
                    n if n.is_undefined() => None,
                    n => Some(n.as_f64().filter(|n| n.fract() == 0.0 && (0.0..=9e15).contains(n)).ok_or_else(|| bad("hello's seq must be an integer"))? as u64),
                };
                let token_gen = whole(&get(v, "gen")).map_err(|()| bad("hello's gen must be an integer"))?.unwrap_or(0);
                ToWorker::Hello { build, tab_id, options: get(v, "options"), lock, token, token_gen, seq }
            }
            "stats" => ToWorker::Stats { id: request_id(v, "stats")? },
            "send" => ToWorker::Send { id: request_id(v, "send")?, data: get(v, "data") },
            "history" => {
                let topic = short_string(&get(v, "topic"), MAX_TOPIC_BYTES as u32)
                    .map_err(|()| bad("history's topic must be a string of at most 256 characters"))?;
                ToWorker::History { id: request_id(v, "history")?, topic }
            }
            "subscribe" | "unsubscribe" => {
                let topic = topic(v, &t)?;
                if t == "subscribe" {
                    ToWorker::Subscribe { topic }
                } else {
                    ToWorker::Unsubscribe { topic }
                }
            }
            "reconnect" => ToWorker::Reconnect,
            "bye" => ToWorker::Bye {
                handled: match get(v, "handled") {
                    n if n.is_undefined() => None,
                    n => Some(n.as_f64().filter(|n| n.fract() == 0.0 && (0.0..=9e15).contains(n)).ok_or_else(|| bad("bye's handled must be an integer"))? as u64),
                },
            },
            "lock" => ToWorker::Liveness { lock: lock_name(v, "lock")? },
            // A page of this version always says which; none reads as visible.
            "visible" => ToWorker::Visible { visible: get(v, "visible").as_bool() != Some(false) },
            "exclusive" => ToWorker::Exclusive {
                topic: short_string(&get(v, "topic"), MAX_TOPIC_BYTES as u32)
                    .map_err(|()| bad("exclusive's topic must be a string of at most 256 characters"))?,
                on: get(v, "on").as_bool().ok_or_else(|| bad("exclusive needs a boolean \"on\""))?,
            },
            "drained" => ToWorker::Drained {
                total: get(v, "n")
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && (0.0..=9e15).contains(n))
                    .ok_or_else(|| bad("drained needs an integer \"n\""))? as u64,
            },
            "online" => ToWorker::Online {
                online: get(v, "online").as_bool().ok_or_else(|| bad("online needs a boolean \"online\""))?,
            },
            // The message never repeats the token.
            "token" => ToWorker::Token {
                token: short_string(&get(v, "token"), MAX_TOKEN_BYTES as u32)
                    .map_err(|()| bad("token needs a \"token\" string of at most 8192 characters, or null to sign out"))?,
            },
            "answer" => {
                let req = whole(&get(v, "req")).ok().flatten().ok_or_else(|| bad("answer needs an integer \"req\""))?;
                let result = match short_string(&get(v, "error"), 1024) {
                    Ok(Some(e)) => Err(e),
                    Ok(None) => Ok(short_string(&get(v, "token"), MAX_TOKEN_BYTES as u32)
                        .map_err(|()| bad("answer's token must be a string of at most 8192 characters, or null"))?),
                    Err(()) => return Err(bad("answer's error must be a string of at most 1024 characters")),
                };
                ToWorker::TokenAnswer { req, result }
            }
            other => return Err(bad(&["unknown message type ", &tabmux_core::text::quote_escaped(other)].concat())),
        })
    }
}

impl ToTab {
    /// An error report for `e`.
    pub fn error(e: &Error, id: Option<u32>) -> ToTab {
        let reason = match e {
            Error::WorkerCrashed(why) | Error::WorkerFailed(why) | Error::OpenFailed(why) => Some(why.clone()),
            _ => None,
        };
        ToTab::Error { code: e.kind(), message: e.message(), id, reason }
    }

    /// The message as posted on a port.
    pub fn encode(&self) -> JsValue {
        match self {
            ToTab::Frame(data) => data.clone(),
            ToTab::Batch(items) => items.into(),
            ToTab::Welcome { client_id } => {
                object("welcome", &[("v", PROTOCOL_VERSION.into()), ("clientId", (*client_id).into())])
            }
            ToTab::Alive { lock } => object("alive", &[("lock", lock.as_str().into())]),
            ToTab::Status { status } => object("status", &[("status", status.clone())]),
            ToTab::Stats { id, stats, memory_bytes } => object(
                "stats",
                &[("id", (*id).into()), ("stats", stats.clone()), ("memoryBytes", (*memory_bytes).into())],
            ),
            ToTab::Sent { id } => object("sent", &[("id", (*id).into())]),
            ToTab::Gap { from, to } => object("gap", &[("from", (*from as f64).into()), ("to", (*to as f64).into())]),
            ToTab::Error { code, message, id, reason } => {
                let mut fields = vec![("code", code.as_str().into()), ("message", message.as_str().into()), ("id", id.map_or(JsValue::NULL, JsValue::from))];
                if let Some(r) = reason {
                    fields.push(("reason", r.as_str().into()));
                }
                object("error", &fields)
            }
            ToTab::History { id, frames } => object("history", &[("id", (*id).into()), ("frames", frames.clone())]),
            ToTab::Topic { topic, data, one } => {
                let fields = [("topic", topic.as_str().into()), ("data", data.clone()), ("one", true.into())];
                // `one` only when true: every other subscriber's message stays as it was.
                object("topic", &fields[..if *one { 3 } else { 2 }])
            }
            ToTab::One(data) => object("one", &[("data", data.clone())]),
            ToTab::Leader { leader } => object("leader", &[("leader", (*leader).into())]),
            ToTab::Log { event } => object("log", &[("event", event.clone())]),
            ToTab::Lagged { missed } => object("lagged", &[("missed", (*missed as f64).into())]),
            ToTab::AskToken { req } => object("ask", &[("req", (*req as f64).into())]),
            ToTab::Token { token, gen } => object("token", &[("token", opt_str(token)), ("gen", (*gen as f64).into())]),
        }
    }

    /// Reads a message from the worker. `None` for a shape this version does not know.
    pub fn decode(v: &JsValue) -> Option<ToTab> {
        if is_frame(v) {
            return Some(ToTab::Frame(v.clone()));
        }
        if js_sys::Array::is_array(v) {
            return Some(ToTab::Batch(v.clone().unchecked_into()));
        }
        let id = || get(v, "id").as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0).map(|n| n as u32);
        let num = |k| get(v, k).as_f64().map(|n| n as u64);
        Some(match get(v, "t").as_string()?.as_str() {
            "welcome" => ToTab::Welcome { client_id: get(v, "clientId").as_f64()? as u32 },
            "alive" => ToTab::Alive { lock: get(v, "lock").as_string()? },
            "status" => ToTab::Status { status: get(v, "status") },
            "stats" => ToTab::Stats {
                id: id()?,
                stats: get(v, "stats"),
                memory_bytes: get(v, "memoryBytes").as_f64().unwrap_or(0.0) as u32,
            },
            "sent" => ToTab::Sent { id: id()? },
            "gap" => ToTab::Gap { from: num("from")?, to: num("to")? },
            "error" => ToTab::Error {
                code: ErrorCode::from_wire(&get(v, "code").as_string()?)?,
                message: get(v, "message").as_string().unwrap_or_else(|| "tabmux: unknown error".into()),
                id: id(),
                reason: get(v, "reason").as_string(),
            },
            "history" => ToTab::History { id: id()?, frames: get(v, "frames") },
            "topic" => ToTab::Topic { topic: get(v, "topic").as_string()?, data: get(v, "data"), one: get(v, "one").is_truthy() },
            "one" => ToTab::One(get(v, "data")),
            "leader" => ToTab::Leader { leader: get(v, "leader").as_bool()? },
            "log" => ToTab::Log { event: get(v, "event") },
            "lagged" => ToTab::Lagged { missed: num("missed")? },
            "ask" => ToTab::AskToken { req: num("req")? },
            "token" => ToTab::Token { token: get(v, "token").as_string(), gen: num("gen")? },
            _ => return None,
        })
    }
}
