//! The connection's life: attempts (a token fetch first when `token.url` is set), open,
//! close, retries with backoff behind the breaker, going offline and online, and tokens.

use super::{truncate_reason, Engine};
use crate::action::Action;
use crate::close_policy::CloseAction;
use crate::endpoint::Conn;
use crate::error::{decimal, EngineError, Error, ProtocolError};
use crate::heartbeat::Heartbeat;
use crate::ids::{ClientId, EndpointId, SocketId};
use crate::integrity::fill_template;
use crate::log::LogEvent;
use crate::retry_plan::RetryPlan;
use crate::status::{CloseInfo, RetryReason};
use crate::time::Ms;
use crate::token::{is_usable_token, with_param, with_token, MAX_TOKEN_BYTES};
use crate::token_ask::{self, TokenAsk, ASK_TIMEOUT_MS};
use super::TokenClaim;
use crate::endpoint::Endpoint;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// How long a socket must have stayed open for a refresh-token close to count as a new
/// expiry (refresh and retry once more) rather than the refreshed token being refused too.
pub const TOKEN_WORKED_MS: Ms = 1_000;

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
        // Signed out: only a new token starts it again (a socket without one would be nobody's).
        if ep.signed_out || matches!(ep.conn, Conn::Open { .. } | Conn::Connecting { .. } | Conn::Fetching { .. }) {
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
    /// (`network.rs`). An unknown client is refused with [`ProtocolError::NotAttached`].
    pub fn handle_tab_online(&mut self, now: Ms, client: ClientId, online: bool) -> Result<(), Error> {
        self.tick(now);
        self.clients.get_mut(&client).ok_or(Error::Protocol(ProtocolError::NotAttached))?.network = Some(online);
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
            return Err(Error::Protocol(ProtocolError::BadMessage(["a token must be 1 to ", &decimal(MAX_TOKEN_BYTES as u64), " bytes"].concat())));
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
        if !ep.fetch_in_flight {
            // Given up on (a sign-out came first): the answer is not used.
            return;
        }
        ep.fetch_in_flight = false;
        match result.map(str::trim) {
            Ok(t) if is_usable_token(t) => self.token_arrived(idx, t),
            Ok(_) => self.token_failed(idx, "the token URL returned an empty or oversized token".into()),
            Err(e) => {
                let why = ["token fetch failed: ", &ep.redacted(e)].concat();
                self.token_failed(idx, why);
            }
        }
        self.touch(idx);
    }

    /// The token URL answered `status` 401 or 403: the user is signed out, so the endpoint
    /// is too, for every tab ([`Engine::handle_sign_out`]), instead of keeping the old token.
    pub fn handle_token_refused(&mut self, now: Ms, endpoint: EndpointId, status: u16) {
        self.tick(now);
        let Some(idx) = self.ep_index(endpoint) else { return };
        if !core::mem::take(&mut self.endpoints[idx].fetch_in_flight) {
            return;
        }
        let why = ["the token URL answered ", &decimal(status.into())].concat();
        self.sign_out(idx, &why, 0);
    }

    /// A tab's answer to [`Action::AskToken`]: a token (used for the whole browser, like a
    /// fetched one), `Ok(None)` (its `token.get` returned no token: signed out, as
    /// [`Engine::handle_sign_out`]) or an error (like a failed fetch). An answer to a
    /// question no longer out (answered, passed over, given up) is ignored.
    pub fn handle_token_answer(&mut self, now: Ms, client: ClientId, req: u64, result: Result<Option<&str>, &str>) {
        self.tick(now);
        let asked = |e: &Endpoint| e.ask.as_ref().is_some_and(|a| a.client == client && a.req == req);
        let Some(idx) = self.endpoints.iter().position(asked) else { return };
        self.endpoints[idx].ask = None;
        match result {
            Ok(Some(t)) if is_usable_token(t) => self.token_arrived(idx, t),
            Ok(Some(_)) => self.token_failed(idx, "token.get returned an empty or oversized token".into()),
            Ok(None) => self.sign_out(idx, "token.get returned no token", 0),
            Err(e) => {
                let why = ["token.get failed: ", &self.endpoints[idx].redacted(e)].concat();
                self.token_failed(idx, why);
            }
        }
        self.touch(idx);
    }

    /// A tab signs out (`client.signOut()`, `setToken(null)`): at once, for every tab of the
    /// endpoint, the token is dropped, the socket closed (1000 "signed out"), queued sends
    /// failed and kept frames forgotten (none of the old identity reaches a page after
    /// this); the state is `unauthorized` until a tab sets a token.
    pub fn handle_sign_out(&mut self, now: Ms, client: ClientId) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        self.sign_out(idx, "signed out", 0);
        Ok(())
    }

    /// See [`Engine::handle_sign_out`]; the change gets a number of at least `gen`.
    pub(super) fn sign_out(&mut self, idx: usize, why: &str, gen: u64) {
        let ep = &mut self.endpoints[idx];
        if let Some(socket) = ep.socket() {
            self.actions.push_back(Action::CloseSocket { socket, code: 1000, reason: "signed out".into() });
        }
        ep.token = None;
        ep.pending_token = None;
        ep.fetch_in_flight = false;
        ep.ask = None;
        ep.next_poll = None;
        ep.signed_out = true;
        ep.heartbeat = None;
        ep.conn = Conn::Unauthorized;
        ep.last_error = Some(why.into());
        // What belonged to the old identity goes: its sends, its kept frames, its place in
        // the stream.
        for q in ep.queue.take_all() {
            let error = Error::Engine(EngineError::NotOpen("unauthorized".into()));
            self.actions.push_back(Action::SendFailed { client: q.client, send: q.send, error });
        }
        for replay in ep.replay.all_ids() {
            self.actions.push_back(Action::Forget { replay });
        }
        ep.replay = Default::default();
        ep.away = None;
        ep.sequence = Default::default();
        ep.dedup = Default::default();
        self.log(idx, |_| LogEvent::SignedOut { reason: why.into() });
        self.token_changed(idx, gen);
        self.touch(idx);
    }

    /// The endpoint's token is now `ep.token`: numbered (at least `gen`) and told to its tabs.
    pub(super) fn token_changed(&mut self, idx: usize, gen: u64) {
        let ep = &mut self.endpoints[idx];
        ep.token_gen = gen.max(ep.token_gen.saturating_add(1));
        let (clients, token, gen) = (ep.clients.clone(), ep.token.clone(), ep.token_gen);
        self.actions.push_back(Action::Token { clients, token, gen });
    }

    /// A usable token came (fetched, or a tab's answer): a wait for it continues the connect;
    /// a new one while connected reconnects once.
    fn token_arrived(&mut self, idx: usize, t: &str) {
        let ep = &mut self.endpoints[idx];
        let changed = ep.token.as_deref() != Some(t);
        let had = ep.token.is_some();
        ep.token = Some(t.to_string());
        ep.last_error = None;
        self.log(idx, |_| LogEvent::TokenFetched { ok: true, changed, error: None });
        if changed {
            self.token_changed(idx, 0);
        }
        if matches!(self.endpoints[idx].conn, Conn::Fetching { .. }) {
            self.open_socket(idx);
        } else if changed && had {
            self.rotate(idx);
        }
    }

    /// No token came (`why`, redacted): a connect waiting for it is a failed attempt.
    fn token_failed(&mut self, idx: usize, why: String) {
        let why = truncate_reason(&why);
        self.endpoints[idx].last_error = Some(why.clone());
        self.log(idx, |_| LogEvent::TokenFetched { ok: false, changed: false, error: Some(why) });
        if matches!(self.endpoints[idx].conn, Conn::Fetching { .. }) {
            self.failed_attempt(idx);
            self.schedule_retry(idx, RetryPlan::backoff());
        }
    }

    /// Whether a client of endpoint `idx` has `token.get`.
    pub(super) fn has_getter(&self, idx: usize) -> bool {
        self.endpoints[idx].clients.iter().any(|c| self.clients.get(c).is_some_and(|e| e.getter))
    }

    /// Asks a tab with `token.get` for a token, unless a question is out already.
    pub(super) fn ask_token(&mut self, idx: usize) {
        if self.endpoints[idx].ask.is_none() {
            self.ask_next(idx, Vec::new(), "no tab with token.get is attached");
        }
    }

    /// Asks the next tab not in `asked` ([`token_ask::choose`]); with none left, the token
    /// failed (`why`).
    pub(super) fn ask_next(&mut self, idx: usize, mut asked: Vec<ClientId>, why: &str) {
        let now = self.now();
        let ep = &self.endpoints[idx];
        let candidates = ep.clients.iter().filter_map(|c| self.clients.get(c).filter(|e| e.getter).map(|e| (*c, e.seen)));
        match token_ask::choose(candidates, &asked) {
            Some(client) => {
                asked.push(client);
                let req = u64::from(self.fresh_id());
                let ep = &mut self.endpoints[idx];
                ep.ask = Some(TokenAsk { client, req, deadline: now.saturating_add(ASK_TIMEOUT_MS), asked });
                ep.counters.token_fetches += 1;
                self.actions.push_back(Action::AskToken { client, req });
                self.log(idx, |_| LogEvent::TokenFetch);
            }
            None => {
                self.endpoints[idx].ask = None;
                self.token_failed(idx, why.into());
            }
        }
    }

    /// A client with `token.get` attached to an existing endpoint: one waiting for a token
    /// (`token.required`) asks it now, and the token is polled from now on.
    pub(super) fn getter_came(&mut self, idx: usize) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        if ep.signed_out {
            return;
        }
        if ep.next_poll.is_none() {
            ep.next_poll = Some(now.saturating_add(ep.options.token.poll_ms));
        }
        if ep.conn == Conn::NeedToken {
            self.start_attempt(idx);
        }
    }

    /// The token a tab brought in its hello to an existing endpoint (see
    /// [`Engine::handle_hello`]); `token` is the claim's token, or the tab's `token.value`.
    pub(super) fn take_claim(&mut self, idx: usize, client: ClientId, claim: TokenClaim<'_>, token: Option<&str>) {
        let ep = &mut self.endpoints[idx];
        if claim.gen > ep.token_gen {
            match claim.token.filter(|t| is_usable_token(t)) {
                Some(t) => {
                    if ep.token.as_deref() != Some(t) {
                        ep.token = Some(t.to_string());
                        self.token_changed(idx, claim.gen);
                        self.rotate(idx);
                    } else {
                        ep.token_gen = claim.gen;
                    }
                }
                None => self.sign_out(idx, "signed out", claim.gen),
            }
        } else if claim.gen == ep.token_gen {
            // As new as the endpoint's (the same change, or both a tab's own `token.value`):
            // the later word wins, debounced like `setToken`; a sign-out stays until a change.
            if let Some(t) = token.filter(|_| !ep.signed_out) {
                let now = self.now();
                let _ = self.handle_set_token(now, client, t);
            }
        } else {
            // An older word: the tab is told the endpoint's, to carry from now on.
            let ep = &self.endpoints[idx];
            self.actions.push_back(Action::Token { clients: Vec::from([client]), token: ep.token.clone(), gen: ep.token_gen });
        }
    }

    /// Client `client` became visible: it is the first asked for a token from now on, and an
    /// endpoint that is `down` tries again ([`Engine::handle_visible`]).
    pub fn handle_client_visible(&mut self, now: Ms, client: ClientId) {
        self.tick(now);
        let seen = self.now();
        if let Some(e) = self.clients.get_mut(&client) {
            e.seen = seen;
        }
        self.handle_visible(now);
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
    /// [`Action::OpenFailed`]. An ordinary input: the shell reports it after it has carried
    /// out the actions drained with the [`Action::OpenSocket`]. A socket that is not current
    /// is ignored.
    pub fn handle_open_failed(&mut self, now: Ms, socket: SocketId, message: &str) {
        self.tick(now);
        let Some(idx) = self.ep_index_by_socket(socket) else { return };
        let ep = &mut self.endpoints[idx];
        let message = ep.redacted(message);
        ep.conn = Conn::Closed;
        ep.last_close = Some(CloseInfo { code: 1006, reason: truncate_reason(&message) });
        ep.last_error = Some(truncate_reason(&message));
        self.actions.push_back(Action::OpenFailed { endpoint: ep.id, message });
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
                if up >= TOKEN_WORKED_MS {
                    // Its token worked for a while: a refresh-token close now is a new expiry,
                    // refreshed again (a server that refuses it at once gets one refresh).
                    ep.auth_retry_used = false;
                }
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
                let refreshable = ep.options.token.url.is_some() || self.has_getter(idx);
                let ep = &mut self.endpoints[idx];
                if refreshable && !ep.auth_retry_used {
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

    /// Starts an attempt: a token first when it comes from `token.url` (fetched) or a tab's
    /// `token.get` (asked); with `token.required` (implied by those two) and no token, a wait
    /// for one; else the socket.
    pub(super) fn start_attempt(&mut self, idx: usize) {
        let now = self.now();
        let getter = self.has_getter(idx);
        let ep = &mut self.endpoints[idx];
        ep.breaker.on_attempt();
        let t = &ep.options.token;
        let required = t.required || t.get || t.url.is_some();
        let fetching = Conn::Fetching { deadline: now.saturating_add(ep.options.connect_timeout_ms) };
        match t.url.clone() {
            Some(url) => {
                ep.conn = fetching;
                self.fetch_token(idx, url);
            }
            None if getter => {
                ep.conn = fetching;
                self.ask_token(idx);
            }
            None if required && ep.token.is_none() => ep.conn = Conn::NeedToken,
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
            Conn::Unauthorized | Conn::NeedToken => {
                // A new token is a fresh start: no failure before it counts.
                if core::mem::take(&mut ep.signed_out) {
                    let poll = ep.options.token.url.is_some() || ep.options.token.get;
                    ep.next_poll = poll.then(|| self.clock.now().saturating_add(ep.options.token.poll_ms));
                }
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
