//! Credentials are `***` in every log event, status field, error and stat, wherever they came
//! from: the URL the page wrote (`?access_token=…` and the other names of
//! `tabmux_core::redact::CREDENTIAL_PARAMS`, and the configured `token.param`), a token set by
//! a tab, and a server or a fetch echoing them. A short value is hidden as a query value only,
//! so a close reason stays readable.
mod common;
use common::*;
use tabmux_core::redact::{CREDENTIAL_PARAMS, MIN_SECRET_BYTES};
use tabmux_core::fields::to_json;
use tabmux_core::{check_mixed_content, read_options, Action, EngineError, Error};

/// Everything the engine showed a tab so far, as text: log events, statuses (as sent on each
/// Status action), stats, error messages. Not the URL a socket is opened with or a token is
/// fetched from: those must carry the credential.
fn shown(h: &Harness, c: tabmux_core::ClientId, extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in &h.actions {
        match a {
            Action::Log { event, .. } => out.push(to_json(&event.fields()).to_string()),
            Action::Status { status, .. } => out.push(to_json(&status.fields()).to_string()),
            Action::OpenFailed { message, .. } => out.push(Error::Engine(EngineError::OpenFailed(message.clone())).message()),
            Action::SendFailed { error, .. } => out.push(error.message()),
            _ => {}
        }
    }
    if let Ok(stats) = h.engine.stats(c) {
        out.push(to_json(&stats.fields()).to_string());
    }
    out.extend(extra.iter().cloned());
    out
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Options for `url` with the log on and the token going in `param`.
fn logged(url: &str, param: &str, token_url: bool) -> tabmux_core::Options {
    let mut o = exact(url);
    o.debug = true;
    o.token.param = param.into();
    if token_url {
        o.token.url = Some("https://h/token".into());
    }
    o
}

/// Drives an endpoint at `url` through everything that shows text: the connect log, a
/// server's close reason echoing `echo`, the browser refusing the URL, a token fetch failing
/// with a message that quotes the URL, stats; and the options errors that quote a URL.
fn sweep(url: &str, param: &str, echo: &str) -> Vec<String> {
    let mut all = Vec::new();
    // The socket: connect, open, a close whose reason echoes the credential, the retry.
    let mut h = Harness::new(1);
    let (c, _) = h.attach("a", logged(url, param, false));
    h.open(h.last_socket());
    h.engine.handle_close(h.now, h.last_socket(), 4000, &["bad credential ", echo, " in ", url].concat());
    h.drain();
    h.fire_next();
    // The WebSocket constructor refusing the URL (its message quotes it, as Chromium's does).
    h.engine.handle_open_failed(h.now, h.last_socket(), &["Failed to construct 'WebSocket': The URL '", url, "' is invalid."].concat());
    h.drain();
    all.extend(shown(&h, c, &[]));
    // A token URL whose fetch fails with a message quoting the endpoint's URL and the value.
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", logged(url, param, true));
    h.engine.handle_token_fetched(h.now, ep, Err(&["TypeError: NetworkError for ", url, " (", echo, ")"].concat()));
    h.drain();
    all.extend(shown(&h, c, &[]));
    // Options errors that quote the URL.
    let http = url.replacen("ws://", "http://", 1);
    let bad = read_options(&serde_json::json!({ "url": http, "token": { "param": param } })).unwrap_err().message();
    let mixed = check_mixed_content(url, "https:").unwrap_err().message();
    all.extend([bad, mixed]);
    all
}

#[test]
fn every_credential_parameter_of_the_url_is_hidden_in_logs_statuses_errors_and_stats() {
    let custom = "sess_id";
    for name in CREDENTIAL_PARAMS.iter().copied().chain([custom]) {
        // As credentials in URLs are: URL-safe (base64url, hex, a JWT's dots).
        let secret = ["Zq7-", name, "-9x.K2m_~"].concat();
        let encoded = percent(&secret);
        assert_eq!(encoded, secret);
        let url = ["ws://h/ws?room=1&", name, "=", &secret, "&b=2"].concat();
        let texts = sweep(&url, custom, &secret);
        assert!(texts.len() > 10, "{name}: {texts:?}");
        for t in &texts {
            assert!(!t.contains(&secret) && !t.contains(&encoded), "{name}: the credential survives in {t}");
        }
        // The URL itself stays readable around it.
        let connect = texts.iter().find(|t| t.contains("\"event\":\"connect\"")).unwrap();
        assert!(connect.contains(&["ws://h/ws?room=1&", name, "=***&b=2"].concat()), "{connect}");
    }
}

#[test]
fn a_short_credential_is_hidden_in_urls_but_not_as_a_word_elsewhere() {
    assert!("k9z".len() < MIN_SECRET_BYTES);
    for name in CREDENTIAL_PARAMS {
        let url = ["ws://h/ws?", name, "=k9z"].concat();
        let texts = sweep(&url, "token", "k9z");
        for t in &texts {
            assert!(!t.contains(&[name, "=k9z"].concat()), "{name}: {t}");
        }
        // The server's reason keeps the word (it is the server's text) with the URL's value hidden.
        let reason = ["bad credential k9z in ws://h/ws?", name, "=***"].concat();
        assert!(texts.iter().any(|t| t.contains(&reason)), "{name}: no {reason:?} in {texts:?}");
    }
}

#[test]
fn a_token_set_by_a_tab_is_hidden_raw_and_encoded_and_a_short_one_leaves_a_reason_readable() {
    for (param, token) in [("token", "s3cret tok/én"), ("jwt", "eyJhbGciOi.payload.sig"), ("x-auth", "Zq7zq7Zq7")] {
        let mut h = Harness::new(1);
        let (c, _) = h.attach("a", logged("ws://h/ws", param, false));
        h.open(h.last_socket());
        h.engine.handle_set_token(h.now, c, token).unwrap();
        h.fire_next();
        assert!(h.last_url().ends_with(&["?", &percent(param), "=", &percent(token)].concat()), "the socket does get it");
        h.open(h.last_socket());
        h.engine.handle_close(h.now, h.last_socket(), 4000, &["bad token ", token, " / ", &percent(token)].concat());
        h.drain();
        let texts = shown(&h, c, &[]);
        for t in &texts {
            assert!(!t.contains(token) && !t.contains(&percent(token)), "{param}: {t}");
        }
        assert_eq!(h.engine.stats(c).unwrap().status.last_close.unwrap().reason, "bad token *** / ***");
    }
    // A token that is an ordinary word: hidden in the URL, not in the server's sentence.
    let mut h = Harness::new(1);
    let (c, ep) = h.attach("a", logged("ws://h/ws", "token", false));
    h.open(h.last_socket());
    h.engine.handle_set_token(h.now, c, "expired").unwrap();
    h.fire_next();
    h.open(h.last_socket());
    h.engine.handle_close(h.now, h.last_socket(), 4000, "token expired");
    h.drain();
    assert_eq!(h.status(ep).last_close.unwrap().reason, "token expired");
    let connects: Vec<String> = shown(&h, c, &[]).into_iter().filter(|t| t.contains("\"connect\"")).collect();
    let last: serde_json::Value = serde_json::from_str(connects.last().unwrap()).unwrap();
    assert_eq!(last, serde_json::json!({ "event": "connect", "attempt": 0, "url": "ws://h/ws?token=***" }));
}
