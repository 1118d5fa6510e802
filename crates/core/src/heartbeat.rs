//! Heartbeat settings and the connection-quality grade.

use alloc::string::String;
use serde::{Deserialize, Serialize};

/// How a pong is recognised: a text frame that parses as a JSON object whose `field`
/// equals `value` (a string).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PongMatch {
    /// The top-level field to look at. Default `"type"`.
    pub field: String,
    /// The value that marks a pong. Default `"pong"`.
    pub value: String,
}

impl PongMatch {
    /// Every key `heartbeat.pong` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["field", "value"];
}

impl Default for PongMatch {
    fn default() -> Self {
        PongMatch { field: "type".into(), value: "pong".into() }
    }
}

/// Heartbeat settings (`options.heartbeat`; `false` turns the heartbeat off).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct HeartbeatOptions {
    /// A ping is sent this long after the last one, while open. Default 30000.
    pub interval_ms: u64,
    /// With no frame at all this long after a ping, the socket is closed (4000). Default 10000.
    pub timeout_ms: u64,
    /// The ping frame. Default `{"type":"ping"}`.
    pub ping: String,
    /// How a pong is recognised. Matched pongs are not delivered to tabs.
    pub pong: PongMatch,
}

impl Default for HeartbeatOptions {
    fn default() -> Self {
        HeartbeatOptions {
            interval_ms: 30_000,
            timeout_ms: 10_000,
            ping: r#"{"type":"ping"}"#.into(),
            pong: PongMatch::default(),
        }
    }
}

impl HeartbeatOptions {
    /// Every key `heartbeat` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["intervalMs", "timeoutMs", "ping", "pong"];
}

/// The close code for a missed pong.
pub const HEARTBEAT_TIMEOUT_CODE: u16 = 4000;

/// A connection-quality grade from the round-trip time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Quality {
    /// No round trip measured on this connection yet.
    Unknown,
    /// Last RTT under 150 ms.
    Good,
    /// Last RTT under 500 ms.
    Fair,
    /// Last RTT 500 ms or more.
    Poor,
}

impl Quality {
    /// The grade for a round trip of `rtt_ms`.
    pub fn from_rtt(rtt_ms: Option<u64>) -> Quality {
        match rtt_ms {
            None => Quality::Unknown,
            Some(r) if r < 150 => Quality::Good,
            Some(r) if r < 500 => Quality::Fair,
            Some(_) => Quality::Poor,
        }
    }
}
