//! A virtual-clock harness for driving the engine in tests.
#![allow(dead_code)]

use tabmux_core::{Action, ClientId, Delivery, Engine, EndpointId, FrameMeta, Options, SocketId, State, Status};

pub struct Harness {
    pub engine: Engine,
    pub now: u64,
    pub actions: Vec<Action>,
}

impl Harness {
    pub fn new(seed: u64) -> Self {
        Harness { engine: Engine::new(seed), now: 1_000_000, actions: Vec::new() }
    }

    /// Drains the engine's actions into `self.actions` and returns the new ones.
    pub fn drain(&mut self) -> Vec<Action> {
        let mut new = Vec::new();
        while let Some(a) = self.engine.poll_action() {
            new.push(a);
        }
        self.actions.extend(new.iter().cloned());
        new
    }

    pub fn attach(&mut self, tab: &str, options: Options) -> (ClientId, EndpointId) {
        let r = self.engine.handle_attach(self.now, tab, options).expect("attach");
        self.drain();
        r
    }

    /// The socket of the last OpenSocket action.
    pub fn last_socket(&self) -> SocketId {
        self.actions
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::OpenSocket { socket, .. } => Some(*socket),
                _ => None,
            })
            .expect("an OpenSocket action")
    }

    pub fn opens(&self) -> usize {
        self.actions.iter().filter(|a| matches!(a, Action::OpenSocket { .. })).count()
    }

    pub fn open(&mut self, socket: SocketId) {
        self.engine.handle_open(self.now, socket);
        self.drain();
    }

    pub fn close(&mut self, socket: SocketId, code: u16) {
        self.engine.handle_close(self.now, socket, code, "test");
        self.drain();
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.engine.handle_timeout(self.now);
        self.drain();
    }

    /// Moves the clock to the next deadline and fires it; returns how far it moved.
    pub fn fire_next(&mut self) -> Option<u64> {
        let at = self.engine.poll_timeout()?;
        let moved = at.saturating_sub(self.now);
        self.now = self.now.max(at);
        self.engine.handle_timeout(self.now);
        self.drain();
        Some(moved)
    }

    pub fn status(&self, ep: EndpointId) -> Status {
        self.engine.status(ep).expect("endpoint")
    }

    pub fn state(&self, ep: EndpointId) -> State {
        self.status(ep).state
    }

    pub fn deliver(&mut self, socket: SocketId) -> Option<Vec<ClientId>> {
        match self.engine.handle_frame(self.now, socket, FrameMeta { len: 10, ..Default::default() }) {
            Delivery::To { clients, .. } => Some(clients.to_vec()),
            Delivery::Drop => None,
        }
    }
}

pub fn opts(url: &str) -> Options {
    Options::new(url)
}

/// Options with no jitter and a 1 s base doubling per attempt, so delays are exact and round,
/// and with the heartbeat off and the breaker out of the way, so a test sees only the rule it
/// is about.
pub fn exact(url: &str) -> Options {
    let mut o = Options::new(url);
    o.backoff.initial_ms = 1000;
    o.backoff.factor = 2.0;
    o.backoff.jitter = tabmux_core::Jitter::Ratio(0.0);
    o.heartbeat = None;
    o.breaker.failure_threshold = 1000;
    o
}

/// [`exact`] with topics on: `{"type":"subscribe","topic":"<t>"}` and its unsubscribe twin.
pub fn with_topics() -> Options {
    let mut o = exact("ws://h/ws");
    o.topics = Some(serde_json::from_value(serde_json::json!({
        "key": "/topic",
        "subscribe": r#"{"type":"subscribe","topic":"{topic}"}"#,
        "unsubscribe": r#"{"type":"unsubscribe","topic":"{topic}"}"#,
    })).unwrap());
    o
}

/// The url of the last OpenSocket action.
impl Harness {
    pub fn last_url(&self) -> String {
        self.actions
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::OpenSocket { url, .. } => Some(url.clone()),
                _ => None,
            })
            .expect("an OpenSocket action")
    }

    pub fn count(&self, pred: impl Fn(&Action) -> bool) -> usize {
        self.actions.iter().filter(|a| pred(a)).count()
    }
}

impl Harness {
    /// Delivers a frame with the given metadata; `None` when dropped, else (clients, topic?, retain).
    pub fn frame(&mut self, socket: SocketId, meta: FrameMeta<'_>) -> Option<(Vec<ClientId>, bool, Option<u64>)> {
        match self.engine.handle_frame(self.now, socket, meta) {
            Delivery::To { clients, topic, retain, .. } => Some((clients.to_vec(), topic, retain)),
            Delivery::Drop => None,
        }
    }

    /// The data of SendText actions so far.
    pub fn texts(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::SendText { data, .. } => Some(data.clone()),
                _ => None,
            })
            .collect()
    }
}
