//! Online/offline and visibility: the engine's own view of the network, combined with the
//! attached tabs' reports so that no tab decides alone (`network.rs`).
mod common;
use common::*;
use tabmux_core::{Health, State};

#[test]
fn offline_stops_attempts_and_online_reconnects_at_once_with_backoff_reset() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", exact("ws://h/ws"));
    h.open(h.last_socket());
    for _ in 0..3 {
        h.close(h.last_socket(), 1006);
        h.fire_next();
    }
    assert_eq!(h.status(ep).attempt, 3);
    h.close(h.last_socket(), 1006); // retry 4 scheduled
    h.engine.handle_online(h.now, false);
    h.drain();
    let st = h.status(ep);
    assert_eq!((st.state, st.online, st.next_retry_at), (State::Offline, false, None));
    assert_eq!(h.engine.stats(c).unwrap().status.health, Health::Warning);
    let before = h.opens();
    h.advance(600_000);
    assert_eq!(h.opens(), before, "no attempts while offline");
    h.engine.handle_online(h.now, true);
    h.drain();
    assert_eq!(h.opens(), before + 1, "an attempt at once");
    assert_eq!(h.status(ep).attempt, 0);
    h.close(h.last_socket(), 1006);
    assert_eq!(h.fire_next(), Some(1000), "backoff starts again from the first delay");
}

#[test]
fn a_socket_lost_while_offline_waits_for_online() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    h.open(h.last_socket());
    h.engine.handle_online(h.now, false);
    h.drain();
    assert_eq!(h.state(ep), State::Open, "an open socket is kept until it closes");
    h.close(h.last_socket(), 1006);
    assert_eq!(h.state(ep), State::Offline);
    assert_eq!(h.engine.poll_timeout(), None);
    // A new endpoint created while offline waits too.
    let (_, ep2) = h.attach("a", exact("ws://h/other"));
    assert_eq!(h.state(ep2), State::Offline);
    assert_eq!(h.opens(), 1);
    h.engine.handle_online(h.now, true);
    h.drain();
    assert_eq!(h.opens(), 3);
}


#[test]
fn stats_keep_bounded_histories() {
    let mut h = Harness::new(1);
    let (c, _) = h.attach("a", exact("ws://h/ws"));
    for i in 0..300u64 {
        h.open(h.last_socket());
        h.now += 10 + i;
        h.close(h.last_socket(), if i % 2 == 0 { 1006 } else { 1012 });
        h.fire_next();
    }
    let st = h.engine.stats(c).unwrap();
    assert_eq!(st.close_codes.values().sum::<u32>(), 100);
    assert_eq!((st.close_codes.get("1006"), st.close_codes.get("1012")), (Some(&50), Some(&50)));
    assert_eq!(st.durations_ms.count, 50);
    assert_eq!(st.durations_ms.p50, Some(10 + 274));
    assert_eq!(st.reconnects, 300);
}

/// Whether the engine is offline (the status every tab sees says so).
fn offline(h: &Harness, ep: tabmux_core::EndpointId) -> bool {
    !h.status(ep).online
}

#[test]
fn a_tabs_offline_report_alone_never_makes_the_engine_offline() {
    let mut h = Harness::new(1);
    let (a, ep) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    h.engine.handle_tab_online(h.now, a, false).unwrap();
    h.engine.handle_tab_online(h.now, b, false).unwrap();
    h.drain();
    assert!(!offline(&h, ep), "the engine's own view says online");
    // A socket lost now is retried as usual.
    h.close(h.last_socket(), 1006);
    assert_eq!(h.fire_next(), Some(1000));
    assert_eq!(h.opens(), 2);
}

#[test]
fn offline_only_while_the_own_view_and_every_tab_that_reported_say_so() {
    let mut h = Harness::new(1);
    let (a, ep) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    let (_silent, _) = h.attach("c", exact("ws://h/ws"));
    h.engine.handle_online(h.now, false);
    h.drain();
    assert!(offline(&h, ep), "no tab reported: the own view decides");
    h.engine.handle_tab_online(h.now, a, false).unwrap();
    h.engine.handle_tab_online(h.now, b, true).unwrap();
    h.drain();
    assert!(!offline(&h, ep), "b says online");
    h.engine.handle_tab_online(h.now, b, false).unwrap();
    h.drain();
    assert!(offline(&h, ep), "every report and the own view say offline; c never reported");
    // The own view coming back decides at once, whatever the reports say.
    let before = h.opens();
    h.engine.handle_online(h.now, true);
    h.drain();
    assert!(!offline(&h, ep));
    assert_eq!(h.engine.network_reports(), 2);
    assert_eq!(h.opens(), before, "the socket was open all along: no new attempt");
}

#[test]
fn a_tab_that_said_online_and_closed_no_longer_keeps_the_engine_online() {
    let mut h = Harness::new(1);
    let (a, ep) = h.attach("a", exact("ws://h/ws"));
    let (_b, _) = h.attach("b", exact("ws://h/ws"));
    h.engine.handle_online(h.now, false);
    h.engine.handle_tab_online(h.now, a, true).unwrap();
    h.close(h.last_socket(), 1006);
    assert!(!offline(&h, ep));
    assert!(h.engine.poll_timeout().is_some(), "a retry is planned");
    h.engine.handle_detach(h.now, a);
    h.drain();
    assert!(offline(&h, ep), "its report went with it");
    assert_eq!(h.state(ep), State::Offline);
    assert_eq!(h.engine.poll_timeout(), None, "no attempts while offline");
    assert_eq!(h.engine.network_reports(), 0);
}

#[test]
fn a_tab_that_said_offline_and_closed_leaves_nothing_behind() {
    let mut h = Harness::new(1);
    let (a, ep) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    h.engine.handle_online(h.now, false);
    h.engine.handle_tab_online(h.now, a, false).unwrap();
    h.drain();
    assert!(offline(&h, ep));
    h.engine.handle_detach(h.now, a);
    h.engine.handle_online(h.now, true);
    h.drain();
    assert!(!offline(&h, ep));
    // b's report of offline later counts alone no more than a's did.
    h.engine.handle_tab_online(h.now, b, false).unwrap();
    h.drain();
    assert!(!offline(&h, ep));
    assert_eq!(h.engine.network_reports(), 1);
}

#[test]
fn a_report_from_a_client_that_is_not_attached_is_refused_and_changes_nothing() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", exact("ws://h/ws"));
    h.engine.handle_online(h.now, false);
    h.engine.handle_detach(h.now, a);
    let (_b, ep2) = h.attach("b", exact("ws://h/other"));
    h.drain();
    let err = h.engine.handle_tab_online(h.now, a, true).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("not-attached", "tabmux: the first message on a port must be a hello"));
    assert!(offline(&h, ep2));
    assert_eq!(h.engine.network_reports(), 0);
}
