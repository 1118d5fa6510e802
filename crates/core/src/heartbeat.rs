//! The heartbeat: its settings, the ping/pong state of an open socket, and the
//! connection-quality grade from the round trips it measures.

use crate::time::Ms;
use alloc::string::String;

/// How a pong is recognised: a text frame that parses as a JSON object whose `field`
/// equals `value` (a string).
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Unknown => "unknown",
            Quality::Good => "good",
            Quality::Fair => "fair",
            Quality::Poor => "poor",
        }
    }

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

/// The heartbeat of one open socket: when the next ping is due, when the last one went out,
/// and by when a frame must arrive. Made when the socket opens, dropped when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Heartbeat {
    next_ping: Ms,
    ping_sent: Option<Ms>,
    pong_deadline: Option<Ms>,
}

impl Heartbeat {
    /// The socket opened at `now`: the first ping is due one interval later.
    pub(crate) fn start(now: Ms, o: &HeartbeatOptions) -> Self {
        Heartbeat { next_ping: now.saturating_add(o.interval_ms), ping_sent: None, pong_deadline: None }
    }

    /// When the next ping is due.
    pub(crate) fn next_ping(&self) -> Ms {
        self.next_ping
    }

    /// While a ping is unanswered: by when any frame must arrive.
    pub(crate) fn pong_deadline(&self) -> Option<Ms> {
        self.pong_deadline
    }

    /// A frame arrived at `now`: any frame proves the socket alive. For a pong that answers
    /// a ping, the round trip is returned.
    pub(crate) fn on_frame(&mut self, now: Ms, pong: bool) -> Option<Ms> {
        self.pong_deadline = None;
        if pong {
            self.ping_sent.take().map(|sent| now.saturating_sub(sent))
        } else {
            None
        }
    }

    /// The ping is due at `now`: the shell sends it (the caller emits it); the next one is
    /// planned, and a frame is awaited within `timeoutMs` unless one is awaited already.
    pub(crate) fn ping(&mut self, now: Ms, o: &HeartbeatOptions) {
        self.next_ping = now.saturating_add(o.interval_ms);
        self.ping_sent = Some(now);
        if self.pong_deadline.is_none() {
            self.pong_deadline = Some(now.saturating_add(o.timeout_ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_awaits_a_frame_and_a_pong_measures_the_round_trip() {
        let o = HeartbeatOptions { interval_ms: 100, timeout_ms: 30, ..HeartbeatOptions::default() };
        let mut h = Heartbeat::start(1000, &o);
        assert_eq!((h.next_ping(), h.pong_deadline()), (1100, None));
        assert_eq!(h.on_frame(1050, true), None, "a pong before any ping measures nothing");
        h.ping(1100, &o);
        assert_eq!((h.next_ping(), h.pong_deadline()), (1200, Some(1130)));
        assert_eq!(h.on_frame(1110, false), None);
        assert_eq!(h.pong_deadline(), None, "any frame proves the socket alive");
        h.ping(1200, &o);
        h.ping(1300, &o);
        assert_eq!(h.pong_deadline(), Some(1230), "a later ping does not push the deadline back");
        assert_eq!(h.on_frame(1320, true), Some(20), "measured from the last ping");
        assert_eq!(h.on_frame(1330, true), None, "one measure per ping");
    }
}
