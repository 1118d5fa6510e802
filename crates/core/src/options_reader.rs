//! Reads `connect()` options from a JSON-like value: a JS object in the browser (through
//! `tabmux_web`), a `serde_json::Value` in tests and fuzzing (feature `json`). One reader
//! for every shell, with messages that name the option, and no float formatting of ours:
//! a number in a message is shown as the [`Source`] writes it (in the browser, JavaScript's
//! own text for it).

use crate::backoff::{BackoffOptions, Jitter, JITTER_EXPECTED};
use crate::breaker::BreakerOptions;
use crate::close_policy::CloseAction;
use crate::close_presets;
use crate::error::Error;
use crate::heartbeat::{HeartbeatOptions, PongMatch};
use crate::integrity::{DedupOptions, Pointers, QueueOptions, ReplayOptions, SequenceOptions, TopicOptions, DEFAULT_DEDUP_CAPACITY, DEFAULT_RESUME_PARAM};
use crate::options::{Mode, Options};
use crate::server_ping::{PingMatch, ServerPingOptions};
use crate::token::TokenOptions;
use alloc::string::String;
use alloc::vec::Vec;

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null` (or `undefined`).
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// Any other object.
    Object,
    /// Anything else (a function, a symbol, …).
    Other,
    /// A string, object or array larger than a reader takes (the browser's reader refuses a
    /// string over [`MAX_OPTION_TEXT`] characters and an object or array over
    /// [`MAX_OPTION_ITEMS`] keys or items without copying it).
    TooLarge,
}

/// The longest string an option may be, in UTF-16 units (as JavaScript counts).
pub const MAX_OPTION_TEXT: u32 = 16_384;

/// The most keys of an options object, or items of an options array.
pub const MAX_OPTION_ITEMS: u32 = 256;

/// A JSON-like value the options are read from.
pub trait Source: Sized {
    /// What the value is.
    fn kind(&self) -> Kind;
    /// The number, for [`Kind::Number`].
    fn number(&self) -> Option<f64>;
    /// The text, for [`Kind::String`].
    fn text(&self) -> Option<String>;
    /// The boolean, for [`Kind::Bool`].
    fn boolean(&self) -> Option<bool>;
    /// An object's own keys, in order.
    fn keys(&self) -> Vec<String>;
    /// An object's field; `None` when it is absent (or `undefined`).
    fn field(&self, key: &str) -> Option<Self>;
    /// An array's items.
    fn items(&self) -> Vec<Self>;
    /// A number as the page wrote it, for messages (`1.5`, `-1`).
    fn number_text(&self) -> String;
}

/// Reads and validates options. Unknown keys are refused, so a typo is never ignored.
pub fn read_options<S: Source>(v: &S) -> Result<Options, Error> {
    if v.kind() != Kind::Object {
        return Err(Error::InvalidOptions("options must be an object with at least a url".into()));
    }
    let keys: Vec<&str> = Options::KEYS.iter().chain(Options::PAGE_KEYS).copied().collect();
    check_keys(v, &keys, "")?;
    let url = match v.field("url") {
        Some(u) => text(&u, "url")?,
        None => return Err(Error::InvalidOptions("missing field `url`".into())),
    };
    let mut o = Options::new(&url);
    if let Some(w) = v.field("workerUrl") {
        o.worker_url = text(&w, "workerUrl")?;
    }
    if let Some(m) = v.field("mode") {
        o.mode = match text(&m, "mode")?.as_str() {
            "auto" => Mode::Auto,
            "shared" => Mode::Shared,
            "direct" => Mode::Direct,
            other => return Err(unknown_variant("mode", other, &["auto", "shared", "direct"])),
        };
    }
    if let Some(b) = object(v, "backoff")? {
        o.backoff = backoff(&b)?;
    }
    if let Some(c) = object(v, "closeCodes")? {
        for key in c.keys() {
            let path = ["closeCodes.", &key].concat();
            let action = c.field(&key).map(|a| text(&a, &path)).transpose()?.unwrap_or_default();
            let action = match action.as_str() {
                "retry" => CloseAction::Retry,
                "retry-now" => CloseAction::RetryNow,
                "refresh-token" => CloseAction::RefreshToken,
                "fatal" => CloseAction::Fatal,
                other => return Err(unknown_variant(&path, other, &["retry", "retry-now", "refresh-token", "fatal"])),
            };
            o.close_codes.insert(key, action);
        }
    }
    if let Some(p) = v.field("closeCodePreset") {
        o.close_code_preset = close_code_preset(&p)?;
    }
    if let Some(t) = v.field("workerTimeoutMs") {
        o.worker_timeout_ms = uint(&t, "workerTimeoutMs", u64::MAX)?;
    }
    if let Some(t) = v.field("connectTimeoutMs") {
        o.connect_timeout_ms = uint(&t, "connectTimeoutMs", u64::MAX)?;
    }
    if let Some(b) = object(v, "breaker")? {
        check_keys(&b, BreakerOptions::KEYS, "breaker.")?;
        if let Some(n) = b.field("failureThreshold") {
            o.breaker.failure_threshold = uint(&n, "breaker.failureThreshold", u32::MAX.into())? as u32;
        }
        if let Some(n) = b.field("resetTimeoutMs") {
            o.breaker.reset_timeout_ms = uint(&n, "breaker.resetTimeoutMs", u64::MAX)?;
        }
    }
    if let Some(h) = v.field("heartbeat") {
        o.heartbeat = match h.kind() {
            Kind::Null => None,
            Kind::Bool => h.boolean().unwrap_or(false).then(HeartbeatOptions::default),
            Kind::Object => Some(heartbeat(&h)?),
            _ => return Err(wrong(&h, "heartbeat", "true, false or an object")),
        };
    }
    if let Some(t) = object(v, "token")? {
        o.token = token(&t)?;
    }
    if let Some(d) = object(v, "dedup")? {
        check_keys(&d, DedupOptions::KEYS, "dedup.")?;
        let key = match required(&d, "dedup", "key")? {
            k if k.kind() == Kind::Array => {
                Pointers::Many(k.items().iter().map(|p| text(p, "dedup.key")).collect::<Result<_, _>>()?)
            }
            k => Pointers::One(text(&k, "dedup.key")?),
        };
        let capacity = d.field("capacity").map(|c| uint(&c, "dedup.capacity", usize::MAX as u64)).transpose()?;
        o.dedup = Some(DedupOptions { key, capacity: capacity.map_or(DEFAULT_DEDUP_CAPACITY, |c| c as usize) });
    }
    if let Some(q) = object(v, "sequence")? {
        check_keys(&q, SequenceOptions::KEYS, "sequence.")?;
        let key = text(&required(&q, "sequence", "key")?, "sequence.key")?;
        let resume_param = q.field("resumeParam").map(|r| text(&r, "sequence.resumeParam")).transpose()?;
        o.sequence = Some(SequenceOptions { key, resume_param: resume_param.unwrap_or_else(|| DEFAULT_RESUME_PARAM.into()) });
    }
    if let Some(t) = object(v, "topics")? {
        check_keys(&t, TopicOptions::KEYS, "topics.")?;
        o.topics = Some(TopicOptions {
            key: text(&required(&t, "topics", "key")?, "topics.key")?,
            subscribe: text(&required(&t, "topics", "subscribe")?, "topics.subscribe")?,
            unsubscribe: text(&required(&t, "topics", "unsubscribe")?, "topics.unsubscribe")?,
        });
    }
    if let Some(q) = object(v, "queue")? {
        check_keys(&q, QueueOptions::KEYS, "queue.")?;
        if let Some(n) = q.field("maxMessages") {
            o.queue.max_messages = uint(&n, "queue.maxMessages", usize::MAX as u64)? as usize;
        }
        if let Some(n) = q.field("maxBytes") {
            o.queue.max_bytes = uint(&n, "queue.maxBytes", usize::MAX as u64)? as usize;
        }
        if let Some(n) = q.field("ttlMs") {
            o.queue.ttl_ms = uint(&n, "queue.ttlMs", u64::MAX)?;
        }
    }
    if let Some(r) = object(v, "replay")? {
        check_keys(&r, ReplayOptions::KEYS, "replay.")?;
        if let Some(n) = r.field("frames") {
            o.replay.frames = uint(&n, "replay.frames", usize::MAX as u64)? as usize;
        }
        if let Some(n) = r.field("bytes") {
            o.replay.bytes = uint(&n, "replay.bytes", usize::MAX as u64)? as usize;
        }
    }
    if let Some(n) = v.field("idleCloseMs") {
        o.idle_close_ms = uint(&n, "idleCloseMs", u64::MAX)?;
    }
    if let Some(j) = v.field("json") {
        o.json = boolean(&j, "json")?;
    }
    if let Some(p) = v.field("serverPing") {
        o.server_ping = server_ping(&p)?;
    }
    if let Some(d) = v.field("debug") {
        o.debug = boolean(&d, "debug")?;
    }
    if let Some(a) = v.field("account") {
        o.account = nullable_text(&a, "account")?;
    }
    if let Some(l) = v.field("logger") {
        // Only where the page's own engine reads the options (direct mode): a shared-mode
        // page keeps its logger and tells the worker `debug: true` instead.
        match l.kind() {
            Kind::Other => o.debug = true,
            Kind::Null => {}
            _ => return Err(wrong(&l, "logger", "a function")),
        }
    }
    if let Some(p) = v.field("protocols") {
        o.protocols = match p.kind() {
            Kind::String => Vec::from([text(&p, "protocols")?]),
            Kind::Array => p.items().iter().map(|x| text(x, "protocols")).collect::<Result<_, _>>()?,
            Kind::Null => Vec::new(),
            _ => return Err(wrong(&p, "protocols", "a subprotocol name or a list of them")),
        };
    }
    o.validate()?;
    Ok(o)
}

fn backoff<S: Source>(b: &S) -> Result<BackoffOptions, Error> {
    check_keys(b, BackoffOptions::KEYS, "backoff.")?;
    let mut o = BackoffOptions::default();
    if let Some(n) = b.field("initialMs") {
        o.initial_ms = uint(&n, "backoff.initialMs", u64::MAX)?;
    }
    if let Some(n) = b.field("factor") {
        o.factor = number(&n, "backoff.factor")?;
    }
    if let Some(n) = b.field("maxMs") {
        o.max_ms = uint(&n, "backoff.maxMs", u64::MAX)?;
    }
    if let Some(j) = b.field("jitter") {
        o.jitter = jitter(&j)?;
    }
    if let Some(n) = b.field("maxAttempts") {
        o.max_attempts = match n.kind() {
            Kind::Null => None,
            _ => Some(uint(&n, "backoff.maxAttempts", u32::MAX.into())? as u32),
        };
    }
    if let Some(n) = b.field("minUptimeMs") {
        o.min_uptime_ms = uint(&n, "backoff.minUptimeMs", u64::MAX)?;
    }
    Ok(o)
}

/// A ratio in [0, 1] or a named mode.
pub fn jitter<S: Source>(j: &S) -> Result<Jitter, Error> {
    match j.kind() {
        Kind::Number => {
            let r = j.number().unwrap_or(f64::NAN);
            if (0.0..=1.0).contains(&r) {
                Ok(Jitter::Ratio(r))
            } else {
                Err(invalid("backoff.jitter", &["jitter ratio must be between 0 and 1, got ", &j.number_text()].concat()))
            }
        }
        Kind::String => match j.text().unwrap_or_default().as_str() {
            "full" => Ok(Jitter::Full),
            "equal" => Ok(Jitter::Equal),
            "decorrelated" => Ok(Jitter::Decorrelated),
            "full-once" => Ok(Jitter::FullOnce),
            _ => Err(wrong(j, "backoff.jitter", JITTER_EXPECTED)),
        },
        _ => Err(wrong(j, "backoff.jitter", JITTER_EXPECTED)),
    }
}

fn heartbeat<S: Source>(h: &S) -> Result<HeartbeatOptions, Error> {
    check_keys(h, HeartbeatOptions::KEYS, "heartbeat.")?;
    let mut o = HeartbeatOptions::default();
    if let Some(n) = h.field("intervalMs") {
        o.interval_ms = uint(&n, "heartbeat.intervalMs", u64::MAX)?;
    }
    if let Some(n) = h.field("timeoutMs") {
        o.timeout_ms = uint(&n, "heartbeat.timeoutMs", u64::MAX)?;
    }
    if let Some(p) = h.field("ping") {
        o.ping = text(&p, "heartbeat.ping")?;
    }
    if let Some(p) = object(h, "pong")? {
        check_keys(&p, PongMatch::KEYS, "heartbeat.pong.")?;
        o.pong = PongMatch {
            field: text(&required(&p, "heartbeat.pong", "field")?, "heartbeat.pong.field")?,
            value: text(&required(&p, "heartbeat.pong", "value")?, "heartbeat.pong.value")?,
        };
    }
    Ok(o)
}

/// A preset name, `{ match, reply }`, or null (off).
fn server_ping<S: Source>(p: &S) -> Result<Option<ServerPingOptions>, Error> {
    let presets: Vec<&str> = ServerPingOptions::preset_names().collect();
    match p.kind() {
        Kind::Null => Ok(None),
        Kind::String => {
            let name = p.text().unwrap_or_default();
            ServerPingOptions::preset(&name).map(Some).ok_or_else(|| unknown_variant("serverPing", &name, &presets))
        }
        Kind::Object => {
            check_keys(p, ServerPingOptions::KEYS, "serverPing.")?;
            let m = required(p, "serverPing", "match")?;
            let matches = match m.kind() {
                Kind::String => PingMatch::Exact(text(&m, "serverPing.match")?),
                Kind::Object => {
                    check_keys(&m, ServerPingOptions::MATCH_KEYS, "serverPing.match.")?;
                    PingMatch::Field {
                        field: text(&required(&m, "serverPing.match", "field")?, "serverPing.match.field")?,
                        value: text(&required(&m, "serverPing.match", "value")?, "serverPing.match.value")?,
                    }
                }
                _ => return Err(wrong(&m, "serverPing.match", "the exact text of a ping, or { field, value }")),
            };
            let reply = text(&required(p, "serverPing", "reply")?, "serverPing.reply")?;
            Ok(Some(ServerPingOptions { matches, reply }))
        }
        _ => Err(wrong(p, "serverPing", &["a preset (\"", &presets.join("\", \""), "\") or { match, reply }"].concat())),
    }
}

/// A preset name, or null (none).
fn close_code_preset<S: Source>(p: &S) -> Result<Option<String>, Error> {
    let presets: Vec<&str> = close_presets::preset_names().collect();
    match p.kind() {
        Kind::Null => Ok(None),
        Kind::String => {
            let name = p.text().unwrap_or_default();
            match close_presets::preset(&name) {
                Some(_) => Ok(Some(name)),
                None => Err(unknown_variant("closeCodePreset", &name, &presets)),
            }
        }
        _ => Err(wrong(p, "closeCodePreset", &["a preset (\"", &presets.join("\", \""), "\") or null"].concat())),
    }
}

fn token<S: Source>(t: &S) -> Result<TokenOptions, Error> {
    check_keys(t, TokenOptions::KEYS, "token.")?;
    let mut o = TokenOptions::default();
    if let Some(p) = t.field("param") {
        o.param = text(&p, "token.param")?;
    }
    if let Some(u) = t.field("url") {
        o.url = nullable_text(&u, "token.url")?;
    }
    if let Some(n) = t.field("pollMs") {
        o.poll_ms = uint(&n, "token.pollMs", u64::MAX)?;
    }
    if let Some(n) = t.field("debounceMs") {
        o.debounce_ms = uint(&n, "token.debounceMs", u64::MAX)?;
    }
    if let Some(v) = t.field("value") {
        o.value = nullable_text(&v, "token.value")?;
    }
    if let Some(g) = t.field("get") {
        // A function where the page's own engine reads the options (direct mode); `true`
        // in the copy a shared-mode page sends the worker.
        o.get = match g.kind() {
            Kind::Other => true,
            Kind::Bool => boolean(&g, "token.get")?,
            Kind::Null => false,
            _ => return Err(wrong(&g, "token.get", "a function returning a promise of the token")),
        };
    }
    if let Some(r) = t.field("required") {
        o.required = boolean(&r, "token.required")?;
    }
    Ok(o)
}

fn invalid(path: &str, why: &str) -> Error {
    Error::InvalidOptions([path, ": ", why].concat())
}

/// `{path}: expected {what}, got {the value}`.
fn wrong<S: Source>(v: &S, path: &str, what: &str) -> Error {
    invalid(path, &["expected ", what, ", got ", &shown(v)].concat())
}

fn unknown_variant(path: &str, got: &str, allowed: &[&str]) -> Error {
    let expected: Vec<String> = allowed.iter().map(|a| ["`", a, "`"].concat()).collect();
    invalid(path, &["unknown variant `", &clip(got), "`, expected one of ", &expected.join(", ")].concat())
}

/// A value as a message shows it: strings quoted and clipped, numbers as written.
fn shown<S: Source>(v: &S) -> String {
    match v.kind() {
        Kind::Null => "null".into(),
        Kind::Bool => if v.boolean() == Some(true) { "true" } else { "false" }.into(),
        Kind::Number => v.number_text(),
        Kind::String => ["\"", &clip(&v.text().unwrap_or_default()), "\""].concat(),
        Kind::Array => "an array".into(),
        Kind::Object => "an object".into(),
        Kind::Other => "a value that is not data".into(),
        Kind::TooLarge => "a value too large (a string over 16384 characters, or over 256 keys or items)".into(),
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

fn text<S: Source>(v: &S, path: &str) -> Result<String, Error> {
    v.text().filter(|_| v.kind() == Kind::String).ok_or_else(|| wrong(v, path, "a string"))
}

/// A string, or `None` for null.
fn nullable_text<S: Source>(v: &S, path: &str) -> Result<Option<String>, Error> {
    match v.kind() {
        Kind::Null => Ok(None),
        _ => text(v, path).map(Some),
    }
}

fn boolean<S: Source>(v: &S, path: &str) -> Result<bool, Error> {
    v.boolean().filter(|_| v.kind() == Kind::Bool).ok_or_else(|| wrong(v, path, "true or false"))
}

fn number<S: Source>(v: &S, path: &str) -> Result<f64, Error> {
    v.number().filter(|_| v.kind() == Kind::Number).ok_or_else(|| wrong(v, path, "a number"))
}

/// A whole number from 0 to `max` (and at most 2^53, the largest a JS number holds exactly).
fn uint<S: Source>(v: &S, path: &str, max: u64) -> Result<u64, Error> {
    let max = max.min(1 << 53) as f64;
    match v.number().filter(|_| v.kind() == Kind::Number) {
        Some(n) if n.fract() == 0.0 && (0.0..=max).contains(&n) => Ok(n as u64),
        _ => Err(wrong(v, path, "a whole number ≥ 0")),
    }
}

/// The object at `key`, `None` when absent or null; anything else is an error.
fn object<S: Source>(v: &S, key: &str) -> Result<Option<S>, Error> {
    match v.field(key) {
        None => Ok(None),
        Some(o) if o.kind() == Kind::Null => Ok(None),
        Some(o) if o.kind() == Kind::Object => Ok(Some(o)),
        Some(o) => Err(wrong(&o, key, "an object")),
    }
}

fn required<S: Source>(v: &S, path: &str, key: &str) -> Result<S, Error> {
    v.field(key).ok_or_else(|| invalid(path, &["missing field `", key, "`"].concat()))
}

/// Refuses keys not in `allowed`, naming them all in the message.
fn check_keys<S: Source>(v: &S, allowed: &[&str], prefix: &str) -> Result<(), Error> {
    for key in v.keys() {
        if !allowed.contains(&key.as_str()) {
            let expected: Vec<String> = allowed.iter().map(|k| ["`", prefix, k, "`"].concat()).collect();
            return Err(Error::InvalidOptions(
                ["unknown field `", prefix, &clip(&key), "`, expected one of ", &expected.join(", ")].concat(),
            ));
        }
    }
    Ok(())
}

#[cfg(feature = "json")]
impl Source for serde_json::Value {
    fn kind(&self) -> Kind {
        match self {
            serde_json::Value::Null => Kind::Null,
            serde_json::Value::Bool(_) => Kind::Bool,
            serde_json::Value::Number(_) => Kind::Number,
            serde_json::Value::String(_) => Kind::String,
            serde_json::Value::Array(_) => Kind::Array,
            serde_json::Value::Object(_) => Kind::Object,
        }
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_string)
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn keys(&self) -> Vec<String> {
        self.as_object().map_or_else(Vec::new, |o| o.keys().cloned().collect())
    }
    fn field(&self, key: &str) -> Option<Self> {
        self.as_object().and_then(|o| o.get(key)).cloned()
    }
    fn items(&self) -> Vec<Self> {
        self.as_array().cloned().unwrap_or_default()
    }
    fn number_text(&self) -> String {
        self.to_string()
    }
}
