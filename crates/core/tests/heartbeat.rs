//! Heartbeat: pings while open, any frame counts as liveness, a missed pong reconnects,
//! round trips are measured and pongs are not delivered.
mod common;
use common::*;
use tabmux_core::{Action, Delivery, FrameMeta, Health, Quality, State, HEARTBEAT_TIMEOUT_CODE};

fn hb_opts() -> tabmux_core::Options {
    let mut o = exact("ws://h/ws");
    o.heartbeat = Some(Default::default()); // 30 s interval, 10 s timeout
    o
}

fn frame(h: &mut Harness, s: tabmux_core::SocketId, pong: bool) -> bool {
    matches!(h.engine.handle_frame(h.now, s, FrameMeta { len: 15, pong, ..Default::default() }), Delivery::To { .. })
}

#[test]
fn pings_every_interval_measures_rtt_and_swallows_pongs() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", hb_opts());
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.status(ep).quality, Quality::Unknown);
    assert_eq!(h.fire_next(), Some(30_000));
    assert_eq!(h.actions.last(), Some(&Action::SendText { socket: s, data: r#"{"type":"ping"}"#.into() }));
    h.now += 42;
    assert!(!frame(&mut h, s, true), "a pong is not delivered");
    let st = h.status(ep);
    assert_eq!((st.rtt_ms, st.quality, st.last_heartbeat_at), (Some(42), Quality::Good, Some(h.now)));
    assert_eq!(h.engine.stats(c).unwrap().status.health, Health::Healthy);
    // The next ping is 30 s after the last one.
    assert_eq!(h.fire_next(), Some(30_000 - 42));
    h.now += 700;
    frame(&mut h, s, true);
    assert_eq!(h.status(ep).quality, Quality::Poor);
    let stats = h.engine.stats(c).unwrap();
    assert_eq!((stats.counters.pings, stats.counters.pongs), (2, 2));
    assert_eq!((stats.rtt_ms_p.p50, stats.rtt_ms_p.p95, stats.rtt_ms_p.count), (Some(42), Some(700), 2));
    assert_eq!(stats.status.health, Health::Warning);
    assert_eq!(stats.counters.deliveries, 0);
}

#[test]
fn a_missed_pong_closes_with_4000_after_interval_plus_timeout_and_reconnects() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", hb_opts());
    let s = h.last_socket();
    let opened = h.now;
    h.open(s);
    h.fire_next(); // ping at +30 s
    assert_eq!(h.fire_next(), Some(10_000)); // no frame for 10 s
    assert_eq!(h.now - opened, 40_000);
    assert!(h.actions.contains(&Action::CloseSocket { socket: s, code: HEARTBEAT_TIMEOUT_CODE, reason: "heartbeat timeout".into() }));
    let st = h.status(ep);
    assert_eq!((st.state, st.last_close.unwrap().code), (State::Reconnecting, 4000));
    assert_eq!(h.fire_next(), Some(1000));
    assert_eq!(h.opens(), 2);
}

#[test]
fn any_frame_counts_as_liveness() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", hb_opts());
    let s = h.last_socket();
    h.open(s);
    h.fire_next(); // ping
    h.now += 9_000;
    assert!(frame(&mut h, s, false), "an ordinary frame is delivered");
    // The pong deadline is cleared: the next event is the next ping, not a close.
    assert_eq!(h.fire_next(), Some(21_000));
    assert_eq!(h.state(ep), State::Open);
    assert_eq!(h.status(ep).rtt_ms, None);
}

#[test]
fn heartbeat_off_sends_nothing_and_delivers_pong_lookalikes() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.engine.poll_timeout(), None);
    assert!(frame(&mut h, s, true));
    assert_eq!(h.state(ep), State::Open);
}
