//! The deadlines: [`Engine::poll_timeout`] says when the next one is, and
//! [`Engine::handle_timeout`] does what is due. Both read the one table in `timers.rs`.

use super::{Engine, CONNECT_TIMEOUT_CODE};
use crate::action::Action;
use crate::endpoint::Conn;
use crate::error::{EngineError, Error};
use crate::retry_plan::RetryPlan;
use crate::heartbeat::HEARTBEAT_TIMEOUT_CODE;
use crate::time::Ms;
use crate::timers::Timer;

impl Engine {
    /// The next time [`Engine::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Ms> {
        self.endpoints.iter().flat_map(|e| Timer::ALL.iter().filter_map(|t| t.deadline(e))).min()
    }

    /// Time has reached `now`: close idle endpoints, reject expired queued sends, apply
    /// debounced tokens, poll the token URL, start due retries, give up on fetches and
    /// connects past their timeout, forgive failures after `minUptimeMs`, close on missed
    /// pongs, send pings. Each timer is looked at once per endpoint, in the order of the
    /// table in `timers.rs`, against the state the ones before it left.
    pub fn handle_timeout(&mut self, now: Ms) {
        let now = self.tick(now);
        let mut idx = 0;
        'endpoints: while idx < self.endpoints.len() {
            for timer in Timer::ALL {
                if timer.is_due(&self.endpoints[idx], now) && !self.fire(idx, timer, now) {
                    // The endpoint is gone; the next one moved to `idx`.
                    continue 'endpoints;
                }
            }
            self.touch(idx);
            idx += 1;
        }
    }

    /// Does what a due `timer` of endpoint `idx` calls for; `false` when the endpoint was
    /// removed.
    fn fire(&mut self, idx: usize, timer: Timer, now: Ms) -> bool {
        let ep = &mut self.endpoints[idx];
        match timer {
            Timer::IdleClose => {
                self.remove_endpoint(idx);
                return false;
            }
            Timer::AwayEnd => self.end_away(idx),
            Timer::QueueExpiry => {
                while let Some(q) = ep.queue.pop_expired(now) {
                    ep.counters.errors += 1;
                    let error = Error::Engine(EngineError::Expired(ep.options.queue.ttl_ms));
                    self.actions.push_back(Action::SendFailed { client: q.client, send: q.send, error });
                }
            }
            Timer::TokenDebounce => {
                if let Some((token, _)) = ep.pending_token.take() {
                    if ep.token.as_deref() != Some(token.as_str()) {
                        ep.token = Some(token);
                        self.token_changed(idx, 0);
                        self.rotate(idx);
                    }
                }
            }
            Timer::TokenPoll => {
                ep.next_poll = Some(now.saturating_add(ep.options.token.poll_ms));
                match ep.options.token.url.clone() {
                    Some(url) => self.fetch_token(idx, url),
                    None if self.has_getter(idx) => self.ask_token(idx),
                    // No tab with `token.get` left: nothing to poll until one comes.
                    None => self.endpoints[idx].next_poll = None,
                }
            }
            Timer::Reconnect => self.start_attempt(idx),
            Timer::TokenFetchTimeout => {
                // A token URL (or tab) that never answers is a failed attempt, not a hang.
                ep.fetch_in_flight = false;
                ep.ask = None;
                ep.last_error = Some("token fetch timed out".into());
                self.failed_attempt(idx);
                self.schedule_retry(idx, RetryPlan::backoff());
            }
            Timer::TokenAsk => {
                let asked = ep.ask.take().map(|a| a.asked).unwrap_or_default();
                self.ask_next(idx, asked, "no tab answered token.get within 5000 ms");
            }
            Timer::ConnectTimeout => self.missed_deadline(idx, CONNECT_TIMEOUT_CODE, "connect timeout"),
            Timer::Forgive => {
                // Up for minUptimeMs: the failures before it (the backoff's and the
                // breaker's) are forgiven now, so the status (and health) says so while the
                // connection lasts.
                ep.attempt = 0;
                ep.last_delay = None;
                ep.breaker.forgive();
                // A connection that lasted `minUptimeMs` also gives back the refresh-and-retry
                // (as one open `TOKEN_WORKED_MS` does, whichever comes first).
                ep.auth_retry_used = false;
            }
            Timer::PongDeadline => self.missed_deadline(idx, HEARTBEAT_TIMEOUT_CODE, "heartbeat timeout"),
            Timer::Ping => {
                if let (Conn::Open { socket, .. }, Some(hb), Some(o)) =
                    (ep.conn, ep.heartbeat.as_mut(), ep.options.heartbeat.as_ref())
                {
                    hb.ping(now, o);
                    ep.counters.pings += 1;
                    self.actions.push_back(Action::SendText { socket, data: o.ping.clone() });
                }
            }
        }
        true
    }

    /// A socket that missed its deadline (to open, or to answer a ping) is closed with
    /// `code` and handled as lost, as if the server had closed it so.
    fn missed_deadline(&mut self, idx: usize, code: u16, reason: &str) {
        if let Some(socket) = self.endpoints[idx].socket() {
            self.actions.push_back(Action::CloseSocket { socket, code, reason: reason.into() });
            self.lost(idx, code, reason);
        }
    }
}
