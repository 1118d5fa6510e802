//! The debug log (`debug: true` or a `logger` on a client): the engine's decisions as
//! structured events, sent only to the clients that asked for them. Built only while an
//! endpoint has such a client: with none, no event is made and nothing is posted.
//!
//! No event carries the token: URLs, close reasons and fetch errors go through the
//! endpoint's redaction first, and token fetches report only their outcome.

use crate::fields::FieldValue;
use crate::breaker::BreakerState;
use crate::close_policy::CloseAction;
use crate::time::Ms;
use alloc::string::String;

/// How often (at most) dropped frames are reported, as counts.
pub const DROPS_EVERY_MS: Ms = 1000;

/// One decision of the engine, as a client's logger receives it (`{ event: "retry", … }`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEvent {
    /// A socket is being created (attempt 0 is the first; the URL has the token redacted).
    Connect {
        /// Failed attempts in a row before this one.
        attempt: u32,
        /// The URL, token redacted.
        url: String,
    },
    /// The socket opened.
    Open {
        /// The subprotocol the server chose, if any.
        protocol: Option<String>,
    },
    /// The socket closed (or timed out), and what its close code maps to.
    Close {
        /// The close code.
        code: u16,
        /// The reason, token redacted.
        reason: String,
        /// `retry`, `retry-now`, `refresh-token` or `fatal` (the close-code table), or
        /// `offline` (no attempt while offline).
        class: &'static str,
    },
    /// A retry was planned: attempt `attempt`, `delay_ms` from now (a hint's wait and the
    /// backoff's jitter, or a drain window's draw), at `at` (later than planned when the
    /// breaker holds it).
    Retry {
        /// The attempt number (1 for the first retry).
        attempt: u32,
        /// The delay drawn for it (0 for an at-once retry).
        delay_ms: Ms,
        /// When it starts: an instant of the engine's clock, shown to pages as wall time
        /// (ms since the epoch).
        at: Ms,
        /// The retry hint of the close reason as followed (`retry-after=5000`,
        /// `reconnect-within=30000`, seconds shown in ms, ` (capped)` when cut to 10 minutes),
        /// or why one was ignored (`ignored: …`); `None` without one.
        hint: Option<String>,
    },
    /// `backoff.maxAttempts` failed in a row: no more retries until asked.
    Down {
        /// The attempts made.
        attempt: u32,
    },
    /// The circuit breaker moved.
    Breaker {
        /// Its position before.
        from: BreakerState,
        /// Its position now.
        to: BreakerState,
    },
    /// A token fetch started (before a connect, or a poll).
    TokenFetch,
    /// A token fetch ended: `ok`, and whether the token changed (never the token itself).
    TokenFetched {
        /// Whether a usable token came back.
        ok: bool,
        /// Whether it differs from the one held.
        changed: bool,
        /// Why it failed, token redacted.
        error: Option<String>,
    },
    /// The token was dropped and the socket closed for every tab: a sign-out, a token URL
    /// answering 401/403, or `token.get` returning no token.
    SignedOut {
        /// Why.
        reason: String,
    },
    /// The shell saw that it was suspended (see [`crate::Engine::handle_wake`]).
    Wake {
        /// About how long it was suspended, in ms.
        asleep_ms: Ms,
    },
    /// Frames dropped since the last such event (at most one a second).
    Drops {
        /// Repeats of a dedup key or an old sequence number.
        duplicates: u64,
        /// Gaps in the sequence numbers.
        gaps: u64,
    },
}

impl LogEvent {
    /// The event as name/value pairs, `event` first: what a shell builds its object from
    /// without a serializer (each event's object pinned in `tests/fields.rs`).
    pub fn fields(&self) -> Vec<(&'static str, FieldValue<'_>)> {
        use FieldValue::{Bool, Null, Num, Text};
        fn text(s: &Option<String>) -> FieldValue<'_> {
            s.as_deref().map_or(Null, Text)
        }
        match self {
            LogEvent::Connect { attempt, url } => vec![("event", Text("connect")), ("attempt", Num((*attempt).into())), ("url", Text(url))],
            LogEvent::Open { protocol } => vec![("event", Text("open")), ("protocol", text(protocol))],
            LogEvent::Close { code, reason, class } => {
                vec![("event", Text("close")), ("code", Num((*code).into())), ("reason", Text(reason)), ("class", Text(class))]
            }
            LogEvent::Retry { attempt, delay_ms, at, hint } => vec![
                ("event", Text("retry")),
                ("attempt", Num((*attempt).into())),
                ("delayMs", Num(*delay_ms)),
                ("at", FieldValue::At(*at)),
                ("hint", text(hint)),
            ],
            LogEvent::Down { attempt } => vec![("event", Text("down")), ("attempt", Num((*attempt).into()))],
            LogEvent::Breaker { from, to } => {
                vec![("event", Text("breaker")), ("from", Text(from.as_str())), ("to", Text(to.as_str()))]
            }
            LogEvent::TokenFetch => vec![("event", Text("token-fetch"))],
            LogEvent::TokenFetched { ok, changed, error } => {
                vec![("event", Text("token-fetched")), ("ok", Bool(*ok)), ("changed", Bool(*changed)), ("error", text(error))]
            }
            LogEvent::SignedOut { reason } => vec![("event", Text("signed-out")), ("reason", Text(reason))],
            LogEvent::Wake { asleep_ms } => vec![("event", Text("wake")), ("asleepMs", Num(*asleep_ms))],
            LogEvent::Drops { duplicates, gaps } => {
                vec![("event", Text("drops")), ("duplicates", Num(*duplicates)), ("gaps", Num(*gaps))]
            }
        }
    }

    /// The `class` of a close-code action.
    pub fn class_of(action: CloseAction) -> &'static str {
        match action {
            CloseAction::Retry => "retry",
            CloseAction::RetryNow => "retry-now",
            CloseAction::RefreshToken => "refresh-token",
            CloseAction::Fatal => "fatal",
        }
    }
}

/// Drops counted since the last [`LogEvent::Drops`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// Duplicates not yet reported.
    pub duplicates: u64,
    /// Gaps not yet reported.
    pub gaps: u64,
    /// When the last report went out.
    pub last_report: Option<Ms>,
}
