//! Tokens: into the URL, debounced setToken across tabs, token URL fetched before each
//! connect and polled, 4401 refresh-and-retry-once, and never in status or errors.
mod common;
use common::*;
use tabmux_core::{Action, State};

fn fetches(h: &Harness) -> usize {
    h.count(|a| matches!(a, Action::FetchToken { .. }))
}

/// Tab "a" attached with `url_opts()`, and the token URL's first answer given.
fn attached_with(h: &mut Harness, answer: Result<&str, &str>) -> tabmux_core::EndpointId {
    let (_, ep) = h.attach("a", url_opts());
    h.engine.handle_token_fetched(h.now, ep, answer);
    h.drain();
    ep
}

fn url_opts() -> tabmux_core::Options {
    let mut o = exact("ws://h/ws");
    o.token.url = Some("/token".into());
    o
}

#[test]
fn five_tabs_reporting_the_same_new_token_cause_exactly_one_reconnect() {
    let mut h = Harness::new(1);
    let clients: Vec<_> = (0..5).map(|i| h.attach(&format!("tab{i}"), exact("ws://h/ws")).0).collect();
    let ep = h.engine.endpoint_of(clients[0]).unwrap();
    h.open(h.last_socket());
    for (i, c) in clients.iter().enumerate() {
        h.now += 30; // all within the 250 ms debounce of each other
        h.engine.handle_set_token(h.now, *c, "T1").unwrap();
        assert_eq!(h.engine.poll_timeout(), Some(h.now + 250), "report {i} restarts the debounce");
    }
    h.fire_next();
    assert_eq!(h.opens(), 2);
    assert_eq!(h.last_url(), "ws://h/ws?token=T1");
    assert_eq!(h.count(|a| matches!(a, Action::CloseSocket { code: 1000, reason, .. } if reason == "token changed")), 1);
    h.open(h.last_socket());
    // The same token again does nothing at all.
    for c in &clients {
        h.engine.handle_set_token(h.now, *c, "T1").unwrap();
    }
    assert_eq!(h.engine.poll_timeout(), None);
    h.advance(10_000);
    assert_eq!(h.opens(), 2);
    assert_eq!(h.state(ep), State::Open);
    assert_eq!(h.engine.stats(clients[0]).unwrap().counters.token_reconnects, 1);
}

#[test]
fn a_token_url_is_fetched_before_each_connect_and_polled_once_per_interval() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", url_opts());
    assert_eq!(h.actions.first(), Some(&Action::FetchToken { endpoint: ep, url: "/token".into() }));
    assert_eq!(h.opens(), 0);
    assert_eq!(h.state(ep), State::Connecting);
    // A second tab does not cause a second fetch.
    h.attach("b", url_opts());
    assert_eq!(fetches(&h), 1);
    h.engine.handle_token_fetched(h.now, ep, Ok(" abc \n"));
    h.drain();
    assert_eq!(h.last_url(), "ws://h/ws?token=abc");
    h.open(h.last_socket());
    // Polls every 10 s; the same token changes nothing.
    for _ in 0..6 {
        assert_eq!(h.fire_next(), Some(10_000));
        h.engine.handle_token_fetched(h.now, ep, Ok("abc"));
        h.drain();
    }
    assert_eq!(fetches(&h), 7);
    assert_eq!(h.opens(), 1);
    // A new token from a poll: exactly one reconnect, straight to the socket (no second fetch).
    h.fire_next();
    h.engine.handle_token_fetched(h.now, ep, Ok("def"));
    h.drain();
    assert_eq!(h.opens(), 2);
    assert_eq!(h.last_url(), "ws://h/ws?token=def");
    assert_eq!(fetches(&h), 8);
}

#[test]
fn close_4401_with_a_token_url_fetches_once_and_reconnects_once_then_gives_up() {
    let mut h = Harness::new(1);
    let ep = attached_with(&mut h, Ok("old"));
    h.open(h.last_socket());
    h.close(h.last_socket(), 4401);
    assert_eq!(fetches(&h), 2);
    h.engine.handle_token_fetched(h.now, ep, Ok("new"));
    h.drain();
    assert_eq!(h.opens(), 2);
    assert_eq!(h.last_url(), "ws://h/ws?token=new");
    // Refused again before opening: unauthorized, nothing more.
    h.close(h.last_socket(), 4401);
    assert_eq!(h.state(ep), State::Unauthorized);
    h.advance(9_000);
    assert_eq!((h.opens(), fetches(&h)), (2, 2));
}

#[test]
fn close_4401_without_a_token_source_is_unauthorized_until_a_tab_sets_a_token() {
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", exact("ws://h/ws"));
    h.open(h.last_socket());
    h.close(h.last_socket(), 4401);
    assert_eq!(h.state(ep), State::Unauthorized);
    assert_eq!(h.engine.poll_timeout(), None);
    h.engine.handle_set_token(h.now, c, "signed-in-again").unwrap();
    h.fire_next();
    assert_eq!(h.opens(), 2);
    assert_eq!(h.last_url(), "ws://h/ws?token=signed-in-again");
    assert_eq!(h.state(ep), State::Reconnecting);
}

#[test]
fn a_failed_token_fetch_is_a_failed_attempt_and_the_error_is_shown_without_the_token() {
    let mut h = Harness::new(1);
    let ep = attached_with(&mut h, Err("HTTP 503"));
    let st = h.status(ep);
    assert_eq!((st.state, st.last_error.as_deref()), (State::Reconnecting, Some("token fetch failed: HTTP 503")));
    assert_eq!(h.fire_next(), Some(1000));
    assert_eq!(fetches(&h), 2);
    // The token is redacted from anything that could carry it.
    h.engine.handle_token_fetched(h.now, ep, Ok("s3cr3t"));
    h.drain();
    let s = h.last_socket();
    h.engine.handle_open_failed(h.now, s, "The URL 'ws://h/ws?token=s3cr3t' is invalid.");
    assert_eq!(
        h.drain()[0],
        Action::OpenFailed { endpoint: ep, message: "The URL 'ws://h/ws?token=***' is invalid.".into() }
    );
    let st = format!("{:?}", h.status(ep));
    assert!(!st.contains("s3cr3t"), "{st}");
}

#[test]
fn bad_tokens_are_refused() {
    let mut h = Harness::new(1);
    let (c, _) = h.attach("a", exact("ws://h/ws"));
    assert_eq!(h.engine.handle_set_token(h.now, c, "").unwrap_err().code(), "bad-message");
    assert_eq!(h.engine.handle_set_token(h.now, c, &"x".repeat(8193)).unwrap_err().code(), "bad-message");
    assert_eq!(h.engine.handle_set_token(h.now, c, &"x".repeat(8192)), Ok(()), "8 KiB is allowed");
}

#[test]
fn an_empty_or_oversized_token_from_the_url_is_a_failed_attempt() {
    for bad in [String::new(), "  \n".to_string(), "x".repeat(8193)] {
        let mut h = Harness::new(1);
        let ep = attached_with(&mut h, Ok(&bad));
        let st = h.status(ep);
        assert_eq!((st.state, st.last_error.as_deref()), (State::Reconnecting, Some("the token URL returned an empty or oversized token")));
        assert_eq!(h.opens(), 0, "no socket without a token");
    }
    // Exactly 8 KiB is a token.
    let mut h = Harness::new(1);
    attached_with(&mut h, Ok(&"t".repeat(8192)));
    assert_eq!(h.opens(), 1);
}

/// A tab saying hello again to a replacement worker brings its token: the first socket of a
/// new endpoint carries it (one connect, not one without and one with it); a second tab
/// bringing the same token changes nothing, a different one is debounced like setToken; an
/// empty or oversized one is ignored.
#[test]
fn a_hello_with_a_token_connects_with_it_once() {
    let mut h = Harness::new(1);
    let (_, ep) = h.engine.handle_attach_with_token(h.now, "a", exact("ws://h/ws"), Some("T1")).unwrap();
    h.drain();
    assert_eq!((h.opens(), h.last_url()), (1, "ws://h/ws?token=T1".to_string()));
    h.open(h.last_socket());
    h.engine.handle_attach_with_token(h.now, "b", exact("ws://h/ws"), Some("T1")).unwrap();
    h.advance(1000);
    assert_eq!(h.opens(), 1);
    h.engine.handle_attach_with_token(h.now, "c", exact("ws://h/ws"), Some("T2")).unwrap();
    assert_eq!(h.engine.poll_timeout(), Some(h.now + 250));
    h.advance(250);
    assert_eq!((h.opens(), h.last_url()), (2, "ws://h/ws?token=T2".to_string()));
    assert_eq!(h.state(ep), State::Reconnecting);
    for bad in ["", &"x".repeat(8193)] {
        let (d, _) = h.engine.handle_attach_with_token(h.now, "d", exact("ws://h/other"), Some(bad)).unwrap();
        h.drain();
        assert_eq!(h.last_url(), "ws://h/other", "{} bytes", bad.len());
        h.engine.handle_detach(h.now, d);
        h.drain();
    }
}

/// A server that accepts every socket and closes it at once with 4401 (a token it keeps
/// refusing) gets one refresh-and-retry, then `unauthorized`: opening a socket does not
/// give the retry back, only lasting `backoff.minUptimeMs` does.
#[test]
fn accepted_then_refused_at_once_retries_once() {
    let mut h = Harness::new(1);
    let ep = attached_with(&mut h, Ok("T"));
    for _ in 0..3 {
        if h.state(ep) == State::Unauthorized {
            break;
        }
        h.open(h.last_socket());
        h.now += 5;
        h.close(h.last_socket(), 4401);
        h.engine.handle_token_fetched(h.now, ep, Ok("T"));
        h.drain();
    }
    assert_eq!((h.opens(), h.state(ep)), (2, State::Unauthorized));
    h.advance(60_000);
    assert_eq!(h.opens(), 2);
}

/// Tokens that expire every 2 s (the Django example's test): each 4401 after the socket was
/// open a while is a new expiry, refreshed and retried, never `unauthorized`.
#[test]
fn a_token_that_worked_a_while_is_refreshed_at_each_expiry() {
    let mut h = Harness::new(1);
    let ep = attached_with(&mut h, Ok("T0"));
    for i in 1..=5 {
        h.open(h.last_socket());
        h.now += 2_000;
        h.close(h.last_socket(), 4401);
        assert_eq!(h.state(ep), State::Reconnecting, "expiry {i}");
        h.engine.handle_token_fetched(h.now, ep, Ok(&format!("T{i}")));
        h.drain();
        assert_eq!(h.last_url(), format!("ws://h/ws?token=T{i}"));
    }
    assert_eq!(h.opens(), 6);
}
