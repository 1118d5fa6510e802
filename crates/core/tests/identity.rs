//! Who the socket belongs to: `account` in the endpoint's key, sign-out closing that
//! identity's socket for every tab, a token URL's 401/403 doing the same, tokens asked from a
//! tab's `token.get`, `token.required`, and which token wins in a replacement worker.
mod common;
use common::*;
use tabmux_core::engine::{TokenClaim, ASK_TIMEOUT_MS};
use tabmux_core::{Action, ClientId, FrameMeta, Options, State};

fn asks(h: &Harness) -> Vec<(ClientId, u64)> {
    h.actions.iter().filter_map(|a| match a { Action::AskToken { client, req } => Some((*client, *req)), _ => None }).collect()
}

fn getter() -> Options {
    let mut o = exact("ws://h/ws");
    o.token.get = true;
    o.token.poll_ms = 1_000_000;
    o
}

#[test]
fn two_accounts_never_share_a_socket() {
    let mut h = Harness::new(1);
    let mut ann = exact("ws://h/ws");
    ann.account = Some("ann".into());
    let mut bob = ann.clone();
    bob.account = Some("bob".into());
    let (a1, ea) = h.attach("a1", ann.clone());
    let (_, ea2) = h.attach("a2", ann);
    let (b1, eb) = h.attach("b1", bob);
    assert_eq!(ea, ea2);
    assert_ne!(ea, eb);
    assert_eq!(h.opens(), 2);
    let sockets: Vec<_> = h.actions.iter().filter_map(|a| match a { Action::OpenSocket { socket, .. } => Some(*socket), _ => None }).collect();
    h.open(sockets[0]);
    h.open(sockets[1]);
    assert_eq!(h.deliver(sockets[0]).unwrap().len(), 2, "ann's frame reaches ann's two tabs");
    assert_eq!(h.deliver(sockets[1]).unwrap(), [b1], "bob's reaches bob's only");
    assert!(!h.deliver(sockets[1]).unwrap().contains(&a1));
}

/// One tab signs out while three stream: the socket closes in the same call, every tab is told
/// (`Action::Token` with no token, state `unauthorized`), queued sends fail, kept frames are
/// forgotten, frames of the old socket reach no one, and nothing reconnects until a tab sets
/// a token (not a `reconnect()`, not going online).
#[test]
fn a_sign_out_closes_the_socket_for_every_tab_at_once() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.token.value = Some("T1".into());
    o.replay.frames = 10;
    let tabs: Vec<_> = (0..3).map(|i| h.attach(&format!("t{i}"), o.clone()).0).collect();
    let ep = h.engine.endpoint_of(tabs[0]).unwrap();
    assert_eq!((h.opens(), h.last_url()), (1, "ws://h/ws?token=T1".to_string()), "the first socket carries token.value");
    let old = h.last_socket();
    h.open(old);
    assert_eq!(h.deliver(old).unwrap(), tabs);
    let kept = h.frame(old, FrameMeta { len: 5, ..Default::default() }).unwrap().2.expect("kept for replay");

    h.engine.handle_sign_out(h.now, tabs[1]).unwrap();
    let out = h.drain();
    assert!(out.contains(&Action::CloseSocket { socket: old, code: 1000, reason: "signed out".into() }));
    assert!(out.contains(&Action::Token { clients: tabs.clone(), token: None, gen: 1 }));
    assert!(out.contains(&Action::Forget { replay: kept }));
    assert_eq!(h.state(ep), State::Unauthorized);
    assert_eq!(h.status(ep).last_error.as_deref(), Some("signed out"));
    assert_eq!(h.deliver(old), None, "a frame of the old socket after the call reaches no tab");
    assert!(matches!(h.engine.handle_send(h.now, tabs[0], 1, 3), Err(_) | Ok(tabmux_core::SendOutcome::Queued)));

    h.engine.handle_reconnect(h.now, tabs[0]).unwrap();
    h.engine.handle_online(h.now, true);
    h.advance(60_000);
    assert_eq!(h.opens(), 1, "signed out: no socket without a new token");

    h.engine.handle_set_token(h.now, tabs[2], "T2").unwrap();
    h.advance(250);
    assert_eq!((h.opens(), h.last_url()), (2, "ws://h/ws?token=T2".to_string()));
    assert!(h.actions.contains(&Action::Token { clients: tabs.clone(), token: Some("T2".into()), gen: 2 }));
}

/// The token URL answering 401 (or 403) signs the endpoint out instead of keeping the old
/// token and socket; a fetch that answers after a sign-out is not used.
#[test]
fn a_token_url_refusing_signs_out() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.token.url = Some("/token".into());
    o.token.poll_ms = 10_000;
    let (_, ep) = h.attach("a", o);
    h.engine.handle_token_fetched(h.now, ep, Ok("T1"));
    h.drain();
    let s = h.last_socket();
    h.open(s);
    h.advance(10_000);
    assert_eq!(h.count(|a| matches!(a, Action::FetchToken { .. })), 2, "polled");
    h.engine.handle_token_refused(h.now, ep, 401);
    h.drain();
    assert!(h.actions.contains(&Action::CloseSocket { socket: s, code: 1000, reason: "signed out".into() }));
    assert_eq!(h.state(ep), State::Unauthorized);
    assert_eq!(h.status(ep).last_error.as_deref(), Some("the token URL answered 401"));
    h.engine.handle_token_fetched(h.now, ep, Ok("late"));
    h.advance(100_000);
    assert_eq!((h.opens(), h.count(|a| matches!(a, Action::FetchToken { .. }))), (1, 2), "no poll, no socket while signed out");
}

/// `token.get`: the first socket waits for the asked tab's answer and carries it; a
/// refresh-token close asks again (one question for the whole browser, from the tab seen
/// last); a tab that leaves while asked, or does not answer within ASK_TIMEOUT_MS, is passed
/// over at once; with every tab asked, the attempt fails like a token URL.
#[test]
fn tokens_are_asked_from_one_tab_with_get() {
    let mut h = Harness::new(1);
    let (a, ep) = h.attach("a", getter());
    assert_eq!((asks(&h).len(), h.opens()), (1, 0), "asked before any socket");
    assert_eq!(h.state(ep), State::Connecting);
    let (_, req) = asks(&h)[0];
    h.now += 1;
    let (b, _) = h.attach("b", getter());
    let (c, _) = h.attach("c", exact("ws://h/ws"));
    assert_eq!(asks(&h).len(), 1, "one question at a time");
    h.engine.handle_token_answer(h.now, a, req + 1, Ok(Some("wrong")));
    h.engine.handle_token_answer(h.now, c, req, Ok(Some("wrong")));
    h.drain();
    assert_eq!(h.opens(), 0, "answers to other questions are ignored");
    h.engine.handle_token_answer(h.now, a, req, Ok(Some("T1")));
    h.drain();
    assert_eq!((h.opens(), h.last_url()), (1, "ws://h/ws?token=T1".to_string()));
    h.open(h.last_socket());

    // Five refresh-token closes (4401), five questions, each to the tab seen last (b).
    for i in 0..5 {
        h.advance(60_000);
        h.close(h.last_socket(), 4401);
        let (to, req) = *asks(&h).last().unwrap();
        assert_eq!((asks(&h).len(), to), (2 + i, b));
        let t = format!("R{i}");
        h.engine.handle_token_answer(h.now, b, req, Ok(Some(&t)));
        h.drain();
        assert_eq!(h.last_url(), format!("ws://h/ws?token={t}"));
        h.open(h.last_socket());
    }
    assert_eq!(h.opens(), 6);

    // b is made the latest seen by a visible report; then b leaves while asked: a is asked at once.
    h.engine.handle_client_visible(h.now, a);
    h.engine.handle_client_visible(h.now + 1, b);
    h.advance(60_000);
    h.close(h.last_socket(), 4401);
    assert_eq!(asks(&h).last().unwrap().0, b);
    h.engine.handle_detach(h.now, b);
    h.drain();
    let (to, _) = *asks(&h).last().unwrap();
    assert_eq!(to, a, "the tab that left is passed over in the same call");
    // a never answers: after ASK_TIMEOUT_MS nobody is left, the attempt fails and retries.
    h.advance(ASK_TIMEOUT_MS);
    assert_eq!(h.status(ep).last_error.as_deref(), Some("no tab answered token.get within 5000 ms"));
    assert_eq!(h.state(ep), State::Reconnecting);
    assert_eq!(h.opens(), 6);
}

/// `token.get` answering no token is a sign-out; an error is a failed attempt (redacted).
#[test]
fn a_get_answering_nothing_signs_out() {
    let mut h = Harness::new(1);
    let (a, ep) = h.attach("a", getter());
    let (_, req) = asks(&h)[0];
    h.engine.handle_token_answer(h.now, a, req, Err("network down"));
    h.drain();
    assert_eq!(h.status(ep).last_error.as_deref(), Some("token.get failed: network down"));
    h.fire_next();
    let (_, req) = *asks(&h).last().unwrap();
    h.engine.handle_token_answer(h.now, a, req, Ok(None));
    h.drain();
    assert_eq!((h.state(ep), h.opens()), (State::Unauthorized, 0));
}

/// `token.required` with no token and nothing to ask opens no socket: it waits for
/// `setToken`, or for a tab with `token.get`.
#[test]
fn a_required_token_is_waited_for() {
    let mut h = Harness::new(1);
    let mut o = exact("ws://h/ws");
    o.token.required = true;
    let (a, ep) = h.attach("a", o.clone());
    h.advance(60_000);
    assert_eq!((h.opens(), h.state(ep)), (0, State::Connecting));
    h.engine.handle_set_token(h.now, a, "T").unwrap();
    h.advance(250);
    assert_eq!((h.opens(), h.last_url()), (1, "ws://h/ws?token=T".to_string()));

    let mut h = Harness::new(1);
    h.attach("a", o);
    let mut g = getter();
    g.token.required = true;
    let (b, _) = h.attach("b", g);
    assert_eq!(asks(&h).first().map(|a| a.0), Some(b), "a tab with get is asked as it comes");
}

/// In a replacement worker the newest change its tabs carry wins: a newer token replaces
/// the endpoint's (one reconnect), an older one is ignored and its tab told the newer, and a
/// newer sign-out signs out (a first hello carrying one opens no socket at all).
#[test]
fn the_newest_token_wins_in_a_new_worker() {
    let mut h = Harness::new(1);
    let hello = |h: &mut Harness, tab: &str, token: Option<&str>, gen: u64| {
        let r = h.engine.handle_hello(h.now, tab, exact("ws://h/ws"), TokenClaim { token, gen }, None).unwrap();
        h.drain();
        r
    };
    let (_, ep) = hello(&mut h, "a", Some("T5"), 5);
    assert_eq!((h.opens(), h.last_url()), (1, "ws://h/ws?token=T5".to_string()));
    h.open(h.last_socket());
    let (old, _) = hello(&mut h, "b", Some("T3"), 3);
    assert_eq!(h.opens(), 1, "older: ignored");
    assert!(h.actions.contains(&Action::Token { clients: vec![old], token: Some("T5".into()), gen: 5 }));
    let (c, _) = hello(&mut h, "c", Some("T7"), 7);
    assert_eq!((h.opens(), h.last_url()), (2, "ws://h/ws?token=T7".to_string()), "newer: at once");
    assert!(h.actions.iter().any(|a| matches!(a, Action::Token { clients, gen: 7, .. } if clients.contains(&c))));
    h.open(h.last_socket());
    hello(&mut h, "d", None, 8);
    assert_eq!(h.state(ep), State::Unauthorized, "a newer sign-out");

    let mut h = Harness::new(1);
    let (_, ep) = hello(&mut h, "a", None, 4);
    hello(&mut h, "b", Some("T2"), 2);
    h.advance(60_000);
    assert_eq!((h.opens(), h.state(ep)), (0, State::Unauthorized));
}
