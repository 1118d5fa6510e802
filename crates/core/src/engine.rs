//! The engine: one state machine for every endpoint a browser (or a page) connects to.
//!
//! # Contract (sans-IO)
//! - Inputs are `handle_*` calls, each with the current time in ms. Time never goes back:
//!   a smaller `now` is treated as the last one seen.
//! - Outputs are [`Action`]s drained with [`Engine::poll_action`] after every input, in order.
//! - [`Engine::poll_timeout`] is the next deadline; the shell calls
//!   [`Engine::handle_timeout`] at (or after) it. A spurious or early call is a no-op.
//! - Frames are never held here: [`Engine::handle_frame`] answers which clients get a frame,
//!   and the shell passes the frame's original JS value to them.

use crate::breaker::Breaker;
use crate::close_policy::{action_for, CloseAction};
use crate::error::Error;
use crate::heartbeat::{Quality, HEARTBEAT_TIMEOUT_CODE};
use crate::integrity::{fill_template, MAX_KEY_BYTES, MAX_TOPICS, MAX_TOPIC_BYTES};
use crate::log::{DropCounts, LogEvent, DROPS_EVERY_MS};
use crate::options::Options;
use crate::protocol::MAX_CLIENTS;
use crate::rng::Rng;
use crate::status::{CloseInfo, Counters, Health, Percentiles, State, Stats, Status};
use crate::token::{is_usable_token, redact, with_param, with_token, MAX_TOKEN_BYTES};
use crate::window::Window;
use crate::sorted_map::SortedMap;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;

/// Milliseconds: the engine's only unit of time.
pub type Ms = u64;

/// The close code tabmux uses when a connect attempt times out.
pub const CONNECT_TIMEOUT_CODE: u16 = 4008;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub struct $name(pub u32);
    };
}
id_type!(
    /// One attached client (a port in the worker, a `connect()` in direct mode).
    ClientId
);
id_type!(
    /// One WebSocket the shell created on the engine's request.
    SocketId
);
id_type!(
    /// One endpoint URL with its socket and its clients.
    EndpointId
);

/// What the shell must do, drained with [`Engine::poll_action`]. Not `#[non_exhaustive]`:
/// the shells match every variant (no `_` arm), so a new action fails their build instead of
/// being dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create a WebSocket to `url`; report its events with `socket`. The URL may carry the
    /// token: never log it.
    OpenSocket {
        /// The id to report events with.
        socket: SocketId,
        /// The URL to open.
        url: String,
    },
    /// Close this socket (and forget it: its later events are ignored anyway).
    CloseSocket {
        /// The socket.
        socket: SocketId,
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
    /// Send this text frame on the socket (the heartbeat's ping, a subscribe, a server ping's reply).
    SendText {
        /// The socket.
        socket: SocketId,
        /// The frame.
        data: String,
    },
    /// Fetch the token from `url` (with credentials) and report it with
    /// [`Engine::handle_token_fetched`].
    FetchToken {
        /// The endpoint the token is for.
        endpoint: EndpointId,
        /// Where to fetch it.
        url: String,
    },
    /// The endpoint's status changed: send [`Engine::status`] to [`Engine::clients_of`].
    Status {
        /// The endpoint.
        endpoint: EndpointId,
    },
    /// Write the queued send `send` of `client` on `socket` (in this order), then tell the
    /// client it was written.
    WriteQueued {
        /// The socket.
        socket: SocketId,
        /// Who sent it.
        client: ClientId,
        /// The shell's id for the send.
        send: u64,
    },
    /// A queued send will never be written: tell the client why and forget its data.
    SendFailed {
        /// Who sent it.
        client: ClientId,
        /// The shell's id for the send.
        send: u64,
        /// Why.
        error: Error,
    },
    /// Sequence numbers `from..=to` were skipped: tell every client of the endpoint.
    Gap {
        /// The endpoint.
        endpoint: EndpointId,
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
    /// A frame kept for replay was evicted: forget its data.
    Forget {
        /// The id [`Delivery::To`] gave it.
        replay: u64,
    },
    /// A debug-log event for the endpoint's clients that asked for it ([`Engine::loggers_of`]).
    /// Made only while there is one.
    Log {
        /// The endpoint.
        endpoint: EndpointId,
        /// The event.
        event: LogEvent,
    },
}

/// Where a send went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Write it on this socket now.
    Write(SocketId),
    /// Queued until the socket opens ([`Action::WriteQueued`] or [`Action::SendFailed`] follows).
    Queued,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Queued {
    client: ClientId,
    send: u64,
    len: usize,
    expires: Ms,
}

/// What the shell knows about a frame without copying it into wasm: its size, and the
/// values the enabled options point at (extracted only when those options are on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameMeta<'a> {
    /// Its size (UTF-16 code units of text, bytes of binary).
    pub len: usize,
    /// Whether it matched the heartbeat's pong pattern.
    pub pong: bool,
    /// Whether it matched `serverPing` ([`crate::ServerPingOptions::matches`]).
    pub server_ping: bool,
    /// The dedup key, when `dedup` is on and the frame has one.
    pub key: Option<&'a str>,
    /// The sequence number, when `sequence` is on and the frame has one.
    pub seq: Option<u64>,
    /// The topic, when `topics` is on and the frame has one.
    pub topic: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// Waiting for the token fetch that precedes a connect (it counts against
    /// `connectTimeoutMs` like the socket itself).
    Fetching { deadline: Ms },
    Connecting { socket: SocketId, deadline: Ms },
    Open { socket: SocketId, since: Ms },
    Waiting { retry_at: Ms },
    Offline,
    Down,
    Unauthorized,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Heartbeat {
    next_ping: Ms,
    ping_sent: Option<Ms>,
    pong_deadline: Option<Ms>,
}

/// How many close codes the histogram remembers.
pub const CLOSE_HISTORY: usize = 100;
/// How many connection durations are kept for percentiles.
pub const DURATION_HISTORY: usize = 50;
/// How many round-trip samples are kept for percentiles.
pub const RTT_HISTORY: usize = 50;

#[derive(Debug)]
struct Endpoint {
    id: EndpointId,
    url: String,
    options: Options,
    close_table: Vec<(u16, CloseAction)>,
    clients: Vec<ClientId>,
    conn: Conn,
    heartbeat: Option<Heartbeat>,
    attempt: u32,
    last_delay: Option<Ms>,
    last_close: Option<CloseInfo>,
    last_error: Option<String>,
    breaker: Breaker,
    token: Option<String>,
    pending_token: Option<(String, Ms)>,
    fetch_in_flight: bool,
    next_poll: Option<Ms>,
    auth_retry_used: bool,
    rtt: Option<Ms>,
    last_pong_at: Option<Ms>,
    /// The subprotocol the server chose for the open socket.
    protocol: Option<String>,
    last_seq: Option<u64>,
    dedup: VecDeque<String>,
    dedup_set: BTreeSet<String>,
    topics: SortedMap<String, Vec<ClientId>>,
    queue: VecDeque<Queued>,
    queue_bytes: usize,
    replay: SortedMap<Option<String>, VecDeque<(u64, usize)>>,
    replay_bytes: usize,
    idle_until: Option<Ms>,
    rtts: Window<Ms>,
    closes: Window<u16>,
    durations: Window<Ms>,
    last_status: Option<Status>,
    counters: Counters,
    /// Clients with `debug`: while 0, no log event is made.
    loggers: u32,
    /// Drops not yet reported in the log.
    drops: DropCounts,
}

impl Endpoint {
    fn socket(&self) -> Option<SocketId> {
        match self.conn {
            Conn::Connecting { socket, .. } | Conn::Open { socket, .. } => Some(socket),
            _ => None,
        }
    }

    fn state(&self) -> State {
        match self.conn {
            Conn::Fetching { .. } | Conn::Connecting { .. } if self.attempt == 0 && self.counters.connects == 0 => {
                State::Connecting
            }
            Conn::Fetching { .. } | Conn::Connecting { .. } | Conn::Waiting { .. } => State::Reconnecting,
            Conn::Open { .. } => State::Open,
            Conn::Offline => State::Offline,
            Conn::Down => State::Down,
            Conn::Unauthorized => State::Unauthorized,
            Conn::Closed => State::Closed,
        }
    }

    /// While open after failed attempts: when the connection will have lasted
    /// `backoff.minUptimeMs` and the attempt counter resets.
    fn forgive_at(&self) -> Option<Ms> {
        match self.conn {
            Conn::Open { since, .. } if self.attempt > 0 => {
                Some(since.saturating_add(self.options.backoff.min_uptime_ms))
            }
            _ => None,
        }
    }

    /// `text` with this endpoint's token redacted: what errors, close reasons and logs may show.
    fn redacted(&self, text: &str) -> String {
        match &self.token {
            Some(t) => redact(text, t),
            None => text.to_string(),
        }
    }
}

#[derive(Debug)]
struct ClientEntry {
    endpoint: EndpointId,
    tab_id: String,
    debug: bool,
}

/// Who gets a frame that just arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// Pass the frame, unchanged, to these clients, in this order.
    To {
        /// The clients (possibly none: a topic nobody subscribed to).
        clients: &'a [ClientId],
        /// Whether it is a topic frame (deliver it tagged with its topic).
        topic: bool,
        /// Keep the frame's data under this id for replay, until [`Action::Forget`].
        retain: Option<u64>,
    },
    /// Deliver to no one: a stale socket, a pong, or a duplicate.
    Drop,
}

/// The engine. See the module docs for the contract.
#[derive(Debug)]
pub struct Engine {
    now: Ms,
    rng: Rng,
    next_id: u32,
    next_replay: u64,
    online: bool,
    endpoints: Vec<Endpoint>,
    clients: SortedMap<ClientId, ClientEntry>,
    actions: VecDeque<Action>,
}

impl Engine {
    /// A new engine whose random choices (jitter) all follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Engine {
            now: 0,
            rng: Rng::new(seed),
            next_id: 1,
            next_replay: 1,
            online: true,
            endpoints: Vec::new(),
            clients: SortedMap::new(),
            actions: VecDeque::new(),
        }
    }

    fn tick(&mut self, now: Ms) {
        self.now = self.now.max(now);
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
        let entry = self.clients.get(&client).ok_or(Error::NotAttached)?;
        self.ep_index(entry.endpoint).ok_or(Error::NotAttached)
    }

    /// Attaches a client to the endpoint named by `options.url`, creating the endpoint
    /// (and starting its first attempt) when it is the first. Options are validated here too;
    /// a later client's options for an existing endpoint are ignored (the first one's rule).
    pub fn attach(&mut self, now: Ms, tab_id: &str, options: Options) -> Result<(ClientId, EndpointId), Error> {
        self.attach_with_token(now, tab_id, options, None)
    }

    /// [`Engine::attach`] for a client that already has a token (a tab saying hello again to
    /// a replacement worker): a new endpoint's first attempt uses it, so it connects once, not
    /// once without and again with it; an existing endpoint takes it like
    /// [`Engine::handle_set_token`]. A token that is empty or too long is ignored here (it was
    /// refused when it was set).
    pub fn attach_with_token(
        &mut self,
        now: Ms,
        tab_id: &str,
        options: Options,
        token: Option<&str>,
    ) -> Result<(ClientId, EndpointId), Error> {
        self.tick(now);
        let token = token.filter(|t| is_usable_token(t));
        options.validate()?;
        let debug = options.debug;
        if self.clients.len() >= MAX_CLIENTS {
            return Err(Error::TooManyClients(self.clients.len()));
        }
        let client = ClientId(self.fresh_id());
        // An endpoint is a URL with its subprotocols: other protocols never share a socket.
        let idx = match self.endpoints.iter().position(|e| e.url == options.url && e.options.protocols == options.protocols) {
            Some(i) => {
                self.endpoints[i].loggers += u32::from(debug);
                i
            }
            None => {
                let close_table = options.close_code_table()?;
                let id = EndpointId(self.fresh_id());
                let next_poll = options.token.url.as_ref().map(|_| self.now + options.token.poll_ms);
                self.endpoints.push(Endpoint {
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
                    next_poll,
                    auth_retry_used: false,
                    rtt: None,
                    last_pong_at: None,
                    protocol: None,
                    last_seq: None,
                    dedup: VecDeque::new(),
                    dedup_set: BTreeSet::new(),
                    topics: SortedMap::new(),
                    queue: VecDeque::new(),
                    queue_bytes: 0,
                    replay: SortedMap::new(),
                    replay_bytes: 0,
                    idle_until: None,
                    rtts: Window::new(RTT_HISTORY),
                    closes: Window::new(CLOSE_HISTORY),
                    durations: Window::new(DURATION_HISTORY),
                    last_status: None,
                    counters: Counters::default(),
                    // Before the first attempt starts, so a debug client sees it.
                    loggers: u32::from(debug),
                    drops: DropCounts::default(),
                });
                let i = self.endpoints.len() - 1;
                if self.online {
                    self.start_attempt(i);
                } else {
                    self.endpoints[i].conn = Conn::Offline;
                }
                i
            }
        };
        let ep = &mut self.endpoints[idx];
        ep.clients.push(client);
        ep.idle_until = None;
        let endpoint = ep.id;
        self.clients.insert(client, ClientEntry { endpoint, tab_id: tab_id.to_string(), debug });
        if let Some(t) = token {
            // Equal to the endpoint's token (always so for one just made): nothing happens.
            self.handle_set_token(now, client, t)?;
        }
        self.touch(idx);
        Ok((client, endpoint))
    }

    /// Whether an endpoint for `options.url` exists with other settings (the first client's
    /// options apply to everyone; the shell warns the newcomer). `mode`, `workerUrl`,
    /// `workerTimeoutMs`, `json` and `debug` are the tab's own business and do not count.
    pub fn conflicting_options(&self, options: &Options) -> bool {
        self.endpoints.iter().any(|e| {
            e.url == options.url && e.options.protocols == options.protocols && {
                let mut theirs = e.options.clone();
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
    /// client the socket is closed (1000) and the endpoint forgotten. Unknown ids are ignored.
    pub fn detach(&mut self, now: Ms, client: ClientId) {
        self.tick(now);
        let Some(entry) = self.clients.remove(&client) else { return };
        let Some(idx) = self.ep_index(entry.endpoint) else { return };
        let ep = &mut self.endpoints[idx];
        ep.clients.retain(|c| *c != client);
        ep.loggers -= u32::from(entry.debug);
        // Its topics are released (the last subscriber's leaving unsubscribes at the server)…
        let mine: Vec<String> =
            ep.topics.iter().filter(|(_, subs)| subs.contains(&client)).map(|(t, _)| t.clone()).collect();
        for t in mine {
            self.release_topic(idx, client, &t);
        }
        // …and its queued sends are dropped.
        let ep = &mut self.endpoints[idx];
        let (gone, kept): (VecDeque<Queued>, VecDeque<Queued>) = ep.queue.drain(..).partition(|q| q.client == client);
        ep.queue = kept;
        for q in gone {
            ep.queue_bytes -= q.len;
            self.actions.push_back(Action::SendFailed { client, send: q.send, error: Error::NotAttached });
        }
        let ep = &mut self.endpoints[idx];
        if ep.clients.is_empty() {
            if ep.options.idle_close_ms == 0 {
                self.remove_endpoint(idx);
            } else {
                ep.idle_until = Some(self.now.saturating_add(ep.options.idle_close_ms));
                self.touch(idx);
            }
        } else {
            self.touch(idx);
        }
    }

    /// Closes an endpoint's socket and forgets it, with everything it held.
    fn remove_endpoint(&mut self, idx: usize) {
        let ep = self.endpoints.remove(idx);
        if let Some(socket) = ep.socket() {
            self.actions.push_back(Action::CloseSocket { socket, code: 1000, reason: "no tabs left".into() });
        }
        for ring in ep.replay.values() {
            for (replay, _) in ring {
                self.actions.push_back(Action::Forget { replay: *replay });
            }
        }
        for q in ep.queue {
            self.actions.push_back(Action::SendFailed { client: q.client, send: q.send, error: Error::NotAttached });
        }
    }

    /// Subscribes a client to a topic. The first subscriber in the whole browser makes the
    /// engine send the subscribe frame (now if open, else on the next open).
    pub fn handle_subscribe(&mut self, now: Ms, client: ClientId, topic: &str) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        let Some(o) = ep.options.topics.as_ref() else {
            return Err(Error::Topic("subscribe needs the topics option (key, subscribe, unsubscribe)".into()));
        };
        if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
            return Err(Error::Topic(format!("a topic must be 1 to {MAX_TOPIC_BYTES} bytes")));
        }
        let frame = fill_template(&o.subscribe, topic);
        match ep.topics.get_mut(topic) {
            Some(subs) if subs.contains(&client) => {}
            Some(subs) => subs.push(client),
            None => {
                if ep.topics.len() >= MAX_TOPICS {
                    return Err(Error::Topic(format!("this endpoint already tracks {MAX_TOPICS} topics")));
                }
                ep.topics.insert(topic.to_string(), alloc::vec![client]);
                if let Conn::Open { socket, .. } = ep.conn {
                    ep.counters.subscribes += 1;
                    self.actions.push_back(Action::SendText { socket, data: frame });
                }
            }
        }
        Ok(())
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
        let Some(subs) = ep.topics.get_mut(topic) else { return };
        subs.retain(|c| *c != client);
        if !subs.is_empty() {
            return;
        }
        ep.topics.remove(topic);
        if let (Conn::Open { socket, .. }, Some(o)) = (ep.conn, ep.options.topics.as_ref()) {
            let data = fill_template(&o.unsubscribe, topic);
            ep.counters.unsubscribes += 1;
            self.actions.push_back(Action::SendText { socket, data });
        }
    }

    /// The replay ids of the frames kept for `topic` (`None`: frames without a topic),
    /// oldest first.
    pub fn history(&self, client: ClientId, topic: Option<&str>) -> Result<Vec<u64>, Error> {
        let idx = self.client_ep(client)?;
        let key = topic.map(str::to_string);
        Ok(self.endpoints[idx].replay.get(&key).map_or_else(Vec::new, |r| r.iter().map(|(id, _)| *id).collect()))
    }

    /// A tab asked to try now (`client.reconnect()`): unless the socket is open or opening,
    /// the attempt counter resets and an attempt starts at once. Against an open breaker
    /// this attempt is the half-open probe.
    pub fn handle_reconnect(&mut self, now: Ms, client: ClientId) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        self.retry_now(idx);
        Ok(())
    }

    fn retry_now(&mut self, idx: usize) {
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

    /// The browser went offline or online (the worker's own events, or a tab's).
    /// Offline: no attempts (an open socket is kept until it closes). Online: backoff
    /// resets and every endpoint that is not open tries at once.
    pub fn handle_online(&mut self, now: Ms, online: bool) {
        self.tick(now);
        if self.online == online {
            return;
        }
        self.online = online;
        for idx in 0..self.endpoints.len() {
            if online {
                if matches!(self.endpoints[idx].conn, Conn::Offline | Conn::Waiting { .. } | Conn::Down) {
                    self.retry_now(idx);
                }
            } else if matches!(self.endpoints[idx].conn, Conn::Waiting { .. }) {
                self.endpoints[idx].conn = Conn::Offline;
            }
            self.touch(idx);
        }
    }

    /// A tab reports a token (`client.setToken`). Reports within `debounceMs` count as one;
    /// a token equal to the current one does nothing; a new one causes at most one reconnect.
    pub fn handle_set_token(&mut self, now: Ms, client: ClientId, token: &str) -> Result<(), Error> {
        self.tick(now);
        if !is_usable_token(token) {
            return Err(Error::BadMessage(format!("a token must be 1 to {MAX_TOKEN_BYTES} bytes")));
        }
        let idx = self.client_ep(client)?;
        let now = self.now;
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
                    Err(e) => format!("token fetch failed: {}", ep.redacted(e)),
                };
                ep.last_error = Some(truncate_reason(&why));
                self.log(idx, |_| LogEvent::TokenFetched { ok: false, changed: false, error: Some(truncate_reason(&why)) });
                if waiting {
                    self.failed_attempt(idx);
                    self.schedule_retry(idx, false);
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
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        if let Conn::Connecting { .. } = ep.conn {
            ep.conn = Conn::Open { socket, since: now };
            ep.protocol = (!protocol.is_empty()).then(|| protocol.chars().take(256).collect());
            let chosen = ep.protocol.clone();
            self.log(idx, |_| LogEvent::Open { protocol: chosen });
            let ep = &mut self.endpoints[idx];
            ep.counters.connects += 1;
            ep.breaker.on_success();
            ep.auth_retry_used = false;
            ep.last_error = None;
            ep.heartbeat = ep.options.heartbeat.as_ref().map(|h| Heartbeat {
                next_ping: now.saturating_add(h.interval_ms),
                ping_sent: None,
                pong_deadline: None,
            });
            // Every active topic again, then the sends that waited, in order.
            if let Some(o) = ep.options.topics.as_ref() {
                for t in ep.topics.keys() {
                    ep.counters.subscribes += 1;
                    self.actions.push_back(Action::SendText { socket, data: fill_template(&o.subscribe, t) });
                }
            }
            for q in ep.queue.drain(..) {
                ep.counters.frames_out += 1;
                ep.counters.bytes_out += q.len as u64;
                self.actions.push_back(Action::WriteQueued { socket, client: q.client, send: q.send });
            }
            ep.queue_bytes = 0;
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
    /// succeed, so the endpoint is closed and its clients told why (token redacted).
    pub fn handle_open_failed(&mut self, now: Ms, socket: SocketId, message: &str) -> Option<(EndpointId, String)> {
        self.tick(now);
        let idx = self.ep_index_by_socket(socket)?;
        let ep = &mut self.endpoints[idx];
        let msg = ep.redacted(message);
        ep.conn = Conn::Closed;
        ep.last_close = Some(CloseInfo { code: 1006, reason: truncate_reason(&msg) });
        ep.last_error = Some(truncate_reason(&msg));
        let id = ep.id;
        self.touch(idx);
        Some((id, msg))
    }

    fn failed_attempt(&mut self, idx: usize) {
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        let o = ep.options.breaker.clone();
        ep.breaker.on_failure(now, &o);
    }

    fn lost(&mut self, idx: usize, code: u16, reason: &str) {
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        match ep.conn {
            Conn::Open { since, .. } => {
                let up = now.saturating_sub(since);
                ep.durations.push(up);
                if up >= ep.options.backoff.min_uptime_ms {
                    ep.attempt = 0;
                    ep.last_delay = None;
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
            class: if online { LogEvent::class_of(action_for(code, &ep.close_table)) } else { "offline" },
        });
        let ep = &mut self.endpoints[idx];
        if !self.online {
            ep.conn = Conn::Offline;
            self.touch(idx);
            return;
        }
        match action_for(code, &ep.close_table) {
            CloseAction::Retry => self.schedule_retry(idx, false),
            CloseAction::RetryNow => self.schedule_retry(idx, true),
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

    fn schedule_retry(&mut self, idx: usize, at_once: bool) {
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        ep.attempt = ep.attempt.saturating_add(1);
        if ep.options.backoff.max_attempts.is_some_and(|max| ep.attempt > max) {
            ep.conn = Conn::Down;
            let attempt = ep.attempt - 1;
            self.log(idx, |_| LogEvent::Down { attempt });
            return;
        }
        let planned = if at_once {
            now
        } else {
            let delay = ep.options.backoff.delay(ep.attempt, ep.last_delay, &mut self.rng);
            ep.last_delay = Some(delay);
            now.saturating_add(delay)
        };
        let retry_at = ep.breaker.gate(planned);
        let attempt = ep.attempt;
        self.log(idx, |_| LogEvent::Retry { attempt, delay_ms: planned - now, at: retry_at });
        let ep = &mut self.endpoints[idx];
        if retry_at <= now {
            self.start_attempt(idx);
        } else {
            ep.conn = Conn::Waiting { retry_at };
        }
    }

    /// Starts an attempt: a token fetch first when `token.url` is set, else the socket.
    fn start_attempt(&mut self, idx: usize) {
        let ep = &mut self.endpoints[idx];
        ep.breaker.on_attempt();
        match ep.options.token.url.clone() {
            Some(url) => {
                ep.conn = Conn::Fetching { deadline: self.now.saturating_add(ep.options.connect_timeout_ms) };
                if !ep.fetch_in_flight {
                    ep.fetch_in_flight = true;
                    ep.counters.token_fetches += 1;
                    let endpoint = ep.id;
                    self.actions.push_back(Action::FetchToken { endpoint, url });
                    self.log(idx, |_| LogEvent::TokenFetch);
                }
            }
            None => self.open_socket(idx),
        }
    }

    fn open_socket(&mut self, idx: usize) {
        let socket = SocketId(self.fresh_id());
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        ep.conn = Conn::Connecting { socket, deadline: now.saturating_add(ep.options.connect_timeout_ms) };
        ep.heartbeat = None;
        ep.counters.attempts += 1;
        let mut url = match &ep.token {
            Some(t) => with_token(&ep.url, &ep.options.token.param, t),
            None => ep.url.clone(),
        };
        if let (Some(q), Some(last)) = (ep.options.sequence.as_ref(), ep.last_seq) {
            url = with_param(&url, &q.resume_param, &format!("{last}"));
        }
        let attempt = ep.attempt;
        self.log(idx, |ep| LogEvent::Connect { attempt, url: ep.redacted(&url) });
        self.actions.push_back(Action::OpenSocket { socket, url });
    }

    /// Replaces the socket with one that uses the current token: one reconnect, no backoff.
    fn rotate(&mut self, idx: usize) {
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

    /// Time has reached `now`: start due retries, give up on connects past their timeout,
    /// send pings, close on missed pongs, apply debounced tokens, poll the token URL.
    pub fn handle_timeout(&mut self, now: Ms) {
        self.tick(now);
        let now = self.now;
        let mut idx = 0;
        while idx < self.endpoints.len() {
            if self.endpoints[idx].idle_until.is_some_and(|t| t <= now) {
                self.remove_endpoint(idx);
                continue;
            }
            let ep = &mut self.endpoints[idx];
            while ep.queue.front().is_some_and(|q| q.expires <= now) {
                let q = ep.queue.pop_front().expect("front exists");
                ep.queue_bytes -= q.len;
                ep.counters.errors += 1;
                let error = Error::Expired(ep.options.queue.ttl_ms);
                self.actions.push_back(Action::SendFailed { client: q.client, send: q.send, error });
            }
            if let Some((token, at)) = self.endpoints[idx].pending_token.clone() {
                if at <= now {
                    let ep = &mut self.endpoints[idx];
                    ep.pending_token = None;
                    if ep.token.as_deref() != Some(token.as_str()) {
                        ep.token = Some(token);
                        self.rotate(idx);
                    }
                }
            }
            let ep = &mut self.endpoints[idx];
            if let (Some(at), Some(url)) = (ep.next_poll, ep.options.token.url.clone()) {
                if at <= now {
                    ep.next_poll = Some(now.saturating_add(ep.options.token.poll_ms));
                    if !ep.fetch_in_flight {
                        ep.fetch_in_flight = true;
                        ep.counters.token_fetches += 1;
                        let endpoint = ep.id;
                        self.actions.push_back(Action::FetchToken { endpoint, url });
                        self.log(idx, |_| LogEvent::TokenFetch);
                    }
                }
            }
            match self.endpoints[idx].conn {
                Conn::Waiting { retry_at } if retry_at <= now => self.start_attempt(idx),
                Conn::Fetching { deadline } if deadline <= now => {
                    // A token URL that never answers is a failed attempt, not a hang.
                    let ep = &mut self.endpoints[idx];
                    ep.fetch_in_flight = false;
                    ep.last_error = Some("token fetch timed out".into());
                    self.failed_attempt(idx);
                    self.schedule_retry(idx, false);
                }
                Conn::Connecting { socket, deadline } if deadline <= now => {
                    self.actions.push_back(Action::CloseSocket {
                        socket,
                        code: CONNECT_TIMEOUT_CODE,
                        reason: "connect timeout".into(),
                    });
                    self.lost(idx, CONNECT_TIMEOUT_CODE, "connect timeout");
                }
                Conn::Open { socket, .. } => {
                    let ep = &mut self.endpoints[idx];
                    if ep.forgive_at().is_some_and(|at| at <= now) {
                        // Up for minUptimeMs: the failures before it are forgiven now, so the
                        // status (and health) says so while the connection lasts.
                        ep.attempt = 0;
                        ep.last_delay = None;
                    }
                    self.heartbeat_due(idx, socket, now)
                }
                _ => {}
            }
            self.touch(idx);
            idx += 1;
        }
    }

    fn heartbeat_due(&mut self, idx: usize, socket: SocketId, now: Ms) {
        let ep = &mut self.endpoints[idx];
        let (Some(hb), Some(o)) = (ep.heartbeat.as_mut(), ep.options.heartbeat.as_ref()) else { return };
        if hb.pong_deadline.is_some_and(|d| d <= now) {
            self.actions.push_back(Action::CloseSocket {
                socket,
                code: HEARTBEAT_TIMEOUT_CODE,
                reason: "heartbeat timeout".into(),
            });
            self.lost(idx, HEARTBEAT_TIMEOUT_CODE, "heartbeat timeout");
            return;
        }
        if hb.next_ping <= now {
            hb.next_ping = now.saturating_add(o.interval_ms);
            hb.ping_sent = Some(now);
            if hb.pong_deadline.is_none() {
                hb.pong_deadline = Some(now.saturating_add(o.timeout_ms));
            }
            ep.counters.pings += 1;
            self.actions.push_back(Action::SendText { socket, data: o.ping.clone() });
        }
    }

    /// The next time [`Engine::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Ms> {
        self.endpoints
            .iter()
            .flat_map(|e| {
                let conn = match e.conn {
                    Conn::Waiting { retry_at } => Some(retry_at),
                    Conn::Connecting { deadline, .. } | Conn::Fetching { deadline } => Some(deadline),
                    _ => None,
                };
                let hb = e.heartbeat.map(|h| h.pong_deadline.map_or(h.next_ping, |d| d.min(h.next_ping)));
                [
                    conn,
                    hb,
                    e.pending_token.as_ref().map(|(_, at)| *at),
                    e.next_poll,
                    e.queue.front().map(|q| q.expires),
                    e.idle_until,
                    e.forgive_at(),
                ]
            })
            .flatten()
            .min()
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
        self.tick(now);
        let now = self.now;
        let Some(idx) = self.ep_index_by_socket(socket) else { return Delivery::Drop };
        let ep = &mut self.endpoints[idx];
        if !matches!(ep.conn, Conn::Open { .. }) {
            return Delivery::Drop;
        }
        ep.counters.frames_in += 1;
        ep.counters.bytes_in += meta.len as u64;
        if let Some(hb) = ep.heartbeat.as_mut() {
            hb.pong_deadline = None;
            if meta.pong {
                if let Some(sent) = hb.ping_sent.take() {
                    let rtt = now.saturating_sub(sent);
                    ep.rtt = Some(rtt);
                    ep.rtts.push(rtt);
                    ep.last_pong_at = Some(now);
                }
            }
        }
        if meta.pong && ep.options.heartbeat.is_some() {
            ep.counters.pongs += 1;
            self.touch(idx);
            return Delivery::Drop;
        }
        let ep = &mut self.endpoints[idx];
        if let Some(reply) = ep.options.server_ping.as_ref().filter(|_| meta.server_ping).map(|p| p.reply.clone()) {
            // Answered here, once for every tab; liveness like a pong; no tab sees it.
            ep.counters.server_pings += 1;
            ep.last_pong_at = Some(now);
            self.actions.push_back(Action::SendText { socket, data: reply });
            self.touch(idx);
            return Delivery::Drop;
        }
        let mut gapped = false;
        if let Some(seq) = meta.seq.filter(|_| ep.options.sequence.is_some()) {
            match ep.last_seq {
                Some(last) if seq <= last => {
                    ep.counters.duplicates += 1;
                    self.note_drop(idx, false);
                    return Delivery::Drop;
                }
                Some(last) if seq > last + 1 => {
                    ep.counters.gaps += 1;
                    self.actions.push_back(Action::Gap { endpoint: ep.id, from: last + 1, to: seq - 1 });
                    gapped = true;
                }
                _ => {}
            }
            ep.last_seq = Some(seq);
        }
        if gapped {
            self.note_drop(idx, true);
        }
        let ep = &mut self.endpoints[idx];
        if let (Some(key), Some(d)) = (meta.key, ep.options.dedup.as_ref()) {
            if key.len() <= MAX_KEY_BYTES {
                if ep.dedup_set.contains(key) {
                    ep.counters.duplicates += 1;
                    self.note_drop(idx, false);
                    return Delivery::Drop;
                }
                if ep.dedup.len() >= d.capacity {
                    if let Some(old) = ep.dedup.pop_front() {
                        ep.dedup_set.remove(&old);
                    }
                }
                ep.dedup.push_back(key.to_string());
                ep.dedup_set.insert(key.to_string());
            }
        }
        let topic = meta.topic.filter(|t| ep.options.topics.is_some() && t.len() <= MAX_TOPIC_BYTES);
        let retain = self.retain(idx, topic, meta.len);
        let ep = &mut self.endpoints[idx];
        let clients: &[ClientId] = match topic {
            Some(t) => {
                ep.counters.topic_frames += 1;
                ep.topics.get(t).map_or(&[], Vec::as_slice)
            }
            None => &ep.clients,
        };
        ep.counters.deliveries += clients.len() as u64;
        Delivery::To { clients, topic: topic.is_some(), retain }
    }

    /// Keeps a frame for replay (per topic), evicting the oldest past the caps.
    fn retain(&mut self, idx: usize, topic: Option<&str>, len: usize) -> Option<u64> {
        let ep = &mut self.endpoints[idx];
        let caps = ep.options.replay.clone();
        if caps.frames == 0 || len > caps.bytes {
            return None;
        }
        let id = self.next_replay;
        self.next_replay += 1;
        let ring = ep.replay.get_or_insert_with(topic.map(str::to_string), VecDeque::new);
        ring.push_back((id, len));
        ep.replay_bytes += len;
        if ring.len() > caps.frames {
            if let Some((old, l)) = ring.pop_front() {
                ep.replay_bytes -= l;
                self.actions.push_back(Action::Forget { replay: old });
            }
        }
        while ep.replay_bytes > caps.bytes {
            // The oldest frame over all topics goes first.
            let Some(key) = ep.replay.iter().filter_map(|(k, r)| r.front().map(|f| (f.0, k))).min().map(|(_, k)| k.clone())
            else {
                break;
            };
            let ring = ep.replay.get_mut(&key).expect("ring exists");
            if let Some((old, l)) = ring.pop_front() {
                ep.replay_bytes -= l;
                self.actions.push_back(Action::Forget { replay: old });
            }
            if ring.is_empty() {
                ep.replay.remove(&key);
            }
        }
        Some(id)
    }

    /// A client sends a frame of `len` bytes (`send` is the shell's id for it): write it
    /// now, or queue it until the socket opens, or refuse it.
    pub fn handle_send(&mut self, now: Ms, client: ClientId, send: u64, len: usize) -> Result<SendOutcome, Error> {
        self.tick(now);
        let now = self.now;
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        if let Conn::Open { socket, .. } = ep.conn {
            ep.counters.frames_out += 1;
            ep.counters.bytes_out += len as u64;
            return Ok(SendOutcome::Write(socket));
        }
        let q = &ep.options.queue;
        let why = if ep.queue.len() >= q.max_messages {
            Some(format!("{} frames waiting, queue.maxMessages is {}", ep.queue.len(), q.max_messages))
        } else if ep.queue_bytes + len > q.max_bytes {
            Some(format!("{} + {len} bytes would pass queue.maxBytes {}", ep.queue_bytes, q.max_bytes))
        } else {
            None
        };
        if let Some(why) = why {
            ep.counters.errors += 1;
            return Err(Error::QueueFull(why));
        }
        let expires = now.saturating_add(q.ttl_ms);
        ep.queue.push_back(Queued { client, send, len, expires });
        ep.queue_bytes += len;
        ep.counters.queued += 1;
        Ok(SendOutcome::Queued)
    }

    /// A send was refused by the shell after [`Engine::handle_send`] (for example a data
    /// type the socket cannot send): counted as an error.
    pub fn note_send_error(&mut self, client: ClientId) {
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

    /// The current status of an endpoint.
    pub fn status(&self, endpoint: EndpointId) -> Option<Status> {
        self.ep_index(endpoint).map(|i| self.compute_status(i))
    }

    /// Whether the engine believes the browser is online.
    pub fn online(&self) -> bool {
        self.online
    }

    /// Status and counters of the endpoint a client is attached to.
    pub fn stats(&self, client: ClientId) -> Result<Stats, Error> {
        let idx = self.client_ep(client)?;
        let ep = &self.endpoints[idx];
        let status = self.compute_status(idx);
        let mut close_codes = BTreeMap::new();
        for c in ep.closes.iter() {
            *close_codes.entry(format!("{c}")).or_insert(0u32) += 1;
        }
        Ok(Stats {
            queue_messages: ep.queue.len() as u32,
            queue_bytes: ep.queue_bytes as u64,
            replay_frames: ep.replay.values().map(VecDeque::len).sum::<usize>() as u32,
            replay_bytes: ep.replay_bytes as u64,
            topics: ep.topics.len() as u32,
            dedup_keys: ep.dedup.len() as u32,
            last_seq: ep.last_seq,
            status,
            counters: ep.counters.clone(),
            endpoints: self.endpoints.len() as u32,
            reconnects: ep.counters.attempts.saturating_sub(1),
            close_codes,
            durations_ms: Percentiles::of(&ep.durations),
            rtt_ms_p: Percentiles::of(&ep.rtts),
        })
    }

    /// How many clients are attached, over all endpoints.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// How many endpoints are held.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }

    fn compute_status(&self, idx: usize) -> Status {
        let ep = &self.endpoints[idx];
        let mut tabs: Vec<&str> =
            ep.clients.iter().filter_map(|c| self.clients.get(c)).map(|c| c.tab_id.as_str()).collect();
        tabs.sort_unstable();
        tabs.dedup();
        let mut status = Status {
            state: ep.state(),
            attempt: ep.attempt,
            next_retry_at: match ep.conn {
                Conn::Waiting { retry_at } => Some(retry_at),
                _ => None,
            },
            last_close: ep.last_close.clone(),
            last_error: ep.last_error.clone(),
            breaker: ep.breaker.state(),
            breaker_retry_at: ep.breaker.retry_at(),
            rtt_ms: ep.rtt,
            quality: if matches!(ep.conn, Conn::Open { .. }) { Quality::from_rtt(ep.rtt) } else { Quality::Unknown },
            last_heartbeat_at: ep.last_pong_at,
            protocol: ep.protocol.clone(),
            health: Health::Healthy,
            online: self.online,
            tabs: tabs.len() as u32,
            clients: ep.clients.len() as u32,
        };
        status.health = Health::judge(&status);
        status
    }

    /// Queues a status action when the endpoint's status differs from the last one sent
    /// (and logs a breaker transition).
    fn touch(&mut self, idx: usize) {
        let status = self.compute_status(idx);
        let ep = &mut self.endpoints[idx];
        if ep.last_status.as_ref() != Some(&status) {
            let from = ep.last_status.as_ref().map(|s| s.breaker);
            let to = status.breaker;
            ep.last_status = Some(status);
            self.actions.push_back(Action::Status { endpoint: ep.id });
            if let Some(from) = from.filter(|f| *f != to) {
                self.log(idx, |_| LogEvent::Breaker { from, to });
            }
        }
    }

    /// Queues a log event for the endpoint's debug clients; `make` runs only if it has some.
    fn log(&mut self, idx: usize, make: impl FnOnce(&Endpoint) -> LogEvent) {
        let ep = &self.endpoints[idx];
        if ep.loggers > 0 {
            let event = make(ep);
            self.actions.push_back(Action::Log { endpoint: ep.id, event });
        }
    }

    /// Counts a dropped frame for the log (only while someone logs) and reports the counts
    /// at most once every [`DROPS_EVERY_MS`].
    fn note_drop(&mut self, idx: usize, gap: bool) {
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        if ep.loggers == 0 {
            return;
        }
        if gap {
            ep.drops.gaps += 1;
        } else {
            ep.drops.duplicates += 1;
        }
        if ep.drops.last_report.is_some_and(|t| now < t.saturating_add(DROPS_EVERY_MS)) {
            return;
        }
        let d = core::mem::replace(&mut ep.drops, DropCounts { last_report: Some(now), ..DropCounts::default() });
        self.log(idx, |_| LogEvent::Drops { duplicates: d.duplicates, gaps: d.gaps });
    }

    /// The clients of an endpoint that get its debug log.
    pub fn loggers_of(&self, endpoint: EndpointId) -> Vec<ClientId> {
        self.ep_index(endpoint).map_or_else(Vec::new, |i| {
            let ep = &self.endpoints[i];
            ep.clients.iter().copied().filter(|c| self.clients.get(c).is_some_and(|e| e.debug)).collect()
        })
    }
}

/// Close reasons are at most 123 bytes on the wire; keep what we store as small.
fn truncate_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}
