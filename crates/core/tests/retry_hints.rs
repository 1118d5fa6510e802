//! Retry hints in close frames (`retry-after=<ms>`, `reconnect-within=<ms>`, JSON
//! `retryAfterMs`, Courier's `{"Retry-After":"10"}`), 1013's own wait, and how each shows in
//! the status (`nextRetryAt`, `retryReason`), the debug log (`retry` with `hint`) and the stats
//! (`serverHints`). All on a virtual clock, with `exact` options (1 s, no jitter).
mod common;
use common::*;
use tabmux_core::close_policy::TRY_AGAIN_LATER_MS;
use tabmux_core::retry_hint::MAX_HINT_MS;
use tabmux_core::{Action, BreakerState, ClientId, EndpointId, LogEvent, RetryReason, State};

/// Opens the first socket, closes it with `code` and `reason`; returns the time of the close.
fn close_with(h: &mut Harness, code: u16, reason: &str) -> u64 {
    let s = h.last_socket();
    h.open(s);
    h.now += 60_000; // a connection that lasted: the backoff starts from its first delay
    h.engine.handle_close(h.now, s, code, reason);
    h.drain();
    h.now
}

fn setup(o: tabmux_core::Options) -> (Harness, ClientId, EndpointId) {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", o);
    (h, c, ep)
}

fn retry_logs(h: &Harness) -> Vec<LogEvent> {
    h.actions
        .iter()
        .filter_map(|a| match a {
            Action::Log { event: e @ LogEvent::Retry { .. }, .. } => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn retry_after_in_the_reason_holds_the_retry_that_long_then_the_backoff_delay() {
    let (mut h, c, ep) = setup(exact("ws://h/ws"));
    let t = close_with(&mut h, 1012, "restart; retry-after=5000");
    let st = h.status(ep);
    assert_eq!((st.state, st.next_retry_at, st.retry_reason), (State::Reconnecting, Some(t + 6000), Some(RetryReason::ServerHint)));
    assert_eq!(h.engine.stats(c).unwrap().counters.server_hints, 1);
    assert_eq!(h.fire_next(), Some(6000));
    assert_eq!(h.opens(), 2);
    assert_eq!(h.status(ep).retry_reason, None, "no retry planned while connecting");
}

#[test]
fn every_hint_form_sets_the_retry_time() {
    // (reason, ms after the close): the wait, then the 1 s backoff delay; a window replaces it.
    let cases = [
        ("retry-after=2500", 3500),
        ("RETRY-AFTER=0", 1000),
        (r#"{"retryAfterMs":2500}"#, 3500),
        (r#"{"reason":"deploy","retryAfterMs":"2500"}"#, 3500),
        (r#"{"Retry-After":"10"}"#, 11_000),
        (r#"{"retry-after":2}"#, 3000),
    ];
    for (reason, after) in cases {
        let (mut h, _, ep) = setup(exact("ws://h/ws"));
        let t = close_with(&mut h, 1001, reason);
        let st = h.status(ep);
        assert_eq!((st.next_retry_at, st.retry_reason), (Some(t + after), Some(RetryReason::ServerHint)), "{reason}");
    }
}

#[test]
fn reconnect_within_draws_the_attempt_uniformly_over_the_window_with_the_engines_seed() {
    let mut offsets = Vec::new();
    for seed in 0..4000u64 {
        let mut h = Harness::new(seed);
        let (_, ep) = h.attach("a", exact("ws://h/ws"));
        let t = close_with(&mut h, 1012, "drain reconnect-within=30000");
        let st = h.status(ep);
        assert_eq!(st.retry_reason, Some(RetryReason::ServerHint));
        offsets.push(st.next_retry_at.unwrap() - t);
    }
    assert!(offsets.iter().all(|o| *o <= 30_000), "none after the window");
    // Ten 3 s buckets of 4000 draws: 400 expected in each, all within ±10%.
    let mut buckets = [0u32; 10];
    offsets.iter().for_each(|o| buckets[(*o / 3000).min(9) as usize] += 1);
    assert_eq!(buckets, [418, 392, 404, 421, 383, 380, 385, 400, 406, 411]);
    assert!(buckets.iter().all(|b| (360..=440).contains(b)));
    // The same seed, the same draw.
    let again = |seed| {
        let mut h = Harness::new(seed);
        let (_, ep) = h.attach("a", exact("ws://h/ws"));
        let t = close_with(&mut h, 1012, "reconnect-within=30000");
        h.status(ep).next_retry_at.unwrap() - t
    };
    assert_eq!(again(7), offsets[7]);
    // With retry-after too: not before it, then the window.
    let (mut h, _, ep) = setup(exact("ws://h/ws"));
    let t = close_with(&mut h, 1012, "retry-after=5000 reconnect-within=1000");
    let at = h.status(ep).next_retry_at.unwrap();
    assert!((t + 5000..=t + 6000).contains(&at), "{}", at - t);
}

#[test]
fn code_1013_waits_its_own_default_without_a_hint_and_the_hint_with_one() {
    let (mut h, c, ep) = setup(exact("ws://h/ws"));
    let t = close_with(&mut h, 1013, "try again later");
    let st = h.status(ep);
    assert_eq!((st.next_retry_at, st.retry_reason), (Some(t + TRY_AGAIN_LATER_MS + 1000), Some(RetryReason::CloseCode)));
    assert_eq!(TRY_AGAIN_LATER_MS, 10_000);
    assert_eq!(h.engine.stats(c).unwrap().counters.server_hints, 0, "the code's own wait is not a server hint");

    let (mut h, c, ep) = setup(exact("ws://h/ws"));
    let t = close_with(&mut h, 1013, "retry-after=2000");
    let st = h.status(ep);
    assert_eq!((st.next_retry_at, st.retry_reason), (Some(t + 3000), Some(RetryReason::ServerHint)));
    assert_eq!(h.engine.stats(c).unwrap().counters.server_hints, 1);

    // A page that names 1013 itself says exactly what it does: no wait of its own.
    let mut o = exact("ws://h/ws");
    o.close_codes.insert("1013".into(), tabmux_core::CloseAction::Retry);
    let (mut h, _, ep) = setup(o);
    let t = close_with(&mut h, 1013, "busy");
    assert_eq!(h.status(ep).next_retry_at, Some(t + 1000));
}

#[test]
fn a_hint_is_capped_at_ten_minutes_and_the_log_says_so() {
    let mut o = exact("ws://h/ws");
    o.debug = true;
    let (mut h, _, ep) = setup(o);
    let t = close_with(&mut h, 1012, "retry-after=86400000");
    assert_eq!(MAX_HINT_MS, 600_000);
    assert_eq!(h.status(ep).next_retry_at, Some(t + MAX_HINT_MS + 1000));
    assert_eq!(
        retry_logs(&h),
        vec![LogEvent::Retry { attempt: 1, delay_ms: 601_000, at: t + 601_000, hint: Some("retry-after=600000 (capped)".into()) }]
    );
}

#[test]
fn a_hint_that_cannot_be_read_is_ignored_and_the_log_says_why() {
    let mut o = exact("ws://h/ws");
    o.debug = true;
    let (mut h, c, ep) = setup(o);
    let t = close_with(&mut h, 1012, "retry-after=soon");
    let st = h.status(ep);
    assert_eq!((st.next_retry_at, st.retry_reason), (Some(t + 1000), Some(RetryReason::Backoff)));
    assert_eq!(h.engine.stats(c).unwrap().counters.server_hints, 0);
    assert_eq!(
        retry_logs(&h),
        vec![LogEvent::Retry {
            attempt: 1,
            delay_ms: 1000,
            at: t + 1000,
            hint: Some("ignored: retry-after: expected a whole number ≥ 0, got \"soon\"".into())
        }]
    );
}

#[test]
fn a_hint_never_brings_a_retry_before_the_open_breaker_allows() {
    let mut o = exact("ws://h/ws");
    o.breaker.failure_threshold = 1;
    o.breaker.reset_timeout_ms = 30_000;
    let (mut h, _, ep) = setup(o);
    // The first attempt fails (no open) with a short hint: the breaker opens for 30 s.
    let s = h.last_socket();
    h.engine.handle_close(h.now, s, 1013, "retry-after=100");
    h.drain();
    let st = h.status(ep);
    assert_eq!(st.breaker, BreakerState::Open);
    assert_eq!((st.next_retry_at, st.retry_reason), (Some(h.now + 30_000), Some(RetryReason::Breaker)));
    assert_eq!(h.fire_next(), Some(30_000));
}

#[test]
fn a_fatal_code_stays_fatal_whatever_its_reason_says() {
    let (mut h, c, ep) = setup(exact("ws://h/ws"));
    close_with(&mut h, 1008, "retry-after=1000");
    let st = h.status(ep);
    assert_eq!((st.state, st.next_retry_at, st.retry_reason), (State::Closed, None, None));
    assert_eq!(h.engine.stats(c).unwrap().counters.server_hints, 0);
}

#[test]
fn retry_now_with_a_hint_waits_the_hint_and_nothing_more() {
    let mut o = exact("ws://h/ws");
    o.close_codes.insert("4200".into(), tabmux_core::CloseAction::RetryNow);
    let (mut h, _, ep) = setup(o);
    let t = close_with(&mut h, 4200, "retry-after=1500");
    assert_eq!(h.status(ep).next_retry_at, Some(t + 1500));
    let (mut h, _, _) = setup({
        let mut o = exact("ws://h/ws");
        o.close_codes.insert("4200".into(), tabmux_core::CloseAction::RetryNow);
        o
    });
    close_with(&mut h, 4200, "bye");
    assert_eq!(h.opens(), 2, "no hint: at once");
}

#[test]
fn the_retry_reason_is_in_the_status_fields() {
    let (mut h, c, _) = setup(exact("ws://h/ws"));
    close_with(&mut h, 1012, "reconnect-within=30000");
    let json = tabmux_core::fields::to_json(&h.engine.stats(c).unwrap().fields());
    assert_eq!((&json["retryReason"], &json["serverHints"]), (&serde_json::json!("server-hint"), &serde_json::json!(1)));
}

#[test]
fn a_new_worker_waiting_for_its_tabs_says_so() {
    let o = exact_with(serde_json::json!({ "sequence": { "key": "/seq" } }));
    let mut h = Harness::new(1);
    let (_, ep) = h.engine.handle_attach_resuming(h.now, "a", o, None, Some(5)).unwrap();
    assert_eq!(h.status(ep).retry_reason, Some(RetryReason::Resume));
}
