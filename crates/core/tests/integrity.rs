//! Dedup, sequence gaps and resume, topics with ref-counts, the send queue, replay, idle close.
mod common;
use common::*;
use tabmux_core::{Action, ClientId, EngineError, Error, FrameMeta, Pointers, ProtocolError, SendOutcome};

fn meta<'a>(key: Option<&'a str>, seq: Option<u64>, topic: Option<&'a str>) -> FrameMeta<'a> {
    FrameMeta { len: 100, pong: false, server_ping: false, key, seq, topic }
}

fn with_dedup(capacity: usize) -> tabmux_core::Options {
    exact_with(serde_json::json!({ "dedup": { "key": ["/meta/in_reply_to", "/id"], "capacity": capacity } }))
}

#[test]
fn dedup_drops_a_key_seen_among_the_last_capacity_keys_and_evicts_oldest_first() {
    let mut h = Harness::new(1);
    let (c, _) = h.attach("a", with_dedup(3));
    let s = h.last_socket();
    h.open(s);
    let mut delivered = Vec::new();
    for k in ["a", "b", "a", "c", "d", "a", "b", "d"] {
        if h.frame(s, meta(Some(k), None, None)).is_some() {
            delivered.push(k);
        }
    }
    // a b (a dup) c d → keys {b c d}; a is new again → {c d a}; b is new again → {d a b}; d dup.
    assert_eq!(delivered, ["a", "b", "c", "d", "a", "b"]);
    assert!(h.frame(s, meta(None, None, None)).is_some(), "frames without a key pass");
    let st = h.engine.stats(c).unwrap();
    assert_eq!((st.counters.duplicates, st.dedup_keys), (2, 3));
    assert!(h.frame(s, meta(Some(&"k".repeat(300)), None, None)).is_some());
    assert!(h.frame(s, meta(Some(&"k".repeat(300)), None, None)).is_some(), "over-long keys are not remembered");
    assert_eq!(h.engine.stats(c).unwrap().dedup_keys, 3);
}

fn with_seq() -> tabmux_core::Options {
    exact_with(serde_json::json!({ "sequence": { "key": "/seq" } }))
}

#[test]
fn sequence_drops_repeats_reports_gaps_once_and_resumes_after_reconnect() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", with_seq());
    let s = h.last_socket();
    assert_eq!(h.last_url(), "ws://h/ws", "no resume before anything was seen");
    h.open(s);
    let mut got = Vec::new();
    for n in [1u64, 2, 2, 1, 3, 7, 6, 8] {
        if h.frame(s, meta(None, Some(n), None)).is_some() {
            got.push(n);
        }
    }
    assert_eq!(got, [1, 2, 3, 7, 8]);
    let gaps: Vec<_> = h.drain().into_iter().filter(|a| matches!(a, Action::Gap { .. })).collect();
    assert_eq!(gaps, vec![Action::Gap { endpoint: ep, from: 4, to: 6 }]);
    assert_eq!(h.engine.stats(c).unwrap().counters.duplicates, 3);
    h.close(s, 1006);
    h.fire_next();
    assert_eq!(h.last_url(), "ws://h/ws?since=8");
    let s2 = h.last_socket();
    h.open(s2);
    // The server replays from 9: nothing lost, nothing doubled.
    assert!(h.frame(s2, meta(None, Some(8), None)).is_none());
    assert!(h.frame(s2, meta(None, Some(9), None)).is_some());
    assert_eq!(h.engine.stats(c).unwrap().last_seq, Some(9));
}

#[test]
fn topics_are_ref_counted_across_tabs_and_routed_to_their_subscribers_only() {
    let mut h = Harness::new(1);
    let clients: Vec<ClientId> = (0..4).map(|i| h.attach(&format!("t{i}"), with_topics()).0).collect();
    let s = h.last_socket();
    // Subscribed before open: sent on open.
    h.engine.handle_subscribe(h.now, clients[0], "A").unwrap();
    assert!(h.texts().is_empty());
    h.open(s);
    assert_eq!(h.texts(), [r#"{"type":"subscribe","topic":"A"}"#]);
    h.engine.handle_subscribe(h.now, clients[1], "A").unwrap();
    h.engine.handle_subscribe(h.now, clients[2], "A").unwrap();
    h.engine.handle_subscribe(h.now, clients[2], "A").unwrap(); // twice: still one ref
    h.engine.handle_subscribe(h.now, clients[3], "B").unwrap();
    h.drain();
    assert_eq!(h.texts().len(), 2, "one subscribe per topic: {:?}", h.texts());
    assert_eq!(h.frame(s, meta(None, None, Some("A"))), Some((vec![clients[0], clients[1], clients[2]], true, None)));
    assert_eq!(h.frame(s, meta(None, None, Some("B"))), Some((vec![clients[3]], true, None)));
    assert_eq!(h.frame(s, meta(None, None, Some("C"))), Some((vec![], true, None)));
    assert_eq!(h.frame(s, meta(None, None, None)), Some((clients.clone(), false, None)));
    // The A tabs leave one by one (an unsubscribe, a goodbye, a dead tab): one unsubscribe frame.
    h.engine.handle_unsubscribe(h.now, clients[0], "A").unwrap();
    h.engine.handle_detach(h.now, clients[1]);
    h.drain();
    assert_eq!(h.texts().len(), 2);
    h.engine.handle_detach(h.now, clients[2]);
    h.drain();
    assert_eq!(h.texts().last().unwrap(), r#"{"type":"unsubscribe","topic":"A"}"#);
    assert_eq!(h.engine.stats(clients[3]).unwrap().topics, 1);
    // A reconnect subscribes every active topic again.
    h.close(s, 1006);
    h.fire_next();
    h.open(h.last_socket());
    assert_eq!(h.texts().last().unwrap(), r#"{"type":"subscribe","topic":"B"}"#);
    assert_eq!(h.texts().len(), 4);
    let st = h.engine.stats(clients[3]).unwrap();
    assert_eq!((st.counters.subscribes, st.counters.unsubscribes), (3, 1));
}

#[test]
fn subscribing_needs_the_topics_option_and_a_sane_topic() {
    let mut h = Harness::new(1);
    let (c, _) = h.attach("a", exact("ws://h/ws"));
    assert_eq!(h.engine.handle_subscribe(h.now, c, "A").unwrap_err().code(), "topic");
    let mut o = with_topics();
    o.url = "ws://h/topics".into();
    let (c2, _) = h.attach("a", o);
    assert_eq!(h.engine.handle_subscribe(h.now, c2, "").unwrap_err().to_string(), "tabmux: a topic must be 1 to 256 bytes");
    assert_eq!(h.engine.handle_subscribe(h.now, c2, &"x".repeat(257)).unwrap_err().code(), "topic");
    assert_eq!(h.engine.handle_subscribe(h.now, c2, &"x".repeat(256)), Ok(()), "256 bytes is allowed");
}

fn with_queue(max_messages: usize, max_bytes: usize, ttl_ms: u64) -> tabmux_core::Options {
    exact_with(serde_json::json!({ "queue": { "maxMessages": max_messages, "maxBytes": max_bytes, "ttlMs": ttl_ms } }))
}

#[test]
fn sends_while_down_are_queued_and_flushed_in_order_on_open_after_resubscribing() {
    let mut h = Harness::new(1);
    let mut o = with_queue(3, 1000, 60_000);
    o.topics = with_topics().topics;
    let (a, _) = h.attach("a", o.clone());
    let (b, _) = h.attach("b", o);
    h.engine.handle_subscribe(h.now, a, "T").unwrap();
    assert_eq!(h.engine.handle_send(h.now, a, 1, 10), Ok(SendOutcome::Queued));
    assert_eq!(h.engine.handle_send(h.now, b, 2, 10), Ok(SendOutcome::Queued));
    assert_eq!(h.engine.handle_send(h.now, a, 3, 10), Ok(SendOutcome::Queued));
    let err = h.engine.handle_send(h.now, b, 4, 10).unwrap_err();
    assert_eq!(err.to_string(), "tabmux: the send queue is full (3 frames waiting, queue.maxMessages is 3); the frame was not sent");
    assert_eq!(h.engine.stats(a).unwrap().queue_messages, 3);
    let s = h.last_socket();
    h.open(s);
    let mut after_open: Vec<Action> = h.actions.iter().filter(|a| !matches!(a, Action::Status { .. })).cloned().collect();
    let after_open = after_open.split_off(after_open.len() - 4);
    assert_eq!(
        after_open,
        vec![
            Action::SendText { socket: s, data: r#"{"type":"subscribe","topic":"T"}"#.into() },
            Action::WriteQueued { socket: s, client: a, send: 1 },
            Action::WriteQueued { socket: s, client: b, send: 2 },
            Action::WriteQueued { socket: s, client: a, send: 3 },
        ]
    );
    let st = h.engine.stats(a).unwrap();
    assert_eq!((st.queue_messages, st.queue_bytes, st.counters.frames_out), (0, 0, 3));
}

#[test]
fn queue_byte_cap_and_ttl_reject_with_clear_errors_and_a_leaving_client_drops_its_own() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", with_queue(100, 25, 5_000));
    let (b, _) = h.attach("b", with_queue(100, 25, 5_000));
    assert_eq!(h.engine.handle_send(h.now, a, 1, 10), Ok(SendOutcome::Queued));
    h.now += 1000;
    assert_eq!(h.engine.handle_send(h.now, b, 2, 10), Ok(SendOutcome::Queued));
    assert_eq!(
        h.engine.handle_send(h.now, a, 3, 10).unwrap_err().to_string(),
        "tabmux: the send queue is full (20 + 10 bytes would pass queue.maxBytes 25); the frame was not sent"
    );
    // TTL: the first expires 5 s after it was queued, the second 1 s later (the connect
    // timeout of 10 s has not fired yet).
    assert_eq!(h.fire_next(), Some(4000));
    assert_eq!(h.actions.last(), Some(&Action::SendFailed { client: a, send: 1, error: Error::Engine(EngineError::Expired(5000)) }));
    assert_eq!(Error::Engine(EngineError::Expired(5000)).to_string(), "tabmux: the frame waited 5000 ms for the socket to open and was not sent");
    assert_eq!(h.engine.handle_send(h.now, a, 5, 10), Ok(SendOutcome::Queued));
    h.engine.handle_detach(h.now, a);
    let ep = h.engine.endpoint_of(b).unwrap();
    let status = h.status(ep);
    assert_eq!(
        h.drain(),
        vec![
            Action::SendFailed { client: a, send: 5, error: Error::Protocol(ProtocolError::NotAttached) },
            // A led; B does now.
            Action::Leader { client: b, leader: true },
            Action::Status { endpoint: ep, status },
        ]
    );
    assert_eq!(h.engine.stats(b).unwrap().queue_messages, 1);
}

#[test]
fn replay_keeps_the_last_frames_per_topic_within_the_byte_cap() {
    let mut h = Harness::new(1);
    let o = exact_with(serde_json::json!({ "topics": topics_json(), "replay": { "frames": 2, "bytes": 450 } }));
    let (c, _) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    let mut ids = Vec::new();
    for t in [None, Some("A"), None, None, Some("A"), Some("A")] {
        ids.push(h.frame(s, meta(None, None, t)).unwrap().2.unwrap());
    }
    h.drain();
    // Per ring: the last 2. Untopic'd: ids[2], ids[3]; A: ids[4], ids[5] — 400 bytes in all.
    assert_eq!(h.engine.history(c, None).unwrap(), vec![ids[2], ids[3]]);
    assert_eq!(h.engine.history(c, Some("A")).unwrap(), vec![ids[4], ids[5]]);
    let forgotten: Vec<u64> = h.actions.iter().filter_map(|a| match a { Action::Forget { replay } => Some(*replay), _ => None }).collect();
    assert_eq!(forgotten, vec![ids[0], ids[1]]);
    // One more frame: 500 bytes > 450, the oldest over all rings (ids[2]) goes.
    let last = h.frame(s, meta(None, None, Some("B"))).unwrap().2.unwrap();
    h.drain();
    assert_eq!(h.engine.history(c, None).unwrap(), vec![ids[3]]);
    assert_eq!(h.engine.history(c, Some("B")).unwrap(), vec![last]);
    let st = h.engine.stats(c).unwrap();
    assert_eq!((st.replay_frames, st.replay_bytes), (4, 400));
    // The endpoint going away (its idle time over) forgets everything it kept.
    h.engine.handle_detach(h.now, c);
    h.drain();
    h.fire_next();
    let forgets = h.actions.iter().rev().take_while(|a| !matches!(a, Action::Status { .. })).filter(|a| matches!(a, Action::Forget { .. })).count();
    assert_eq!(forgets, 4);
}

#[test]
fn idle_close_keeps_the_socket_for_a_while_after_the_last_tab() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.idle_close_ms = 2000;
    let (c, _) = h.attach("a", o.clone());
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_detach(h.now, c);
    h.drain();
    assert_eq!(h.engine.endpoint_count(), 1);
    h.now += 1500;
    let (c2, _) = h.attach("b", o); // back in time: same socket
    assert_eq!(h.opens(), 1);
    h.engine.handle_detach(h.now, c2);
    h.drain();
    assert_eq!(h.fire_next(), Some(2000));
    assert_eq!(h.actions.last(), Some(&Action::CloseSocket { socket: s, code: 1000, reason: "no tabs left".into() }));
    assert_eq!(h.engine.endpoint_count(), 0);
}

#[test]
fn pointers_options_parse_as_one_or_many() {
    use serde_json::json;
    let read = |extra: serde_json::Value| {
        let mut v = json!({ "url": "ws://h/ws" });
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        tabmux_core::read_options(&v).map_err(|e| e.to_string())
    };
    let one = read(json!({ "dedup": { "key": "/id" } })).unwrap().dedup.unwrap();
    assert_eq!(one.key, Pointers::One("/id".into()));
    let many = read(json!({ "dedup": { "key": ["/a", "/id"] } })).unwrap().dedup.unwrap();
    assert_eq!(many.key.list(), ["/a", "/id"]);
    assert_eq!(read(json!({ "dedup": { "key": "id" } })).unwrap_err(), "tabmux: invalid options: dedup.key must be a JSON pointer like \"/id\" or a non-empty list of them");
    assert_eq!(
        read(json!({ "topics": { "key": "/t", "subscribe": "sub", "unsubscribe": "{topic}" } })).unwrap_err(),
        "tabmux: invalid options: topics subscribe and unsubscribe must contain {topic}"
    );
}
