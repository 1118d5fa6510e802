//! A page that comes back (a reload, a same-site navigation) while the endpoint is *away*
//! (`idleCloseMs` after its last page left): the same socket, its topics still subscribed,
//! and the frames that reached no page handed to it. All on a virtual clock.
mod common;
use common::*;
use tabmux_core::{Action, ClientId, FrameMeta, Options, SocketId, DEFAULT_IDLE_CLOSE_MS};

const SUB_A: &str = r#"{"type":"subscribe","topic":"A"}"#;
const SUB_B: &str = r#"{"type":"subscribe","topic":"B"}"#;
const UNSUB_A: &str = r#"{"type":"unsubscribe","topic":"A"}"#;
const UNSUB_B: &str = r#"{"type":"unsubscribe","topic":"B"}"#;

/// Topics and replay on, `idleCloseMs` at its default.
fn options() -> Options {
    exact_with(serde_json::json!({ "topics": topics_json(), "replay": { "frames": 50 } }))
}

fn frame(h: &mut Harness, s: SocketId, topic: Option<&str>) -> (Vec<ClientId>, u64) {
    let (clients, _, retain) = h.frame(s, FrameMeta { len: 10, topic, ..Default::default() }).expect("delivered");
    (clients, retain.expect("kept for replay"))
}

fn redelivered(actions: &[Action]) -> Vec<(ClientId, Option<String>, Vec<u64>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Redeliver { client, topic, replay } => Some((*client, topic.clone(), replay.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_default_idle_time_is_five_seconds() {
    assert_eq!(DEFAULT_IDLE_CLOSE_MS, 5000);
    assert_eq!(Options::new("ws://h/ws").idle_close_ms, 5000);
}

#[test]
fn a_reloaded_page_gets_the_same_socket_its_topics_and_every_frame_it_missed() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("page", options());
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_subscribe(h.now, a, "A").unwrap();
    h.engine.handle_subscribe(h.now, a, "B").unwrap();
    let (_, _handled) = frame(&mut h, s, None);
    let (_, f1) = frame(&mut h, s, None);
    h.drain();
    // The page unloads having handled f0 but not f1 (still on its way when it went).
    h.now += 10;
    h.engine.handle_detach_unhandled(h.now, a, &[f1]);
    let left = h.drain();
    assert!(!left.iter().any(|a| matches!(a, Action::CloseSocket { .. } | Action::SendText { .. })), "{left:?}");
    // While no page is attached: a plain frame, one for A, one for a topic nobody held.
    h.now += 100;
    let (to, f2) = frame(&mut h, s, None);
    assert!(to.is_empty());
    let (_, f3) = frame(&mut h, s, Some("A"));
    let (_, _f4) = frame(&mut h, s, Some("C"));
    h.drain();
    // The new page (same tab id after a reload) attaches 290 ms after the old one left.
    h.now += 190;
    let (b, _) = h.attach("page", options());
    assert_eq!(h.opens(), 1, "no new socket");
    assert_eq!(redelivered(&h.actions), [(b, None, vec![f1, f2])], "the frames without a topic, oldest first; the handled one not again");
    // It subscribes to A: no frame to the server, and A's frame comes.
    h.engine.handle_subscribe(h.now, b, "A").unwrap();
    h.drain();
    assert_eq!(redelivered(&h.actions)[1], (b, Some("A".to_string()), vec![f3]));
    // New frames go straight to it.
    let (to, _) = frame(&mut h, s, Some("A"));
    assert_eq!(to, [b]);
    // When the idle time ends, B (which no page took) is unsubscribed; A is not.
    assert_eq!(h.fire_next(), Some(DEFAULT_IDLE_CLOSE_MS - 290));
    assert_eq!(h.texts(), [SUB_A, SUB_B, UNSUB_B]);
    assert_eq!(h.count(|a| matches!(a, Action::CloseSocket { .. })), 0);
    assert_eq!(h.engine.poll_timeout(), None);
    assert_eq!(h.engine.stats(b).unwrap().topics, 1);
}

#[test]
fn a_page_that_comes_and_goes_again_keeps_what_is_held() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("one", options());
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_subscribe(h.now, a, "A").unwrap();
    h.engine.handle_detach(h.now, a);
    let (_, fa) = frame(&mut h, s, Some("A"));
    h.now += 1000;
    let (b, _) = h.attach("two", options());
    h.engine.handle_detach(h.now, b);
    h.now += 1000;
    let (c, _) = h.attach("three", options());
    h.engine.handle_subscribe(h.now, c, "A").unwrap();
    h.drain();
    assert_eq!(redelivered(&h.actions), [(c, Some("A".to_string()), vec![fa])]);
    assert_eq!(h.texts(), [SUB_A], "one subscribe, never an unsubscribe");
    // The second leave restarted the idle time: it ends 5 s after it.
    assert_eq!(h.fire_next(), Some(DEFAULT_IDLE_CLOSE_MS - 1000));
    assert_eq!(h.texts(), [SUB_A]);
}

#[test]
fn with_no_page_back_the_socket_closes_when_the_idle_time_ends_and_topics_go_with_it() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("page", options());
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_subscribe(h.now, a, "A").unwrap();
    frame(&mut h, s, None);
    h.engine.handle_detach(h.now, a);
    h.drain();
    assert_eq!(h.fire_next(), Some(DEFAULT_IDLE_CLOSE_MS));
    let tail: Vec<&Action> = h.actions.iter().rev().take(2).collect();
    assert!(matches!(tail[1], Action::CloseSocket { code: 1000, .. }), "{tail:?}");
    assert!(matches!(tail[0], Action::Forget { .. }), "{tail:?}");
    assert_eq!(h.engine.endpoint_count(), 0);
    assert_eq!(h.texts(), [SUB_A], "closing the socket ends the subscriptions: no frame for them");
}

#[test]
fn without_replay_the_socket_and_topics_are_kept_and_no_frame_is_held() {
    let mut h = Harness::new(1);
    let mut o = options();
    o.replay.frames = 0;
    let (a, _) = h.attach("page", o.clone());
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_subscribe(h.now, a, "B").unwrap();
    h.engine.handle_detach(h.now, a);
    assert!(h.frame(s, FrameMeta { len: 10, ..Default::default() }).is_some());
    let (b, _) = h.attach("page", o);
    h.engine.handle_subscribe(h.now, b, "B").unwrap();
    h.drain();
    assert_eq!(redelivered(&h.actions), []);
    assert_eq!(h.opens(), 1);
    assert_eq!(h.texts(), [SUB_B]);
    let _ = (UNSUB_A, UNSUB_B);
}
