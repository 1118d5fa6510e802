//! A tab that says hello to a new worker after its old one ended, with the last sequence
//! number it delivered: the stream resumes after the lowest such number. Virtual clock.
mod common;
use common::*;
use tabmux_core::{Action, Options, SequenceOptions, State, RESUME_GATHER_MS};

fn options() -> Options {
    let mut o = exact("ws://h/ws");
    o.sequence = Some(serde_json::from_value::<SequenceOptions>(serde_json::json!({ "key": "/seq" })).unwrap());
    o
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
    // A tab that comes later, behind the others, does not restart a socket on its way.
    h.engine.handle_attach_resuming(h.now, "d", options(), None, Some(50)).unwrap();
    h.drain();
    assert_eq!(h.opens(), 1);
    assert!(!h.actions.iter().any(|a| matches!(a, Action::CloseSocket { .. })));
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
