//! Credentials kept out of everything the engine reports: log events, status fields, errors
//! and stats. Two rules, both applied by [`Redactor::redact`]:
//!
//! 1. **By query value.** In any text, the value of a credential query parameter
//!    ([`CREDENTIAL_PARAMS`], and the endpoint's `token.param`) is `***`: a name right after
//!    `?` or `&` (ASCII case ignored), then `=`, then the value up to the next `&`, `#`,
//!    quote, `<`, `>`, whitespace or the end. `wss://x/ws?access_token=abc&room=1` shows as
//!    `wss://x/ws?access_token=***&room=1`. This covers the URLs tabmux builds and the
//!    browser's messages that quote them, whatever the value's length.
//! 2. **By secret value, when it is long enough.** The current token and the credential values
//!    of the endpoint's URL (raw and percent-decoded, and the token percent-encoded) are
//!    replaced anywhere, a server's close reason included, only when at least
//!    [`MIN_SECRET_CHARS`] characters long: a short value is an ordinary word too (a token
//!    `expired` must leave the reason `token expired` readable).

use crate::token::encode_into;
use alloc::string::String;
use alloc::vec::Vec;

/// Query parameters whose values are credentials, wherever they appear.
pub const CREDENTIAL_PARAMS: &[&str] = &["token", "access_token", "auth", "key", "jwt", "sig", "signature", "password"];

/// A secret value is replaced outside its query parameter only from this many characters on.
pub const MIN_SECRET_CHARS: usize = 8;

/// What a hidden value shows as.
pub const HIDDEN: &str = "***";

/// Whether `b` ends a query value in a text.
fn ends_value(b: u8) -> bool {
    matches!(b, b'&' | b'#' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\') || b.is_ascii_whitespace()
}

/// The length of the credential name (with its `=`) that `rest` starts with, if any.
fn credential_at(rest: &[u8], extra: &[&str]) -> Option<usize> {
    CREDENTIAL_PARAMS.iter().chain(extra).map(|n| n.as_bytes()).find_map(|name| {
        let n = name.len();
        let matches = !name.is_empty()
            && rest.len() > n
            && rest[n] == b'='
            && rest[..n].eq_ignore_ascii_case(name);
        matches.then_some(n + 1)
    })
}

/// `text` with the value of every credential query parameter ([`CREDENTIAL_PARAMS`] and the
/// names in `extra`) replaced by [`HIDDEN`] (rule 1 of the module docs).
pub fn redact_query(text: &str, extra: &[&str]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'?' && b != b'&' {
            continue;
        }
        let Some(name) = credential_at(&bytes[i..], extra) else { continue };
        let start = i + name;
        let mut end = start;
        while end < bytes.len() && !ends_value(bytes[end]) {
            end += 1;
        }
        if end > start {
            // Every cut is at an ASCII byte (or the end): always a char boundary.
            out.push_str(text.get(copied..start).unwrap_or_default());
            out.push_str(HIDDEN);
            copied = end;
        }
        i = end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// `s` with its `%XX` escapes decoded (and `+` as a space); `None` when that is not UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The values of the credential parameters ([`CREDENTIAL_PARAMS`] and `extra`) in `url`'s
/// query, as written.
fn credential_values<'a>(url: &'a str, extra: &[&str]) -> Vec<&'a str> {
    let Some((_, query)) = url.split_once('?') else { return Vec::new() };
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let known = CREDENTIAL_PARAMS.iter().chain(extra).any(|n| n.eq_ignore_ascii_case(name));
            (known && !value.is_empty()).then_some(value)
        })
        .collect()
}

/// What one endpoint hides: its `token.param` (and its percent-encoded form) as a credential
/// name, and the secret values of its URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// `token.param` as configured and as it appears in a URL.
    names: Vec<String>,
    /// Values hidden anywhere (rule 2): each at least [`MIN_SECRET_CHARS`] characters.
    secrets: Vec<String>,
}

impl Redactor {
    /// The redactor of an endpoint at `url` whose token goes in the query parameter `param`.
    pub fn new(url: &str, param: &str) -> Self {
        let mut encoded = String::new();
        encode_into(&mut encoded, param);
        let mut names = Vec::new();
        if !CREDENTIAL_PARAMS.iter().any(|n| n.eq_ignore_ascii_case(param)) {
            names.push(param.into());
            if encoded != param {
                names.push(encoded);
            }
        }
        let mut r = Redactor { names, secrets: Vec::new() };
        let extra: Vec<&str> = r.names.iter().map(String::as_str).collect();
        let values: Vec<String> = credential_values(url, &extra).into_iter().map(String::from).collect();
        for v in values {
            if let Some(decoded) = percent_decoded(&v) {
                r.add_secret(&decoded);
            }
            r.add_secret(&v);
        }
        r
    }

    fn add_secret(&mut self, s: &str) {
        if s.chars().count() >= MIN_SECRET_CHARS && !self.secrets.iter().any(|k| k == s) {
            self.secrets.push(s.into());
        }
    }

    /// `text` as it may be shown: both rules of the module docs, with `token` (the endpoint's
    /// current token, if any) among the secret values, raw and percent-encoded.
    pub fn redact(&self, text: &str, token: Option<&str>) -> String {
        let mut out: String = text.into();
        let long = |s: &&str| s.chars().count() >= MIN_SECRET_CHARS;
        if let Some(t) = token.filter(long) {
            let mut encoded = String::new();
            encode_into(&mut encoded, t);
            out = crate::text::replace(&crate::text::replace(&out, t, HIDDEN), &encoded, HIDDEN);
        }
        for s in &self.secrets {
            out = crate::text::replace(&out, s, HIDDEN);
        }
        let extra: Vec<&str> = self.names.iter().map(String::as_str).collect();
        redact_query(&out, &extra)
    }
}

/// `url` with its query, if it has one, shown as `?***`: for messages about a URL's scheme or
/// host, where the query does not matter and may hold credentials under any name.
pub fn without_query(url: &str) -> String {
    // A byte scan, not `split_once`: the page's client calls this (through
    // `check_mixed_content`), where every byte of code counts.
    match url.bytes().position(|b| b == b'?') {
        Some(at) => [url.get(..at).unwrap_or_default(), "?", HIDDEN].concat(),
        None => url.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_value_in_a_query_is_hidden_whatever_its_length() {
        for name in CREDENTIAL_PARAMS {
            let text = ["The URL 'wss://h/ws?room=1&", name, "=a' is invalid"].concat();
            assert_eq!(redact_query(&text, &[]), ["The URL 'wss://h/ws?room=1&", name, "=***' is invalid"].concat());
        }
        assert_eq!(redact_query("ws://h/?Access_Token=x%20y#f", &[]), "ws://h/?Access_Token=***#f");
        assert_eq!(redact_query("ws://h/?tok=1&token=2&mytoken=3", &["tok"]), "ws://h/?tok=***&token=***&mytoken=3");
        assert_eq!(redact_query("token expired; ?token= empty; a&key", &[]), "token expired; ?token= empty; a&key");
        assert_eq!(redact_query("é?jwt=é€&x", &[]), "é?jwt=***&x");
    }

    #[test]
    fn a_short_secret_is_hidden_only_as_a_query_value() {
        let r = Redactor::new("wss://h/ws", "token");
        assert_eq!(r.redact("token expired", Some("expired")), "token expired");
        assert_eq!(r.redact("ws://h/ws?token=expired", Some("expired")), "ws://h/ws?token=***");
        assert_eq!(r.redact("bad token s3cret tok/%C3%A9 s3cret%20tok%2F%C3%A9", Some("s3cret tok/é")), "bad token s3cret tok/%C3%A9 ***");
    }

    #[test]
    fn the_urls_own_credentials_and_the_configured_param_are_hidden() {
        let r = Redactor::new("wss://h/ws?room=1&access_token=abc%2Fdefgh&pw=12345678&auth=short", "pw");
        assert_eq!(r.redact("reason: abc/defgh and abc%2Fdefgh, 12345678, short", None), "reason: *** and ***, ***, short");
        assert_eq!(r.redact("ws://h/ws?pw=1&room=1", None), "ws://h/ws?pw=***&room=1");
        let odd = Redactor::new("wss://h/ws", "my token");
        assert_eq!(odd.redact("ws://h/ws?my%20token=a", None), "ws://h/ws?my%20token=***");
    }

    #[test]
    fn a_query_is_left_out_of_messages_about_a_url() {
        assert_eq!(without_query("http://h/ws?anything=secret"), "http://h/ws?***");
        assert_eq!(without_query("http://h/ws"), "http://h/ws");
    }
}
