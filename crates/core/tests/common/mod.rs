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

/// Options read from JSON by the one reader the shells use ([`tabmux_core::read_options`],
/// which validates them too); a refusal panics with the reader's message.
pub fn options_from_json(v: serde_json::Value) -> Options {
    tabmux_core::read_options(&v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// [`exact`]'s options as JSON.
fn exact_json(url: &str) -> serde_json::Value {
    serde_json::json!({
        "url": url,
        "backoff": { "initialMs": 1000, "factor": 2, "jitter": 0 },
        "heartbeat": false,
        "breaker": { "failureThreshold": 1000 },
    })
}

/// Options with no jitter and a 1 s base doubling per attempt, so delays are exact and round,
/// and with the heartbeat off and the breaker out of the way, so a test sees only the rule it
/// is about.
pub fn exact(url: &str) -> Options {
    options_from_json(exact_json(url))
}

/// [`exact`] on `ws://h/ws` with `extra`'s top-level options put over its own, e.g.
/// `exact_with(json!({ "sequence": { "key": "/seq" } }))`.
pub fn exact_with(extra: serde_json::Value) -> Options {
    let mut v = exact_json("ws://h/ws");
    v.as_object_mut().unwrap().extend(extra.as_object().expect("an object of options").clone());
    options_from_json(v)
}

/// The `topics` option of [`with_topics`].
pub fn topics_json() -> serde_json::Value {
    serde_json::json!({
        "key": "/topic",
        "subscribe": r#"{"type":"subscribe","topic":"{topic}"}"#,
        "unsubscribe": r#"{"type":"unsubscribe","topic":"{topic}"}"#,
    })
}

/// [`exact`] with topics on: `{"type":"subscribe","topic":"<t>"}` and its unsubscribe twin.
pub fn with_topics() -> Options {
    exact_with(serde_json::json!({ "topics": topics_json() }))
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
