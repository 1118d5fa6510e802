//! Every deadline of an endpoint, in one table: [`Timer`] names them, [`Timer::deadline`]
//! reads each from the endpoint's state. [`crate::Engine::poll_timeout`] is the earliest of
//! them and [`crate::Engine::handle_timeout`] fires the due ones in [`Timer::ALL`]'s order,
//! both from this one table, so the two cannot drift apart.

use crate::endpoint::{Conn, Endpoint};
use crate::time::Ms;

/// One kind of deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// No clients left and `idleCloseMs` has passed: the endpoint closes.
    IdleClose,
    /// The oldest queued send has outlived `queue.ttlMs`.
    QueueExpiry,
    /// A token a tab reported has sat out `token.debounceMs`.
    TokenDebounce,
    /// Time to poll `token.url` again.
    TokenPoll,
    /// A planned retry may start (the backoff delay, held back by an open breaker: the
    /// breaker's own deadline is folded in when the retry is planned).
    Reconnect,
    /// The token fetch before a connect took `connectTimeoutMs`.
    TokenFetchTimeout,
    /// The socket did not open within `connectTimeoutMs`.
    ConnectTimeout,
    /// Open for `backoff.minUptimeMs` after failed attempts: the failures are forgiven.
    Forgive,
    /// A ping went unanswered for `heartbeat.timeoutMs`.
    PongDeadline,
    /// The next heartbeat ping is due.
    Ping,
}

impl Timer {
    /// Every timer, in the order [`crate::Engine::handle_timeout`] fires the due ones.
    pub(crate) const ALL: [Timer; 10] = [
        Timer::IdleClose,
        Timer::QueueExpiry,
        Timer::TokenDebounce,
        Timer::TokenPoll,
        Timer::Reconnect,
        Timer::TokenFetchTimeout,
        Timer::ConnectTimeout,
        Timer::Forgive,
        Timer::PongDeadline,
        Timer::Ping,
    ];

    /// When this timer is due on `ep` (`None`: not armed).
    pub(crate) fn deadline(self, ep: &Endpoint) -> Option<Ms> {
        match self {
            Timer::IdleClose => ep.idle_until,
            Timer::QueueExpiry => ep.queue.next_expiry(),
            Timer::TokenDebounce => ep.pending_token.as_ref().map(|(_, at)| *at),
            Timer::TokenPoll => ep.next_poll,
            Timer::Reconnect => match ep.conn {
                Conn::Waiting { retry_at } => Some(retry_at),
                _ => None,
            },
            Timer::TokenFetchTimeout => match ep.conn {
                Conn::Fetching { deadline } => Some(deadline),
                _ => None,
            },
            Timer::ConnectTimeout => match ep.conn {
                Conn::Connecting { deadline, .. } => Some(deadline),
                _ => None,
            },
            Timer::Forgive => ep.forgive_at(),
            Timer::PongDeadline => ep.heartbeat.and_then(|h| h.pong_deadline()),
            Timer::Ping => ep.heartbeat.map(|h| h.next_ping()),
        }
    }

    /// Whether this timer is due on `ep` at `now`.
    pub(crate) fn is_due(self, ep: &Endpoint, now: Ms) -> bool {
        self.deadline(ep).is_some_and(|d| d <= now)
    }
}
