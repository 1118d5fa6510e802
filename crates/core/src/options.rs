//! The options a page passes to `connect()`: plain data, validated in one place.

use crate::backoff::{BackoffOptions, Jitter};
use crate::breaker::BreakerOptions;
use crate::close_policy::{CloseAction, CloseTable};
use crate::close_presets;
use crate::heartbeat::HeartbeatOptions;
use crate::server_ping::{utf16_len, PingMatch, ServerPingOptions, MAX_SERVER_PING_LEN};
use crate::integrity::{is_pointer, DedupOptions, QueueOptions, ReplayOptions, SequenceOptions, TopicOptions};
use crate::token::{TokenOptions, MAX_TOKEN_BYTES};
use crate::error::Error;
use crate::sorted_map::SortedMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Which transport a tab asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// The SharedWorker where the browser has one, else a socket in the page.
    #[default]
    Auto,
    /// The SharedWorker, or an error where there is none.
    Shared,
    /// A socket in the page, driven by the same engine.
    Direct,
}

/// The default URL of the worker script.
pub const DEFAULT_WORKER_URL: &str = "/shared-websocket-worker.js";

/// Everything `connect()` accepts. Read from the page's object by [`crate::read_options`], the
/// one place that names the options, gives their defaults and refuses unknown keys (so a typo
/// is never ignored); `tests/options.rs` checks the key lists against these fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// The endpoint: an absolute `ws://` or `wss://` URL. Required.
    pub url: String,
    /// Where the worker script is served. Default `/shared-websocket-worker.js`.
    pub worker_url: String,
    /// `auto`, `shared` or `direct`. Default `auto`.
    pub mode: Mode,
    /// How long a tab waits for the shared worker's welcome before it counts the worker as
    /// failed (`auto` then falls back to direct mode). Default 10000. Read by the tab.
    pub worker_timeout_ms: u64,
    /// Reconnect delays.
    pub backoff: BackoffOptions,
    /// Close code → action, merged over the built-in table (keys are decimal codes).
    pub close_codes: SortedMap<String, CloseAction>,
    /// A server's close-code convention by name (`"pusher"`, `"centrifugo"`, `"graphql-ws"`:
    /// [`crate::close_presets`]), under `closeCodes` and over the built-in table. Off unless given.
    pub close_code_preset: Option<String>,
    /// A connect attempt that has not opened after this long counts as failed. Default 10000.
    pub connect_timeout_ms: u64,
    /// The circuit breaker around connect attempts.
    pub breaker: BreakerOptions,
    /// Pings and the pong timeout; `None` (`heartbeat: false`) turns them off.
    pub heartbeat: Option<HeartbeatOptions>,
    /// Where the token comes from and where it goes.
    pub token: TokenOptions,
    /// Drop frames whose key was seen recently. Off unless given.
    pub dedup: Option<DedupOptions>,
    /// Track sequence numbers: drop repeats, report gaps, resume after reconnects. Off unless given.
    pub sequence: Option<SequenceOptions>,
    /// Route frames by topic to the tabs subscribed to it. Off unless given.
    pub topics: Option<TopicOptions>,
    /// Sends while the socket is not open wait here.
    pub queue: QueueOptions,
    /// Recent frames kept for tabs that attach later.
    pub replay: ReplayOptions,
    /// How long the socket stays open after its last tab leaves, for the next page (a reload,
    /// a navigation): see [`crate::away`]. Default [`DEFAULT_IDLE_CLOSE_MS`]; 0 closes at once.
    pub idle_close_ms: u64,
    /// This client's handlers get text frames parsed as JSON (parsed in the page, once per
    /// client). The client's own business: it does not count as a different setting.
    pub json: bool,
    /// Pings the server sends and the engine answers (once per socket). Off unless given.
    pub server_ping: Option<ServerPingOptions>,
    /// WebSocket subprotocols offered to the server, in order (`new WebSocket(url, protocols)`).
    /// Part of the endpoint's identity: the same URL with other protocols is another socket.
    pub protocols: Vec<String>,
    /// This client gets the engine's debug log (`debug: true`, or a `logger` function, which
    /// stays in the page). The client's own business, like `json`.
    pub debug: bool,
    /// Who the user is (an id the app chooses, 1 to 256 bytes). Part of the endpoint's
    /// identity: clients of two accounts never share a socket. Default: none.
    pub account: Option<String>,
}

/// The default `idleCloseMs`: long enough for a reload or a same-site navigation of the
/// last page to attach again (well under a second on a fast site, a few seconds on a slow
/// one), short enough that a closed site lets go of its server socket soon.
pub const DEFAULT_IDLE_CLOSE_MS: u64 = 5_000;

impl Options {
    /// Every key `connect()` accepts at the top level (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] =
        &["url", "workerUrl", "mode", "workerTimeoutMs", "backoff", "closeCodes", "closeCodePreset", "connectTimeoutMs", "breaker", "heartbeat", "token", "dedup", "sequence", "topics", "queue", "replay", "idleCloseMs", "json", "serverPing", "protocols", "debug", "account"];
    /// Keys read in the page only: `logger` (a function, which cannot cross to the worker).
    pub const PAGE_KEYS: &'static [&'static str] = &["logger"];

    /// Options with every default and the given endpoint URL.
    pub fn new(url: &str) -> Self {
        Options {
            url: url.to_string(),
            worker_url: DEFAULT_WORKER_URL.to_string(),
            mode: Mode::Auto,
            worker_timeout_ms: 10_000,
            backoff: BackoffOptions::default(),
            close_codes: SortedMap::new(),
            close_code_preset: None,
            connect_timeout_ms: 10_000,
            breaker: BreakerOptions::default(),
            heartbeat: Some(HeartbeatOptions::default()),
            token: TokenOptions::default(),
            dedup: None,
            sequence: None,
            topics: None,
            queue: QueueOptions::default(),
            replay: ReplayOptions::default(),
            idle_close_ms: DEFAULT_IDLE_CLOSE_MS,
            json: false,
            server_ping: None,
            protocols: Vec::new(),
            debug: false,
            account: None,
        }
    }

    /// Whether a client with `other` belongs on the endpoint made with these options: the same
    /// URL, subprotocols and account.
    pub fn same_endpoint(&self, other: &Options) -> bool {
        self.url == other.url && self.protocols == other.protocols && self.account == other.account
    }

    /// Checks every value; the error names the option and says what is allowed.
    pub fn validate(&self) -> Result<(), Error> {
        validate_url(&self.url)?;
        if self.worker_url.is_empty() {
            return Err(invalid("workerUrl", "must not be empty"));
        }
        if !(1..=600_000).contains(&self.worker_timeout_ms) {
            return Err(invalid("workerTimeoutMs", "must be 1 to 600000"));
        }
        let b = &self.backoff;
        if b.initial_ms == 0 {
            return Err(invalid("backoff.initialMs", "must be at least 1"));
        }
        if !(b.factor.is_finite() && b.factor >= 1.0) {
            return Err(invalid("backoff.factor", "must be a finite number ≥ 1"));
        }
        if b.max_ms < b.initial_ms {
            return Err(invalid("backoff.maxMs", "must be ≥ backoff.initialMs"));
        }
        if let Jitter::Ratio(r) = b.jitter {
            if !(0.0..=1.0).contains(&r) {
                return Err(invalid("backoff.jitter", "a ratio must be between 0 and 1"));
            }
        }
        if b.max_attempts == Some(0) {
            return Err(invalid("backoff.maxAttempts", "must be at least 1 (omit it to retry for ever)"));
        }
        if self.connect_timeout_ms == 0 {
            return Err(invalid("connectTimeoutMs", "must be at least 1"));
        }
        if self.breaker.failure_threshold == 0 {
            return Err(invalid("breaker.failureThreshold", "must be at least 1"));
        }
        if self.breaker.reset_timeout_ms == 0 {
            return Err(invalid("breaker.resetTimeoutMs", "must be at least 1"));
        }
        if let Some(h) = &self.heartbeat {
            if h.interval_ms == 0 || h.timeout_ms == 0 {
                return Err(invalid("heartbeat", "intervalMs and timeoutMs must be at least 1"));
            }
            if h.ping.is_empty() || h.pong.field.is_empty() || h.pong.value.is_empty() {
                return Err(invalid("heartbeat", "ping, pong.field and pong.value must not be empty"));
            }
        }
        let t = &self.token;
        if t.param.is_empty() {
            return Err(invalid("token.param", "must not be empty"));
        }
        if t.url.as_deref() == Some("") {
            return Err(invalid("token.url", "must not be empty (omit it for no token URL)"));
        }
        if t.poll_ms == 0 {
            return Err(invalid("token.pollMs", "must be at least 1"));
        }
        if t.param.len() > 256 || t.url.as_ref().is_some_and(|u| u.len() > MAX_TOKEN_BYTES) {
            return Err(invalid("token", "param or url is too long"));
        }
        if t.value.as_deref().is_some_and(|v| !crate::token::is_usable_token(v)) {
            return Err(invalid("token.value", "must be 1 to 8192 bytes (omit it for no token)"));
        }
        if self.account.as_ref().is_some_and(|a| a.is_empty() || a.len() > 256) {
            return Err(invalid("account", "must be 1 to 256 bytes (omit it for no account)"));
        }
        if let Some(d) = &self.dedup {
            let list = d.key.list();
            if list.is_empty() || !list.iter().all(|p| is_pointer(p)) {
                return Err(invalid("dedup.key", "must be a JSON pointer like \"/id\" or a non-empty list of them"));
            }
            if !(1..=100_000).contains(&d.capacity) {
                return Err(invalid("dedup.capacity", "must be between 1 and 100000"));
            }
        }
        if let Some(q) = &self.sequence {
            if !is_pointer(&q.key) {
                return Err(invalid("sequence.key", "must be a JSON pointer like \"/seq\""));
            }
            if q.resume_param.is_empty() {
                return Err(invalid("sequence.resumeParam", "must not be empty"));
            }
        }
        if let Some(t) = &self.topics {
            if !is_pointer(&t.key) {
                return Err(invalid("topics.key", "must be a JSON pointer like \"/topic\""));
            }
            if !crate::text::contains(&t.subscribe, "{topic}") || !crate::text::contains(&t.unsubscribe, "{topic}") {
                return Err(invalid("topics", "subscribe and unsubscribe must contain {topic}"));
            }
        }
        if self.queue.max_messages > 100_000 || self.queue.max_bytes > 64 << 20 {
            return Err(invalid("queue", "maxMessages ≤ 100000 and maxBytes ≤ 64 MiB"));
        }
        if self.replay.frames > 10_000 || self.replay.bytes > 64 << 20 {
            return Err(invalid("replay", "frames ≤ 10000 and bytes ≤ 64 MiB"));
        }
        if let Some(p) = &self.server_ping {
            match &p.matches {
                PingMatch::Exact(t) if t.is_empty() || utf16_len(t) > MAX_SERVER_PING_LEN => {
                    return Err(invalid("serverPing.match", "as a text must be 1 to 1024 characters"));
                }
                PingMatch::Field { field, value } if field.is_empty() || value.is_empty() => {
                    return Err(invalid("serverPing.match", "field and value must not be empty"));
                }
                _ => {}
            }
            if p.reply.is_empty() || p.reply.len() > 65_536 {
                return Err(invalid("serverPing.reply", "must be 1 to 65536 bytes"));
            }
        }
        if self.protocols.len() > 32 {
            return Err(invalid("protocols", "at most 32 subprotocols"));
        }
        for (i, p) in self.protocols.iter().enumerate() {
            if p.is_empty() || p.len() > 256 || !p.bytes().all(is_token_byte) {
                return Err(invalid(
                    "protocols",
                    &["must be tokens (letters, digits and !#$%&'*+-.^_`|~, 1 to 256 of them), got ", &quoted(p)].concat(),
                ));
            }
            if self.protocols[..i].contains(p) {
                return Err(invalid("protocols", &["lists ", &quoted(p), " twice (the WebSocket constructor refuses that)"].concat()));
            }
        }
        self.close_table()?;
        Ok(())
    }

    /// The endpoint's whole close-code table: `closeCodes` over `closeCodePreset`'s rows over
    /// the built-in ones.
    pub fn close_table(&self) -> Result<CloseTable, Error> {
        let preset = match self.close_code_preset.as_deref() {
            None => &[][..],
            Some(name) => close_presets::preset(name).ok_or_else(|| {
                let names: Vec<&str> = close_presets::preset_names().collect();
                invalid("closeCodePreset", &["must be one of \"", &names.join("\", \""), "\", got ", &quoted(name)].concat())
            })?,
        };
        Ok(CloseTable { overrides: self.close_code_table()?, preset })
    }

    /// `closeCodes` as a table of numeric codes.
    pub fn close_code_table(&self) -> Result<Vec<(u16, CloseAction)>, Error> {
        self.close_codes
            .iter()
            .map(|(k, v)| match k.parse::<u16>() {
                Ok(code) if (1000..=4999).contains(&code) => Ok((code, *v)),
                _ => Err(invalid("closeCodes", &["key ", &crate::text::quote_escaped(k), " is not a close code (1000-4999)"].concat())),
            })
            .collect()
    }
}

/// An RFC 7230 `tchar`: what a subprotocol name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn quoted(s: &str) -> String {
    ["\"", &truncate(s), "\""].concat()
}

fn invalid(option: &str, why: &str) -> Error {
    Error::InvalidOptions([option, " ", why].concat())
}

/// An endpoint URL must be absolute `ws://` or `wss://` with a host and no fragment
/// (the WebSocket constructor rejects fragments).
pub fn validate_url(url: &str) -> Result<(), Error> {
    if url.is_empty() {
        return Err(invalid("url", "is required (a ws:// or wss:// URL)"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("ws://")
        .or_else(|| lower.strip_prefix("wss://"))
        .ok_or_else(|| {
            // The query is left out (`?***`): it may hold credentials under any name.
            let query = url.bytes().position(|b| b == b'?');
            let base = truncate(url.get(..query.unwrap_or(url.len())).unwrap_or_default());
            let shown = [base.as_str(), if query.is_some() { "?***" } else { "" }].concat();
            invalid("url", &["must start with ws:// or wss://, got ", &crate::text::quote_escaped(&shown)].concat())
        })?;
    let host = rest.split(['/', '?']).next().unwrap_or("");
    if host.is_empty() {
        return Err(invalid("url", "has no host"));
    }
    if url.contains('#') {
        return Err(invalid("url", "must not contain a #fragment"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("url", "must not contain spaces or control characters"));
    }
    Ok(())
}

/// A page served over https may not open a `ws://` socket (mixed content): the browser
/// refuses it, so tabmux says so before anything starts. Loopback hosts (`localhost`,
/// `*.localhost`, `127.0.0.0/8`, `[::1]`) are exempt, as in browsers. `page_protocol` is the
/// page's `location.protocol` (`"https:"`); call after [`validate_url`].
pub fn check_mixed_content(url: &str, page_protocol: &str) -> Result<(), Error> {
    if !page_protocol.eq_ignore_ascii_case("https:") {
        return Ok(());
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("ws://") else { return Ok(()) };
    let loopback = is_loopback(ws_host(rest));
    if loopback {
        return Ok(());
    }
    // `get`, not `[5..]`: the same text, without str slicing's panic (its formatting would
    // weigh more than this whole check in the page's wasm).
    let shown = url.get(5..).unwrap_or(rest);
    let query = shown.bytes().position(|b| b == b'?');
    // Concatenated, not formatted: the page client calls this and carries no formatting.
    Err(invalid(
        "url",
        &[
            "is ws:// but this page is served over https: the browser blocks an insecure WebSocket from a secure page (mixed content); use wss://",
            &truncate(shown.get(..query.unwrap_or(shown.len())).unwrap_or_default()),
            // The query is left out: it may hold credentials under any name.
            if query.is_some() { "?***" } else { "" },
        ]
        .concat(),
    ))
}

/// The host of a `ws://` URL's rest (lowercase): before the first `/` or `?`, after the last
/// `@`, without the port or an IPv6 address's brackets. Byte scans, not `str::split`: the
/// page's wasm calls this and holds no split iterators.
fn ws_host(rest: &str) -> &str {
    fn upto<'a>(s: &'a str, stop: &dyn Fn(u8) -> bool) -> &'a str {
        s.get(..s.bytes().position(stop).unwrap_or(s.len())).unwrap_or("")
    }
    let authority = upto(rest, &|b| b == b'/' || b == b'?');
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(i) => authority.get(i + 1..).unwrap_or(""),
        None => authority,
    };
    match host_port.strip_prefix('[') {
        Some(v6) => upto(v6, &|b| b == b']'),
        None => upto(host_port, &|b| b == b':'),
    }
}

/// `localhost`, a name under `.localhost`, `::1`, or `127.a.b.c` with three octets that
/// `u8` parses (digits, an optional `+`, at most 255).
fn is_loopback(host: &str) -> bool {
    let octet = |o: &[u8]| {
        let digits = o.strip_prefix(b"+").unwrap_or(o);
        !digits.is_empty()
            && digits.iter().all(u8::is_ascii_digit)
            && digits.iter().fold(0u32, |v, d| (v * 10 + u32::from(d - b'0')).min(256)) <= 255
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host.strip_prefix("127.").is_some_and(|r| {
            let parts = r.as_bytes().split(|&b| b == b'.');
            parts.clone().count() == 3 && parts.into_iter().all(octet)
        })
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The std form `ws_host` and `is_loopback` replace.
    fn loopback_by_split(rest: &str) -> bool {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let host = match host_port.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host_port.split(':').next().unwrap_or(""),
        };
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "::1"
            || host.strip_prefix("127.").is_some_and(|r| r.split('.').count() == 3 && r.split('.').all(|o| o.parse::<u8>().is_ok()))
    }

    #[test]
    fn host_check_matches_the_split_form() {
        // Random authorities from the pieces that matter, plus the edge cases by hand.
        let pieces = ["127.", "0", "1", "255", "256", "+7", "-1", "09", ".", "..", "@", ":", "[", "]", "::1", "/", "?", "localhost", ".localhost", "x", "é", "a.b"];
        let mut rng = crate::Rng::new(7);
        let mut cases: Vec<String> = (0..20_000)
            .map(|_| (0..1 + rng.next_u64() % 6).map(|_| pieces[(rng.next_u64() % pieces.len() as u64) as usize]).collect())
            .collect();
        cases.extend(["127.0.0.1", "127.1.2.3:80/x", "u:p@127.0.0.1", "127.0.0.1@evil.com", "[::1]:8080", "[::1", "127.00.0.255", "127.0.0.256", "127.+1.2.3", "127.0.0", "127.0.0.1.", "a.localhost:1?x", "localhost.", ""].map(String::from));
        let mut loopbacks = 0;
        for rest in &cases {
            let want = loopback_by_split(rest);
            assert_eq!(is_loopback(ws_host(rest)), want, "{rest:?}");
            loopbacks += usize::from(want);
        }
        // The random cases reach both answers (the comparison means something).
        assert!(loopbacks > 100 && loopbacks < cases.len() - 100, "{loopbacks} of {}", cases.len());
    }
}
