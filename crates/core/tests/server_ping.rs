//! Server pings (`serverPing`): recognised by pattern or preset, answered once per socket
//! whatever the number of tabs, delivered to no tab, counted as liveness; options read
//! with messages that name the problem.
mod common;
use common::*;
use tabmux_core::{Action, FrameMeta, PingMatch, ServerPingOptions, State};

fn parse(json: &str) -> Result<tabmux_core::Options, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    tabmux_core::read_options(&v).map_err(|e| e.to_string())
}

fn ping_opts(p: ServerPingOptions) -> tabmux_core::Options {
    let mut o = exact("ws://h/ws");
    o.server_ping = Some(p);
    o
}

fn preset(name: &str) -> ServerPingOptions {
    ServerPingOptions::preset(name).expect("preset")
}

#[test]
fn presets_recognise_their_protocols_pings_and_nothing_else() {
    let gql = preset("graphql-ws");
    assert_eq!(gql.reply, r#"{"type":"pong"}"#);
    assert!(gql.matches(&r#"{"type":"ping"}"#));
    assert!(gql.matches(&r#"{ "payload": {"n": 1}, "type": "ping" }"#));
    assert!(!gql.matches(&r#"{"type":"pong"}"#));
    assert!(!gql.matches(&r#"{"type":"next","payload":{"data":"ping"}}"#), "ping elsewhere than in type");
    assert!(!gql.matches(&r#"{"type":["ping"]}"#));
    assert!(!gql.matches(&"ping"), "not JSON");
    let long = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(1024));
    assert!(!gql.matches(&long.as_str()), "longer than 1024: never parsed");

    let cf = preset("centrifugo");
    assert_eq!(cf.reply, "{}");
    assert!(cf.matches(&"{}"));
    assert!(!cf.matches(&"{ }"));
    assert!(!cf.matches(&r#"{"push":{}}"#));

    let sio = preset("socket.io");
    assert_eq!(sio.reply, "3");
    assert!(sio.matches(&"2"));
    assert!(!sio.matches(&"22"));
    assert!(!sio.matches(&"42[\"chat\",\"2\"]"));
    assert_eq!(ServerPingOptions::preset("stomp"), None);
}

#[test]
fn a_server_ping_is_answered_once_for_three_tabs_and_reaches_none() {
    let mut h = Harness::new(1);
    let (a, _) = h.attach("a", ping_opts(preset("graphql-ws")));
    h.attach("b", ping_opts(preset("graphql-ws")));
    h.attach("c", ping_opts(preset("graphql-ws")));
    let s = h.last_socket();
    h.open(s);
    h.drain();
    h.now += 25_000;
    let before = h.actions.len();
    assert_eq!(h.frame(s, FrameMeta { len: 15, server_ping: true, ..Default::default() }), None, "delivered to no tab");
    let new = h.drain();
    assert_eq!(new.iter().filter(|a| matches!(a, Action::SendText { .. })).count(), 1, "one answer for 3 tabs");
    assert_eq!(h.actions[before], Action::SendText { socket: s, data: r#"{"type":"pong"}"#.into() });
    let st = h.engine.stats(a).unwrap();
    assert_eq!((st.counters.server_pings, st.counters.deliveries, st.counters.frames_in), (1, 0, 1));
    assert_eq!(st.status.last_heartbeat_at, Some(h.now), "liveness, shown like a pong");
    // An ordinary frame still reaches all three.
    assert_eq!(h.frame(s, FrameMeta { len: 5, ..Default::default() }).map(|d| d.0.len()), Some(3));
}

#[test]
fn a_server_ping_keeps_the_heartbeat_from_timing_out() {
    let mut h = Harness::new(1);
    let mut o = ping_opts(preset("socket.io"));
    o.heartbeat = Some(Default::default()); // ping every 30 s, 10 s timeout
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.fire_next(), Some(30_000)); // our ping
    h.now += 9_999;
    h.frame(s, FrameMeta { len: 1, server_ping: true, ..Default::default() });
    h.drain();
    // The pong deadline is cleared by the server's ping: the next event is our next ping.
    assert_eq!(h.fire_next(), Some(20_001));
    assert_eq!(h.state(ep), State::Open);
    assert_eq!(h.texts(), vec![r#"{"type":"ping"}"#.to_string(), "3".into(), r#"{"type":"ping"}"#.into()]);
}

#[test]
fn without_server_ping_a_lookalike_is_delivered_and_unanswered_and_a_closed_socket_answers_nothing() {
    let mut h = Harness::new(1);
    let (_, _) = h.attach("a", exact("ws://h/ws"));
    let s = h.last_socket();
    h.open(s);
    assert_eq!(h.frame(s, FrameMeta { len: 1, server_ping: true, ..Default::default() }).map(|d| d.0.len()), Some(1));
    assert!(h.texts().is_empty());

    let mut h = Harness::new(1);
    h.attach("a", ping_opts(preset("centrifugo")));
    let s = h.last_socket();
    h.open(s);
    h.close(s, 1006);
    assert_eq!(h.frame(s, FrameMeta { len: 2, server_ping: true, ..Default::default() }), None);
    assert!(h.texts().is_empty(), "a stale socket's ping is not answered");
}

#[test]
fn server_ping_options_read_presets_and_patterns_with_clear_errors() {
    assert_eq!(parse(r#"{"url":"ws://h/","serverPing":"socket.io"}"#).unwrap().server_ping, Some(preset("socket.io")));
    assert_eq!(parse(r#"{"url":"ws://h/","serverPing":null}"#).unwrap().server_ping, None);
    let o = parse(r#"{"url":"ws://h/","serverPing":{"match":{"field":"op","value":"hb"},"reply":"{\"op\":\"hb_ack\"}"}}"#).unwrap();
    let p = o.server_ping.unwrap();
    assert_eq!(p.matches, PingMatch::Field { field: "op".into(), value: "hb".into() });
    assert_eq!(p.reply, r#"{"op":"hb_ack"}"#);
    let o = parse(r#"{"url":"ws://h/","serverPing":{"match":"PING","reply":"PONG"}}"#).unwrap();
    assert_eq!(o.server_ping.unwrap().matches, PingMatch::Exact("PING".into()));

    let cases = [
        (r#""stomp""#, "tabmux: invalid options: serverPing: unknown variant `stomp`, expected one of `graphql-ws`, `centrifugo`, `socket.io`"),
        (r#"true"#, r#"tabmux: invalid options: serverPing: expected a preset ("graphql-ws", "centrifugo", "socket.io") or { match, reply }, got true"#),
        (r#"{"reply":"x"}"#, "tabmux: invalid options: serverPing: missing field `match`"),
        (r#"{"match":"2"}"#, "tabmux: invalid options: serverPing: missing field `reply`"),
        (r#"{"match":"2","reply":"3","every":1}"#, "unknown field `serverPing.every`, expected one of `serverPing.match`, `serverPing.reply`"),
        (r#"{"match":{"field":"type"},"reply":"3"}"#, "tabmux: invalid options: serverPing.match: missing field `value`"),
        (r#"{"match":{"field":"type","value":"ping","x":1},"reply":"3"}"#, "unknown field `serverPing.match.x`"),
        (r#"{"match":7,"reply":"3"}"#, "tabmux: invalid options: serverPing.match: expected the exact text of a ping, or { field, value }, got 7"),
        (r#"{"match":"","reply":"3"}"#, "tabmux: invalid options: serverPing.match as a text must be 1 to 1024 characters"),
        (r#"{"match":{"field":"","value":"ping"},"reply":"3"}"#, "tabmux: invalid options: serverPing.match field and value must not be empty"),
        (r#"{"match":"2","reply":""}"#, "tabmux: invalid options: serverPing.reply must be 1 to 65536 bytes"),
        (r#"{"match":"2","reply":3}"#, "tabmux: invalid options: serverPing.reply: expected a string, got 3"),
    ];
    for (v, want) in cases {
        let json = format!(r#"{{"url":"ws://h/","serverPing":{v}}}"#);
        let err = parse(&json).unwrap_err();
        assert!(err.contains(want), "{json}: got {err:?}, want {want:?}");
    }
    let long = format!(r#"{{"url":"ws://h/","serverPing":{{"match":"{}","reply":"3"}}}}"#, "x".repeat(1025));
    assert!(parse(&long).unwrap_err().contains("1 to 1024 characters"));
    let edge = format!(r#"{{"url":"ws://h/","serverPing":{{"match":"{}","reply":"3"}}}}"#, "x".repeat(1024));
    assert!(parse(&edge).is_ok());
}

#[test]
fn server_ping_is_a_shared_setting_two_tabs_must_agree_on() {
    let mut h = Harness::new(1);
    h.attach("a", ping_opts(preset("socket.io")));
    assert!(h.engine.conflicting_options(&ping_opts(preset("centrifugo"))));
    assert!(!h.engine.conflicting_options(&ping_opts(preset("socket.io"))));
}

/// A frame that records the texts the matcher compares it with.
struct Asked<'a> {
    frame: &'a str,
    texts: std::cell::RefCell<Vec<String>>,
}

impl tabmux_core::FrameProbe for Asked<'_> {
    fn size(&self) -> usize {
        self.frame.size()
    }
    fn is_text(&self) -> bool {
        true
    }
    fn text_equals(&self, text: &str) -> bool {
        self.texts.borrow_mut().push(text.into());
        self.frame.text_equals(text)
    }
    fn text_contains(&self, needle: &str) -> bool {
        self.texts.borrow_mut().push(needle.into());
        self.frame.text_contains(needle)
    }
    fn json_string_field(&self, field: &str) -> Option<String> {
        self.frame.json_string_field(field)
    }
}

#[test]
fn the_matcher_compares_frames_only_with_its_text() {
    // The browser's shell makes `PingMatch::text` a JS string once per socket, for every
    // comparison the matcher asks for; this is the contract that keeps that one string enough.
    for (p, frames, text) in [
        (preset("graphql-ws"), [r#"{"type":"ping"}"#, r#"{"type":"next"}"#], "ping"),
        (preset("socket.io"), ["2", "42"], "2"),
        (preset("centrifugo"), ["{}", "{ }"], "{}"),
    ] {
        assert_eq!(p.matches.text(), text);
        let mut asked = Vec::new();
        for frame in frames {
            let probe = Asked { frame, texts: Default::default() };
            p.matches(&probe);
            asked.extend(probe.texts.into_inner());
        }
        assert!(!asked.is_empty(), "{text}: the frames were compared");
        assert!(asked.iter().all(|t| t == text), "{text}: asked {asked:?}");
    }
}
