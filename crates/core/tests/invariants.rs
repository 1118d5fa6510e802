//! Random input sequences (seeded, so every failure replays) with the engine's invariants
//! checked after every step: never two live sockets for one endpoint, a retry always has a
//! timer, every buffer under its cap, topic ref-counts equal the live subscriptions, no
//! panic. `TABMUX_FUZZ_SEEDS` raises the number of sequences (CI runs the default).
mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use tabmux_core::{Action, ClientId, FrameMeta, Options, Rng, SocketId, State};

const URLS: [&str; 2] = ["ws://h/a", "ws://h/b"];
const TOPICS: [&str; 3] = ["t1", "t2", "t\"3"];
const CODES: [u16; 10] = [1000, 1001, 1006, 1008, 1011, 1012, 4000, 4401, 4403, 3000];

fn options(url: &str, variant: u64) -> Options {
    let mut o = Options::new(url);
    let json = serde_json::json!({
        "url": url,
        "backoff": { "initialMs": 100, "maxMs": 2000, "maxAttempts": if variant % 3 == 0 { serde_json::json!(4) } else { serde_json::Value::Null } },
        "breaker": { "failureThreshold": 3, "resetTimeoutMs": 5000 },
        "heartbeat": { "intervalMs": 1000, "timeoutMs": 500 },
        "token": if variant % 2 == 0 { serde_json::json!({ "url": "/token", "pollMs": 3000 }) } else { serde_json::json!({}) },
        "dedup": { "key": "/id", "capacity": 5 },
        "sequence": { "key": "/seq" },
        "topics": { "key": "/topic", "subscribe": "{\"s\":\"{topic}\"}", "unsubscribe": "{\"u\":\"{topic}\"}" },
        "queue": { "maxMessages": 4, "maxBytes": 400, "ttlMs": 3000 },
        "replay": { "frames": 3, "bytes": 500 },
        "idleCloseMs": if variant % 4 == 1 { 1500 } else { 0 },
    });
    o = serde_json::from_value(json).unwrap_or(o);
    o.validate().unwrap();
    o
}

struct Model {
    /// Live sockets (opened and not closed by either side) → endpoint url.
    live: BTreeMap<SocketId, String>,
    /// (client, topic) subscriptions the model believes are live.
    subs: BTreeSet<(ClientId, String)>,
    clients: BTreeMap<ClientId, String>,
    sends: u64,
    seen: usize,
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
            _ => {}
        }
    }
}

fn check(h: &Harness, m: &Model, step: usize, seed: u64) {
    let ctx = format!("seed {seed} step {step}");
    for url in URLS {
        let n = m.live.values().filter(|u| *u == url).count();
        assert!(n <= 1, "{ctx}: {n} live sockets for {url}; live {:?}", m.live);
    }
    for (&c, url) in &m.clients {
        let Ok(st) = h.engine.stats(c) else { panic!("{ctx}: attached client {c:?} has no stats") };
        assert!(st.queue_messages <= 4 && st.queue_bytes <= 400, "{ctx}: queue over cap");
        assert!(st.dedup_keys <= 5, "{ctx}: dedup over cap");
        assert!(st.replay_bytes <= 500, "{ctx}: replay over cap");
        assert!(st.close_codes.values().sum::<u32>() <= 100 && st.durations_ms.count <= 50 && st.rtt_ms_p.count <= 50);
        let live_topics: BTreeSet<&str> = m
            .subs
            .iter()
            .filter(|(c2, _)| m.clients.get(c2) == Some(url))
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(st.topics as usize, live_topics.len(), "{ctx}: topic ref-counts differ from live subscriptions");
        if matches!(st.status.state, State::Reconnecting | State::Connecting) {
            assert!(h.engine.poll_timeout().is_some(), "{ctx}: {:?} with no timer armed", st.status.state);
        }
    }
    assert_eq!(h.engine.client_count(), m.clients.len(), "{ctx}");
}

fn run(seed: u64, steps: usize) {
    let mut r = Rng::new(seed);
    let mut pick = |n: usize| (r.next_u64() % n as u64) as usize;
    let mut h = Harness::new(seed);
    let mut m = Model { live: BTreeMap::new(), subs: BTreeSet::new(), clients: BTreeMap::new(), sends: 0, seen: 0 };
    for step in 0..steps {
        let clients: Vec<ClientId> = m.clients.keys().copied().collect();
        let any_client = (!clients.is_empty()).then(|| clients[pick(clients.len())]);
        let sockets: Vec<SocketId> = m.live.keys().copied().collect();
        let any_socket = (!sockets.is_empty()).then(|| sockets[pick(sockets.len())]);
        match pick(16) {
            0 | 1 => {
                let url = URLS[pick(2)];
                if let Ok((c, _)) = h.engine.attach(h.now, &format!("tab{}", pick(4)), options(url, seed)) {
                    m.clients.insert(c, url.to_string());
                }
            }
            2 => {
                if let Some(c) = any_client {
                    h.engine.detach(h.now, c);
                    m.clients.remove(&c);
                    m.subs.retain(|(c2, _)| *c2 != c);
                }
            }
            3 | 4 => {
                if let Some(s) = any_socket {
                    h.engine.handle_open(h.now, s);
                }
            }
            5 => {
                if let Some(s) = any_socket {
                    h.engine.handle_close(h.now, s, CODES[pick(CODES.len())], "fuzz");
                    m.live.remove(&s);
                }
            }
            6 | 7 => {
                if let Some(s) = any_socket {
                    let id = format!("{}", pick(8));
                    let topic = TOPICS[pick(3)];
                    let meta = FrameMeta {
                        len: pick(300),
                        pong: pick(5) == 0,
                        key: (pick(2) == 0).then_some(id.as_str()),
                        seq: (pick(2) == 0).then(|| pick(50) as u64),
                        topic: (pick(2) == 0).then_some(topic),
                    };
                    let _ = h.engine.handle_frame(h.now, s, meta);
                }
            }
            8 => {
                if let Some(c) = any_client {
                    m.sends += 1;
                    let _ = h.engine.handle_send(h.now, c, m.sends, pick(200));
                }
            }
            9 => {
                if let Some(c) = any_client {
                    let t = TOPICS[pick(3)];
                    if h.engine.handle_subscribe(h.now, c, t).is_ok() {
                        m.subs.insert((c, t.to_string()));
                    }
                }
            }
            10 => {
                if let Some(c) = any_client {
                    let t = TOPICS[pick(3)];
                    h.engine.handle_unsubscribe(h.now, c, t).unwrap();
                    m.subs.remove(&(c, t.to_string()));
                }
            }
            11 => {
                if let Some(c) = any_client {
                    let _ = h.engine.handle_set_token(h.now, c, ["a", "b", "c"][pick(3)]);
                }
            }
            12 => {
                if let Some(c) = any_client {
                    let ep = h.engine.endpoint_of(c).unwrap();
                    let result = if pick(3) == 0 { Err("HTTP 500") } else { Ok(["x", "y"][pick(2)]) };
                    h.engine.handle_token_fetched(h.now, ep, result);
                }
            }
            13 => h.engine.handle_online(h.now, pick(3) != 0),
            14 => {
                if let Some(c) = any_client {
                    if pick(2) == 0 {
                        h.engine.handle_reconnect(h.now, c).unwrap();
                    } else {
                        h.engine.handle_visible(h.now);
                    }
                }
            }
            _ => {
                if pick(2) == 0 {
                    h.fire_next();
                } else {
                    h.advance(pick(2000) as u64);
                }
            }
        }
        apply_actions(&mut h, &mut m);
        check(&h, &m, step, seed);
    }
    // Everyone leaves: nothing is held any more.
    for c in m.clients.keys().copied().collect::<Vec<_>>() {
        h.engine.detach(h.now, c);
    }
    h.advance(10_000);
    apply_actions(&mut h, &mut m);
    assert!(m.live.is_empty(), "seed {seed}: sockets left open: {:?}", m.live);
    assert_eq!(h.engine.endpoint_count(), 0);
}

#[test]
fn random_sequences_keep_every_invariant() {
    let seeds: u64 = std::env::var("TABMUX_FUZZ_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    for seed in 0..seeds {
        run(seed, 400);
    }
}
