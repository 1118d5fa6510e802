//! Sleep and wake: what the engine does when its shell saw that it was suspended, and how a
//! `down` endpoint comes back (wake, online, a visible tab). All on a virtual clock.
mod common;
use common::*;
use tabmux_core::{Action, HeartbeatOptions, State, HEARTBEAT_TIMEOUT_CODE};

fn down() -> (Harness, tabmux_core::EndpointId) {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.backoff.max_attempts = Some(1);
    let (_, ep) = h.attach("a", o);
    h.close(h.last_socket(), 1006);
    h.fire_next();
    h.close(h.last_socket(), 1006);
    assert_eq!(h.state(ep), State::Down);
    assert_eq!(h.engine.poll_timeout(), None);
    (h, ep)
}

#[test]
fn down_is_never_a_dead_end_wake_online_and_a_visible_tab_each_try_again() {
    type Nudge = fn(&mut Harness);
    let nudges: [(&str, Nudge); 3] = [
        ("wake", |h| h.engine.handle_wake(h.now, 60_000)),
        ("online while believed online", |h| h.engine.handle_online(h.now, true)),
        ("visible", |h| h.engine.handle_visible(h.now)),
    ];
    for (name, nudge) in nudges {
        let (mut h, ep) = down();
        h.now += 3_600_000;
        nudge(&mut h);
        h.drain();
        assert_eq!(h.opens(), 3, "{name}: one attempt at once");
        // Never open yet, so `connecting`; the failures before are forgiven.
        assert_eq!((h.state(ep), h.status(ep).attempt), (State::Connecting, 0), "{name}: backoff reset");
    }
}

#[test]
fn an_online_report_while_online_keeps_a_waiting_retry_on_its_backoff() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    h.close(h.last_socket(), 1006);
    let at = h.status(ep).next_retry_at;
    h.engine.handle_online(h.now, true);
    assert_eq!(h.drain(), vec![]);
    assert_eq!(h.status(ep).next_retry_at, at);
}

#[test]
fn a_wake_pings_an_open_socket_at_once_and_the_pong_deadline_decides() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    let mut hb = HeartbeatOptions::default();
    (hb.interval_ms, hb.timeout_ms) = (30_000, 10_000);
    o.heartbeat = Some(hb);
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    h.now += 5_000;
    h.engine.handle_wake(h.now, 600_000);
    assert_eq!(h.drain(), vec![Action::SendText { socket: s, data: r#"{"type":"ping"}"#.into() }], "a ping now, not in 25 s");
    // A second wake while that ping is out sends nothing more.
    h.engine.handle_wake(h.now, 1_000);
    assert_eq!(h.drain(), vec![]);
    // No pong: the socket is closed as dead 10 s later and a retry is planned.
    assert_eq!(h.fire_next(), Some(10_000));
    assert!(h.actions.contains(&Action::CloseSocket { socket: s, code: HEARTBEAT_TIMEOUT_CODE, reason: "heartbeat timeout".into() }));
    assert_eq!(h.state(ep), State::Reconnecting);
}

#[test]
fn a_wake_answered_by_a_pong_keeps_a_healthy_socket() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.heartbeat = Some(HeartbeatOptions::default());
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_wake(h.now, 3_600_000);
    h.drain();
    h.now += 40;
    h.engine.handle_frame(h.now, s, tabmux_core::FrameMeta { len: 4, pong: true, ..Default::default() });
    h.advance(60_000);
    assert_eq!(h.state(ep), State::Open);
    assert_eq!(h.count(|a| matches!(a, Action::CloseSocket { .. })), 0);
    assert_eq!(h.status(ep).rtt_ms, Some(40));
}

#[test]
fn without_a_heartbeat_a_wake_replaces_the_open_socket() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    h.open(s);
    h.engine.handle_wake(h.now, 120_000);
    let acts = h.drain();
    assert_eq!(acts[0], Action::CloseSocket { socket: s, code: 1000, reason: "woke up: replacing a socket that may be dead".into() });
    assert!(matches!(acts[1], Action::OpenSocket { .. }));
    assert_eq!(h.state(ep), State::Reconnecting);
}

#[test]
fn a_wake_while_waiting_retries_now_and_leaves_an_opening_socket_alone() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    for _ in 0..3 {
        h.close(h.last_socket(), 1006);
        h.fire_next();
    }
    h.close(h.last_socket(), 1006);
    assert!(h.status(ep).next_retry_at.is_some());
    let before = h.opens();
    h.engine.handle_wake(h.now, 30_000);
    h.drain();
    assert_eq!(h.opens(), before + 1);
    assert_eq!(h.status(ep).attempt, 0);
    h.engine.handle_wake(h.now, 30_000);
    h.drain();
    assert_eq!(h.opens(), before + 1, "connecting: its own deadline decides");
}
