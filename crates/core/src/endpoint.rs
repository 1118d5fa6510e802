//! One endpoint: a URL (with its subprotocols), the connection to it, its clients, and the
//! state of every feature on it, each in its own type (heartbeat, dedup, sequence, send
//! queue, replay, topics, breaker).

use crate::away::Away;
use crate::breaker::Breaker;
use crate::close_policy::CloseTable;
use crate::dedup::Dedup;
use crate::heartbeat::Heartbeat;
use crate::ids::{ClientId, EndpointId, SocketId};
use crate::log::DropCounts;
use crate::options::Options;
use crate::replay::Replay;
use crate::send_queue::SendQueue;
use crate::sequence::Sequence;
use crate::status::{CloseInfo, Counters, RetryReason, State, Status};
use crate::time::Ms;
use crate::redact::Redactor;
use crate::token_ask::TokenAsk;
use crate::topics::Topics;
use crate::window::Window;
use alloc::string::String;
use alloc::vec::Vec;

/// How many close codes the histogram remembers.
pub const CLOSE_HISTORY: usize = 100;
/// How many connection durations are kept for percentiles.
pub const DURATION_HISTORY: usize = 50;
/// How many round-trip samples are kept for percentiles.
pub const RTT_HISTORY: usize = 50;

/// Where the connection of an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conn {
    /// Waiting for the token fetch that precedes a connect (it counts against
    /// `connectTimeoutMs` like the socket itself).
    Fetching { deadline: Ms },
    Connecting { socket: SocketId, deadline: Ms },
    Open { socket: SocketId, since: Ms },
    Waiting { retry_at: Ms, reason: RetryReason },
    /// `token.required` with no token and nothing to ask: waits for `setToken` (or a tab
    /// with `token.get`) instead of connecting without one.
    NeedToken,
    Offline,
    Down,
    Unauthorized,
    Closed,
}

#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) id: EndpointId,
    pub(crate) url: String,
    pub(crate) options: Options,
    pub(crate) close_table: CloseTable,
    pub(crate) clients: Vec<ClientId>,
    pub(crate) conn: Conn,
    /// While open with `heartbeat` on.
    pub(crate) heartbeat: Option<Heartbeat>,
    pub(crate) attempt: u32,
    pub(crate) last_delay: Option<Ms>,
    pub(crate) last_close: Option<CloseInfo>,
    pub(crate) last_error: Option<String>,
    pub(crate) breaker: Breaker,
    pub(crate) token: Option<String>,
    /// A token a tab reported, applied when its debounce ends.
    pub(crate) pending_token: Option<(String, Ms)>,
    pub(crate) fetch_in_flight: bool,
    /// The question out to a tab with `token.get` (`token_ask.rs`).
    pub(crate) ask: Option<TokenAsk>,
    /// Counts the changes of `token` (a set, a fetch, an answer, a sign-out), carried by
    /// every tab so that a replacement worker takes the newest token its tabs bring.
    pub(crate) token_gen: u64,
    /// Signed out (`handle_sign_out`): no attempt, poll or fetched token until a tab sets one.
    pub(crate) signed_out: bool,
    /// When the token URL is polled next.
    pub(crate) next_poll: Option<Ms>,
    pub(crate) auth_retry_used: bool,
    pub(crate) rtt: Option<Ms>,
    pub(crate) last_pong_at: Option<Ms>,
    /// The subprotocol the server chose for the open socket.
    pub(crate) protocol: Option<String>,
    pub(crate) sequence: Sequence,
    pub(crate) dedup: Dedup,
    pub(crate) topics: Topics,
    pub(crate) queue: SendQueue,
    pub(crate) replay: Replay,
    /// With no clients left and `idleCloseMs` set: when the endpoint is closed.
    pub(crate) idle_until: Option<Ms>,
    /// From the last client's detach until `idleCloseMs` later: what is kept for the next
    /// page (`away.rs`).
    pub(crate) away: Option<Away>,
    /// Its leader and exclusive choices (`leader.rs`).
    pub(crate) lead: crate::leader::Lead,
    /// Made by a resuming hello (a new worker): until when a tab further behind dials the
    /// socket again from its number (`RESUME_WINDOW_MS`).
    pub(crate) resume_window: Option<Ms>,
    pub(crate) rtts: Window<Ms>,
    pub(crate) closes: Window<u16>,
    pub(crate) durations: Window<Ms>,
    pub(crate) last_status: Option<Status>,
    pub(crate) counters: Counters,
    /// Clients with `debug`: while 0, no log event is made.
    pub(crate) loggers: u32,
    /// Drops not yet reported in the log.
    pub(crate) drops: DropCounts,
    /// What its reports hide: credentials of its URL and `token.param` (`redact.rs`).
    pub(crate) redactor: Redactor,
}

impl Endpoint {
    /// A new endpoint for `options` at `now`, not connecting yet. `debug`: whether its first
    /// client logs (counted before the first attempt, so that client sees it).
    pub(crate) fn new(
        id: EndpointId,
        options: Options,
        close_table: CloseTable,
        token: Option<&str>,
        now: Ms,
        debug: bool,
    ) -> Self {
        let next_poll = options.token.url.as_ref().map(|_| now + options.token.poll_ms);
        let redactor = Redactor::new(&options.url, &options.token.param);
        Endpoint {
            id,
            url: options.url.clone(),
            options,
            close_table,
            clients: Vec::new(),
            conn: Conn::Closed,
            heartbeat: None,
            attempt: 0,
            last_delay: None,
            last_close: None,
            last_error: None,
            breaker: Breaker::default(),
            token: token.map(String::from),
            pending_token: None,
            fetch_in_flight: false,
            ask: None,
            token_gen: 0,
            signed_out: false,
            next_poll,
            auth_retry_used: false,
            rtt: None,
            last_pong_at: None,
            protocol: None,
            sequence: Sequence::default(),
            dedup: Dedup::default(),
            topics: Topics::default(),
            queue: SendQueue::default(),
            replay: Replay::default(),
            idle_until: None,
            away: None,
            lead: crate::leader::Lead::default(),
            resume_window: None,
            rtts: Window::new(RTT_HISTORY),
            closes: Window::new(CLOSE_HISTORY),
            durations: Window::new(DURATION_HISTORY),
            last_status: None,
            counters: Counters::default(),
            loggers: u32::from(debug),
            drops: DropCounts::default(),
            redactor,
        }
    }

    /// The current socket (connecting or open).
    pub(crate) fn socket(&self) -> Option<SocketId> {
        match self.conn {
            Conn::Connecting { socket, .. } | Conn::Open { socket, .. } => Some(socket),
            _ => None,
        }
    }

    /// The state tabs see.
    pub(crate) fn state(&self) -> State {
        match self.conn {
            Conn::Fetching { .. } | Conn::Connecting { .. } | Conn::NeedToken
                if self.attempt == 0 && self.counters.connects == 0 =>
            {
                State::Connecting
            }
            Conn::Fetching { .. } | Conn::Connecting { .. } | Conn::Waiting { .. } | Conn::NeedToken => State::Reconnecting,
            Conn::Open { .. } => State::Open,
            Conn::Offline => State::Offline,
            Conn::Down => State::Down,
            Conn::Unauthorized => State::Unauthorized,
            Conn::Closed => State::Closed,
        }
    }

    /// While open after failed attempts: when the connection will have lasted
    /// `backoff.minUptimeMs` and the attempt counter (and the breaker's count) resets.
    pub(crate) fn forgive_at(&self) -> Option<Ms> {
        match self.conn {
            Conn::Open { since, .. } if self.attempt > 0 || self.breaker.failures() > 0 => {
                Some(since.saturating_add(self.options.backoff.min_uptime_ms))
            }
            _ => None,
        }
    }

    /// `text` with this endpoint's credentials redacted (`redact.rs`): what errors, close
    /// reasons and logs may show.
    pub(crate) fn redacted(&self, text: &str) -> String {
        self.redactor.redact(text, self.token.as_deref())
    }
}
