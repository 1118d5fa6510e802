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

use crate::close_policy::{action_for, CloseAction};
use crate::error::Error;
use crate::options::Options;
use crate::protocol::MAX_CLIENTS;
use crate::rng::Rng;
use crate::status::{CloseInfo, Counters, State, Stats, Status};
use alloc::collections::{BTreeMap, VecDeque};
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

/// What the shell must do, drained with [`Engine::poll_action`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Create a WebSocket to `url`; report its events with `socket`.
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
    /// The endpoint's status changed: send [`Engine::status`] to [`Engine::clients_of`].
    Status {
        /// The endpoint.
        endpoint: EndpointId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    Connecting { socket: SocketId, deadline: Ms },
    Open { socket: SocketId, since: Ms },
    Waiting { retry_at: Ms },
    Down,
    Unauthorized,
    Closed,
}

#[derive(Debug)]
struct Endpoint {
    id: EndpointId,
    url: String,
    options: Options,
    close_table: Vec<(u16, CloseAction)>,
    clients: Vec<ClientId>,
    conn: Conn,
    attempt: u32,
    last_delay: Option<Ms>,
    last_close: Option<CloseInfo>,
    last_status: Option<Status>,
    counters: Counters,
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
            Conn::Connecting { .. } if self.attempt == 0 && self.counters.connects == 0 => {
                State::Connecting
            }
            Conn::Connecting { .. } | Conn::Waiting { .. } => State::Reconnecting,
            Conn::Open { .. } => State::Open,
            Conn::Down => State::Down,
            Conn::Unauthorized => State::Unauthorized,
            Conn::Closed => State::Closed,
        }
    }
}

#[derive(Debug)]
struct ClientEntry {
    endpoint: EndpointId,
    tab_id: String,
}

/// Who gets a frame that just arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// Pass the frame, unchanged, to these clients, in this order.
    To(&'a [ClientId]),
    /// The frame came from a socket that is no longer current: drop it.
    Stale,
}

/// The engine. See the module docs for the contract.
#[derive(Debug)]
pub struct Engine {
    now: Ms,
    rng: Rng,
    next_id: u32,
    endpoints: Vec<Endpoint>,
    clients: BTreeMap<ClientId, ClientEntry>,
    actions: VecDeque<Action>,
}

impl Engine {
    /// A new engine whose random choices (jitter) all follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Engine {
            now: 0,
            rng: Rng::new(seed),
            next_id: 1,
            endpoints: Vec::new(),
            clients: BTreeMap::new(),
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

    /// Attaches a client to the endpoint named by `options.url`, creating the endpoint
    /// (and asking for its socket) when it is the first. Options are validated here too.
    pub fn attach(&mut self, now: Ms, tab_id: &str, options: Options) -> Result<(ClientId, EndpointId), Error> {
        self.tick(now);
        options.validate()?;
        if self.clients.len() >= MAX_CLIENTS {
            return Err(Error::TooManyClients(self.clients.len()));
        }
        let client = ClientId(self.fresh_id());
        let idx = match self.endpoints.iter().position(|e| e.url == options.url) {
            Some(i) => i,
            None => {
                let close_table = options.close_code_table()?;
                let id = EndpointId(self.fresh_id());
                self.endpoints.push(Endpoint {
                    id,
                    url: options.url.clone(),
                    options,
                    close_table,
                    clients: Vec::new(),
                    conn: Conn::Closed,
                    attempt: 0,
                    last_delay: None,
                    last_close: None,
                    last_status: None,
                    counters: Counters::default(),
                });
                let i = self.endpoints.len() - 1;
                self.open_socket(i);
                i
            }
        };
        let ep = &mut self.endpoints[idx];
        ep.clients.push(client);
        let endpoint = ep.id;
        self.clients.insert(client, ClientEntry { endpoint, tab_id: tab_id.to_string() });
        self.touch(idx);
        Ok((client, endpoint))
    }

    /// Detaches a client (goodbye, closed port, dead tab). When it was the endpoint's last
    /// client the socket is closed (1000) and the endpoint forgotten. Unknown ids are ignored.
    pub fn detach(&mut self, now: Ms, client: ClientId) {
        self.tick(now);
        let Some(entry) = self.clients.remove(&client) else { return };
        let Some(idx) = self.ep_index(entry.endpoint) else { return };
        let ep = &mut self.endpoints[idx];
        ep.clients.retain(|c| *c != client);
        if ep.clients.is_empty() {
            if let Some(socket) = ep.socket() {
                self.actions.push_back(Action::CloseSocket {
                    socket,
                    code: 1000,
                    reason: "no tabs left".to_string(),
                });
            }
            self.endpoints.remove(idx);
        } else {
            self.touch(idx);
        }
    }

    /// A control message from an attached client. `Hello` and `Stats` are answered by the
    /// shell ([`Engine::attach`], [`Engine::stats`]); this handles the rest.
    pub fn handle_reconnect(&mut self, now: Ms, client: ClientId) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        match ep.conn {
            Conn::Open { .. } | Conn::Connecting { .. } => {}
            Conn::Waiting { .. } | Conn::Down | Conn::Unauthorized | Conn::Closed => {
                ep.attempt = 0;
                ep.last_delay = None;
                self.open_socket(idx);
                self.touch(idx);
            }
        }
        Ok(())
    }

    fn client_ep(&self, client: ClientId) -> Result<usize, Error> {
        let entry = self.clients.get(&client).ok_or(Error::NotAttached)?;
        self.ep_index(entry.endpoint).ok_or(Error::NotAttached)
    }

    /// The socket opened.
    pub fn handle_open(&mut self, now: Ms, socket: SocketId) {
        self.tick(now);
        let Some(idx) = self.ep_index_by_socket(socket) else { return };
        let ep = &mut self.endpoints[idx];
        if let Conn::Connecting { .. } = ep.conn {
            ep.conn = Conn::Open { socket, since: self.now };
            ep.counters.connects += 1;
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
    /// succeed, so the endpoint is closed and its clients told why.
    pub fn handle_open_failed(&mut self, now: Ms, socket: SocketId, message: &str) -> Option<EndpointId> {
        self.tick(now);
        let idx = self.ep_index_by_socket(socket)?;
        let ep = &mut self.endpoints[idx];
        ep.conn = Conn::Closed;
        ep.last_close = Some(CloseInfo { code: 1006, reason: truncate_reason(message) });
        self.touch(idx);
        Some(self.endpoints[idx].id)
    }

    fn lost(&mut self, idx: usize, code: u16, reason: &str) {
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        if let Conn::Open { since, .. } = ep.conn {
            if now.saturating_sub(since) >= ep.options.backoff.min_uptime_ms {
                ep.attempt = 0;
                ep.last_delay = None;
            }
        }
        ep.last_close = Some(CloseInfo { code, reason: truncate_reason(reason) });
        match action_for(code, &ep.close_table) {
            CloseAction::Retry => self.schedule_retry(idx, false),
            CloseAction::RetryNow => self.schedule_retry(idx, true),
            // No token source exists yet: a refused credential cannot be renewed.
            CloseAction::RefreshToken => self.endpoints[idx].conn = Conn::Unauthorized,
            CloseAction::Fatal => self.endpoints[idx].conn = Conn::Closed,
        }
        self.touch(idx);
    }

    fn schedule_retry(&mut self, idx: usize, now_please: bool) {
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        ep.attempt = ep.attempt.saturating_add(1);
        if ep.options.backoff.max_attempts.is_some_and(|max| ep.attempt > max) {
            ep.conn = Conn::Down;
            return;
        }
        if now_please {
            self.open_socket(idx);
            return;
        }
        let delay = ep.options.backoff.delay(ep.attempt, ep.last_delay, &mut self.rng);
        ep.last_delay = Some(delay);
        ep.conn = Conn::Waiting { retry_at: now.saturating_add(delay) };
    }

    fn open_socket(&mut self, idx: usize) {
        let socket = SocketId(self.fresh_id());
        let now = self.now;
        let ep = &mut self.endpoints[idx];
        ep.conn = Conn::Connecting { socket, deadline: now.saturating_add(ep.options.connect_timeout_ms) };
        ep.counters.attempts += 1;
        self.actions.push_back(Action::OpenSocket { socket, url: ep.url.clone() });
    }

    /// Time has reached `now`: start due retries, give up on connects past their timeout.
    pub fn handle_timeout(&mut self, now: Ms) {
        self.tick(now);
        for idx in 0..self.endpoints.len() {
            match self.endpoints[idx].conn {
                Conn::Waiting { retry_at } if retry_at <= self.now => {
                    self.open_socket(idx);
                    self.touch(idx);
                }
                Conn::Connecting { socket, deadline } if deadline <= self.now => {
                    self.actions.push_back(Action::CloseSocket {
                        socket,
                        code: CONNECT_TIMEOUT_CODE,
                        reason: "connect timeout".to_string(),
                    });
                    self.lost(idx, CONNECT_TIMEOUT_CODE, "connect timeout");
                }
                _ => {}
            }
        }
    }

    /// The next time [`Engine::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Ms> {
        self.endpoints
            .iter()
            .filter_map(|e| match e.conn {
                Conn::Waiting { retry_at } => Some(retry_at),
                Conn::Connecting { deadline, .. } => Some(deadline),
                _ => None,
            })
            .min()
    }

    /// The next action for the shell, in the order they arose.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// A frame of `len` bytes arrived on `socket`. Answers who gets it.
    pub fn handle_frame(&mut self, socket: SocketId, len: usize) -> Delivery<'_> {
        let Some(idx) = self.ep_index_by_socket(socket) else { return Delivery::Stale };
        let ep = &mut self.endpoints[idx];
        if !matches!(ep.conn, Conn::Open { .. }) {
            return Delivery::Stale;
        }
        ep.counters.frames_in += 1;
        ep.counters.bytes_in += len as u64;
        ep.counters.deliveries += ep.clients.len() as u64;
        Delivery::To(&self.endpoints[idx].clients)
    }

    /// A client wants to send a frame of `len` bytes: the socket to write it to, or why not.
    pub fn handle_send(&mut self, client: ClientId, len: usize) -> Result<SocketId, Error> {
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        match ep.conn {
            Conn::Open { socket, .. } => {
                ep.counters.frames_out += 1;
                ep.counters.bytes_out += len as u64;
                Ok(socket)
            }
            _ => {
                ep.counters.errors += 1;
                Err(Error::NotOpen(ep.state().as_str().to_string()))
            }
        }
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

    /// The clients of an endpoint, in attach order (empty for an unknown endpoint).
    pub fn clients_of(&self, endpoint: EndpointId) -> &[ClientId] {
        self.ep_index(endpoint).map_or(&[], |i| &self.endpoints[i].clients)
    }

    /// The current status of an endpoint.
    pub fn status(&self, endpoint: EndpointId) -> Option<Status> {
        self.ep_index(endpoint).map(|i| self.compute_status(i))
    }

    /// Status and counters of the endpoint a client is attached to.
    pub fn stats(&self, client: ClientId) -> Result<Stats, Error> {
        let idx = self.client_ep(client)?;
        Ok(Stats {
            status: self.compute_status(idx),
            counters: self.endpoints[idx].counters.clone(),
            endpoints: self.endpoints.len() as u32,
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
        Status {
            state: ep.state(),
            attempt: ep.attempt,
            next_retry_at: match ep.conn {
                Conn::Waiting { retry_at } => Some(retry_at),
                _ => None,
            },
            last_close: ep.last_close.clone(),
            online: true,
            tabs: tabs.len() as u32,
            clients: ep.clients.len() as u32,
        }
    }

    /// Queues a status action when the endpoint's status differs from the last one sent.
    fn touch(&mut self, idx: usize) {
        let status = self.compute_status(idx);
        let ep = &mut self.endpoints[idx];
        if ep.last_status.as_ref() != Some(&status) {
            ep.last_status = Some(status);
            self.actions.push_back(Action::Status { endpoint: ep.id });
        }
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
