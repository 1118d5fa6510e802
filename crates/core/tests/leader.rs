//! The leader and exclusive frames through the engine: who is told what, and which client
//! each frame's exclusive handlers run in.

mod common;

use common::{exact, with_topics, Harness};
use tabmux_core::{Action, ClientId, Delivery, FrameMeta, SocketId};

fn leader_actions(h: &Harness) -> Vec<(u32, bool)> {
    h.actions
        .iter()
        .filter_map(|a| match a {
            Action::Leader { client, leader } => Some((client.0, *leader)),
            _ => None,
        })
        .collect()
}

/// The exclusive client of a frame (with `topic`), or `None`.
fn one(h: &mut Harness, socket: SocketId, topic: Option<&str>) -> Option<ClientId> {
    match h.engine.handle_frame(h.now, socket, FrameMeta { len: 10, topic, ..Default::default() }) {
        Delivery::To { one, .. } => one,
        Delivery::Drop => None,
    }
}

#[test]
fn the_first_tab_leads_and_the_leader_moves_at_once_when_it_leaves() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    let (c, _) = h.attach("c", exact("ws://h/ws"));
    assert_eq!(leader_actions(&h), [(a.0, true)]);
    h.engine.handle_visibility(h.now, c, true).unwrap();
    h.engine.handle_visibility(h.now, b, false).unwrap();
    h.engine.handle_detach(h.now, a);
    h.drain();
    // A is gone (nothing to tell it): the visible one leads, in the same call.
    assert_eq!(leader_actions(&h), [(a.0, true), (c.0, true)]);
    assert_eq!(h.engine.leader_of(b), Some(c));
    h.engine.handle_detach(h.now, c);
    h.engine.handle_detach(h.now, b);
    h.drain();
    assert_eq!(leader_actions(&h), [(a.0, true), (c.0, true), (b.0, true)]);
}

#[test]
fn a_leader_past_the_backlog_bound_is_told_before_the_next_one() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    h.engine.handle_lagging(h.now, a, true);
    h.drain();
    assert_eq!(leader_actions(&h), [(a.0, true), (a.0, false), (b.0, true)]);
    h.engine.handle_lagging(h.now, a, false);
    h.drain();
    assert_eq!(leader_actions(&h).len(), 3, "B keeps it once A catches up");
}

#[test]
fn endpoints_have_a_leader_each() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", exact("ws://h/one"));
    let (b, _) = h.attach("a", exact("ws://h/two"));
    assert_eq!(leader_actions(&h), [(a.0, true), (b.0, true)]);
}

#[test]
fn one_tab_runs_the_exclusive_handlers_of_every_frame_in_a_burst() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    let (c, _) = h.attach("c", exact("ws://h/ws"));
    let s = h.last_socket();
    h.open(s);
    assert_eq!(one(&mut h, s, None), None, "no exclusive handler: every client as before");
    h.engine.handle_exclusive(h.now, b, None, true).unwrap();
    h.engine.handle_exclusive(h.now, c, None, true).unwrap();
    h.engine.handle_visibility(h.now, c, true).unwrap();
    let chosen: Vec<_> = (0..1000).map(|_| one(&mut h, s, None)).collect();
    assert!(chosen.iter().all(|o| *o == Some(c)), "the visible one of the two that registered, for all 1,000");
    // The ordinary handlers still get every frame: the delivery is to all three.
    assert_eq!(h.deliver(s), Some(vec![a, b, c]));
    h.engine.handle_detach(h.now, c);
    assert_eq!(one(&mut h, s, None), Some(b), "the next frame after C left");
}

#[test]
fn a_topic_frame_goes_exclusively_to_a_registered_subscriber() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", with_topics());
    let (b, _) = h.attach("b", with_topics());
    let s = h.last_socket();
    h.open(s);
    assert!(h.engine.handle_exclusive(h.now, a, Some("news"), true).is_err(), "not subscribed");
    h.engine.handle_subscribe(h.now, a, "news").unwrap();
    h.engine.handle_subscribe(h.now, b, "news").unwrap();
    h.engine.handle_subscribe(h.now, b, "sport").unwrap();
    h.engine.handle_exclusive(h.now, b, Some("news"), true).unwrap();
    assert_eq!(one(&mut h, s, Some("news")), Some(b), "only B registered, though A leads");
    assert_eq!(one(&mut h, s, Some("sport")), None);
    assert_eq!(one(&mut h, s, None), None);
    // Unsubscribing drops the registration with it.
    h.engine.handle_unsubscribe(h.now, b, "news").unwrap();
    assert_eq!(one(&mut h, s, Some("news")), None);
}
