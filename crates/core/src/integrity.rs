//! Options for message integrity and multiplexing: dedup, sequence, topics, send queue,
//! replay. The frame data itself never reaches the core; the shell extracts the few values
//! these need (a key, a sequence number, a topic) with JSON pointers.

use alloc::string::String;
use alloc::vec::Vec;

/// One JSON pointer or a list of them; the first that finds a value wins.
#[derive(Debug, Clone, PartialEq)]
pub enum Pointers {
    /// One pointer, e.g. `"/id"`.
    One(String),
    /// Several, tried in order, e.g. `["/meta/in_reply_to", "/id"]`.
    Many(Vec<String>),
}

impl Pointers {
    /// The pointers, in order.
    pub fn list(&self) -> Vec<&str> {
        match self {
            Pointers::One(p) => alloc::vec![p.as_str()],
            Pointers::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Dedup settings (`options.dedup`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DedupOptions {
    /// Where a frame's key is (a JSON pointer or a list of them).
    pub key: Pointers,
    /// How many recent keys are remembered. Default [`DEFAULT_DEDUP_CAPACITY`].
    pub capacity: usize,
}

/// The default `dedup.capacity`.
pub const DEFAULT_DEDUP_CAPACITY: usize = 200;

impl DedupOptions {
    /// Every key `dedup` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["key", "capacity"];
}

/// Sequence settings (`options.sequence`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SequenceOptions {
    /// Where a frame's sequence number is (a JSON pointer to a non-negative integer).
    pub key: String,
    /// The query parameter that carries the last sequence seen on each reconnect. Default
    /// [`DEFAULT_RESUME_PARAM`].
    pub resume_param: String,
}

/// The default `sequence.resumeParam`.
pub const DEFAULT_RESUME_PARAM: &str = "since";

impl SequenceOptions {
    /// Every key `sequence` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["key", "resumeParam"];
}

/// Topic settings (`options.topics`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TopicOptions {
    /// Where a frame's topic is (a JSON pointer to a string).
    pub key: String,
    /// The frame sent when the first tab subscribes; `{topic}` is replaced by the topic,
    /// JSON-escaped (write it inside quotes: `{"type":"sub","topic":"{topic}"}`).
    pub subscribe: String,
    /// The frame sent when the last tab unsubscribes.
    pub unsubscribe: String,
}

impl TopicOptions {
    /// Every key `topics` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["key", "subscribe", "unsubscribe"];
}

/// Send-queue settings (`options.queue`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueueOptions {
    /// Frames held while the socket is not open. Default 1000.
    pub max_messages: usize,
    /// Bytes held (UTF-16 code units for text). Default 1 MiB.
    pub max_bytes: usize,
    /// A queued frame not sent within this long is rejected. Default 60000.
    pub ttl_ms: u64,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions { max_messages: 1000, max_bytes: 1 << 20, ttl_ms: 60_000 }
    }
}

impl QueueOptions {
    /// Every key `queue` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["maxMessages", "maxBytes", "ttlMs"];
}

/// Replay settings (`options.replay`): recent frames kept for tabs that attach later.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReplayOptions {
    /// Frames kept per topic (and for frames without one). Default 0: off.
    pub frames: usize,
    /// Bytes kept over all topics. Default 1 MiB.
    pub bytes: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { frames: 0, bytes: 1 << 20 }
    }
}

impl ReplayOptions {
    /// Every key `replay` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["frames", "bytes"];
}

/// The longest topic accepted.
pub const MAX_TOPIC_BYTES: usize = 256;
/// The most topics one endpoint tracks.
pub const MAX_TOPICS: usize = 1024;
/// The longest dedup key remembered (longer keys are not deduplicated).
pub const MAX_KEY_BYTES: usize = 256;

/// `template` with `{topic}` replaced by `topic`, JSON-escaped, so no topic can break out
/// of the string it is placed in.
pub fn fill_template(template: &str, topic: &str) -> String {
    let mut escaped = String::with_capacity(topic.len() + 2);
    for c in topic.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                escaped.push_str("\\u");
                for shift in [12u32, 8, 4, 0] {
                    escaped.push(char::from_digit(((c as u32) >> shift) & 15, 16).unwrap_or('0'));
                }
            }
            c => escaped.push(c),
        }
    }
    crate::text::replace(template, "{topic}", &escaped)
}

/// Whether `p` is a JSON pointer (RFC 6901): empty, or starting with `/`.
pub fn is_pointer(p: &str) -> bool {
    p.starts_with('/') && p.len() <= 256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_with_quotes_cannot_break_the_frame() {
        let t = r#"{"type":"subscribe","topic":"{topic}"}"#;
        assert_eq!(fill_template(t, "a"), r#"{"type":"subscribe","topic":"a"}"#);
        assert_eq!(fill_template(t, r#"x","admin":true,"y":""#), r#"{"type":"subscribe","topic":"x\",\"admin\":true,\"y\":\""}"#);
        assert_eq!(fill_template(t, "a\\b\n\u{1}"), r#"{"type":"subscribe","topic":"a\\b\n\u0001"}"#);
        // Space and tab at the edge of the control range; U+2028 breaks JS string literals.
        assert_eq!(fill_template("{topic}", "a b\u{1f}\t\u{2028}"), r#"a b\u001f\t\u2028"#);
    }
}
