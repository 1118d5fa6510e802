//! What tabs are told: the connection status (pushed on change) and the stats (on request).

use crate::breaker::BreakerState;
use crate::heartbeat::Quality;
use crate::window::Window;
use crate::sorted_map::SortedMap;
use crate::fields::FieldValue::{self, Bool, Null, Num, Obj, Text};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The connection state as tabs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// The first attempt is under way.
    Connecting,
    /// The socket is open.
    Open,
    /// The socket was lost; a retry is scheduled or under way.
    Reconnecting,
    /// The browser is offline: no attempts until it is back.
    Offline,
    /// `backoff.maxAttempts` failed in a row; waiting for `reconnect()`.
    Down,
    /// The server refused the credentials and there is no way to get new ones.
    Unauthorized,
    /// Closed for good: by a fatal close code, or because the client detached.
    Closed,
}

impl State {
    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Offline => "offline",
            State::Down => "down",
            State::Unauthorized => "unauthorized",
            State::Closed => "closed",
        }
    }
}

/// Why the next attempt is when it is (`status.retryReason`, while one is planned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// The backoff's delay.
    Backoff,
    /// A retry hint in the server's close reason (`retry-after`, `reconnect-within`, …).
    ServerHint,
    /// The close code's own wait, the reason having no hint (1013, a preset's row).
    CloseCode,
    /// The open circuit breaker holds it later than planned.
    Breaker,
    /// A new worker waits for the other tabs' hellos before resuming a stream.
    Resume,
}

impl RetryReason {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::Backoff => "backoff",
            RetryReason::ServerHint => "server-hint",
            RetryReason::CloseCode => "close-code",
            RetryReason::Breaker => "breaker",
            RetryReason::Resume => "resume",
        }
    }
}

/// How the last socket closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code (4008 for a connect timeout).
    pub code: u16,
    /// The close reason, as sent by the server or set by tabmux.
    pub reason: String,
}

/// The status pushed to every tab of an endpoint whenever it changes, and to a new tab at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The connection state.
    pub state: State,
    /// Failed attempts in a row (0 once a connection has lasted `minUptimeMs`).
    pub attempt: u32,
    /// When the next attempt starts, while one is scheduled: an instant of the engine's clock,
    /// which pages read as ms since the epoch ([`crate::FieldValue::At`]).
    pub next_retry_at: Option<u64>,
    /// Why the next attempt is at `next_retry_at`, while one is scheduled.
    pub retry_reason: Option<RetryReason>,
    /// How the last socket closed, if one has.
    pub last_close: Option<CloseInfo>,
    /// The last error that was not a close (a failed token fetch, a refused URL), if any.
    pub last_error: Option<String>,
    /// The circuit breaker's position.
    pub breaker: BreakerState,
    /// While the breaker is open: when its half-open probe may start (an instant, as
    /// `next_retry_at`).
    pub breaker_retry_at: Option<u64>,
    /// The last heartbeat round trip on this connection, in ms.
    pub rtt_ms: Option<u64>,
    /// A grade from `rtt_ms` (`unknown` while not open or not measured yet).
    pub quality: Quality,
    /// When the last pong (or answered server ping) arrived, on this connection or an earlier
    /// one (an instant, as `next_retry_at`).
    pub last_heartbeat_at: Option<u64>,
    /// The subprotocol the server chose for the open socket (`options.protocols`), if any.
    pub protocol: Option<String>,
    /// The one-word verdict ([`Health::judge`]).
    pub health: Health,
    /// Whether the browser reports itself online.
    pub online: bool,
    /// Distinct pages (tabs) sharing this socket.
    pub tabs: u32,
    /// Clients (ports) sharing this socket; one page may hold several.
    pub clients: u32,
}

/// Counters for one endpoint, returned by `client.stats()`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counters {
    /// Frames received from the server.
    pub frames_in: u64,
    /// Frames sent to the server.
    pub frames_out: u64,
    /// Bytes received (UTF-16 code units for text frames, as `string.length` counts them).
    pub bytes_in: u64,
    /// Bytes sent (same unit as `bytes_in`).
    pub bytes_out: u64,
    /// Frame deliveries to clients (frames × clients).
    pub deliveries: u64,
    /// Sockets that reached `open`.
    pub connects: u64,
    /// Sockets created (first attempts and retries).
    pub attempts: u64,
    /// Sends refused (socket not open, bad data).
    pub errors: u64,
    /// Heartbeat pings sent.
    pub pings: u64,
    /// Pongs received (not delivered to tabs).
    pub pongs: u64,
    /// Token fetches started.
    pub token_fetches: u64,
    /// Reconnects caused by a changed token.
    pub token_reconnects: u64,
    /// Frames dropped as repeats (sequence number or dedup key).
    pub duplicates: u64,
    /// Gaps in the sequence numbers.
    pub gaps: u64,
    /// Frames that had a topic.
    pub topic_frames: u64,
    /// Subscribe frames sent (first subscriber, and again after each reconnect).
    pub subscribes: u64,
    /// Unsubscribe frames sent (last subscriber gone).
    pub unsubscribes: u64,
    /// Sends that waited in the queue.
    pub queued: u64,
    /// Server pings answered (`serverPing`; not delivered to tabs).
    pub server_pings: u64,
    /// Retry hints read from close reasons and followed (`retry-after`, `reconnect-within`, …).
    pub server_hints: u64,
}

/// Nearest-rank percentiles of a sample window (ms).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Percentiles {
    /// The median, if there are samples.
    pub p50: Option<u64>,
    /// The 95th percentile, if there are samples.
    pub p95: Option<u64>,
    /// How many samples (bounded by the window).
    pub count: u32,
}

impl Percentiles {
    /// The percentiles of `w`.
    pub fn of(w: &Window<u64>) -> Self {
        Percentiles { p50: w.percentile(50), p95: w.percentile(95), count: w.len() as u32 }
    }
}

/// A one-word verdict on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// Open, breaker closed, round trip not poor, no failed attempts pending.
    Healthy,
    /// Connecting, reconnecting or offline; or a poor round trip; or open again after failures.
    Warning,
    /// Down, unauthorized or closed; or the breaker is not closed.
    Critical,
}

impl Health {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Warning => "warning",
            Health::Critical => "critical",
        }
    }

    /// The verdict for a status (thresholds documented in the README).
    pub fn judge(s: &Status) -> Health {
        match s.state {
            State::Down | State::Unauthorized | State::Closed => Health::Critical,
            _ if s.breaker != BreakerState::Closed => Health::Critical,
            State::Connecting | State::Reconnecting | State::Offline => Health::Warning,
            State::Open if s.quality == Quality::Poor || s.attempt > 0 => Health::Warning,
            State::Open => Health::Healthy,
        }
    }
}

/// The reply to `client.stats()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Frames waiting in the send queue.
    pub queue_messages: u32,
    /// Their bytes.
    pub queue_bytes: u64,
    /// Frames kept for replay (all topics).
    pub replay_frames: u32,
    /// Their bytes.
    pub replay_bytes: u64,
    /// Topics with at least one subscriber.
    pub topics: u32,
    /// Dedup keys remembered.
    pub dedup_keys: u32,
    /// The last sequence number seen.
    pub last_seq: Option<u64>,
    /// The status at the time of the request.
    pub status: Status,
    /// The counters.
    pub counters: Counters,
    /// Endpoints (distinct URLs) this engine holds sockets for.
    pub endpoints: u32,
    /// Attempts after the first (`attempts - 1`).
    pub reconnects: u64,
    /// Close code → count, over the last 100 closes.
    pub close_codes: SortedMap<String, u32>,
    /// Connection durations (ms) over the last 50 connections (`durations`).
    pub durations_ms: Percentiles,
    /// Heartbeat round trips (ms) over the last 50 pongs (`rtt`).
    pub rtt_ms_p: Percentiles,
}

/// The fields of an object, as [`crate::fields`] describes.
pub type Fields<'a> = Vec<(&'a str, FieldValue<'a>)>;

impl Status {
    /// This status as name/value pairs (camelCase names): the object tabs get.
    pub fn fields(&self) -> Fields<'_> {
        let last_close = self
            .last_close
            .as_ref()
            .map_or(Null, |c| Obj(vec![("code", Num(c.code.into())), ("reason", Text(&c.reason))]));
        vec![
            ("state", Text(self.state.as_str())),
            ("attempt", Num(self.attempt.into())),
            ("nextRetryAt", FieldValue::at(self.next_retry_at)),
            ("retryReason", self.retry_reason.map_or(Null, |r| Text(r.as_str()))),
            ("lastClose", last_close),
            ("lastError", FieldValue::text(&self.last_error)),
            ("breaker", Text(self.breaker.as_str())),
            ("breakerRetryAt", FieldValue::at(self.breaker_retry_at)),
            ("rttMs", FieldValue::num(self.rtt_ms)),
            ("quality", Text(self.quality.as_str())),
            ("lastHeartbeatAt", FieldValue::at(self.last_heartbeat_at)),
            ("protocol", FieldValue::text(&self.protocol)),
            ("health", Text(self.health.as_str())),
            ("online", Bool(self.online)),
            ("tabs", Num(self.tabs.into())),
            ("clients", Num(self.clients.into())),
        ]
    }
}

impl Counters {
    /// These counters as name/value pairs (camelCase names).
    pub fn fields(&self) -> Fields<'_> {
        vec![
            ("framesIn", Num(self.frames_in)),
            ("framesOut", Num(self.frames_out)),
            ("bytesIn", Num(self.bytes_in)),
            ("bytesOut", Num(self.bytes_out)),
            ("deliveries", Num(self.deliveries)),
            ("connects", Num(self.connects)),
            ("attempts", Num(self.attempts)),
            ("errors", Num(self.errors)),
            ("pings", Num(self.pings)),
            ("pongs", Num(self.pongs)),
            ("tokenFetches", Num(self.token_fetches)),
            ("tokenReconnects", Num(self.token_reconnects)),
            ("duplicates", Num(self.duplicates)),
            ("gaps", Num(self.gaps)),
            ("topicFrames", Num(self.topic_frames)),
            ("subscribes", Num(self.subscribes)),
            ("unsubscribes", Num(self.unsubscribes)),
            ("queued", Num(self.queued)),
            ("serverPings", Num(self.server_pings)),
            ("serverHints", Num(self.server_hints)),
        ]
    }
}

impl Percentiles {
    fn value(&self) -> FieldValue<'_> {
        Obj(vec![("p50", FieldValue::num(self.p50)), ("p95", FieldValue::num(self.p95)), ("count", Num(self.count.into()))])
    }
}

impl Stats {
    /// These stats as name/value pairs: their own, then the status's and the counters' in
    /// the same flat object, then the windows (`closeCodes`, `durations`, `rtt`).
    pub fn fields(&self) -> Fields<'_> {
        let mut f = vec![
            ("queueMessages", Num(self.queue_messages.into())),
            ("queueBytes", Num(self.queue_bytes)),
            ("replayFrames", Num(self.replay_frames.into())),
            ("replayBytes", Num(self.replay_bytes)),
            ("topics", Num(self.topics.into())),
            ("dedupKeys", Num(self.dedup_keys.into())),
            ("lastSeq", FieldValue::num(self.last_seq)),
        ];
        f.extend(self.status.fields());
        f.extend(self.counters.fields());
        f.extend([
            ("endpoints", Num(self.endpoints.into())),
            ("reconnects", Num(self.reconnects)),
            ("closeCodes", Obj(self.close_codes.iter().map(|(k, v)| (k.as_str(), Num((*v).into()))).collect())),
            ("durations", self.durations_ms.value()),
            ("rtt", self.rtt_ms_p.value()),
        ]);
        f
    }
}
