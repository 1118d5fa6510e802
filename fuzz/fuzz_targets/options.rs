//! Text from libFuzzer as options, topics and tokens:
//! - any JSON read as options (`read_options`) is either options that validate and then run through a connect, frames, a loss
//!   and its retries without a panic, or a clear error;
//! - a topic can never break the subscribe frame: the filled template is JSON with exactly the
//!   topic in its field and no raw U+2028/U+2029 (which older JS engines reject in source);
//! - a token put into the connect URL never shows there after redaction (its query value is
//!   `***`), and one of at least `MIN_SECRET_BYTES` bytes survives nowhere, raw or
//!   percent-encoded, in any text (tokens containing `*` excepted: the mask itself is made of
//!   `*`);
//! - the mixed-content check never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabmux_core::integrity::fill_template;
use tabmux_core::redact::{Redactor, MIN_SECRET_BYTES};
use tabmux_core::token::with_token;
use tabmux_core::{check_mixed_content, read_options, Engine, FrameMeta, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    // The reader every shell uses: a clear error or options that validated.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(o) = read_options(&v) {
            drive(o);
        }
    }

    let (a, b) = text.split_once('\0').unwrap_or((text, ""));

    let frame = fill_template(r#"{"type":"subscribe","topic":"{topic}"}"#, a);
    let v: serde_json::Value = serde_json::from_str(&frame).unwrap_or_else(|e| panic!("{frame:?} is not JSON: {e}"));
    assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{frame:?}");
    assert_eq!(v["topic"].as_str(), Some(a), "{frame:?}");
    assert!(!frame.contains(['\u{2028}', '\u{2029}']), "{frame:?}");

    if !b.is_empty() && !b.contains('*') {
        let url = with_token("ws://h/ws", "token", b);
        let r = Redactor::new(a, "token");
        let shown = r.redact(&url, Some(b));
        // The query value is hidden (the URL ends with a mask, not the encoded token).
        assert!(!shown.ends_with(&url[16..]), "{b:?} shows in {shown:?}");
        if b.len() >= MIN_SECRET_BYTES {
            for shown in [r.redact(a, Some(b)), r.redact(&format!("{a}{b}{url}{b}"), Some(b))] {
                assert!(!shown.contains(b), "{b:?} survives in {shown:?}");
                assert!(!shown.contains(&url[16..]), "the encoded {b:?} survives in {shown:?}");
            }
        }
    }

    let _ = check_mixed_content(a, "https:");
    let _ = check_mixed_content(a, b);
});

/// Valid options through one engine: attach, connect, frames, a loss, every retry until quiet.
fn drive(o: Options) {
    let mut e = Engine::new(7);
    let mut now = 1_000_000u64;
    let Ok((client, endpoint)) = e.handle_attach(now, "tab", o) else { return };
    let _ = e.handle_send(now, client, 1, 10);
    let _ = e.handle_subscribe(now, client, "t");
    e.handle_token_fetched(now, endpoint, Ok("tok"));
    for round in 0..20u64 {
        while let Some(a) = e.poll_action() {
            if let tabmux_core::Action::OpenSocket { socket, .. } = a {
                e.handle_open(now, socket);
                for seq in [1, 2, 2, 5] {
                    let _ = e.handle_frame(now, socket, FrameMeta { len: 5, key: Some("k"), seq: Some(seq), topic: Some("t"), pong: false, server_ping: seq == 2 });
                }
                e.handle_close(now, socket, if round % 2 == 0 { 1006 } else { 4401 }, "lost");
            }
        }
        let Some(at) = e.poll_timeout() else { break };
        now = now.max(at);
        e.handle_timeout(now);
    }
    let _ = e.stats(client);
    e.handle_detach(now, client);
}
