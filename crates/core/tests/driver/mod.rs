//! Drives the engine with a sequence of inputs chosen by a [`Choices`] source and checks the
//! engine's invariants after every step. Shared by the seeded test (`tests/invariants.rs`,
//! choices from a seeded generator) and the coverage-guided fuzz target (`fuzz/`, choices
//! read from libFuzzer's bytes), so both check exactly the same things.
//!
//! Invariants: at most one live socket per endpoint; a `reconnecting` endpoint waiting to retry
//! has a timer armed no later than the retry time in its status, and one in an attempt has
//! its deadline armed; every buffer under its cap; topic ref-counts equal the live
//! subscriptions (plus, with `idleCloseMs`, those held for the next page); the client count matches; no panic; when every tab has left, no socket and
//! no endpoint is left. The leader (`tabmux_core::leader`): exactly one attached client per
//! endpoint, the tabs told so are exactly the leaders, a new leader is told only after the
//! former one (when attached) was told it no longer leads; a frame's exclusive client is one
//! of the clients it goes to.
#![allow(dead_code)]

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use tabmux_core::{Action, ClientId, FrameMeta, Options, Rng, SocketId, State};

const URLS: [&str; 2] = ["ws://h/a", "ws://h/b"];
const TOPICS: [&str; 3] = ["t1", "t2", "t\"3"];
const CODES: [u16; 11] = [1000, 1001, 1006, 1008, 1011, 1012, 1013, 4000, 4401, 4403, 3000];
/// Close reasons: none, each retry-hint form, one capped and one that cannot be read.
const REASONS: [&str; 7] = ["fuzz", "retry-after=700", "reconnect-within=3000", r#"{"Retry-After":"2"}"#, r#"{"retryAfterMs":50}"#, "retry-after=99999999999", "retry-after=soon"];

/// Caps of the options below, checked after every step.
const QUEUE_MESSAGES: usize = 4;
const QUEUE_BYTES: usize = 400;
const DEDUP_KEYS: usize = 5;
const REPLAY_BYTES: usize = 500;

/// Where the choices come from. `None` ends the sequence (the fuzzer's input ran out).
pub trait Choices {
    /// A number in `0..n` (`n ≥ 1`).
    fn pick(&mut self, n: usize) -> Option<usize>;
}

impl Choices for Rng {
    fn pick(&mut self, n: usize) -> Option<usize> {
        Some((self.next_u64() % n as u64) as usize)
    }
}

/// Choices read from bytes: one byte for `n ≤ 256`, two for more.
pub struct Bytes<'a>(pub &'a [u8]);

impl Choices for Bytes<'_> {
    fn pick(&mut self, n: usize) -> Option<usize> {
        let width = if n <= 256 { 1 } else { 2 };
        if self.0.len() < width {
            return None;
        }
        let (head, rest) = self.0.split_at(width);
        self.0 = rest;
        let v = head.iter().fold(0usize, |acc, &b| acc << 8 | b as usize);
        Some(v % n)
    }
}

/// The options every attached tab uses, in one of 12 variants (token URL or not, a finite
/// `maxAttempts` or not, `idleCloseMs` or not).
fn options(url: &str, variant: usize) -> Options {
    let json = serde_json::json!({
        "url": url,
        "backoff": { "initialMs": 100, "maxMs": 2000, "maxAttempts": if variant % 3 == 0 { serde_json::json!(4) } else { serde_json::Value::Null } },
        "breaker": { "failureThreshold": 3, "resetTimeoutMs": 5000 },
        "heartbeat": { "intervalMs": 1000, "timeoutMs": 500 },
        "token": if variant % 2 == 0 { serde_json::json!({ "url": "/token", "pollMs": 3000 }) } else { serde_json::json!({}) },
        "dedup": { "key": "/id", "capacity": DEDUP_KEYS },
        "sequence": { "key": "/seq" },
        "topics": { "key": "/topic", "subscribe": "{\"s\":\"{topic}\"}", "unsubscribe": "{\"u\":\"{topic}\"}" },
        "queue": { "maxMessages": QUEUE_MESSAGES, "maxBytes": QUEUE_BYTES, "ttlMs": 3000 },
        "replay": { "frames": 3, "bytes": REPLAY_BYTES },
        "idleCloseMs": if variant % 4 == 1 { 1500 } else { 0 },
        "serverPing": if variant % 2 == 1 { serde_json::json!({ "match": "2", "reply": "3" }) } else { serde_json::Value::Null },
    });
    // The reader validates as it reads.
    tabmux_core::read_options(&json).expect("the driver's options are read and valid")
}

struct Model {
    /// Live sockets (opened and not closed by either side) → endpoint url.
    live: BTreeMap<SocketId, String>,
    /// (client, topic) subscriptions the model believes are live.
    subs: BTreeSet<(ClientId, String)>,
    clients: BTreeMap<ClientId, String>,
    sends: u64,
    seen: usize,
    /// The clients told they lead (`Action::Leader`) and not told since that they no longer do.
    leading: BTreeSet<ClientId>,
}

fn apply_actions(h: &mut Harness, m: &mut Model) {
    h.drain();
    // The harness keeps every action (some calls drain on their own): read from a cursor.
    let new: Vec<Action> = h.actions[m.seen..].to_vec();
    m.seen = h.actions.len();
    for a in new {
        match a {
            Action::OpenSocket { socket, url } => {
                let base = url.split('?').next().unwrap().to_string();
                m.live.insert(socket, base);
            }
            Action::CloseSocket { socket, .. } => {
                m.live.remove(&socket);
            }
            // (A client that left since is told nothing: the shell has no sink for it.)
            Action::Leader { client, leader: true } if m.clients.contains_key(&client) => {
                let ep = h.engine.endpoint_of(client);
                let others: Vec<_> = m.leading.iter().filter(|c| **c != client && h.engine.endpoint_of(**c) == ep).collect();
                assert!(others.is_empty(), "{client:?} told it leads while {others:?} of its endpoint still do");
                m.leading.insert(client);
            }
            Action::Leader { client, leader: false } => {
                m.leading.remove(&client);
            }
            _ => {}
        }
    }
}

fn check(h: &Harness, m: &Model, ctx: &str) {
    for url in URLS {
        let n = m.live.values().filter(|u| *u == url).count();
        assert!(n <= 1, "{ctx}: {n} live sockets for {url}; live {:?}", m.live);
    }
    for (&c, url) in &m.clients {
        let Ok(st) = h.engine.stats(c) else { panic!("{ctx}: attached client {c:?} has no stats") };
        assert!(st.queue_messages as usize <= QUEUE_MESSAGES && st.queue_bytes as usize <= QUEUE_BYTES, "{ctx}: queue over cap");
        assert!(st.dedup_keys as usize <= DEDUP_KEYS, "{ctx}: dedup over cap");
        assert!(st.replay_bytes as usize <= REPLAY_BYTES, "{ctx}: replay over cap");
        assert!(st.close_codes.values().sum::<u32>() <= 100 && st.durations_ms.count <= 50 && st.rtt_ms_p.count <= 50, "{ctx}: a window over cap");
        let live_topics: BTreeSet<&str> = m
            .subs
            .iter()
            .filter(|(c2, _)| m.clients.get(c2) == Some(url))
            .map(|(_, t)| t.as_str())
            .collect();
        // With idleCloseMs, the topics of a last tab that left stay held for the next page
        // (tabmux_core::away) until the idle time ends: more topics than live subscriptions,
        // never fewer.
        let holds = h.engine.endpoint_of(c).and_then(|e| h.engine.options_of(e)).is_some_and(|o| o.idle_close_ms > 0);
        if holds {
            assert!(live_topics.len() <= st.topics as usize && st.topics as usize <= TOPICS.len(), "{ctx}: {} topics for {} live subscriptions", st.topics, live_topics.len());
        } else {
            assert_eq!(st.topics as usize, live_topics.len(), "{ctx}: topic ref-counts differ from live subscriptions");
        }
        let timer = h.engine.poll_timeout();
        match st.status.state {
            // Waiting for a retry: its time is in the status and a timer fires by then. In
            // an attempt (token fetch or connect): the attempt's deadline is armed.
            State::Reconnecting | State::Connecting => match st.status.next_retry_at {
                Some(at) => assert!(timer.is_some_and(|t| t <= at), "{ctx}: retry at {at} but the next timer is {timer:?}"),
                None => assert!(timer.is_some(), "{ctx}: {:?} with no timer armed", st.status),
            },
            _ => {}
        }
    }
    assert_eq!(h.engine.client_count(), m.clients.len(), "{ctx}");
    let leaders: BTreeSet<ClientId> = m.clients.keys().map(|c| h.engine.leader_of(*c).unwrap_or_else(|| panic!("{ctx}: no leader for {c:?}"))).collect();
    for l in &leaders {
        assert!(m.clients.contains_key(l), "{ctx}: leader {l:?} is not attached");
    }
    let endpoints: BTreeSet<_> = m.clients.keys().filter_map(|c| h.engine.endpoint_of(*c)).collect();
    assert_eq!(leaders.len(), endpoints.len(), "{ctx}: one leader per endpoint");
    assert_eq!(m.leading, leaders, "{ctx}: the tabs told they lead are the leaders");
    assert!(h.engine.network_reports() <= m.clients.len(), "{ctx}: a report of a client that left is kept");
}

/// Runs up to `steps` inputs chosen by `ch` on a fresh engine seeded with `seed`, checking
/// every invariant after each; then every tab leaves and nothing may be left. `label` names
/// the run in failure messages.
pub fn run(ch: &mut impl Choices, seed: u64, steps: usize, label: &str) {
    let mut h = Harness::new(seed);
    let mut m = Model { live: BTreeMap::new(), subs: BTreeSet::new(), clients: BTreeMap::new(), sends: 0, seen: 0, leading: BTreeSet::new() };
    for step in 0..steps {
        if step_once(ch, &mut h, &mut m).is_none() {
            break;
        }
        apply_actions(&mut h, &mut m);
        check(&h, &m, &format!("{label} step {step}"));
    }
    // Everyone leaves: nothing is held any more.
    for c in m.clients.keys().copied().collect::<Vec<_>>() {
        h.engine.handle_detach(h.now, c);
        m.clients.remove(&c);
        m.leading.remove(&c);
    }
    h.advance(10_000);
    apply_actions(&mut h, &mut m);
    assert!(m.live.is_empty(), "{label}: sockets left open: {:?}", m.live);
    assert_eq!(h.engine.endpoint_count(), 0, "{label}: endpoints left");
    assert_eq!(h.engine.network_reports(), 0, "{label}: reports of the network left");
}

/// One input. `None` when the choices ran out.
fn step_once(ch: &mut impl Choices, h: &mut Harness, m: &mut Model) -> Option<()> {
    let clients: Vec<ClientId> = m.clients.keys().copied().collect();
    let sockets: Vec<SocketId> = m.live.keys().copied().collect();
    let op = ch.pick(20)?;
    let client = if clients.is_empty() { None } else { Some(clients[ch.pick(clients.len())?]) };
    let socket = if sockets.is_empty() { None } else { Some(sockets[ch.pick(sockets.len())?]) };
    match op {
        0 | 1 => {
            let url = URLS[ch.pick(2)?];
            let tab = format!("tab{}", ch.pick(4)?);
            let opts = options(url, ch.pick(12)?);
            // Two in three say hello as to a replacement worker would, with a token.
            let token = ["", "a", "b"][ch.pick(3)?];
            let attached = if token.is_empty() {
                h.engine.handle_attach(h.now, &tab, opts)
            } else {
                h.engine.handle_attach_with_token(h.now, &tab, opts, Some(token))
            };
            if let Ok((c, _)) = attached {
                m.clients.insert(c, url.to_string());
            }
        }
        2 => {
            if let Some(c) = client {
                h.engine.handle_detach(h.now, c);
                m.clients.remove(&c);
                m.subs.retain(|(c2, _)| *c2 != c);
                // A client that left is not told anything any more.
                m.leading.remove(&c);
            }
        }
        3 | 4 => {
            if let Some(s) = socket {
                h.engine.handle_open(h.now, s);
            }
        }
        5 => {
            if let Some(s) = socket {
                h.engine.handle_close(h.now, s, CODES[ch.pick(CODES.len())?], REASONS[ch.pick(REASONS.len())?]);
                m.live.remove(&s);
            }
        }
        6 | 7 => {
            if let Some(s) = socket {
                let id = format!("{}", ch.pick(8)?);
                let topic = TOPICS[ch.pick(3)?];
                let meta = FrameMeta {
                    len: ch.pick(300)?,
                    pong: ch.pick(5)? == 0,
                    server_ping: ch.pick(5)? == 0,
                    key: (ch.pick(2)? == 0).then_some(id.as_str()),
                    seq: if ch.pick(2)? == 0 { Some(ch.pick(50)? as u64) } else { None },
                    topic: (ch.pick(2)? == 0).then_some(topic),
                };
                if let tabmux_core::Delivery::To { clients, one: Some(one), .. } = h.engine.handle_frame(h.now, s, meta) {
                    assert!(clients.contains(&one), "the exclusive client {one:?} is not among {clients:?}");
                }
            }
        }
        8 => {
            if let Some(c) = client {
                m.sends += 1;
                let _ = h.engine.handle_send(h.now, c, m.sends, ch.pick(200)?);
            }
        }
        9 => {
            if let Some(c) = client {
                let t = TOPICS[ch.pick(3)?];
                if h.engine.handle_subscribe(h.now, c, t).is_ok() {
                    m.subs.insert((c, t.to_string()));
                }
            }
        }
        10 => {
            if let Some(c) = client {
                let t = TOPICS[ch.pick(3)?];
                h.engine.handle_unsubscribe(h.now, c, t).expect("unsubscribe of an attached client");
                m.subs.remove(&(c, t.to_string()));
            }
        }
        11 => {
            if let Some(c) = client {
                let _ = h.engine.handle_set_token(h.now, c, ["a", "b", "c"][ch.pick(3)?]);
            }
        }
        12 => {
            if let Some(c) = client {
                let ep = h.engine.endpoint_of(c).expect("an attached client has an endpoint");
                let result = if ch.pick(3)? == 0 { Err("HTTP 500") } else { Ok(["x", "y"][ch.pick(2)?]) };
                h.engine.handle_token_fetched(h.now, ep, result);
            }
        }
        13 => match client {
            // A tab's report counts only while it is attached; the engine's own view alone.
            Some(c) if ch.pick(2)? == 0 => h.engine.handle_tab_online(h.now, c, ch.pick(3)? != 0).expect("a report of an attached client"),
            _ => h.engine.handle_online(h.now, ch.pick(3)? != 0),
        },
        14 => {
            if let Some(c) = client {
                if ch.pick(2)? == 0 {
                    h.engine.handle_reconnect(h.now, c).expect("reconnect of an attached client");
                } else {
                    h.engine.handle_visible(h.now);
                }
            }
        }
        15 => {
            // The socket constructor threw (bad URL, mixed content): the socket never existed.
            if let Some(s) = socket {
                h.engine.handle_open_failed(h.now, s, "SyntaxError");
                m.live.remove(&s);
            }
        }
        16 => {
            if let Some(c) = client {
                let topic = if ch.pick(2)? == 0 { None } else { Some(TOPICS[ch.pick(3)?]) };
                if h.engine.admit_request(h.now, c).is_ok() {
                    h.engine.history(c, topic).expect("history of an attached client");
                }
            }
        }
        18 => {
            // What the leader rule reads: visibility, falling behind, exclusive handlers.
            if let Some(c) = client {
                match ch.pick(3)? {
                    0 => h.engine.handle_visibility(h.now, c, ch.pick(2)? == 0).expect("visibility of an attached client"),
                    1 => h.engine.handle_lagging(h.now, c, ch.pick(2)? == 0),
                    _ => {
                        let topic = if ch.pick(2)? == 0 { None } else { Some(TOPICS[ch.pick(3)?]) };
                        let subscribed = topic.is_none_or(|t| m.subs.contains(&(c, t.to_string())));
                        let r = h.engine.handle_exclusive(h.now, c, topic, ch.pick(3)? != 0);
                        assert!(r.is_ok() || !subscribed, "exclusive refused for a subscribed topic: {r:?}");
                    }
                }
            }
        }
        _ => {
            if ch.pick(2)? == 0 {
                h.fire_next();
            } else {
                h.advance(ch.pick(2000)? as u64);
            }
        }
    }
    Some(())
}
