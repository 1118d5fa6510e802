//! The engine: one state machine for every endpoint a browser (or a page) connects to.
//!
//! # Contract (sans-IO)
//! - Inputs are `handle_*` calls, each with the current time in ms. Time never goes back:
//!   a smaller `now` is treated as the last one seen ([`crate::time::Clock`]).
//! - Outputs are [`Action`]s drained with [`Engine::poll_action`] after every input, in order.
//! - [`Engine::poll_timeout`] is the next deadline; the shell calls
//!   [`Engine::handle_timeout`] at (or after) it. A spurious or early call is a no-op.
//! - Frames are never held here: [`Engine::handle_frame`] answers which clients get a frame,
//!   and the shell passes the frame's original JS value to them.
//!
//! # Where things are
//! This file: clients coming and going, frames in, sends out, topics. `connection.rs`: the
//! connection's life (attempts, open, close, retries, tokens). `timeout.rs`: the deadlines.
//! `report.rs`: status, stats and the debug log. The state of each feature is its own type
//! in its own file: `heartbeat.rs`, `dedup.rs`, `sequence.rs`, `send_queue.rs`, `replay.rs`,
//! `topics.rs`, `breaker.rs`; an endpoint holding them all is `endpoint.rs`, and every
//! deadline is in the one table of `timers.rs`.

mod connection;
mod lead;
mod report;
mod timeout;

use crate::action::{Action, Delivery, FrameMeta, SendOutcome};
use crate::away::{Away, HELD};
use crate::endpoint::{Conn, Endpoint};
use crate::error::{EngineError, Error, ProtocolError};
use crate::ids::{ClientId, EndpointId, SocketId};
use crate::integrity::{fill_template, MAX_TOPIC_BYTES};
use crate::options::Options;
use crate::protocol::{MAX_CLIENTS, MAX_ENDPOINTS};
use crate::request_budget::RequestBudget;
use crate::rng::Rng;
use crate::sequence::SeqCheck;
use crate::status::RetryReason;
use crate::sorted_map::SortedMap;
use crate::time::{Clock, Ms};
use crate::token::is_usable_token;
use crate::topics::check_topic;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

pub use crate::token_ask::ASK_TIMEOUT_MS;

/// The close code tabmux uses when a connect attempt times out.
pub const CONNECT_TIMEOUT_CODE: u16 = 4008;

/// How long a new endpoint made by a resuming hello waits before its first attempt, so that
/// the other tabs' hellos to the same new worker (sent at the same moment, after the same
/// delay) come in and the stream resumes after the lowest number any of them had.
pub const RESUME_GATHER_MS: Ms = 100;

/// How long after a new worker's first resuming hello a tab that is further behind still
/// gets the stream from its own number: the socket is dialed again once with the lower
/// number. A background tab's replacement timer can fire a second late (browsers clamp
/// hidden tabs' timers to 1 s), well after [`RESUME_GATHER_MS`].
pub const RESUME_WINDOW_MS: Ms = 5_000;

#[derive(Debug)]
struct ClientEntry {
    endpoint: EndpointId,
    tab_id: String,
    debug: bool,
    /// Its `history`/`stats` requests in the current window.
    requests: RequestBudget,
    /// Its page's latest report of the network (`network.rs`); `None` before one.
    network: Option<bool>,
    /// Its page has `token.get` (`token_ask.rs`).
    getter: bool,
    /// When it attached or last became visible: the tab asked for a token is the latest.
    seen: Ms,
}

/// The token a tab brings in its hello: its last one (`None` after a sign-out, or never
/// set), with the number of the change it came from (0: its own `token.value`, or none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenClaim<'a> {
    /// The token.
    pub token: Option<&'a str>,
    /// The change's number ([`crate::action::Action::Token`]).
    pub gen: u64,
}

/// The engine. See the module docs for the contract.
#[derive(Debug)]
pub struct Engine {
    clock: Clock,
    rng: Rng,
    next_id: u32,
    next_replay: u64,
    /// Whether the engine treats the browser as online (`network.rs`), as of the last change.
    online: bool,
    /// The engine's own context's view of the network.
    own_online: bool,
    endpoints: Vec<Endpoint>,
    clients: SortedMap<ClientId, ClientEntry>,
    actions: VecDeque<Action>,
}

impl Engine {
    /// A new engine whose random choices (jitter) all follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Engine {
            clock: Clock::default(),
            rng: Rng::new(seed),
            next_id: 1,
            next_replay: 1,
            online: true,
            own_online: true,
            endpoints: Vec::new(),
            clients: SortedMap::new(),
            actions: VecDeque::new(),
        }
    }

    /// An input arrives at `now`: the time to act on (never earlier than the last one).
    fn tick(&mut self, now: Ms) -> Ms {
        self.clock.advance(now)
    }

    fn now(&self) -> Ms {
        self.clock.now()
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    fn ep_index(&self, id: EndpointId) -> Option<usize> {
        self.endpoints.iter().position(|e| e.id == id)
    }

    fn ep_index_by_socket(&self, socket: SocketId) -> Option<usize> {
        self.endpoints.iter().position(|e| e.socket() == Some(socket))
    }

    fn client_ep(&self, client: ClientId) -> Result<usize, Error> {
        let entry = self.clients.get(&client).ok_or(Error::Protocol(ProtocolError::NotAttached))?;
        self.ep_index(entry.endpoint).ok_or(Error::Protocol(ProtocolError::NotAttached))
    }

    /// Attaches a client to the endpoint named by `options.url`, creating the endpoint
    /// (and starting its first attempt) when it is the first. Options are validated here too;
    /// a later client's options for an existing endpoint are ignored (the first one's rule).
    pub fn handle_attach(&mut self, now: Ms, tab_id: &str, options: Options) -> Result<(ClientId, EndpointId), Error> {
        self.handle_attach_with_token(now, tab_id, options, None)
    }

    /// [`Engine::handle_attach`] for a client that already has a token (a tab saying hello again to
    /// a replacement worker): a new endpoint's first attempt uses it, so it connects once, not
    /// once without and again with it; an existing endpoint takes it like
    /// [`Engine::handle_set_token`]. A token that is empty or too long is ignored here (it was
    /// refused when it was set).
    pub fn handle_attach_with_token(
        &mut self,
        now: Ms,
        tab_id: &str,
        options: Options,
        token: Option<&str>,
    ) -> Result<(ClientId, EndpointId), Error> {
        self.handle_attach_resuming(now, tab_id, options, token, None)
    }

    /// [`Engine::handle_attach_with_token`] for a tab that says hello to a new worker (its
    /// old one ended) after delivering every sequence number up to `resume` (with `sequence`
    /// on): the stream resumes after the lowest number the tabs had, so none of them misses a
    /// frame the server still holds. A new endpoint waits [`RESUME_GATHER_MS`] before its
    /// first attempt for the other tabs' hellos; an endpoint not dialing yet takes the lower
    /// number. Within [`RESUME_WINDOW_MS`] of the first resuming hello, a number below the
    /// endpoint's last (the socket was dialed from a higher one, or delivered past it before
    /// this tab came) dials the socket again from it (the tabs ahead drop what they had);
    /// later, the socket keeps going (that tab sees a gap of its own).
    pub fn handle_attach_resuming(
        &mut self,
        now: Ms,
        tab_id: &str,
        options: Options,
        token: Option<&str>,
        resume: Option<u64>,
    ) -> Result<(ClientId, EndpointId), Error> {
        self.handle_hello(now, tab_id, options, TokenClaim { token, gen: 0 }, resume)
    }

    /// [`Engine::handle_attach_resuming`] with the token a tab carries from its last worker
    /// and the number of the change it came from. Of the tabs that say hello to a new worker
    /// the newest change wins: a token newer than the endpoint's replaces it (one reconnect),
    /// a sign-out newer than it signs the endpoint out, an older one is ignored (and the
    /// tab is told the endpoint's). One as new as the endpoint's (both 0: a tab's own
    /// `token.value` or last token against a first one) is taken like `setToken`, unless the
    /// endpoint is signed out.
    pub fn handle_hello(
        &mut self,
        now: Ms,
        tab_id: &str,
        options: Options,
        claim: TokenClaim<'_>,
        resume: Option<u64>,
    ) -> Result<(ClientId, EndpointId), Error> {
        self.tick(now);
        let resume = resume.filter(|_| options.sequence.is_some());
        options.validate()?;
        let value = options.token.value.clone();
        let token = claim.token.filter(|t| is_usable_token(t)).or(value.as_deref());
        let getter = options.token.get;
        let debug = options.debug;
        if self.clients.len() >= MAX_CLIENTS {
            return Err(Error::Engine(EngineError::TooManyClients(self.clients.len())));
        }
        let client = ClientId(self.fresh_id());
        // An endpoint is a URL with its subprotocols and account: two accounts never share a socket.
        let existing = self.endpoints.iter().position(|e| e.options.same_endpoint(&options));
        if existing.is_none() {
            self.make_room_for_endpoint()?;
        }
        let idx = match existing {
            Some(i) => {
                let ep = &mut self.endpoints[i];
                ep.loggers += u32::from(debug);
                if let Some(n) = resume {
                    self.resume_after(i, n);
                }
                i
            }
            None => {
                let close_table = options.close_table()?;
                let id = EndpointId(self.fresh_id());
                self.endpoints.push(Endpoint::new(id, options, close_table, token, self.now(), debug));
                let i = self.endpoints.len() - 1;
                self.endpoints[i].token_gen = claim.gen;
                if let Some(n) = resume {
                    let ep = &mut self.endpoints[i];
                    ep.sequence.resume_after(n);
                    ep.resume_window = Some(self.clock.now().saturating_add(RESUME_WINDOW_MS));
                }
                i
            }
        };
        let ep = &mut self.endpoints[idx];
        ep.clients.push(client);
        ep.lead.join(client);
        ep.idle_until = None;
        let endpoint = ep.id;
        let seen = self.now();
        let entry = ClientEntry { endpoint, tab_id: tab_id.to_string(), debug, requests: RequestBudget::default(), network: None, getter, seen };
        self.clients.insert(client, entry);
        if existing.is_none() {
            // Started once its first client is in: a `token.get` of that client is asked.
            if claim.gen > 0 && claim.token.is_none() {
                // The newest word its tabs had was a sign-out: no socket until a token.
                self.sign_out(idx, "signed out", claim.gen);
            } else if !self.online {
                self.endpoints[idx].conn = Conn::Offline;
            } else if resume.is_some() {
                self.endpoints[idx].conn = Conn::Waiting { retry_at: self.now().saturating_add(RESUME_GATHER_MS), reason: RetryReason::Resume };
            } else {
                self.start_attempt(idx);
            }
        }
        // A page that comes while the endpoint is away (a reload, a navigation) gets the
        // frames without a topic that reached no page; topic frames wait for its subscribe.
        self.redeliver(idx, client, None);
        if existing.is_some() {
            self.take_claim(idx, client, claim, token);
            if getter {
                self.getter_came(idx);
            }
        }
        self.elect(idx);
        self.touch(idx);
        Ok((client, endpoint))
    }

    /// Before a new endpoint is made: below [`MAX_ENDPOINTS`] nothing happens; at it, the
    /// endpoint without clients (kept for `idleCloseMs`) that would close first is closed now,
    /// and with none such the attach is refused with [`EngineError::TooManyEndpoints`].
    fn make_room_for_endpoint(&mut self) -> Result<(), Error> {
        if self.endpoints.len() < MAX_ENDPOINTS {
            return Ok(());
        }
        let idle = (0..self.endpoints.len())
            .filter(|i| self.endpoints[*i].clients.is_empty())
            .min_by_key(|i| self.endpoints[*i].idle_until.unwrap_or(0));
        match idle {
            Some(i) => {
                self.remove_endpoint(i);
                Ok(())
            }
            // The number is written out (tests/caps.rs checks it against the constant).
            None => Err(Error::Engine(EngineError::TooManyEndpoints(
                "tabmux: this worker already holds 64 endpoints (URLs with their subprotocols), each with a client; a new URL waits until one of them is left".into(),
            ))),
        }
    }

    /// A tab that had every number up to `n` attaches to endpoint `idx` of a new worker.
    fn resume_after(&mut self, idx: usize, n: u64) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        match ep.conn {
            // Not dialed yet: the socket will resume after the lowest number.
            Conn::Waiting { .. } | Conn::Fetching { .. } | Conn::Offline | Conn::Down | Conn::Closed => ep.sequence.resume_after(n),
            // Dialed from a higher number, or past this one already (the frames after it went
            // to the tabs that came first), and still early: dial again from this one.
            Conn::Connecting { socket, .. } | Conn::Open { socket, .. }
                if ep.resume_window.is_some_and(|until| now <= until) && ep.sequence.last().is_some_and(|last| n < last) =>
            {
                ep.sequence.rewind_to(n);
                self.actions.push_back(Action::CloseSocket { socket, code: 1000, reason: "resuming from an earlier number".into() });
                self.open_socket(idx);
            }
            _ => {}
        }
    }

    /// Whether an endpoint for `options.url` exists with other settings (the first client's
    /// options apply to everyone; the shell warns the newcomer). `mode`, `workerUrl`,
    /// `workerTimeoutMs`, `json` and `debug` are the tab's own business and do not count.
    pub fn conflicting_options(&self, options: &Options) -> bool {
        self.endpoints.iter().any(|e| {
            e.options.same_endpoint(options) && {
                let mut theirs = e.options.clone();
                theirs.token.value.clone_from(&options.token.value);
                theirs.token.get = options.token.get;
                theirs.mode = options.mode;
                theirs.worker_url.clone_from(&options.worker_url);
                theirs.worker_timeout_ms = options.worker_timeout_ms;
                theirs.json = options.json;
                theirs.debug = options.debug;
                theirs != *options
            }
        })
    }

    /// Detaches a client (goodbye, closed port, dead tab). When it was the endpoint's last
    /// client the socket is closed (1000) and the endpoint forgotten, or, with `idleCloseMs`,
    /// kept that long for the next page (see [`Engine::handle_detach_unhandled`]). Unknown ids
    /// are ignored.
    pub fn handle_detach(&mut self, now: Ms, client: ClientId) {
        self.handle_detach_unhandled(now, client, &[]);
    }

    /// [`Engine::handle_detach`] for a client that said goodbye with the replay ids of the
    /// frames it was posted but did not handle (oldest first; a page unloading drops what
    /// was still on its way). When it was the endpoint's last client and `idleCloseMs` keeps
    /// the endpoint, the endpoint is *away* ([`crate::away`]): its topics stay subscribed and
    /// those frames, with every kept frame that reaches no page from now on, are handed to
    /// the next page that attaches (and subscribes).
    pub fn handle_detach_unhandled(&mut self, now: Ms, client: ClientId, unhandled: &[u64]) {
        let now = self.tick(now);
        let Some(entry) = self.clients.remove(&client) else { return };
        self.leave_endpoint(now, client, &entry, unhandled);
        // Its report of the network went with it: a tab that said online and closed no longer
        // keeps the others online (one that said offline never made them offline).
        self.network_changed(false);
    }

    /// The endpoint side of a detach: topics, queued sends, the endpoint kept or closed.
    fn leave_endpoint(&mut self, now: Ms, client: ClientId, entry: &ClientEntry, unhandled: &[u64]) {
        let Some(idx) = self.ep_index(entry.endpoint) else { return };
        let ep = &mut self.endpoints[idx];
        ep.clients.retain(|c| *c != client);
        ep.lead.leave(client);
        ep.loggers -= u32::from(entry.debug);
        let keep = ep.clients.is_empty() && ep.options.idle_close_ms > 0;
        if keep {
            // Its topics stay subscribed at the server, held for the next page…
            ep.topics.hand_over(client, HELD);
            let until = now.saturating_add(ep.options.idle_close_ms);
            let unhandled: alloc::vec::Vec<u64> =
                unhandled.iter().copied().filter(|id| ep.replay.topic_of(*id).is_some()).collect();
            match ep.away.as_mut() {
                // Away already (a page that came and went again): what is held stays.
                Some(away) => {
                    away.until = until;
                    unhandled.iter().for_each(|id| away.hold(*id));
                }
                None => ep.away = Some(Away::new(until, &unhandled)),
            }
        } else {
            // …or released (the last subscriber's leaving unsubscribes at the server)…
            for t in ep.topics.of_client(client) {
                self.release_topic(idx, client, &t);
            }
        }
        // …and its queued sends are dropped.
        for q in self.endpoints[idx].queue.take_client(client) {
            self.actions.push_back(Action::SendFailed { client, send: q.send, error: Error::Protocol(ProtocolError::NotAttached) });
        }
        // Asked for a token and gone: the next tab is asked at once.
        if let Some(ask) = self.endpoints[idx].ask.take_if(|a| a.client == client) {
            self.ask_next(idx, ask.asked, "the tab asked for a token left, and no other has token.get");
        }
        let ep = &mut self.endpoints[idx];
        if ep.clients.is_empty() {
            if ep.options.idle_close_ms == 0 {
                self.remove_endpoint(idx);
            } else {
                ep.idle_until = Some(now.saturating_add(ep.options.idle_close_ms));
                self.touch(idx);
            }
        } else {
            self.elect(idx);
            self.touch(idx);
        }
    }

    /// Closes an endpoint's socket and forgets it, with everything it held.
    fn remove_endpoint(&mut self, idx: usize) {
        let mut ep = self.endpoints.remove(idx);
        if let Some(socket) = ep.socket() {
            self.actions.push_back(Action::CloseSocket { socket, code: 1000, reason: "no tabs left".into() });
        }
        for replay in ep.replay.all_ids() {
            self.actions.push_back(Action::Forget { replay });
        }
        for q in ep.queue.take_all() {
            self.actions.push_back(Action::SendFailed { client: q.client, send: q.send, error: Error::Protocol(ProtocolError::NotAttached) });
        }
    }

    /// Subscribes a client to a topic. The first subscriber in the whole browser makes the
    /// engine send the subscribe frame (now if open, else on the next open).
    pub fn handle_subscribe(&mut self, now: Ms, client: ClientId, topic: &str) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        let Some(o) = ep.options.topics.as_ref() else {
            return Err(Error::Engine(EngineError::Topic("subscribe needs the topics option (key, subscribe, unsubscribe)".into())));
        };
        check_topic(topic)?;
        let frame = fill_template(&o.subscribe, topic);
        if ep.topics.subscribe(client, topic)? {
            if let Conn::Open { socket, .. } = ep.conn {
                ep.counters.subscribes += 1;
                self.actions.push_back(Action::SendText { socket, data: frame });
            }
        } else if ep.topics.holds(HELD, topic) {
            // Held for the next page since the last one left: this page takes it over (no
            // frame either way) with the frames that came for it meanwhile.
            ep.topics.release(HELD, topic);
            self.redeliver(idx, client, Some(topic));
        }
        Ok(())
    }

    /// Hands `client` the frames held for the next page that have `topic` (`None`: no topic).
    fn redeliver(&mut self, idx: usize, client: ClientId, topic: Option<&str>) {
        let ep = &mut self.endpoints[idx];
        let Some(away) = ep.away.as_mut() else { return };
        let replay = &ep.replay;
        let ids = away.take(|id| replay.topic_of(id) == Some(topic));
        if !ids.is_empty() {
            ep.counters.deliveries += ids.len() as u64;
            self.actions.push_back(Action::Redeliver { client, topic: topic.map(String::from), replay: ids });
        }
    }

    /// The endpoint stops being away: topics nobody took are unsubscribed, held frames go.
    pub(super) fn end_away(&mut self, idx: usize) {
        if self.endpoints[idx].away.take().is_none() {
            return;
        }
        for t in self.endpoints[idx].topics.of_client(HELD) {
            self.release_topic(idx, HELD, &t);
        }
    }

    /// Unsubscribes a client from a topic; the last one out sends the unsubscribe frame.
    pub fn handle_unsubscribe(&mut self, now: Ms, client: ClientId, topic: &str) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        self.release_topic(idx, client, topic);
        Ok(())
    }

    fn release_topic(&mut self, idx: usize, client: ClientId, topic: &str) {
        let ep = &mut self.endpoints[idx];
        ep.lead.set_exclusive(client, Some(topic), false);
        if !ep.topics.release(client, topic) {
            return;
        }
        if let (Conn::Open { socket, .. }, Some(o)) = (ep.conn, ep.options.topics.as_ref()) {
            let data = fill_template(&o.unsubscribe, topic);
            ep.counters.unsubscribes += 1;
            self.actions.push_back(Action::SendText { socket, data });
        }
    }

    /// A client's `history` or `stats` request at `now`: taken, or refused past
    /// [`crate::request_budget::REQUESTS_PER_WINDOW`] in a window, with
    /// [`EngineError::TooManyRequests`] (the other clients' budgets are their own).
    pub fn admit_request(&mut self, now: Ms, client: ClientId) -> Result<(), Error> {
        let now = self.tick(now);
        self.clients.get_mut(&client).ok_or(Error::Protocol(ProtocolError::NotAttached))?.requests.take(now)
    }

    /// The replay ids of the frames kept for `topic` (`None`: frames without a topic),
    /// oldest first.
    pub fn history(&self, client: ClientId, topic: Option<&str>) -> Result<Vec<u64>, Error> {
        let idx = self.client_ep(client)?;
        Ok(self.endpoints[idx].replay.ids(topic))
    }

    /// Whether actions are waiting to be drained.
    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    /// The next action for the shell, in the order they arose.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// A frame arrived on `socket`. Any frame proves the socket alive; a pong is measured
    /// and swallowed; a repeated sequence number or dedup key is dropped; a skipped sequence
    /// number raises a gap; a topic frame goes to its subscribers only.
    pub fn handle_frame(&mut self, now: Ms, socket: SocketId, meta: FrameMeta<'_>) -> Delivery<'_> {
        let now = self.tick(now);
        let Some(idx) = self.ep_index_by_socket(socket) else { return Delivery::Drop };
        let ep = &mut self.endpoints[idx];
        if !matches!(ep.conn, Conn::Open { .. }) {
            return Delivery::Drop;
        }
        ep.counters.frames_in += 1;
        ep.counters.bytes_in += meta.len as u64;
        if let Some(rtt) = ep.heartbeat.as_mut().and_then(|hb| hb.on_frame(now, meta.pong)) {
            ep.rtt = Some(rtt);
            ep.rtts.push(rtt);
            ep.last_pong_at = Some(now);
        }
        if meta.pong && ep.options.heartbeat.is_some() {
            ep.counters.pongs += 1;
            self.touch(idx);
            return Delivery::Drop;
        }
        if let Some(reply) = ep.options.server_ping.as_ref().filter(|_| meta.server_ping).map(|p| p.reply.clone()) {
            // Answered here, once for every tab; liveness like a pong; no tab sees it.
            ep.counters.server_pings += 1;
            ep.last_pong_at = Some(now);
            self.actions.push_back(Action::SendText { socket, data: reply });
            self.touch(idx);
            return Delivery::Drop;
        }
        if let Some(seq) = meta.seq.filter(|_| ep.options.sequence.is_some()) {
            match ep.sequence.check(seq) {
                SeqCheck::Repeat => {
                    ep.counters.duplicates += 1;
                    self.note_drop(idx, false);
                    return Delivery::Drop;
                }
                SeqCheck::Gap { from, to } => {
                    ep.counters.gaps += 1;
                    self.actions.push_back(Action::Gap { endpoint: ep.id, from, to });
                    self.note_drop(idx, true);
                }
                SeqCheck::InOrder => {}
            }
        }
        let ep = &mut self.endpoints[idx];
        if let (Some(key), Some(d)) = (meta.key, ep.options.dedup.as_ref()) {
            if ep.dedup.is_repeat(key, d.capacity) {
                ep.counters.duplicates += 1;
                self.note_drop(idx, false);
                return Delivery::Drop;
            }
        }
        let ep = &mut self.endpoints[idx];
        let topic = meta.topic.filter(|t| ep.options.topics.is_some() && t.len() <= MAX_TOPIC_BYTES);
        let retain = ep.replay.keep(&mut self.next_replay, topic, meta.len, &ep.options.replay, &mut self.actions);
        if let (Some(away), Some(id)) = (ep.away.as_mut(), retain) {
            // No page takes it now: the next one will.
            let unclaimed = match topic {
                Some(t) => ep.topics.holds(HELD, t),
                None => ep.clients.is_empty(),
            };
            if unclaimed {
                away.hold(id);
            }
        }
        let clients: &[ClientId] = match topic {
            Some(t) => {
                ep.counters.topic_frames += 1;
                ep.topics.subscribers(t)
            }
            None => &ep.clients,
        };
        ep.counters.deliveries += clients.iter().filter(|c| **c != HELD).count() as u64;
        let one = if ep.lead.any_exclusive() { ep.lead.one(topic, |c| clients.contains(&c)) } else { None };
        Delivery::To { clients, topic: topic.is_some(), retain, one }
    }

    /// A client sends a frame of `len` bytes (`send` is the shell's id for it): write it
    /// now, or queue it until the socket opens, or refuse it.
    pub fn handle_send(&mut self, now: Ms, client: ClientId, send: u64, len: usize) -> Result<SendOutcome, Error> {
        let now = self.tick(now);
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        if let Conn::Open { socket, .. } = ep.conn {
            ep.counters.frames_out += 1;
            ep.counters.bytes_out += len as u64;
            return Ok(SendOutcome::Write(socket));
        }
        if let Err(e) = ep.queue.push(now, client, send, len, &ep.options.queue) {
            ep.counters.errors += 1;
            return Err(e);
        }
        ep.counters.queued += 1;
        Ok(SendOutcome::Queued)
    }

    /// A send was refused by the shell after [`Engine::handle_send`] (for example a data
    /// type the socket cannot send): counted as an error.
    pub fn note_send_error(&mut self, now: Ms, client: ClientId) {
        self.tick(now);
        if let Ok(idx) = self.client_ep(client) {
            self.endpoints[idx].counters.errors += 1;
        }
    }

    /// The endpoint a client is attached to.
    pub fn endpoint_of(&self, client: ClientId) -> Option<EndpointId> {
        self.clients.get(&client).map(|c| c.endpoint)
    }

    /// The endpoint a current socket belongs to.
    pub fn endpoint_of_socket(&self, socket: SocketId) -> Option<EndpointId> {
        self.ep_index_by_socket(socket).map(|i| self.endpoints[i].id)
    }

    /// The options an endpoint was created with (the first client's).
    pub fn options_of(&self, endpoint: EndpointId) -> Option<&Options> {
        self.ep_index(endpoint).map(|i| &self.endpoints[i].options)
    }

    /// The clients of an endpoint, in attach order (empty for an unknown endpoint).
    pub fn clients_of(&self, endpoint: EndpointId) -> &[ClientId] {
        self.ep_index(endpoint).map_or(&[], |i| &self.endpoints[i].clients)
    }

    /// Whether the engine believes the browser is online (`network.rs`).
    pub fn online(&self) -> bool {
        self.online
    }

    /// How many clients' reports of the network are held (at most one per attached client).
    pub fn network_reports(&self) -> usize {
        self.clients.values().filter(|c| c.network.is_some()).count()
    }

    /// How many clients are attached, over all endpoints.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// How many endpoints are held.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }
}

/// Close reasons are at most 123 bytes on the wire; keep what we store as small.
fn truncate_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    // `get`, not `[..end]`: the same text (end is a boundary), and the wasm keeps no str
    // slicing panic path (its message formats a char with Debug and its tables).
    reason.get(..end).unwrap_or_default().to_string()
}
