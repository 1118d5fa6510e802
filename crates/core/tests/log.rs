//! The debug log: the engine's decisions as events for the clients that asked for them
//! (attempts and their delays, close codes and their class, breaker moves, token fetches
//! without the token, drops as counts), none at all while no client asks.
mod common;
use common::*;
use tabmux_core::{Action, BreakerState, FrameMeta, LogEvent};

fn logs(actions: &[Action]) -> Vec<LogEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// `exact` options with `sequence` (and `dedup` when asked) on.
fn seq_opts(dedup: bool) -> tabmux_core::Options {
    let mut v = serde_json::json!({ "url": "ws://h/ws", "sequence": { "key": "/seq" }, "heartbeat": false,
        "backoff": { "initialMs": 1000, "jitter": 0 }, "breaker": { "failureThreshold": 1000 } });
    if dedup {
        v["dedup"] = serde_json::json!({ "key": "/id", "capacity": 10 });
    }
    tabmux_core::read_options(&v).unwrap()
}

fn debug(mut o: tabmux_core::Options) -> tabmux_core::Options {
    o.debug = true;
    o
}

#[test]
fn without_a_debug_client_no_event_is_made() {
    let mut h = Harness::new(1);
    let mut o = seq_opts(false);
    o.breaker.failure_threshold = 1;
    let (c, _) = h.attach("a", o);
    for _ in 0..3 {
        let s = h.last_socket();
        h.open(s);
        for seq in [1, 1, 5] {
            h.frame(s, FrameMeta { len: 5, seq: Some(seq), ..Default::default() });
        }
        h.drain();
        h.close(s, 1012);
        h.fire_next();
        h.fire_next();
    }
    assert!(h.engine.stats(c).unwrap().counters.duplicates > 0);
    assert_eq!(logs(&h.actions), vec![], "debug off: not one event");
}

#[test]
fn attempts_delays_close_classes_and_breaker_moves_are_logged_in_order() {
    let mut h = Harness::new(1);
    let mut o = debug(exact("ws://h/ws"));
    o.breaker.failure_threshold = 2;
    o.breaker.reset_timeout_ms = 10_000;
    o.protocols = vec!["v1".into()];
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.engine.handle_open_with_protocol(h.now, s, "v1");
    h.drain();
    // Up for minUptimeMs: the drop is not a failed attempt (one before it would be).
    h.now += 5000;
    let t0 = h.now;
    h.close(s, 1012);
    h.fire_next(); // the retry at +1 s
    let s = h.last_socket();
    h.close(s, 1006); // failed attempt 1
    h.fire_next(); // +2 s
    let s = h.last_socket();
    h.close(s, 1006); // failed attempt 2: the breaker opens
    let s_at = h.now;
    assert_eq!(h.status(ep).breaker, BreakerState::Open);
    assert_eq!(
        logs(&h.actions),
        vec![
            LogEvent::Connect { attempt: 0, url: "ws://h/ws".into() },
            LogEvent::Open { protocol: Some("v1".into()) },
            LogEvent::Close { code: 1012, reason: "test".into(), class: "retry" },
            LogEvent::Retry { attempt: 1, delay_ms: 1000, at: t0 + 1000, hint: None },
            LogEvent::Connect { attempt: 1, url: "ws://h/ws".into() },
            LogEvent::Close { code: 1006, reason: "test".into(), class: "retry" },
            LogEvent::Retry { attempt: 2, delay_ms: 2000, at: t0 + 3000, hint: None },
            LogEvent::Connect { attempt: 2, url: "ws://h/ws".into() },
            LogEvent::Close { code: 1006, reason: "test".into(), class: "retry" },
            // Planned 4 s out; the open breaker holds it to its 10 s probe.
            LogEvent::Retry { attempt: 3, delay_ms: 4000, at: s_at + 10_000, hint: None },
            LogEvent::Breaker { from: BreakerState::Closed, to: BreakerState::Open },
        ]
    );
    h.actions.clear();
    h.fire_next(); // the probe
    let s = h.last_socket();
    h.open(s);
    h.close(s, 1008);
    assert_eq!(
        logs(&h.actions),
        vec![
            // The probe's connect, then the move it made (logged with the status change).
            LogEvent::Connect { attempt: 3, url: "ws://h/ws".into() },
            LogEvent::Breaker { from: BreakerState::Open, to: BreakerState::HalfOpen },
            LogEvent::Open { protocol: None },
            LogEvent::Breaker { from: BreakerState::HalfOpen, to: BreakerState::Closed },
            LogEvent::Close { code: 1008, reason: "test".into(), class: "fatal" },
        ]
    );
}

#[test]
fn token_fetches_are_logged_with_their_outcome_and_never_the_token() {
    let mut h = Harness::new(1);
    let mut o = debug(exact("ws://h/ws"));
    o.token.url = Some("/token".into());
    let (_, ep) = h.attach("a", o);
    h.engine.handle_token_fetched(h.now, ep, Ok("s3cr3t/tok"));
    h.drain();
    let s = h.last_socket();
    h.engine.handle_close(h.now, s, 4002, "bad token s3cr3t/tok and s3cr3t%2Ftok");
    h.drain();
    h.fire_next(); // retry: a fetch first
    h.engine.handle_token_fetched(h.now, ep, Err("HTTP 500 for s3cr3t/tok"));
    h.drain();
    let events = logs(&h.actions);
    assert_eq!(events[0], LogEvent::TokenFetch);
    assert_eq!(events[1], LogEvent::TokenFetched { ok: true, changed: true, error: None });
    assert_eq!(events[2], LogEvent::Connect { attempt: 0, url: "ws://h/ws?token=***".into() });
    assert_eq!(events[3], LogEvent::Close { code: 4002, reason: "bad token *** and ***".into(), class: "retry" });
    assert!(events.contains(&LogEvent::TokenFetched { ok: false, changed: false, error: Some("token fetch failed: HTTP 500 for ***".into()) }));
    for e in &events {
        let json = tabmux_core::fields::to_json(&e.fields()).to_string();
        assert!(!json.contains("s3cr3t"), "{json}");
    }
}

#[test]
fn drops_are_reported_as_counts_at_most_once_a_second() {
    let mut h = Harness::new(1);
    h.attach("a", debug(seq_opts(true)));
    let s = h.last_socket();
    h.open(s);
    h.actions.clear();
    let f = |h: &mut Harness, seq: u64, key: &str| {
        h.frame(s, FrameMeta { len: 5, seq: Some(seq), key: Some(key), ..Default::default() });
        h.drain();
    };
    f(&mut h, 1, "a");
    f(&mut h, 1, "b"); // old seq: reported at once (first report)
    f(&mut h, 1, "c");
    f(&mut h, 2, "a"); // dedup key
    f(&mut h, 9, "d"); // a gap
    assert_eq!(logs(&h.actions), vec![LogEvent::Drops { duplicates: 1, gaps: 0 }]);
    h.now += 999;
    f(&mut h, 9, "e");
    assert_eq!(logs(&h.actions).len(), 1, "not within a second of the last report");
    h.now += 1;
    f(&mut h, 9, "e");
    assert_eq!(logs(&h.actions)[1], LogEvent::Drops { duplicates: 4, gaps: 1 }, "everything since, in one event");
}

#[test]
fn only_debug_clients_are_loggers_and_the_log_stops_when_the_last_leaves() {
    let mut h = Harness::new(1);
    let (quiet, ep) = h.attach("a", exact("ws://h/ws"));
    let (loud, _) = h.attach("b", debug(exact("ws://h/ws")));
    assert!(!h.engine.conflicting_options(&debug(exact("ws://h/ws"))), "debug is the client's own");
    let s = h.last_socket();
    h.open(s);
    assert_eq!(logs(&h.actions), vec![LogEvent::Open { protocol: None }]);
    let to: Vec<_> = h.actions.iter().filter_map(|a| match a { Action::Log { clients, .. } => Some(clients.clone()), _ => None }).collect();
    assert_eq!(to, vec![vec![loud]], "the event names its recipients: the debug client only");
    h.engine.handle_detach(h.now, loud);
    h.drain();
    h.actions.clear();
    h.close(s, 1012);
    h.fire_next();
    assert_eq!(logs(&h.actions), vec![]);
    let _ = (quiet, ep);
}

#[test]
fn giving_up_is_logged_with_the_last_attempt_made() {
    let mut h = Harness::new(1);
    let mut o = debug(seq_opts(false));
    o.backoff.max_attempts = Some(3);
    let (_, ep) = h.attach("a", o);
    for _ in 0..3 {
        let s = h.last_socket();
        h.close(s, 1006);
        h.fire_next().unwrap();
    }
    let s = h.last_socket();
    h.actions.clear();
    h.close(s, 1006);
    assert_eq!(h.status(ep).state, tabmux_core::State::Down);
    assert_eq!(
        logs(&h.actions),
        vec![LogEvent::Close { code: 1006, reason: "test".into(), class: "retry" }, LogEvent::Down { attempt: 3 }]
    );
}
