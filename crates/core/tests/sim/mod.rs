//! A virtual-clock world of many browsers, one engine each (its own seed, several tabs
//! attached), against one simulated server ([`server::Server`]). One event queue in time
//! order; each engine is driven as a shell drives it: inputs with the time, actions drained
//! after every input, its next deadline armed as a timer. Handshakes take
//! [`HANDSHAKE_MS`]; heartbeat pings are answered after [`PONG_MS`].
#![allow(dead_code)]

pub mod measure;
pub mod server;

use server::{Answer, Server};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tabmux_core::{Action, BreakerState, EndpointId, Engine, FrameMeta, Options, SocketId};

/// How long a handshake takes to be accepted or refused.
pub const HANDSHAKE_MS: u64 = 20;
/// How long a heartbeat ping takes to be answered.
pub const PONG_MS: u64 = 10;
/// Tabs attached to each browser's engine.
pub const TABS: usize = 3;
/// The latest virtual time a run may reach (15 minutes): a browser not back by then fails it.
pub const HORIZON_MS: u64 = 900_000;

/// One handshake the server saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// When it arrived (virtual ms).
    pub at: u64,
    /// Which browser made it.
    pub browser: usize,
    /// How the server answered.
    pub answer: Answer,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The engine's deadline (armed at this time).
    Timer,
    /// The server answers a handshake.
    Reply { socket: u32, answer: Answer },
    /// The server closes an open socket.
    ServerClose { socket: u32, code: u16, reason: String },
    /// A pong arrives.
    Pong { socket: u32 },
}

struct Browser {
    engine: Engine,
    endpoint: EndpointId,
    /// The socket the server holds open for this browser, if any.
    open: Option<SocketId>,
    /// Whether that socket is about to be closed by the server (flapping).
    doomed: bool,
    /// When it last opened.
    opened_at: u64,
    /// The deadline a timer event is queued for.
    armed: Option<u64>,
    breaker: BreakerState,
}

/// The world: browsers, the server, the queue, and what the server saw.
pub struct World {
    browsers: Vec<Browser>,
    pub server: Server,
    queue: BinaryHeap<Reverse<(u64, u64, usize, Event)>>,
    seq: u64,
    pub now: u64,
    ping: String,
    /// Every handshake, in order.
    pub attempts: Vec<Attempt>,
    /// Every time a browser's breaker opened: (time, browser).
    pub breaker_opens: Vec<(u64, usize)>,
}

impl World {
    /// `n` browsers, browser `i` seeded with `seed_base + i`, each with [`TABS`] tabs attached
    /// at time 0 with `options`; run until every one is connected.
    pub fn new(n: usize, seed_base: u64, options: &Options) -> Self {
        let ping = options.heartbeat.as_ref().map_or_else(String::new, |h| h.ping.clone());
        let mut w = World { browsers: Vec::with_capacity(n), server: Server::up(), queue: BinaryHeap::new(), seq: 0, now: 0, ping, attempts: Vec::new(), breaker_opens: Vec::new() };
        for i in 0..n {
            let mut engine = Engine::new(seed_base + i as u64);
            let mut endpoint = None;
            for t in 0..TABS {
                let (_, ep) = engine.handle_attach(0, &["tab", &t.to_string()].concat(), options.clone()).expect("attach");
                endpoint = Some(ep);
            }
            w.browsers.push(Browser { engine, endpoint: endpoint.unwrap(), open: None, doomed: false, opened_at: 0, armed: None, breaker: BreakerState::Closed });
            w.after_input(i);
        }
        w.run_until(|w| w.all_open(), HORIZON_MS);
        assert!(w.all_open(), "not every browser connected at the start");
        w
    }

    /// Whether every browser holds a socket the server keeps.
    pub fn all_open(&self) -> bool {
        self.browsers.iter().all(|b| b.open.is_some() && !b.doomed)
    }

    /// When each browser's current socket opened (`None` for one without).
    pub fn opened_at(&self) -> Vec<Option<u64>> {
        self.browsers.iter().map(|b| (b.open.is_some() && !b.doomed).then_some(b.opened_at)).collect()
    }

    /// The server closes every open socket at `now` with `code` and `reason`.
    pub fn drop_all(&mut self, code: u16, reason: &str) {
        for i in 0..self.browsers.len() {
            if let Some(s) = self.browsers[i].open.take() {
                self.browsers[i].doomed = false;
                let now = self.now;
                self.browsers[i].engine.handle_close(now, s, code, reason);
                self.after_input(i);
            }
        }
    }

    /// Processes events in time order until `done` holds after one, or the next event is
    /// later than `until`; the clock ends at the last event processed (or at `until`).
    pub fn run_until(&mut self, done: impl Fn(&World) -> bool, until: u64) {
        while let Some(Reverse((t, _, _, _))) = self.queue.peek() {
            if *t > until {
                break;
            }
            let Reverse((t, _, i, event)) = self.queue.pop().unwrap();
            self.now = t;
            self.handle(i, event);
            if done(self) {
                return;
            }
        }
        self.now = self.now.max(until.min(HORIZON_MS));
    }

    fn push(&mut self, t: u64, browser: usize, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, browser, event)));
    }

    fn handle(&mut self, i: usize, event: Event) {
        let now = self.now;
        let b = &mut self.browsers[i];
        match event {
            Event::Timer => {
                if b.armed != Some(now) {
                    return; // re-armed since: stale
                }
                b.armed = None;
                b.engine.handle_timeout(now);
            }
            Event::Reply { socket, answer } => {
                let socket = SocketId(socket);
                if answer == Answer::Refuse {
                    b.engine.handle_close(now, socket, 1006, "");
                } else {
                    b.open = Some(socket);
                    b.doomed = answer == Answer::AcceptThenClose;
                    b.opened_at = now;
                    b.engine.handle_open(now, socket);
                    if b.doomed {
                        self.push(now, i, Event::ServerClose { socket: socket.0, code: 1011, reason: "flapping".into() });
                    }
                }
            }
            Event::ServerClose { socket, code, reason } => {
                if b.open != Some(SocketId(socket)) {
                    return;
                }
                b.open = None;
                b.doomed = false;
                b.engine.handle_close(now, SocketId(socket), code, &reason);
            }
            Event::Pong { socket } => {
                let _ = b.engine.handle_frame(now, SocketId(socket), FrameMeta { len: 15, pong: true, ..Default::default() });
            }
        }
        self.after_input(i);
    }

    /// Carries out browser `i`'s actions and arms its next deadline.
    fn after_input(&mut self, i: usize) {
        let now = self.now;
        while let Some(action) = self.browsers[i].engine.poll_action() {
            match action {
                Action::OpenSocket { socket, .. } => {
                    let answer = self.server.answer(now);
                    self.attempts.push(Attempt { at: now, browser: i, answer });
                    self.push(now + HANDSHAKE_MS, i, Event::Reply { socket: socket.0, answer });
                }
                Action::CloseSocket { socket, .. } => {
                    let b = &mut self.browsers[i];
                    if b.open == Some(socket) {
                        b.open = None;
                        b.doomed = false;
                    }
                }
                Action::SendText { socket, data } if data == self.ping => {
                    self.push(now + PONG_MS, i, Event::Pong { socket: socket.0 });
                }
                Action::Status { .. } => {
                    let b = &mut self.browsers[i];
                    let breaker = b.engine.status(b.endpoint).expect("endpoint").breaker;
                    if breaker == BreakerState::Open && b.breaker != BreakerState::Open {
                        self.breaker_opens.push((now, i));
                    }
                    self.browsers[i].breaker = breaker;
                }
                _ => {}
            }
        }
        let b = &mut self.browsers[i];
        if let Some(t) = b.engine.poll_timeout() {
            let t = t.max(now);
            if b.armed != Some(t) {
                b.armed = Some(t);
                self.push(t, i, Event::Timer);
            }
        }
    }
}
