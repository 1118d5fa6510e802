//! The connection's life: attempts (a token fetch first when `token.url` is set), open,
//! close, retries with backoff behind the breaker, going offline and online, and tokens.

use super::{truncate_reason, Engine};
use crate::action::Action;
use crate::close_policy::CloseAction;
use crate::endpoint::Conn;
use crate::error::{decimal, Error};
use crate::heartbeat::Heartbeat;
use crate::ids::{ClientId, EndpointId, SocketId};
use crate::integrity::fill_template;
use crate::log::LogEvent;
use crate::retry_plan::RetryPlan;
use crate::status::{CloseInfo, RetryReason};
use crate::time::Ms;
use crate::token::{is_usable_token, with_param, with_token, MAX_TOKEN_BYTES};
use alloc::string::ToString;

impl Engine {
    /// A tab asked to try now (`client.reconnect()`): unless the socket is open or opening,
    /// the attempt counter resets and an attempt starts at once. Against an open breaker
    /// this attempt is the half-open probe.
    pub fn handle_reconnect(&mut self, now: Ms, client: ClientId) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        self.retry_now(idx);
        Ok(())
    }

    pub(super) fn retry_now(&mut self, idx: usize) {
        let ep = &mut self.endpoints[idx];
        if matches!(ep.conn, Conn::Open { .. } | Conn::Connecting { .. } | Conn::Fetching { .. }) {
            return;
        }
        ep.attempt = 0;
        ep.last_delay = None;
        ep.auth_retry_used = false;
        self.start_attempt(idx);
        self.touch(idx);
    }

    /// A tab became visible: an endpoint that is `down` tries again.
    pub fn handle_visible(&mut self, now: Ms) {
        self.tick(now);
        for idx in 0..self.endpoints.len() {
            if self.endpoints[idx].conn == Conn::Down {
                self.retry_now(idx);
            }
        }
    }

    /// The shell saw signs that it was suspended for about `asleep_ms` (a laptop's sleep, a
    /// frozen worker or page: the wall clock moved away from the monotonic one, or a timer
    /// fired far later than planned): a socket may have died without a close meanwhile, and a
    /// planned retry is stale. An open socket is probed at once: a heartbeat ping (its pong
    /// deadline decides), or, with the heartbeat off, a new socket in its place. An endpoint
    /// waiting to retry, or `down`, tries now with its backoff reset. Opening sockets are
    /// left to their own deadline.
    pub fn handle_wake(&mut self, now: Ms, asleep_ms: Ms) {
        let now = self.tick(now);
        for idx in 0..self.endpoints.len() {
            self.log(idx, |_| LogEvent::Wake { asleep_ms });
            let ep = &mut self.endpoints[idx];
            match (ep.conn, ep.heartbeat.as_mut(), ep.options.heartbeat.as_ref()) {
                (Conn::Open { socket, .. }, Some(hb), Some(o)) => {
                    if hb.pong_deadline().is_none() {
                        hb.ping(now, o);
                        ep.counters.pings += 1;
                        self.actions.push_back(Action::SendText { socket, data: o.ping.clone() });
                    }
                }
                (Conn::Open { socket, .. }, _, _) => {
                    self.actions.push_back(Action::CloseSocket { socket, code: 1000, reason: "woke up: replacing a socket that may be dead".into() });
                    self.open_socket(idx);
                }
                (Conn::Waiting { .. } | Conn::Down, _, _) => self.retry_now(idx),
                (Conn::Offline, _, _) if self.online => self.retry_now(idx),
                _ => {}
            }
            self.touch(idx);
        }
    }

    /// The engine's own context saw the browser go offline or online (the worker's
    /// `navigator.onLine` and events; the page's in direct mode). It decides with the attached
    /// tabs' reports (`network.rs`): offline only while it and every tab that reported say so.
    pub fn handle_online(&mut self, now: Ms, online: bool) {
        self.tick(now);
        self.own_online = online;
        self.network_changed(online);
    }

    /// An attached client reported that its page saw the browser go offline or online. It
    /// counts while the client is attached, and alone never makes the engine offline
    /// (`network.rs`). An unknown client is refused with [`Error::NotAttached`].
    pub fn handle_tab_online(&mut self, now: Ms, client: ClientId, online: bool) -> Result<(), Error> {
        self.tick(now);
        self.clients.get_mut(&client).ok_or(Error::NotAttached)?.network = Some(online);
        self.network_changed(online);
        Ok(())
    }

    /// After any input about the network (`said_online`: whether that input said online).
    /// Going offline: no attempts (an open socket is kept until it closes). Going online:
    /// backoff resets and every endpoint that is not open tries at once. An input saying
    /// online while already online (the network came back after a change the engine never
    /// saw as offline) still wakes a `down` endpoint; one waiting to retry keeps its backoff.
    pub(super) fn network_changed(&mut self, said_online: bool) {
        let online = crate::network::online(self.own_online, self.clients.values().map(|c| c.network));
        let changed = self.online != online;
        self.online = online;
        for idx in 0..self.endpoints.len() {
            let conn = self.endpoints[idx].conn;
            if online {
                let stale = changed && matches!(conn, Conn::Offline | Conn::Waiting { .. });
                if stale || (said_online && conn == Conn::Down) {
                    self.retry_now(idx);
                }
            } else if changed && matches!(conn, Conn::Waiting { .. }) {
                self.endpoints[idx].conn = Conn::Offline;
            }
            if changed {
                self.touch(idx);
            }
        }
    }

    /// A tab reports a token (`client.setToken`). Reports within `debounceMs` count as one;
    /// a token equal to the current one does nothing; a new one causes at most one reconnect.
    pub fn handle_set_token(&mut self, now: Ms, client: ClientId, token: &str) -> Result<(), Error> {
        self.tick(now);
        if !is_usable_token(token) {
            return Err(Error::BadMessage(["a token must be 1 to ", &decimal(MAX_TOKEN_BYTES as u64), " bytes"].concat()));
        }
        let idx = self.client_ep(client)?;
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        if ep.pending_token.is_none() && ep.token.as_deref() == Some(token) {
            return Ok(());
        }
        ep.pending_token = Some((token.to_string(), now.saturating_add(ep.options.token.debounce_ms)));
        Ok(())
    }

    /// The result of a [`Action::FetchToken`]. A fetch before a connect continues it; a
    /// poll that brings a new token reconnects once.
    pub fn handle_token_fetched(&mut self, now: Ms, endpoint: EndpointId, result: Result<&str, &str>) {
        self.tick(now);
        let Some(idx) = self.ep_index(endpoint) else { return };
        let ep = &mut self.endpoints[idx];
        ep.fetch_in_flight = false;
        let waiting = matches!(ep.conn, Conn::Fetching { .. });
        match result.map(str::trim) {
            Ok(t) if is_usable_token(t) => {
                let changed = ep.token.as_deref() != Some(t);
                let had = ep.token.is_some();
                ep.token = Some(t.to_string());
                ep.last_error = None;
                self.log(idx, |_| LogEvent::TokenFetched { ok: true, changed, error: None });
                if waiting {
                    self.open_socket(idx);
                } else if changed && had {
                    self.rotate(idx);
                }
            }
            other => {
                let why = match other {
                    Ok(_) => "the token URL returned an empty or oversized token".to_string(),
                    Err(e) => ["token fetch failed: ", &ep.redacted(e)].concat(),
                };
                ep.last_error = Some(truncate_reason(&why));
                self.log(idx, |_| LogEvent::TokenFetched { ok: false, changed: false, error: Some(truncate_reason(&why)) });
                if waiting {
                    self.failed_attempt(idx);
                    self.schedule_retry(idx, RetryPlan::backoff());
                }
            }
        }
        self.touch(idx);
    }

    /// The socket opened (with no subprotocol chosen).
    pub fn handle_open(&mut self, now: Ms, socket: SocketId) {
        self.handle_open_with_protocol(now, socket, "");
    }

    /// The socket opened and the server chose `protocol` (`""`: none), shown in the status.
    pub fn handle_open_with_protocol(&mut self, now: Ms, socket: SocketId, protocol: &str) {
        self.tick(now);
        let Some(idx) = self.ep_index_by_socket(socket) else { return };
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        if let Conn::Connecting { .. } = ep.conn {
            ep.conn = Conn::Open { socket, since: now };
            ep.protocol = (!protocol.is_empty()).then(|| protocol.chars().take(256).collect());
            let chosen = ep.protocol.clone();
            self.log(idx, |_| LogEvent::Open { protocol: chosen });
            let ep = &mut self.endpoints[idx];
            ep.counters.connects += 1;
            ep.breaker.on_open();
            ep.auth_retry_used = false;
            ep.last_error = None;
            ep.heartbeat = ep.options.heartbeat.as_ref().map(|h| Heartbeat::start(now, h));
            // Every active topic again, then the sends that waited, in order.
            if let Some(o) = ep.options.topics.as_ref() {
                for t in ep.topics.names() {
                    ep.counters.subscribes += 1;
                    self.actions.push_back(Action::SendText { socket, data: fill_template(&o.subscribe, t) });
                }
            }
            for q in ep.queue.take_all() {
                ep.counters.frames_out += 1;
                ep.counters.bytes_out += q.len as u64;
                self.actions.push_back(Action::WriteQueued { socket, client: q.client, send: q.send });
            }
            self.touch(idx);
        }
    }

    /// The socket closed (or failed to connect: browsers report that as a close, 1006).
    /// Events of sockets that are no longer current are ignored ("single writer").
    pub fn handle_close(&mut self, now: Ms, socket: SocketId, code: u16, reason: &str) {
        self.tick(now);
        let Some(idx) = self.ep_index_by_socket(socket) else { return };
        self.lost(idx, code, reason);
    }

    /// The WebSocket constructor threw (bad URL, blocked mixed content, CSP): no retry can
    /// succeed, so the endpoint is closed and its clients are told why (token redacted) with
    /// [`Action::OpenFailed`]. The shell reports this while it carries out the
    /// [`Action::OpenSocket`], so that answer goes to the front of the queue: the clients
    /// hear why before any status the actions queued earlier would send. A socket that is
    /// not current is ignored.
    pub fn handle_open_failed(&mut self, now: Ms, socket: SocketId, message: &str) {
        self.tick(now);
        let Some(idx) = self.ep_index_by_socket(socket) else { return };
        let ep = &mut self.endpoints[idx];
        let message = ep.redacted(message);
        ep.conn = Conn::Closed;
        ep.last_close = Some(CloseInfo { code: 1006, reason: truncate_reason(&message) });
        ep.last_error = Some(truncate_reason(&message));
        self.actions.push_front(Action::OpenFailed { endpoint: ep.id, message });
        self.touch(idx);
    }

    pub(super) fn failed_attempt(&mut self, idx: usize) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        let o = ep.options.breaker.clone();
        ep.breaker.on_failure(now, &o);
    }

    pub(super) fn lost(&mut self, idx: usize, code: u16, reason: &str) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        let rule = ep.close_table.rule_for(code);
        let retries = self.online && matches!(rule.action, CloseAction::Retry | CloseAction::RetryNow);
        let mut plan = RetryPlan::after_close(rule, reason);
        match ep.conn {
            Conn::Open { since, .. } => {
                let up = now.saturating_sub(since);
                ep.durations.push(up);
                if up >= ep.options.backoff.min_uptime_ms {
                    ep.attempt = 0;
                    ep.last_delay = None;
                    ep.breaker.forgive();
                } else if retries && !plan.followed_hint {
                    // Dropped before minUptimeMs by a server we go back to (a flapping
                    // one): a failed attempt. An expired token or a fatal code is not, nor a
                    // close that says when to come back (a drain: the server's plan).
                    self.failed_attempt(idx);
                }
            }
            _ => self.failed_attempt(idx),
        }
        let ep = &mut self.endpoints[idx];
        ep.heartbeat = None;
        ep.rtt = None;
        ep.protocol = None;
        ep.closes.push(code);
        ep.last_close = Some(CloseInfo { code, reason: truncate_reason(&ep.redacted(reason)) });
        let online = self.online;
        self.log(idx, |ep| LogEvent::Close {
            code,
            reason: truncate_reason(&ep.redacted(reason)),
            class: if online { LogEvent::class_of(ep.close_table.action_for(code)) } else { "offline" },
        });
        let ep = &mut self.endpoints[idx];
        if !self.online {
            ep.conn = Conn::Offline;
            self.touch(idx);
            return;
        }
        match rule.action {
            CloseAction::Retry | CloseAction::RetryNow => {
                plan.hint = plan.hint.map(|h| ep.redacted(&h));
                if plan.followed_hint {
                    ep.counters.server_hints += 1;
                }
                self.schedule_retry(idx, plan);
            }
            CloseAction::RefreshToken => {
                if ep.options.token.url.is_some() && !ep.auth_retry_used {
                    // Fetch a fresh token and retry once, at once.
                    ep.auth_retry_used = true;
                    ep.attempt = ep.attempt.saturating_add(1);
                    self.start_attempt(idx);
                } else {
                    ep.conn = Conn::Unauthorized;
                }
            }
            CloseAction::Fatal => ep.conn = Conn::Closed,
        }
        self.touch(idx);
    }

    /// Plans the next attempt: `plan`'s wait, then a draw over its window or the backoff's
    /// delay (none for `retry-now`), held later by an open breaker; at once when that is now.
    pub(super) fn schedule_retry(&mut self, idx: usize, plan: RetryPlan) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        ep.attempt = ep.attempt.saturating_add(1);
        if ep.options.backoff.max_attempts.is_some_and(|max| ep.attempt > max) {
            ep.conn = Conn::Down;
            let attempt = ep.attempt - 1;
            self.log(idx, |_| LogEvent::Down { attempt });
            return;
        }
        let drawn = match plan.within_ms {
            // A drain window replaces the backoff's delay: uniform over [0, window].
            Some(window) => self.rng.next_u64() % window.saturating_add(1),
            None if plan.at_once => 0,
            None => {
                let delay = ep.options.backoff.delay(ep.attempt, ep.last_delay, &mut self.rng);
                ep.last_delay = Some(delay);
                delay
            }
        };
        let planned = now.saturating_add(plan.wait_ms).saturating_add(drawn);
        let retry_at = ep.breaker.gate(planned);
        let reason = if retry_at > planned { RetryReason::Breaker } else { plan.reason };
        let attempt = ep.attempt;
        let hint = plan.hint;
        self.log(idx, |_| LogEvent::Retry { attempt, delay_ms: planned - now, at: retry_at, hint });
        let ep = &mut self.endpoints[idx];
        if retry_at <= now {
            self.start_attempt(idx);
        } else {
            ep.conn = Conn::Waiting { retry_at, reason };
        }
    }

    /// Asks the shell to fetch a token from `url`, unless a fetch is already out (one at a
    /// time per endpoint, for attempts and polls alike).
    pub(super) fn fetch_token(&mut self, idx: usize, url: String) {
        let ep = &mut self.endpoints[idx];
        if ep.fetch_in_flight {
            return;
        }
        ep.fetch_in_flight = true;
        ep.counters.token_fetches += 1;
        let endpoint = ep.id;
        self.actions.push_back(Action::FetchToken { endpoint, url });
        self.log(idx, |_| LogEvent::TokenFetch);
    }

    /// Starts an attempt: a token fetch first when `token.url` is set, else the socket.
    pub(super) fn start_attempt(&mut self, idx: usize) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        ep.breaker.on_attempt();
        match ep.options.token.url.clone() {
            Some(url) => {
                ep.conn = Conn::Fetching { deadline: now.saturating_add(ep.options.connect_timeout_ms) };
                self.fetch_token(idx, url);
            }
            None => self.open_socket(idx),
        }
    }

    pub(super) fn open_socket(&mut self, idx: usize) {
        let socket = SocketId(self.fresh_id());
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        ep.conn = Conn::Connecting { socket, deadline: now.saturating_add(ep.options.connect_timeout_ms) };
        ep.heartbeat = None;
        ep.counters.attempts += 1;
        let mut url = match &ep.token {
            Some(t) => with_token(&ep.url, &ep.options.token.param, t),
            None => ep.url.clone(),
        };
        if let (Some(q), Some(last)) = (ep.options.sequence.as_ref(), ep.sequence.last()) {
            url = with_param(&url, &q.resume_param, &decimal(last));
        }
        let attempt = ep.attempt;
        self.log(idx, |ep| LogEvent::Connect { attempt, url: ep.redacted(&url) });
        self.actions.push_back(Action::OpenSocket { socket, url });
    }

    /// Replaces the socket with one that uses the current token: one reconnect, no backoff.
    pub(super) fn rotate(&mut self, idx: usize) {
        let ep = &mut self.endpoints[idx];
        match ep.conn {
            Conn::Open { socket, .. } | Conn::Connecting { socket, .. } => {
                self.actions.push_back(Action::CloseSocket { socket, code: 1000, reason: "token changed".into() });
                ep.counters.token_reconnects += 1;
                self.open_socket(idx);
            }
            Conn::Unauthorized => {
                // A new token is a fresh start: no failure before it counts.
                ep.attempt = 0;
                ep.last_delay = None;
                ep.auth_retry_used = false;
                self.start_attempt(idx);
            }
            // Waiting, offline, down or closed: the next attempt uses the new token.
            _ => {}
        }
    }
}
