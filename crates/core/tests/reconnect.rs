//! Reconnects: backoff delays and jitter, the close-code table, connect timeout,
//! maxAttempts, minUptime and `reconnect()`. All on a virtual clock.
mod common;
use common::*;
use tabmux_core::{Action, BackoffOptions, CloseAction, Jitter, Rng, State, CONNECT_TIMEOUT_CODE};

const PINNED_RATIO: [u64; 5] = [1097, 1728, 3646, 7501, 13043];
const PINNED_FULL: [u64; 5] = [742, 320, 1114, 2754, 608];
const PINNED_EQUAL: [u64; 5] = [871, 1160, 2557, 5377, 8304];
const DENSEST_DEFAULT_SEEDS_0_99: usize = 9;
const DENSEST_RATIO20_SEEDS_0_99: usize = 37;
const DENSEST_DEFAULT_MEDIAN_P95_MAX: (usize, usize, usize) = (6, 7, 10);
const PINNED_DECORRELATED: [u64; 5] = [2483, 2031, 2419, 3154, 1322];

#[test]
fn without_jitter_delays_double_from_initial_to_the_cap() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.backoff.max_ms = 8000;
    let (_, ep) = h.attach("a", o);
    let mut delays = Vec::new();
    for _ in 0..6 {
        let s = h.last_socket();
        h.close(s, 1006);
        assert_eq!(h.state(ep), State::Reconnecting);
        delays.push(h.fire_next().unwrap());
    }
    assert_eq!(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
    assert_eq!(h.status(ep).attempt, 6);
    assert_eq!(h.opens(), 7);
}

/// ±20% around 1 s doubling to 30 s, the figures most often seen in the field.
fn ratio_20() -> BackoffOptions {
    let mut b = BackoffOptions::default();
    b.initial_ms = 1000;
    b.factor = 2.0;
    b.jitter = Jitter::Ratio(0.2);
    b
}

#[test]
fn ratio_jitter_stays_within_bounds_for_every_attempt_over_many_seeds() {
    let b = ratio_20();
    for seed in 0..2000u64 {
        let mut rng = Rng::new(seed);
        for attempt in 1..=8u32 {
            let base = b.base_delay(attempt);
            let d = b.delay(attempt, None, &mut rng) as f64;
            assert!(d >= (base * 0.8).floor() && d <= (base * 1.2).ceil(), "seed {seed} attempt {attempt}: {d} vs {base}");
        }
    }
}

#[test]
fn full_equal_and_decorrelated_jitter_stay_within_their_ranges() {
    let mut b = ratio_20();
    for seed in 0..1000u64 {
        let mut rng = Rng::new(seed);
        for attempt in 1..=8u32 {
            let base = b.base_delay(attempt);
            b.jitter = Jitter::Full;
            let full = b.delay(attempt, None, &mut rng) as f64;
            assert!((0.0..=base).contains(&full));
            b.jitter = Jitter::Equal;
            let equal = b.delay(attempt, None, &mut rng) as f64;
            assert!(equal >= base / 2.0 - 0.5 && equal <= base + 0.5);
            b.jitter = Jitter::Decorrelated;
            let prev = 700 * attempt as u64;
            let dec = b.delay(attempt, Some(prev), &mut rng);
            assert!(dec >= 1000 && dec <= (prev * 3).clamp(1000, 30_000), "{dec}");
        }
    }
}

#[test]
fn full_once_draws_the_first_retry_and_waits_the_base_delay_exactly_after_it() {
    let mut b = BackoffOptions::default();
    b.jitter = Jitter::FullOnce;
    b.initial_ms = 1000;
    b.factor = 2.0;
    for seed in 0..1000u64 {
        let mut rng = Rng::new(seed);
        let first = b.delay(1, None, &mut rng);
        assert!(first <= 1000, "{first}");
        for attempt in 2..=8u32 {
            assert_eq!(b.delay(attempt, Some(first), &mut rng) as f64, b.base_delay(attempt), "seed {seed} attempt {attempt}");
        }
    }
    let mut rng = Rng::new(42);
    assert_eq!((1..=5u32).map(|a| b.delay(a, None, &mut rng)).collect::<Vec<_>>(), [PINNED_FULL[0], 2000, 4000, 8000, 16000]);
}

/// The most of `times` inside any 100 ms window.
fn densest_100ms(times: &mut [u64]) -> usize {
    times.sort_unstable();
    (0..times.len()).map(|i| times[i..].iter().take_while(|&&u| u < times[i] + 100).count()).max().unwrap_or(0)
}

/// The first retries of 100 browsers (seeds `from..from + 100`) that lost one server at once.
fn first_retries(b: &BackoffOptions, from: u64) -> Vec<u64> {
    (from..from + 100).map(|s| b.delay(1, None, &mut Rng::new(s))).collect()
}

#[test]
fn the_default_jitter_spreads_a_storm_of_100_browsers_to_6_per_100ms_in_a_median_storm() {
    let b = BackoffOptions::default();
    let mut firsts = first_retries(&b, 0);
    assert_eq!(densest_100ms(&mut firsts), DENSEST_DEFAULT_SEEDS_0_99);
    assert!(firsts[0] < 150 && firsts[99] > 7300 && firsts[99] <= 7500, "{firsts:?}");
    // ±20% around 1 s (the field's usual figure) packs the same 100 into 400 ms.
    assert_eq!(densest_100ms(&mut first_retries(&ratio_20(), 0)), DENSEST_RATIO20_SEEDS_0_99);
    // Over 1000 such storms (100,000 browsers), the share of the densest 100 ms.
    let mut most: Vec<usize> = (0..1000).map(|k| densest_100ms(&mut first_retries(&b, k * 100))).collect();
    most.sort_unstable();
    assert_eq!((most[500], most[950], most[999]), DENSEST_DEFAULT_MEDIAN_P95_MAX);
    // One browser: two losses do not repeat the same draw; the retries after the first of a
    // loss wait the base delay exactly (full-once).
    let mut rng = Rng::new(5);
    assert_ne!(b.delay(1, None, &mut rng), b.delay(1, None, &mut rng));
    assert_eq!((b.delay(2, None, &mut rng), b.delay(3, None, &mut rng)), (7500, 7500));
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    let run = |seed| {
        let mut h = Harness::new(seed);
        h.attach("a", opts("ws://h/ws"));
        (0..5)
            .map(|_| {
                let s = h.last_socket();
                h.close(s, 1006);
                h.fire_next().unwrap()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn every_row_of_the_default_close_code_table() {
    let retry = [1000, 1001, 1005, 1006, 1011, 1012, 1014, 4000, 4999, 3000];
    let fatal = [1002, 1003, 1007, 1008, 1009, 1010];
    let auth = [4401, 4403];
    // Each code on a fresh engine whose socket was open: the state it leaves, and whether
    // anything is attempted in the hour after.
    let after_close = |code: u16| {
        let mut h = Harness::new(1);
        let (_, ep) = h.attach("a", exact("ws://h/ws"));
        let s = h.last_socket();
        h.open(s);
        h.close(s, code);
        let st = h.status(ep);
        let closed_at = h.now;
        h.advance(3_600_000);
        (st, h.opens(), closed_at)
    };
    for code in retry {
        let (st, _, closed_at) = after_close(code);
        assert_eq!((st.state, st.attempt, st.next_retry_at), (State::Reconnecting, 1, Some(closed_at + 1000)), "code {code}");
        assert_eq!(st.last_close.unwrap().code, code);
    }
    // 1013 ("Try Again Later") waits its own 10 s first (tests/retry_hints.rs has its hints).
    let (st, _, closed_at) = after_close(1013);
    assert_eq!((st.state, st.attempt, st.next_retry_at), (State::Reconnecting, 1, Some(closed_at + 11_000)));
    for code in fatal {
        let (st, opens, _) = after_close(code);
        assert_eq!((st.state, st.next_retry_at, opens), (State::Closed, None, 1), "code {code}: no retry");
    }
    for code in auth {
        // No token source exists: a refused credential means unauthorized, no loop.
        let (st, opens, _) = after_close(code);
        assert_eq!((st.state, st.next_retry_at, opens), (State::Unauthorized, None, 1), "code {code}");
    }
}

#[test]
fn the_users_close_code_table_overrides_the_defaults() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.close_codes.insert("1008".into(), CloseAction::Retry);
    o.close_codes.insert("4000".into(), CloseAction::Fatal);
    o.close_codes.insert("1012".into(), CloseAction::RetryNow);
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    h.close(s, 1008);
    assert_eq!(h.state(ep), State::Reconnecting);
    h.fire_next();
    let s = h.last_socket();
    h.close(s, 1012);
    // retry-now opens at once, without a timer, and still counts the attempt.
    assert_eq!(h.opens(), 3);
    assert_eq!(h.status(ep).attempt, 2);
    let s = h.last_socket();
    h.open(s);
    h.close(s, 4000);
    assert_eq!(h.state(ep), State::Closed);
}

#[test]
fn a_connect_that_does_not_open_in_time_is_closed_and_counts_as_a_failed_attempt() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.connect_timeout_ms = 3000;
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    assert_eq!(h.fire_next(), Some(3000));
    assert!(h.actions.contains(&Action::CloseSocket { socket: s, code: CONNECT_TIMEOUT_CODE, reason: "connect timeout".into() }));
    let st = h.status(ep);
    assert_eq!((st.state, st.attempt, st.last_close.unwrap().code), (State::Reconnecting, 1, CONNECT_TIMEOUT_CODE));
    assert_eq!(h.fire_next(), Some(1000));
    assert_eq!(h.opens(), 2);
}

#[test]
fn after_max_attempts_the_state_is_down_until_a_tab_asks_to_reconnect() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.backoff.max_attempts = Some(3);
    let (c, ep) = h.attach("a", o);
    for _ in 0..3 {
        let s = h.last_socket();
        h.close(s, 1006);
        h.fire_next().unwrap();
    }
    let s = h.last_socket();
    h.close(s, 1006);
    assert_eq!(h.state(ep), State::Down);
    assert_eq!(h.engine.poll_timeout(), None);
    assert_eq!(h.opens(), 4);
    h.engine.handle_reconnect(h.now, c).unwrap();
    h.drain();
    assert_eq!(h.opens(), 5);
    assert_eq!(h.status(ep).attempt, 0);
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.state(ep), State::Open);
    // reconnect() while open changes nothing.
    h.engine.handle_reconnect(h.now, c).unwrap();
    assert_eq!(h.drain(), vec![]);
}

#[test]
fn the_attempt_counter_resets_only_after_min_uptime() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws")); // minUptime 5000
    // A server that accepts and drops at once: delays keep growing.
    let mut delays = Vec::new();
    for _ in 0..4 {
        let s = h.last_socket();
        h.open(s);
        h.now += 100;
        h.close(s, 1006);
        delays.push(h.fire_next().unwrap());
    }
    assert_eq!(delays, [1000, 2000, 4000, 8000]);
    // A connection that lasts minUptime resets the counter: the next delay is the first one.
    let s = h.last_socket();
    h.open(s);
    h.now += 5000;
    h.close(s, 1006);
    assert_eq!(h.status(ep).attempt, 1);
    assert_eq!(h.fire_next(), Some(1000));
}

#[test]
fn a_constructor_failure_closes_the_endpoint_with_the_reason() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    h.engine.handle_open_failed(h.now, s, "SecurityError: insecure");
    let status = h.status(ep);
    assert_eq!(h.drain(), vec![Action::OpenFailed { endpoint: ep, message: "SecurityError: insecure".into() }, Action::Status { endpoint: ep, status }]);
    let st = h.status(ep);
    assert_eq!(st.state, State::Closed);
    assert_eq!(st.last_close.unwrap().reason, "SecurityError: insecure");
    assert_eq!(h.engine.poll_timeout(), None);
}

#[test]
fn each_jitter_mode_gives_these_exact_delays_for_a_fixed_seed() {
    // Pinned values: any change to the formulas (or the generator) shows up here.
    let mut b = ratio_20();
    let run = |b: &BackoffOptions| {
        let mut rng = Rng::new(42);
        let mut prev = None;
        (1..=5u32)
            .map(|a| {
                let d = b.delay(a, prev, &mut rng);
                prev = Some(d);
                d
            })
            .collect::<Vec<u64>>()
    };
    let ratio = run(&b);
    b.jitter = Jitter::Full;
    let full = run(&b);
    b.jitter = Jitter::Equal;
    let equal = run(&b);
    b.jitter = Jitter::Decorrelated;
    let decorrelated = run(&b);
    assert_eq!(ratio, PINNED_RATIO, "ratio");
    assert_eq!(full, PINNED_FULL, "full");
    assert_eq!(equal, PINNED_EQUAL, "equal");
    assert_eq!(decorrelated, PINNED_DECORRELATED, "decorrelated");
}

#[test]
fn jitter_reads_numbers_and_names_and_says_what_it_expects() {
    use serde_json::json;
    let read = |v: serde_json::Value| tabmux_core::options_reader::jitter(&v).map_err(|e| e.to_string());
    assert_eq!(read(json!(1)), Ok(Jitter::Ratio(1.0)));
    assert_eq!(read(json!(0)), Ok(Jitter::Ratio(0.0)));
    assert_eq!(read(json!(0.5)), Ok(Jitter::Ratio(0.5)));
    assert_eq!(read(json!("equal")), Ok(Jitter::Equal));
    assert_eq!(read(json!(-1)), Err("tabmux: invalid options: backoff.jitter: jitter ratio must be between 0 and 1, got -1".into()));
    assert_eq!(read(json!(2)), Err("tabmux: invalid options: backoff.jitter: jitter ratio must be between 0 and 1, got 2".into()));
    assert_eq!(
        read(json!(true)),
        Err("tabmux: invalid options: backoff.jitter: expected a ratio between 0 and 1, or \"full\", \"full-once\", \"equal\" or \"decorrelated\", got true".into())
    );
}

#[test]
fn a_constructor_failure_is_an_input_after_the_drain_and_a_stale_socket_is_ignored() {
    let mut h = Harness::new(1);
    let (_, ep) = h.engine.handle_attach(h.now, "a", exact("ws://h/ws")).unwrap();
    // The shell carries out every action of the attach (the OpenSocket, the status), then
    // reports that the socket could not be created.
    let drained = h.drain();
    let Some(Action::OpenSocket { socket, .. }) = drained.first().cloned() else { panic!("an OpenSocket first") };
    assert!(matches!(drained.last(), Some(Action::Status { .. })));
    h.engine.handle_open_failed(h.now, socket, "SyntaxError");
    let status = h.status(ep);
    assert_eq!(h.drain(), vec![Action::OpenFailed { endpoint: ep, message: "SyntaxError".into() }, Action::Status { endpoint: ep, status }]);
    assert_eq!(h.status(ep).state, State::Closed);
    // The socket is no longer the endpoint's: a second report changes nothing.
    h.engine.handle_open_failed(h.now, socket, "SyntaxError");
    assert_eq!(h.drain(), vec![]);
}
