//! What tabs are told: the connection status (pushed on change) and the stats (on request).

use alloc::string::String;
use serde::Serialize;

/// The connection state as tabs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum State {
    /// The first attempt is under way.
    Connecting,
    /// The socket is open.
    Open,
    /// The socket was lost; a retry is scheduled or under way.
    Reconnecting,
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
            State::Down => "down",
            State::Unauthorized => "unauthorized",
            State::Closed => "closed",
        }
    }
}

/// How the last socket closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseInfo {
    /// The close code (4008 for a connect timeout).
    pub code: u16,
    /// The close reason, as sent by the server or set by tabmux.
    pub reason: String,
}

/// The status pushed to every tab of an endpoint whenever it changes, and to a new tab at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The connection state.
    pub state: State,
    /// Failed attempts in a row (0 once a connection has lasted `minUptimeMs`).
    pub attempt: u32,
    /// When the next attempt starts (ms since the epoch), while one is scheduled.
    pub next_retry_at: Option<u64>,
    /// How the last socket closed, if one has.
    pub last_close: Option<CloseInfo>,
    /// Whether the browser reports itself online.
    pub online: bool,
    /// Distinct pages (tabs) sharing this socket.
    pub tabs: u32,
    /// Clients (ports) sharing this socket; one page may hold several.
    pub clients: u32,
}

/// Counters for one endpoint, returned by `client.stats()`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
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
}

/// The reply to `client.stats()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// The status at the time of the request.
    #[serde(flatten)]
    pub status: Status,
    /// The counters.
    #[serde(flatten)]
    pub counters: Counters,
    /// Endpoints (distinct URLs) this engine holds sockets for.
    pub endpoints: u32,
}
