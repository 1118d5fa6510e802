//! The engine's caps that pages can push against: endpoints per engine, and `history`/`stats`
//! requests per client. Each refusal is a coded error; the other clients never notice.
mod common;
use common::*;
use tabmux_core::protocol::MAX_ENDPOINTS;
use tabmux_core::request_budget::{REQUESTS_PER_WINDOW, REQUEST_WINDOW_MS};
use tabmux_core::{Action, State};

fn url(i: usize) -> String {
    format!("ws://h/ws/{i}")
}

#[test]
fn past_max_endpoints_with_clients_a_new_url_is_refused_and_the_others_keep_going() {
    assert_eq!(MAX_ENDPOINTS, 64);
    let mut h = Harness::new(1);
    let clients: Vec<_> = (0..MAX_ENDPOINTS).map(|i| h.attach("a", exact(&url(i)))).collect();
    let err = h.engine.handle_attach(h.now, "b", exact(&url(999))).unwrap_err();
    assert_eq!(err.code(), "too-many-endpoints");
    assert_eq!(
        err.to_string(),
        "tabmux: this worker already holds 64 endpoints (URLs with their subprotocols), each with a client; a new URL waits until one of them is left"
    );
    assert_eq!(h.engine.endpoint_count(), MAX_ENDPOINTS);
    // A URL already held takes another client; the others are untouched.
    let (_, ep) = h.engine.handle_attach(h.now, "b", exact(&url(3))).unwrap();
    assert_eq!(ep, clients[3].1);
    let opens = h.opens();
    h.drain();
    assert_eq!(h.opens(), opens, "no socket opened or closed for the refusal");
    assert_eq!(h.count(|a| matches!(a, Action::CloseSocket { .. })), 0);
    // Once one is left (idleCloseMs 0 closes it at once), the new URL gets its place.
    let mut o = exact(&url(1000));
    o.idle_close_ms = 0;
    h.engine.handle_detach(h.now, clients[0].0);
    h.drain();
    assert_eq!(h.engine.endpoint_count(), MAX_ENDPOINTS, "kept for idleCloseMs (5 s)");
    let (_, new) = h.engine.handle_attach(h.now, "b", o).unwrap();
    h.drain();
    assert_eq!(h.state(new), State::Connecting);
    // The endpoint kept without clients was closed to make room.
    assert_eq!(h.engine.endpoint_count(), MAX_ENDPOINTS);
    assert!(h.engine.status(clients[0].1).is_none());
    assert_eq!(h.count(|a| matches!(a, Action::CloseSocket { reason, .. } if reason == "no tabs left")), 1);
}

#[test]
fn the_endpoint_without_clients_that_would_close_first_makes_room() {
    let mut h = Harness::new(1);
    let clients: Vec<_> = (0..MAX_ENDPOINTS).map(|i| h.attach("a", exact(&url(i)))).collect();
    h.engine.handle_detach(h.now, clients[5].0);
    h.now += 100;
    h.engine.handle_detach(h.now, clients[9].0);
    h.engine.handle_attach(h.now, "b", exact(&url(2000))).unwrap();
    assert!(h.engine.status(clients[5].1).is_none(), "the one idle longest went");
    assert!(h.engine.status(clients[9].1).is_some());
}

#[test]
fn history_and_stats_requests_past_the_budget_are_refused_per_client() {
    assert_eq!((REQUESTS_PER_WINDOW, REQUEST_WINDOW_MS), (20, 1000));
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", exact("ws://h/ws"));
    let (b, _) = h.attach("b", exact("ws://h/ws"));
    for _ in 0..REQUESTS_PER_WINDOW {
        h.engine.admit_request(h.now, a).unwrap();
    }
    let err = h.engine.admit_request(h.now, a).unwrap_err();
    assert_eq!(err.code(), "too-many-requests");
    assert_eq!(err.to_string(), "tabmux: too many history and stats requests from this client: at most 20 in 1000 ms; this one was refused");
    // Another client's budget is its own.
    for _ in 0..REQUESTS_PER_WINDOW {
        h.engine.admit_request(h.now, b).unwrap();
    }
    // Still refused until the window ends, then a fresh one.
    h.now += REQUEST_WINDOW_MS - 1;
    assert!(h.engine.admit_request(h.now, a).is_err());
    h.now += 1;
    for _ in 0..REQUESTS_PER_WINDOW {
        h.engine.admit_request(h.now, a).unwrap();
    }
    assert!(h.engine.admit_request(h.now, a).is_err());
    // A client that is not attached is not attached.
    h.engine.handle_detach(h.now, b);
    assert_eq!(h.engine.admit_request(h.now, b).unwrap_err().code(), "not-attached");
}

#[test]
fn past_max_clients_a_hello_is_refused_too_many_clients() {
    use tabmux_core::protocol::MAX_CLIENTS;
    assert_eq!(MAX_CLIENTS, 1024);
    let mut h = Harness::new(1);
    for i in 0..MAX_CLIENTS {
        h.engine.handle_attach(h.now, "a", exact(&url(i % 8))).unwrap();
    }
    let err = h.engine.handle_attach(h.now, "b", exact(&url(0))).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("too-many-clients", "tabmux: this worker already serves 1024 clients"));
    assert_eq!(h.engine.client_count(), MAX_CLIENTS);
}
