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
    /// `idleCloseMs` after the last client left, with clients again: what was kept for
    /// them and not taken is let go (`away.rs`).
    AwayEnd,
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
    /// The tab asked for a token (`token.get`) did not answer within `ASK_TIMEOUT_MS`.
    TokenAsk,
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
    pub(crate) const ALL: [Timer; 12] = [
        Timer::IdleClose,
        Timer::AwayEnd,
        Timer::QueueExpiry,
        Timer::TokenDebounce,
        Timer::TokenPoll,
        Timer::Reconnect,
        Timer::TokenFetchTimeout,
        Timer::TokenAsk,
        Timer::ConnectTimeout,
        Timer::Forgive,
        Timer::PongDeadline,
        Timer::Ping,
    ];

    /// When this timer is due on `ep` (`None`: not armed).
    pub(crate) fn deadline(self, ep: &Endpoint) -> Option<Ms> {
        match self {
            Timer::IdleClose => ep.idle_until,
            Timer::AwayEnd => ep.away.as_ref().map(|a| a.until),
            Timer::QueueExpiry => ep.queue.next_expiry(),
            Timer::TokenDebounce => ep.pending_token.as_ref().map(|(_, at)| *at),
            Timer::TokenPoll => ep.next_poll,
            Timer::Reconnect => match ep.conn {
                Conn::Waiting { retry_at, .. } => Some(retry_at),
                _ => None,
            },
            Timer::TokenFetchTimeout => match ep.conn {
                Conn::Fetching { deadline } => Some(deadline),
                _ => None,
            },
            Timer::TokenAsk => ep.ask.as_ref().map(|a| a.deadline),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::Heartbeat;
    use crate::ids::{ClientId, EndpointId, SocketId};
    use crate::options::Options;

    fn endpoint() -> Endpoint {
        let o: Options = crate::read_options(&serde_json::json!({
            "url": "ws://h/ws",
            "token": { "url": "/token", "pollMs": 500 },
            "backoff": { "minUptimeMs": 70 },
            "heartbeat": { "intervalMs": 100, "timeoutMs": 30 },
            "queue": { "ttlMs": 40 },
        }))
        .expect("the reader takes them");
        let table = o.close_table().unwrap();
        Endpoint::new(EndpointId(1), o, table, None, 1000, false)
    }

    fn armed(ep: &Endpoint) -> Vec<(Timer, Ms)> {
        Timer::ALL.iter().filter_map(|t| t.deadline(ep).map(|d| (*t, d))).collect()
    }

    #[test]
    fn every_timer_reads_its_own_deadline() {
        let mut ep = endpoint();
        assert_eq!(armed(&ep), [(Timer::TokenPoll, 1500)], "a new endpoint polls its token URL");
        ep.idle_until = Some(1600);
        ep.pending_token = Some(("t".into(), 1010));
        ep.queue.push(1000, ClientId(1), 1, 1, &ep.options.queue.clone()).unwrap();
        ep.conn = Conn::Waiting { retry_at: 1200, reason: crate::status::RetryReason::Backoff };
        assert_eq!(
            armed(&ep),
            [(Timer::IdleClose, 1600), (Timer::QueueExpiry, 1040), (Timer::TokenDebounce, 1010), (Timer::TokenPoll, 1500), (Timer::Reconnect, 1200)]
        );
        ep.conn = Conn::Fetching { deadline: 1300 };
        assert!(armed(&ep).contains(&(Timer::TokenFetchTimeout, 1300)));
        ep.conn = Conn::Connecting { socket: SocketId(2), deadline: 1400 };
        assert!(armed(&ep).contains(&(Timer::ConnectTimeout, 1400)));
        (ep.idle_until, ep.pending_token, ep.next_poll) = (None, None, None);
        ep.queue.take_all();
        ep.conn = Conn::Open { socket: SocketId(2), since: 1000 };
        ep.attempt = 2;
        let mut hb = Heartbeat::start(1000, ep.options.heartbeat.as_ref().unwrap());
        ep.heartbeat = Some(hb);
        assert_eq!(armed(&ep), [(Timer::Forgive, 1070), (Timer::Ping, 1100)]);
        hb.ping(1100, ep.options.heartbeat.as_ref().unwrap());
        ep.heartbeat = Some(hb);
        assert_eq!(armed(&ep), [(Timer::Forgive, 1070), (Timer::PongDeadline, 1130), (Timer::Ping, 1200)]);
        assert!(Timer::PongDeadline.is_due(&ep, 1130));
        assert!(!Timer::PongDeadline.is_due(&ep, 1129));
    }

    #[test]
    fn the_table_lists_every_timer_once() {
        for (i, t) in Timer::ALL.iter().enumerate() {
            assert!(!Timer::ALL[i + 1..].contains(t), "{t:?} twice");
            // A new variant stops this match from compiling: a reminder to place it in ALL
            // (and to raise the count below).
            match t {
                Timer::IdleClose
                | Timer::AwayEnd
                | Timer::QueueExpiry
                | Timer::TokenDebounce
                | Timer::TokenPoll
                | Timer::Reconnect
                | Timer::TokenFetchTimeout
                | Timer::TokenAsk
                | Timer::ConnectTimeout
                | Timer::Forgive
                | Timer::PongDeadline
                | Timer::Ping => {}
            }
        }
        assert_eq!(Timer::ALL.len(), 12);
    }
}
