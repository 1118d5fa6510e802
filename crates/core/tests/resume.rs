//! A tab that says hello to a new worker after its old one ended, with the last sequence
//! number it delivered: the stream resumes after the lowest such number. Virtual clock.
mod common;
use common::*;
use tabmux_core::{Action, Options, State, RESUME_GATHER_MS, RESUME_WINDOW_MS};

fn options() -> Options {
    exact_with(serde_json::json!({ "sequence": { "key": "/seq" } }))
}

#[test]
fn a_new_worker_resumes_after_the_lowest_number_its_tabs_had() {
    let mut h = Harness::new(1);
    let (_, ep) = h.engine.handle_attach_resuming(h.now, "a", options(), None, Some(120)).unwrap();
    h.drain();
    assert_eq!(h.opens(), 0, "it waits for the other tabs' hellos");
    assert_eq!(h.state(ep), State::Reconnecting);
    h.now += 10;
    h.engine.handle_attach_resuming(h.now, "b", options(), None, Some(97)).unwrap();
    h.engine.handle_attach_resuming(h.now, "c", options(), None, Some(130)).unwrap();
    h.drain();
    assert_eq!(h.fire_next(), Some(RESUME_GATHER_MS - 10));
    assert_eq!(h.opens(), 1);
    assert_eq!(h.last_url(), "ws://h/ws?since=97");
    // A tab further behind whose hello comes late (a background tab's timer, clamped to a
    // second) dials the socket again from its number, once: the others drop what they had.
    let s1 = h.last_socket();
    h.open(s1);
    h.now += 1000;
    h.engine.handle_attach_resuming(h.now, "d", options(), None, Some(50)).unwrap();
    h.drain();
    assert_eq!(h.opens(), 2);
    assert!(h.actions.contains(&Action::CloseSocket { socket: s1, code: 1000, reason: "resuming from an earlier number".into() }));
    assert_eq!(h.last_url(), "ws://h/ws?since=50");
    // A late tab level with the others, after the socket delivered past its number (97 →
    // 130 arrived before it came), dials again too: it must not miss 98..130.
    let s2 = h.last_socket();
    h.open(s2);
    for seq in 51..=130 {
        h.frame(s2, tabmux_core::FrameMeta { len: 10, seq: Some(seq), ..Default::default() });
    }
    h.engine.handle_attach_resuming(h.now, "e", options(), None, Some(97)).unwrap();
    h.drain();
    assert_eq!(h.opens(), 3);
    assert_eq!(h.last_url(), "ws://h/ws?since=97");
    // One at the endpoint's last number changes nothing; nor one behind once the window has
    // passed.
    let s3 = h.last_socket();
    h.open(s3);
    h.frame(s3, tabmux_core::FrameMeta { len: 10, seq: Some(98), ..Default::default() });
    h.engine.handle_attach_resuming(h.now, "e", options(), None, Some(98)).unwrap();
    h.now += RESUME_WINDOW_MS;
    h.engine.handle_attach_resuming(h.now, "f", options(), None, Some(10)).unwrap();
    h.drain();
    assert_eq!(h.opens(), 3);
}

#[test]
fn without_sequence_or_a_number_a_hello_connects_at_once() {
    let mut h = Harness::new(1);
    h.engine.handle_attach_resuming(h.now, "a", exact("ws://h/ws"), None, Some(5)).unwrap();
    h.drain();
    assert_eq!(h.opens(), 1, "sequence off: the number means nothing");
    assert_eq!(h.last_url(), "ws://h/ws");
    let mut h = Harness::new(1);
    h.engine.handle_attach_resuming(h.now, "a", options(), None, None).unwrap();
    h.drain();
    assert_eq!(h.last_url(), "ws://h/ws");
}
