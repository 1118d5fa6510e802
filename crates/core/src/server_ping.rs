//! Pings the server sends and expects answered (`options.serverPing`): how one is recognised,
//! the reply, and the presets for known protocols. The engine answers each one once per
//! socket (not once per tab), delivers it to no tab and counts it as liveness.
//!
//! Recognising a frame needs only a few questions about it ([`FrameProbe`]), so a shell
//! answers them on the frame where it lives (a JS string in the browser) without copying
//! every frame: the length first, the text only for frames of the pattern's size.

use alloc::string::String;

/// Frames longer than this (UTF-16 code units) are never taken for a server ping.
pub const MAX_SERVER_PING_LEN: usize = 1024;

/// How a server ping is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PingMatch {
    /// A text frame that parses as a JSON object whose top-level `field` is the string `value`.
    Field {
        /// The field to look at (`"type"`).
        field: String,
        /// Its value in a ping (`"ping"`).
        value: String,
    },
    /// A text frame equal to this text (`"2"`, `"{}"`).
    Exact(String),
}

impl PingMatch {
    /// The text [`ServerPingOptions::matches`] looks for in a frame: the field's value, or
    /// the frame's whole text.
    pub fn text(&self) -> &str {
        match self {
            PingMatch::Field { value, .. } => value,
            PingMatch::Exact(text) => text,
        }
    }
}

/// `options.serverPing`: what a server ping looks like and what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerPingOptions {
    /// How a ping is recognised (`match`).
    pub matches: PingMatch,
    /// The text frame sent back.
    pub reply: String,
}

/// Presets, as data: name, match, reply.
pub const PRESETS: &[(&str, PresetMatch, &str)] = &[
    // graphql-ws (graphql-transport-ws): {"type":"ping"} → {"type":"pong"}.
    ("graphql-ws", PresetMatch::Field("type", "ping"), r#"{"type":"pong"}"#),
    // Centrifugo (JSON protocol): an empty object → an empty object.
    ("centrifugo", PresetMatch::Exact("{}"), "{}"),
    // Socket.IO over the Engine.IO v4 protocol: packet 2 (ping) → packet 3 (pong).
    ("socket.io", PresetMatch::Exact("2"), "3"),
];

/// A preset's match, as static data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetMatch {
    /// See [`PingMatch::Field`].
    Field(&'static str, &'static str),
    /// See [`PingMatch::Exact`].
    Exact(&'static str),
}

impl ServerPingOptions {
    /// Every key `serverPing` accepts as an object (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["match", "reply"];
    /// Every key `serverPing.match` accepts as an object (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const MATCH_KEYS: &'static [&'static str] = &["field", "value"];

    /// The preset with this name.
    pub fn preset(name: &str) -> Option<ServerPingOptions> {
        PRESETS.iter().find(|(n, _, _)| *n == name).map(|(_, m, reply)| ServerPingOptions {
            matches: match *m {
                PresetMatch::Field(field, value) => PingMatch::Field { field: field.into(), value: value.into() },
                PresetMatch::Exact(text) => PingMatch::Exact(text.into()),
            },
            reply: (*reply).into(),
        })
    }

    /// The preset names, for messages.
    pub fn preset_names() -> impl Iterator<Item = &'static str> {
        PRESETS.iter().map(|(n, _, _)| *n)
    }

    /// Whether `frame` is a server ping.
    pub fn matches<F: FrameProbe>(&self, frame: &F) -> bool {
        let len = frame.size();
        if len > MAX_SERVER_PING_LEN || !frame.is_text() {
            return false;
        }
        match &self.matches {
            PingMatch::Exact(text) => len == utf16_len(text) && frame.text_equals(text),
            PingMatch::Field { field, value } => {
                frame.text_contains(value) && frame.json_string_field(field).is_some_and(|v| v == *value)
            }
        }
    }
}

/// The questions [`ServerPingOptions::matches`] asks about a frame, answered by the shell
/// where the frame lives.
pub trait FrameProbe {
    /// Its size: UTF-16 code units of text, bytes of binary.
    fn size(&self) -> usize;
    /// Whether it is a text frame.
    fn is_text(&self) -> bool;
    /// Whether its text is exactly `text`.
    fn text_equals(&self, text: &str) -> bool;
    /// Whether its text contains `needle`.
    fn text_contains(&self, needle: &str) -> bool;
    /// Its text parsed as JSON: the top-level string field `field` of an object, if any.
    fn json_string_field(&self, field: &str) -> Option<String>;
}

/// The length of `s` in UTF-16 code units (JavaScript's `length`).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// A text frame held as a Rust string (tests, fuzzing).
#[cfg(feature = "json")]
impl FrameProbe for &str {
    fn size(&self) -> usize {
        utf16_len(self)
    }
    fn is_text(&self) -> bool {
        true
    }
    fn text_equals(&self, text: &str) -> bool {
        *self == text
    }
    fn text_contains(&self, needle: &str) -> bool {
        self.contains(needle)
    }
    fn json_string_field(&self, field: &str) -> Option<String> {
        match serde_json::from_str::<serde_json::Value>(self).ok()? {
            serde_json::Value::Object(o) => o.get(field)?.as_str().map(String::from),
            _ => None,
        }
    }
}
