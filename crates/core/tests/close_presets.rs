//! Close-code presets (`closeCodePreset`): the conventions of Pusher, Centrifugo and
//! graphql-ws as rows under the page's `closeCodes` and over the built-in table; read by name
//! with messages that name the option. On a virtual clock, with `exact` options (1 s, no jitter).
mod common;
use common::*;
use tabmux_core::close_presets::{preset, preset_names, PUSHER_BACKOFF_MS};
use tabmux_core::{CloseAction, Options, RetryReason, State};

fn parse(json: &str) -> Result<Options, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    tabmux_core::read_options(&v).map_err(|e| e.to_string())
}

fn with_preset(name: &str) -> Options {
    let mut o = exact("ws://h/ws");
    o.close_code_preset = Some(name.into());
    o
}

/// What closing an open socket (up for a minute) with `code` leads to: the state, how long
/// until the retry (None: none planned), why, and whether it reconnected at once.
fn after(o: &Options, code: u16) -> (State, Option<u64>, Option<RetryReason>, bool) {
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", o.clone());
    let s = h.last_socket();
    h.open(s);
    h.now += 60_000;
    h.close(s, code);
    let st = h.status(ep);
    (st.state, st.next_retry_at.map(|t| t - h.now), st.retry_reason, h.opens() == 2)
}

const RETRY: (State, Option<u64>, Option<RetryReason>, bool) = (State::Reconnecting, Some(1000), Some(RetryReason::Backoff), false);
const FATAL: (State, Option<u64>, Option<RetryReason>, bool) = (State::Closed, None, None, false);
const AT_ONCE: (State, Option<u64>, Option<RetryReason>, bool) = (State::Reconnecting, None, None, true);
const UNAUTHORIZED: (State, Option<u64>, Option<RetryReason>, bool) = (State::Unauthorized, None, None, false);

#[test]
fn pusher_stops_on_4000s_backs_off_at_least_a_second_on_4100s_and_reconnects_at_once_on_4200s() {
    let o = with_preset("pusher");
    for code in [4000, 4001, 4099] {
        assert_eq!(after(&o, code), FATAL, "{code}");
    }
    for code in [4100, 4150, 4199] {
        let backoff = (State::Reconnecting, Some(PUSHER_BACKOFF_MS + 1000), Some(RetryReason::CloseCode), false);
        assert_eq!(after(&o, code), backoff, "{code}");
    }
    assert_eq!(PUSHER_BACKOFF_MS, 1000);
    for code in [4200, 4299] {
        assert_eq!(after(&o, code), AT_ONCE, "{code}");
    }
    // Outside its ranges the built-in table decides.
    assert_eq!(after(&o, 4300), RETRY);
    assert_eq!(after(&o, 1008), FATAL);
    assert_eq!(after(&o, 4401), UNAUTHORIZED, "the built-in refresh-token (no token.url)");
}

#[test]
fn centrifugo_stops_on_its_terminal_ranges_and_refreshes_an_expired_token() {
    let o = with_preset("centrifugo");
    for code in [3500, 3501, 3999, 4500, 4999] {
        assert_eq!(after(&o, code), FATAL, "{code}");
    }
    for code in [3000, 3001, 3499, 4000, 4401, 4403, 4499] {
        assert_eq!(after(&o, code), RETRY, "{code}");
    }
    assert_eq!(after(&o, 3005), UNAUTHORIZED, "expired: refresh-token, and no token.url here");
    // With a token URL, 3005 fetches a new token and retries at once.
    let mut o = o;
    o.token.url = Some("/token".into());
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", o);
    h.engine.handle_token_fetched(h.now, ep, Ok("t1"));
    h.drain();
    let s = h.last_socket();
    h.open(s);
    h.close(s, 3005);
    assert_eq!(h.count(|a| matches!(a, tabmux_core::Action::FetchToken { .. })), 2);
}

#[test]
fn graphql_ws_stops_on_the_codes_its_own_client_does_not_retry() {
    let o = with_preset("graphql-ws");
    for code in [4004, 4005, 4400, 4406, 4409, 4429, 4500] {
        assert_eq!(after(&o, code), FATAL, "{code}");
    }
    for code in [4408, 4499, 4504, 1012] {
        assert_eq!(after(&o, code), RETRY, "{code}");
    }
    assert_eq!(after(&o, 4401), UNAUTHORIZED);
    // Without the preset 4406 retries, as the built-in table says.
    assert_eq!(after(&exact("ws://h/ws"), 4406), RETRY);
}

#[test]
fn the_pages_close_codes_come_before_the_preset() {
    let mut o = with_preset("pusher");
    o.close_codes.insert("4001".into(), CloseAction::Retry);
    o.close_codes.insert("4150".into(), CloseAction::RetryNow);
    assert_eq!(after(&o, 4001), RETRY);
    assert_eq!(after(&o, 4150), AT_ONCE);
    assert_eq!(after(&o, 4002), FATAL);
}

#[test]
fn a_preset_row_honours_a_hint_in_the_reason() {
    let o = with_preset("pusher");
    let mut h = Harness::new(1);
    let (_, ep) = h.attach("a", o);
    let s = h.last_socket();
    h.open(s);
    h.now += 60_000;
    h.engine.handle_close(h.now, s, 4100, "over capacity retry-after=20000");
    h.drain();
    let st = h.status(ep);
    assert_eq!((st.next_retry_at, st.retry_reason), (Some(h.now + 21_000), Some(RetryReason::ServerHint)));
}

#[test]
fn presets_are_read_by_name_with_clear_errors() {
    assert_eq!(preset_names().collect::<Vec<_>>(), ["pusher", "centrifugo", "graphql-ws"]);
    assert!(preset("stomp").is_none());
    assert_eq!(parse(r#"{"url":"ws://h/","closeCodePreset":"centrifugo"}"#).unwrap().close_code_preset.as_deref(), Some("centrifugo"));
    assert_eq!(parse(r#"{"url":"ws://h/","closeCodePreset":null}"#).unwrap().close_code_preset, None);
    let cases = [
        (r#""stomp""#, "tabmux: invalid options: closeCodePreset: unknown variant `stomp`, expected one of `pusher`, `centrifugo`, `graphql-ws`"),
        (r#""Pusher""#, "tabmux: invalid options: closeCodePreset: unknown variant `Pusher`, expected one of `pusher`, `centrifugo`, `graphql-ws`"),
        ("true", r#"tabmux: invalid options: closeCodePreset: expected a preset ("pusher", "centrifugo", "graphql-ws") or null, got true"#),
        (r#"["pusher"]"#, r#"tabmux: invalid options: closeCodePreset: expected a preset ("pusher", "centrifugo", "graphql-ws") or null, got an array"#),
    ];
    for (v, want) in cases {
        let json = format!(r#"{{"url":"ws://h/","closeCodePreset":{v}}}"#);
        assert_eq!(parse(&json).unwrap_err(), want, "{json}");
    }
    // Options built in Rust (or read with serde) are checked the same way.
    let mut o = exact("ws://h/ws");
    o.close_code_preset = Some("phoenix".into());
    assert_eq!(
        o.validate().unwrap_err().to_string(),
        r#"tabmux: invalid options: closeCodePreset must be one of "pusher", "centrifugo", "graphql-ws", got "phoenix""#
    );
}

#[test]
fn the_preset_is_a_shared_setting_two_tabs_must_agree_on() {
    let mut h = Harness::new(1);
    h.attach("a", with_preset("pusher"));
    assert!(h.engine.conflicting_options(&with_preset("centrifugo")));
    assert!(!h.engine.conflicting_options(&with_preset("pusher")));
}
