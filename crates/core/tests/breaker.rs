//! The circuit breaker: closed → open → half-open → closed/open, on a virtual clock.
mod common;
use common::*;
use tabmux_core::{BreakerState, Health, State};

fn breaker_opts() -> tabmux_core::Options {
    let mut o = exact("ws://h/ws");
    o.breaker.failure_threshold = 3;
    o.breaker.reset_timeout_ms = 30_000;
    o
}

#[test]
fn opens_after_three_failures_and_probes_once_per_reset_timeout() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", breaker_opts());
    // Attempt 1 (first connect) and retries 1, 2 fail: the third failure opens the breaker.
    let s = h.last_socket();
    h.close(s, 1006);
    assert_eq!(h.status(ep).breaker, BreakerState::Closed);
    assert_eq!(h.fire_next(), Some(1000));
    h.close(h.last_socket(), 1006);
    assert_eq!(h.fire_next(), Some(2000));
    let t_open = h.now;
    h.close(h.last_socket(), 1006);
    let st = h.status(ep);
    assert_eq!(st.breaker, BreakerState::Open);
    assert_eq!(st.breaker_retry_at, Some(t_open + 30_000));
    // The backoff would retry after 4 s; the open breaker holds it to 30 s.
    assert_eq!(st.next_retry_at, Some(t_open + 30_000));
    assert_eq!(h.engine.stats(c).unwrap().status.health, Health::Critical);
    assert_eq!(h.opens(), 3);
    assert_eq!(h.fire_next(), Some(30_000));
    assert_eq!(h.opens(), 4);
    assert_eq!(h.status(ep).breaker, BreakerState::HalfOpen);
    // The probe fails: open again for a full reset timeout, one attempt per timeout.
    h.close(h.last_socket(), 1006);
    assert_eq!(h.status(ep).breaker, BreakerState::Open);
    assert_eq!(h.fire_next(), Some(30_000));
    assert_eq!(h.opens(), 5);
    h.close(h.last_socket(), 1006);
    // Over 10 more minutes: exactly one probe per 30 s (backoff caps at 30 s too).
    let before = h.opens();
    let end = h.now + 600_000;
    while h.engine.poll_timeout().is_some_and(|t| t <= end) {
        h.fire_next();
        h.close(h.last_socket(), 1006);
    }
    assert_eq!(h.opens() - before, 20);
    // A successful probe closes the breaker.
    h.fire_next();
    h.open(h.last_socket());
    let st = h.status(ep);
    assert_eq!((st.state, st.breaker, st.breaker_retry_at), (State::Open, BreakerState::Closed, None));
}

#[test]
fn a_success_before_the_threshold_resets_the_count() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", breaker_opts());
    h.close(h.last_socket(), 1006);
    h.fire_next();
    h.close(h.last_socket(), 1006);
    h.fire_next();
    h.open(h.last_socket()); // two failures, then a success…
    h.now += 5000; // …that lasts minUptimeMs
    h.close(h.last_socket(), 1006); // a drop after that is not a failed attempt
    h.fire_next();
    h.close(h.last_socket(), 1006);
    h.fire_next();
    h.close(h.last_socket(), 1006);
    assert_eq!(h.status(ep).breaker, BreakerState::Closed);
    h.fire_next();
    h.close(h.last_socket(), 1006);
    assert_eq!(h.status(ep).breaker, BreakerState::Open);
}

#[test]
fn reconnect_against_an_open_breaker_is_the_half_open_probe() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", breaker_opts());
    for _ in 0..2 {
        h.close(h.last_socket(), 1006);
        h.fire_next();
    }
    h.close(h.last_socket(), 1006);
    assert_eq!(h.status(ep).breaker, BreakerState::Open);
    h.engine.handle_reconnect(h.now, c).unwrap();
    h.drain();
    assert_eq!(h.opens(), 4);
    assert_eq!(h.status(ep).breaker, BreakerState::HalfOpen);
    h.close(h.last_socket(), 1006);
    assert_eq!(h.status(ep).breaker, BreakerState::Open);
}

#[test]
fn a_connection_the_server_drops_before_min_uptime_is_a_failed_attempt() {
    // A flapping server: every socket opens and is closed at once. The third such drop
    // opens the breaker as three refusals would.
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", breaker_opts()); // minUptimeMs 5000
    for drop in 1..=3 {
        let s = h.last_socket();
        h.open(s);
        assert_eq!(h.status(ep).breaker, BreakerState::Closed, "drop {drop}: open closes it");
        h.now += 4999;
        h.close(s, 1011);
        if drop < 3 {
            h.fire_next();
        }
    }
    let st = h.status(ep);
    assert_eq!((st.breaker, st.breaker_retry_at), (BreakerState::Open, Some(h.now + 30_000)));
    // The probe opens (closed again) and drops at once: open again for a full reset timeout.
    assert_eq!(h.fire_next(), Some(30_000));
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.status(ep).breaker, BreakerState::Closed);
    h.close(s, 1011);
    assert_eq!(h.status(ep).breaker_retry_at, Some(h.now + 30_000));
    // One that lasts minUptimeMs forgives them all: the next drop is not a failure.
    h.fire_next();
    let s = h.last_socket();
    h.open(s);
    h.fire_next(); // the Forgive timer, at +5000
    h.close(s, 1011);
    assert_eq!(h.status(ep).breaker, BreakerState::Closed);
    h.fire_next();
    h.open(h.last_socket());
    h.close(h.last_socket(), 1011);
    assert_eq!(h.status(ep).breaker, BreakerState::Closed, "one failure after the forgiveness, not four");
}

#[test]
fn a_close_with_a_retry_hint_soon_after_open_is_not_a_failed_attempt() {
    // Rolling drains a second apart: each node closes with a hint (the server's plan, not a
    // flap). Four in a row, each before minUptimeMs, leave the breaker closed.
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", breaker_opts()); // minUptimeMs 5000
    for _ in 0..4 {
        let s = h.last_socket();
        h.open(s);
        h.now += 1000;
        h.engine.handle_close(h.now, s, 1012, "restart; reconnect-within=5000");
        h.drain();
        assert_eq!(h.status(ep).breaker, BreakerState::Closed);
        h.fire_next();
    }
    // The same closes without a hint are a flapping server: the third opens it.
    for drop in 1..=3 {
        let s = h.last_socket();
        h.open(s);
        h.now += 1000;
        h.close(s, 1012);
        if drop < 3 {
            h.fire_next();
        }
    }
    assert_eq!(h.status(ep).breaker, BreakerState::Open);
}

#[test]
fn an_expired_token_or_a_fatal_code_soon_after_open_is_not_a_failed_attempt() {
    // Short-lived tokens: the server closes 4401 every 2 s, a new token is fetched and the
    // socket reopens at once. Four of them in a row leave the breaker closed.
    let mut h = Harness::new(1);
    let mut o = breaker_opts();
    o.token.url = Some("/token".into());
    let (_, ep) = h.attach("a", o);
    for i in 0..4 {
        h.engine.handle_token_fetched(h.now, ep, Ok(["t", &i.to_string()].concat().as_str()));
        h.drain();
        let s = h.last_socket();
        h.open(s);
        h.now += 2000;
        h.close(s, 4401);
    }
    assert_eq!(h.status(ep).breaker, BreakerState::Closed);
    // A fatal close right after open does not open it either.
    let mut h = Harness::new(1);
    let mut o = breaker_opts();
    o.breaker.failure_threshold = 1;
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    h.close(s, 1008);
    let st = h.status(ep);
    assert_eq!((st.state, st.breaker), (tabmux_core::State::Closed, BreakerState::Closed));
}
