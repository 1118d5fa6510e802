//! Subprotocols (`protocols`): part of the endpoint's identity, the chosen one in the status,
//! and option errors that name the problem.
mod common;
use common::*;
use tabmux_core::State;

fn with(protocols: &[&str]) -> tabmux_core::Options {
    let mut o = exact("ws://h/ws");
    o.protocols = protocols.iter().map(|p| p.to_string()).collect();
    o
}

fn parse(json: &str) -> Result<tabmux_core::Options, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    tabmux_core::read_options(&v).map_err(|e| e.to_string())
}

#[test]
fn different_protocols_never_share_a_socket_and_equal_ones_do() {
    let mut h = Harness::new(1);
    let (_, gql) = h.attach("a", with(&["graphql-transport-ws"]));
    let (_, plain) = h.attach("b", with(&[]));
    let (_, two) = h.attach("c", with(&["graphql-transport-ws", "graphql-ws"]));
    let (_, gql_again) = h.attach("d", with(&["graphql-transport-ws"]));
    assert_eq!(h.opens(), 3, "three endpoints, three sockets");
    assert_eq!(gql, gql_again);
    assert!(gql != plain && gql != two && plain != two);
    assert_eq!(h.engine.endpoint_count(), 3);
    assert_eq!(h.status(gql).clients, 2);
    // Other protocols are another endpoint, not a conflict to warn about.
    assert!(!h.engine.conflicting_options(&with(&["v2"])));
}

#[test]
fn the_chosen_protocol_is_in_the_status_while_open() {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", with(&["v2", "v1"]));
    assert_eq!(h.status(ep).protocol, None);
    let s = h.last_socket();
    h.engine.handle_open_with_protocol(h.now, s, "v1");
    h.drain();
    assert_eq!((h.state(ep), h.status(ep).protocol.as_deref()), (State::Open, Some("v1")));
    h.close(s, 1006);
    assert_eq!(h.status(ep).protocol, None, "no socket, no protocol");
    h.fire_next();
    let s = h.last_socket();
    h.open(s); // the server chose none
    assert_eq!(h.status(ep).protocol, None);
}

#[test]
fn protocols_read_as_a_string_or_a_list_with_clear_errors() {
    assert_eq!(parse(r#"{"url":"ws://h/","protocols":"graphql-transport-ws"}"#).unwrap().protocols, vec!["graphql-transport-ws"]);
    assert_eq!(parse(r#"{"url":"ws://h/","protocols":["a","b.c~1"]}"#).unwrap().protocols, vec!["a", "b.c~1"]);
    assert!(parse(r#"{"url":"ws://h/","protocols":[]}"#).unwrap().protocols.is_empty());
    let cases = [
        (r#""""#, r#"tabmux: invalid options: protocols must be tokens (letters, digits and !#$%&'*+-.^_`|~, 1 to 256 of them), got """#),
        (r#""a b""#, r#"protocols must be tokens (letters, digits and !#$%&'*+-.^_`|~, 1 to 256 of them), got "a b""#),
        (r#"["a","é"]"#, r#"got "é""#),
        (r#"["a","b","a"]"#, r#"tabmux: invalid options: protocols lists "a" twice (the WebSocket constructor refuses that)"#),
        (r#"["a",1]"#, "tabmux: invalid options: protocols: expected a string, got 1"),
        (r#"7"#, "tabmux: invalid options: protocols: expected a subprotocol name or a list of them, got 7"),
    ];
    for (v, want) in cases {
        let json = format!(r#"{{"url":"ws://h/","protocols":{v}}}"#);
        let err = parse(&json).unwrap_err();
        assert!(err.contains(want), "{json}: got {err:?}, want {want:?}");
    }
    let many: Vec<String> = (0..33).map(|i| format!("\"p{i}\"")).collect();
    let err = parse(&format!(r#"{{"url":"ws://h/","protocols":[{}]}}"#, many.join(","))).unwrap_err();
    assert!(err.contains("protocols at most 32 subprotocols"), "{err}");
    assert!(parse(&format!(r#"{{"url":"ws://h/","protocols":[{}]}}"#, many[..32].join(","))).is_ok());
}
