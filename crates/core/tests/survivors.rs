//! Behaviour the mutation run found unpinned: counters, exact cap boundaries, the token fetch
//! timeout, accessors the shells rely on, close-reason truncation, quality grades.
mod common;
use common::*;
use tabmux_core::{Action, FrameMeta, Quality, SendOutcome, State};

#[test]
fn a_token_url_that_never_answers_times_out_as_a_failed_attempt() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.token.url = Some("/token".into());
    o.connect_timeout_ms = 2000;
    let (_, ep) = h.attach("a", o);
    assert_eq!(h.engine.poll_timeout(), Some(h.now + 2000), "the fetch has a deadline");
    h.advance(1999);
    assert_eq!(h.state(ep), State::Connecting);
    assert_eq!(h.fire_next(), Some(1));
    let st = h.status(ep);
    assert_eq!((st.state, st.attempt, st.last_error.as_deref()), (State::Reconnecting, 1, Some("token fetch timed out")));
    assert_eq!(h.opens(), 0);
    assert_eq!(h.fire_next(), Some(1000));
    assert_eq!(h.count(|a| matches!(a, Action::FetchToken { .. })), 2, "a new fetch for the retry");
}

#[test]
fn counters_count_exactly() {
    let mut h = Harness::new(1);
    let o = exact_with(serde_json::json!({"heartbeat": true, "topics": {"key": "/t", "subscribe": "s{topic}", "unsubscribe": "u{topic}"}}));
    let (c, _) = h.attach("a", o);
    assert_eq!(h.engine.handle_send(h.now, c, 1, 7), Ok(SendOutcome::Queued));
    assert_eq!(h.engine.handle_send(h.now, c, 2, 5), Ok(SendOutcome::Queued));
    let s = h.last_socket();
    h.open(s);
    assert!(h.engine.handle_send(h.now, c, 3, 4).is_ok());
    h.engine.note_send_error(h.now, c);
    h.engine.note_send_error(h.now, c);
    for t in [Some("x"), Some("x"), None] {
        let _ = h.engine.handle_frame(h.now, s, FrameMeta { len: 3, topic: t, ..Default::default() });
    }
    h.fire_next(); // ping
    h.fire_next(); // no frame for 10 s: heartbeat timeout
    h.close(s, 1006);
    h.fire_next();
    let st = h.engine.stats(c).unwrap().counters;
    assert_eq!((st.queued, st.frames_out, st.bytes_out, st.errors), (2, 3, 16, 2));
    assert_eq!((st.frames_in, st.bytes_in, st.topic_frames, st.deliveries), (3, 9, 2, 1));
    assert_eq!((st.connects, st.attempts, st.pings), (1, 2, 1));
}

#[test]
fn queue_and_replay_caps_are_exact() {
    let mut h = Harness::new(1);
    let o = exact_with(serde_json::json!({"queue": {"maxMessages": 2, "maxBytes": 20}, "replay": {"frames": 2, "bytes": 20}}));
    let (c, _) = h.attach("a", o);
    assert_eq!(h.engine.handle_send(h.now, c, 1, 10), Ok(SendOutcome::Queued));
    assert_eq!(h.engine.handle_send(h.now, c, 2, 10), Ok(SendOutcome::Queued), "exactly maxBytes fits");
    assert!(h.engine.handle_send(h.now, c, 3, 0).is_err(), "maxMessages reached");
    let s = h.last_socket();
    h.open(s);
    let keep = |h: &mut Harness, len| match h.engine.handle_frame(h.now, s, FrameMeta { len, ..Default::default() }) {
        tabmux_core::Delivery::To { retain, .. } => retain,
        _ => None,
    };
    assert!(keep(&mut h, 20).is_some(), "a frame of exactly replay.bytes is kept");
    assert!(keep(&mut h, 21).is_none(), "a larger one is not");
    let a = keep(&mut h, 10).unwrap();
    let b = keep(&mut h, 10).unwrap();
    assert_eq!(h.engine.history(c, None).unwrap(), vec![a, b], "exactly 20 bytes in 2 frames");
}

#[test]
fn the_accessors_the_shells_use() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    assert_eq!(h.engine.endpoint_of_socket(s), Some(ep));
    assert_eq!(h.engine.options_of(ep).unwrap().url, "ws://h/ws");
    assert_eq!(h.engine.clients_of(ep), &[c]);
    assert!(h.engine.online());
    h.engine.handle_online(h.now, false);
    assert!(!h.engine.online());
    assert!(h.engine.has_actions());
    h.drain();
    assert!(!h.engine.has_actions());
}

#[test]
fn close_reasons_are_cut_at_123_bytes_on_a_character_boundary() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    h.open(s);
    let reason = format!("{}é{}", "a".repeat(122), "b".repeat(10)); // é spans bytes 122..124
    h.engine.handle_close(h.now, s, 1006, &reason);
    assert_eq!(h.status(ep).last_close.unwrap().reason, "a".repeat(122));
}

#[test]
fn quality_grades_at_their_boundaries() {
    assert_eq!(Quality::from_rtt(None), Quality::Unknown);
    assert_eq!(Quality::from_rtt(Some(149)), Quality::Good);
    assert_eq!(Quality::from_rtt(Some(150)), Quality::Fair);
    assert_eq!(Quality::from_rtt(Some(499)), Quality::Fair);
    assert_eq!(Quality::from_rtt(Some(500)), Quality::Poor);
}

/// Counters of the rarer paths, each from zero to an exact count (the full mutation run found
/// `+= 1` → `*= 1` unnoticed on each of these).
#[test]
fn counters_of_token_fetches_expired_and_refused_sends_and_gaps_count_exactly() {
    // Token fetches: one before the connect, one per poll.
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.token.url = Some("/token".into());
    o.token.poll_ms = 1000;
    let (c, ep) = h.attach("a", o);
    h.engine.handle_token_fetched(h.now, ep, Ok("t1"));
    h.drain();
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.engine.stats(c).unwrap().counters.token_fetches, 1);
    h.advance(1000);
    assert_eq!(h.count(|a| matches!(a, Action::FetchToken { .. })), 2);
    assert_eq!(h.engine.stats(c).unwrap().counters.token_fetches, 2);

    // Errors: a queued send that expires, then one refused by a full queue.
    let mut h = Harness::new(1);
    let o = exact_with(serde_json::json!({"queue": {"maxMessages": 1, "ttlMs": 500}}));
    let (c, _) = h.attach("a", o);
    assert_eq!(h.engine.handle_send(h.now, c, 1, 3), Ok(SendOutcome::Queued));
    h.advance(500);
    assert_eq!(h.count(|a| matches!(a, Action::SendFailed { send: 1, .. })), 1);
    assert_eq!(h.engine.stats(c).unwrap().counters.errors, 1);
    assert_eq!(h.engine.handle_send(h.now, c, 2, 3), Ok(SendOutcome::Queued));
    assert!(h.engine.handle_send(h.now, c, 3, 3).is_err());
    assert_eq!(h.engine.stats(c).unwrap().counters.errors, 2);

    // Gaps: 1, 2, then 5 and 9 are two gaps.
    let mut h = Harness::new(1);
    let o = exact_with(serde_json::json!({"sequence": {"key": "/seq"}}));
    let (c, _) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    for seq in [1, 2, 5, 9] {
        assert!(h.frame(s, FrameMeta { len: 1, seq: Some(seq), ..Default::default() }).is_some());
    }
    assert_eq!(h.engine.stats(c).unwrap().counters.gaps, 2);
}

#[test]
fn a_topic_longer_than_256_bytes_is_no_topic_and_replay_ids_are_distinct() {
    let mut h = Harness::new(1);
    let o = exact_with(serde_json::json!({"topics": {"key": "/t", "subscribe": "s{topic}", "unsubscribe": "u{topic}"}, "replay": {"frames": 5}}));
    let (c, _) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    let long = "x".repeat(257);
    let edge = "y".repeat(256);
    // Nobody subscribed: a real topic reaches no one, a non-topic reaches every client.
    let (to, topic, a) = h.frame(s, FrameMeta { len: 1, topic: Some(&long), ..Default::default() }).unwrap();
    assert_eq!((to, topic), (vec![c], false));
    let (to, topic, b) = h.frame(s, FrameMeta { len: 1, topic: Some(&edge), ..Default::default() }).unwrap();
    assert_eq!((to, topic), (vec![], true));
    let (_, _, d) = h.frame(s, FrameMeta { len: 1, ..Default::default() }).unwrap();
    let (a, b, d) = (a.unwrap(), b.unwrap(), d.unwrap());
    assert!(a < b && b < d, "replay ids {a} {b} {d} increase");
    assert_eq!(h.engine.history(c, None).unwrap(), vec![a, d]);
    assert_eq!(h.engine.history(c, Some(&edge)).unwrap(), vec![b]);
}

#[test]
fn open_after_failed_attempts_is_a_warning_until_it_has_lasted_min_uptime() {
    use tabmux_core::Health;
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws")); // minUptime 5000
    let s = h.last_socket();
    h.close(s, 1006); // never opened: a failed attempt
    h.fire_next();
    let s = h.last_socket();
    h.open(s);
    let opened = h.now;
    let st = h.status(ep);
    assert_eq!((st.state, st.attempt, st.health), (State::Open, 1, Health::Warning));
    // The engine asks to be woken when the failures are forgiven, and then says so.
    assert_eq!(h.engine.poll_timeout(), Some(opened + 5000));
    h.advance(4999);
    assert_eq!(h.status(ep).attempt, 1);
    h.advance(1);
    let st = h.status(ep);
    assert_eq!((st.state, st.attempt, st.health), (State::Open, 0, Health::Healthy));
    assert_eq!(h.engine.poll_timeout(), None, "nothing left to wake for");
    // The next loss starts the backoff from the first delay again.
    h.close(s, 1006);
    assert_eq!(h.fire_next(), Some(1000));
}

/// The 4401 refresh-and-retry-once counts as an attempt but plans no delay; once that
/// connection has lasted minUptime it is forgiven like any other.
#[test]
fn a_refresh_retry_that_opens_is_forgiven_after_min_uptime_too() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.token.url = Some("/token".into());
    o.token.poll_ms = 1_000_000;
    let (_, ep) = h.attach("a", o);
    h.engine.handle_token_fetched(h.now, ep, Ok("t1"));
    h.drain();
    let s = h.last_socket();
    h.open(s);
    h.advance(6000);
    h.close(s, 4401);
    assert_eq!((h.state(ep), h.status(ep).attempt, h.status(ep).next_retry_at), (State::Reconnecting, 1, None));
    h.engine.handle_token_fetched(h.now, ep, Ok("t2"));
    h.drain();
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.status(ep).attempt, 1);
    assert_eq!(h.engine.poll_timeout(), Some(h.now + 5000));
    h.advance(5000);
    assert_eq!((h.state(ep), h.status(ep).attempt), (State::Open, 0));
}
