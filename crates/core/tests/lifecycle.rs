//! Endpoints, clients, fan-out and the single-writer rule.
mod common;
use common::*;
use tabmux_core::{Action, ClientId, State};

#[test]
fn tabs_on_one_url_share_one_socket_and_every_client_gets_each_frame_in_attach_order() {
    let mut h = Harness::new(1);
    let (c1, ep) = h.attach("tab-a", opts("ws://h/ws"));
    let (c2, ep2) = h.attach("tab-b", opts("ws://h/ws"));
    let (c3, _) = h.attach("tab-b", opts("ws://h/ws"));
    assert_eq!(ep, ep2);
    assert_eq!(h.opens(), 1);
    assert_eq!(h.state(ep), State::Connecting);
    let s = h.last_socket();
    h.open(s);
    let st = h.status(ep);
    assert_eq!((st.state, st.tabs, st.clients), (State::Open, 2, 3));
    assert_eq!(h.deliver(s), Some(vec![c1, c2, c3]));
    let stats = h.engine.stats(c1).unwrap();
    assert_eq!((stats.counters.frames_in, stats.counters.deliveries, stats.counters.bytes_in), (1, 3, 10));
}

#[test]
fn different_urls_get_different_sockets_and_frames_stay_apart() {
    let mut h = Harness::new(1);
    let (a, ea) = h.attach("t", opts("ws://h/a"));
    let sa = h.last_socket();
    let (b, eb) = h.attach("t", opts("ws://h/b"));
    let sb = h.last_socket();
    assert_ne!(ea, eb);
    assert_ne!(sa, sb);
    h.open(sa);
    h.open(sb);
    assert_eq!(h.deliver(sa), Some(vec![a]));
    assert_eq!(h.deliver(sb), Some(vec![b]));
    assert_eq!(h.engine.endpoint_count(), 2);
}

#[test]
fn last_client_leaving_closes_the_socket_with_1000_and_forgets_the_endpoint() {
    let mut h = Harness::new(1);
    let mut o = opts("ws://h/ws");
    o.idle_close_ms = 0;
    let (c1, ep) = h.attach("a", o.clone());
    let (c2, _) = h.attach("b", o);
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_detach(h.now, c1);
    h.drain();
    assert_eq!(h.status(ep).tabs, 1);
    assert!(!h.actions.iter().any(|a| matches!(a, Action::CloseSocket { .. })));
    h.engine.handle_detach(h.now, c2);
    let acts = h.drain();
    assert_eq!(acts, vec![Action::CloseSocket { socket: s, code: 1000, reason: "no tabs left".into() }]);
    assert_eq!(h.engine.endpoint_count(), 0);
    assert_eq!(h.engine.poll_timeout(), None);
    // Events of the closed socket change nothing.
    h.close(s, 1006);
    assert_eq!(h.engine.endpoint_count(), 0);
    assert_eq!(h.deliver(s), None);
}

#[test]
fn events_from_a_replaced_socket_are_ignored() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    let old = h.last_socket();
    h.open(old);
    h.close(old, 1006);
    assert_eq!(h.fire_next(), Some(1000));
    let new = h.last_socket();
    assert_ne!(old, new);
    h.open(new);
    // The old socket's late frame, open and close must not reach anyone or change state.
    assert_eq!(h.deliver(old), None);
    h.open(old);
    h.close(old, 1011);
    assert_eq!(h.state(ep), State::Open);
    assert_eq!(h.opens(), 2);
    assert!(h.deliver(new).is_some());
}

#[test]
fn frames_before_open_are_stale_and_sends_are_written_once_open() {
    let mut h = Harness::new(1);
    let (c, _) = h.attach("a", opts("ws://h/ws"));
    let s = h.last_socket();
    assert_eq!(h.deliver(s), None);
    // With a queue of 0 frames, a send before open is refused with a clear error.
    let mut h2 = Harness::new(1);
    let mut o = opts("ws://h/ws");
    o.queue.max_messages = 0;
    let (c2, _) = h2.attach("a", o);
    let err = h2.engine.handle_send(h2.now, c2, 1, 5).unwrap_err();
    assert_eq!(err.to_string(), "tabmux: the send queue is full (0 frames waiting, queue.maxMessages is 0); the frame was not sent");
    h.open(s);
    assert_eq!(h.engine.handle_send(h.now, c, 2, 5), Ok(tabmux_core::SendOutcome::Write(s)));
    let st = h.engine.stats(c).unwrap();
    assert_eq!((st.counters.frames_out, st.counters.bytes_out, st.counters.errors), (1, 5, 0));
}

#[test]
fn status_is_queued_only_when_it_changes() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", opts("ws://h/ws"));
    let statuses = |h: &Harness| h.actions.iter().filter(|a| matches!(a, Action::Status { .. })).count();
    assert_eq!(statuses(&h), 1);
    let s = h.last_socket();
    h.open(s);
    assert_eq!(statuses(&h), 2);
    h.open(s); // a duplicate open changes nothing
    h.deliver(s);
    assert_eq!(statuses(&h), 2);
    h.attach("a", opts("ws://h/ws")); // same tab, second client: clients 1 → 2
    assert_eq!(statuses(&h), 3);
    assert_eq!(h.status(ep).tabs, 1);
}

#[test]
fn unknown_clients_are_refused_and_detaching_twice_is_harmless() {
    let mut h = Harness::new(1);
    let ghost = ClientId(999);
    assert_eq!(h.engine.handle_send(h.now, ghost, 1, 1).unwrap_err().code(), "not-attached");
    assert_eq!(h.engine.stats(ghost).unwrap_err().code(), "not-attached");
    let (c, _) = h.attach("a", opts("ws://h/ws"));
    h.engine.handle_detach(h.now, c);
    h.engine.handle_detach(h.now, c);
    assert_eq!(h.engine.client_count(), 0);
}

#[test]
fn invalid_options_are_refused_at_attach() {
    let mut h = Harness::new(1);
    let err = h.engine.handle_attach(h.now, "a", opts("http://h/ws")).unwrap_err();
    assert_eq!(err.to_string(), "tabmux: invalid options: url must start with ws:// or wss://, got \"http://h/ws\"");
    assert_eq!(h.engine.client_count(), 0);
    assert!(h.engine.poll_action().is_none());
}

#[test]
fn time_never_goes_back() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    h.open(s);
    h.close(s, 1006);
    let at = h.status(ep).next_retry_at.unwrap();
    assert_eq!(at, h.now + 1000);
    // An earlier `now` is treated as the last one seen: nothing fires early.
    h.engine.handle_timeout(0);
    assert_eq!(h.drain(), vec![]);
    assert_eq!(h.state(ep), State::Reconnecting);
}

#[test]
fn a_second_tab_with_other_options_is_flagged_and_gets_the_first_tabs_rules() {
    let mut h = Harness::new(1);
    let mut o = opts("ws://h/ws");
    assert!(!h.engine.conflicting_options(&o));
    h.attach("a", o.clone());
    o.mode = tabmux_core::Mode::Direct;
    o.worker_url = "/elsewhere.js".into();
    o.json = true;
    assert!(!h.engine.conflicting_options(&o), "mode, workerUrl and json are the tab's own");
    o.connect_timeout_ms = 1;
    assert!(h.engine.conflicting_options(&o));
    o.url = "ws://h/other".into();
    assert!(!h.engine.conflicting_options(&o));
}
