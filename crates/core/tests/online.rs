//! Online/offline and visibility.
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
