//! Credentials kept out of everything the engine reports: log events, status fields, errors
//! and stats. Two rules, both applied by [`Redactor::redact`]:
//!
//! 1. **By query value.** In any text, the value of a credential query parameter
//!    ([`CREDENTIAL_PARAMS`], and the endpoint's `token.param`) is `***`: a name right after
//!    `?` or `&` (ASCII case ignored), then `=`, then the value up to the next `&`, `#`,
//!    quote, backslash, `<`, `>`, whitespace or the end. `wss://x/ws?access_token=abc&room=1`
//!    shows as `wss://x/ws?access_token=***&room=1`. This covers the URLs tabmux builds and
//!    the browser's messages that quote them, whatever the value's length.
//! 2. **By secret value, when it is long enough.** The current token (raw and
//!    percent-encoded) and the credential values of the endpoint's URL (as written there) are
//!    replaced anywhere, a server's close reason included, only when at least
//!    [`MIN_SECRET_BYTES`] bytes long: a short value is an ordinary word too (a token
//!    `expired` must leave the reason `token expired` readable).

use crate::token::encode_into;
use alloc::string::String;
use alloc::vec::Vec;

/// Query parameters whose values are credentials, wherever they appear.
pub const CREDENTIAL_PARAMS: &[&str] = &["token", "access_token", "auth", "key", "jwt", "sig", "signature", "password"];

/// A secret value is replaced outside its query parameter only from this many bytes (UTF-8)
/// on.
pub const MIN_SECRET_BYTES: usize = 8;

/// What a hidden value shows as.
pub const HIDDEN: &str = "***";

/// Whether `b` ends a query value in a text.
fn ends_value(b: u8) -> bool {
    matches!(b, b'&' | b'#' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\') || b.is_ascii_whitespace()
}

/// The length of the credential name followed by `=` that `rest` starts with, if any.
fn credential_name_at(rest: &[u8], extra: &str) -> Option<usize> {
    // Plain loops, not an iterator chain: a third of the code in the worker's wasm.
    let mut k = 0;
    while k <= CREDENTIAL_PARAMS.len() {
        let name = CREDENTIAL_PARAMS.get(k).copied().unwrap_or(extra).as_bytes();
        k += 1;
        let n = name.len();
        if n > 0 && rest.len() > n && rest[n] == b'=' && rest[..n].eq_ignore_ascii_case(name) {
            return Some(n);
        }
    }
    None
}

/// Calls `found(start, end)` for the byte range of every credential value in `text`'s query
/// strings (rule 1), in order. Every bound is at an ASCII byte or the end: a char boundary.
fn credential_values(text: &str, extra: &str, mut found: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'?' && b != b'&' {
            continue;
        }
        let Some(len) = credential_name_at(bytes.get(i..).unwrap_or_default(), extra) else { continue };
        let start = i + len + 1;
        let mut end = start;
        while end < bytes.len() && !ends_value(bytes[end]) {
            end += 1;
        }
        if end > start {
            found(start, end);
        }
        i = end;
    }
}

/// `text` with the value of every credential query parameter ([`CREDENTIAL_PARAMS`] and
/// `extra`, if not empty) replaced by [`HIDDEN`] (rule 1 of the module docs).
pub fn redact_query(text: &str, extra: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    credential_values(text, extra, |start, end| {
        out.push_str(text.get(copied..start).unwrap_or_default());
        out.push_str(HIDDEN);
        copied = end;
    });
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// What one endpoint hides: its `token.param` as a credential name, and the secret values of
/// its URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// `token.param` as it appears in a URL (percent-encoded).
    param: String,
    /// Values hidden anywhere (rule 2): each at least [`MIN_SECRET_BYTES`] long.
    secrets: Vec<String>,
}

impl Redactor {
    /// The redactor of an endpoint at `url` whose token goes in the query parameter `param`.
    pub fn new(url: &str, param: &str) -> Self {
        let mut r = Redactor::default();
        encode_into(&mut r.param, param);
        let mut secrets = Vec::new();
        credential_values(url, &r.param, |start, end| {
            match url.get(start..end) {
                Some(v) if v.len() >= MIN_SECRET_BYTES => secrets.push(v.into()),
                _ => {}
            }
        });
        r.secrets = secrets;
        r
    }

    /// `text` as it may be shown: both rules of the module docs, with `token` (the endpoint's
    /// current token, if any) among the secret values, raw and percent-encoded.
    pub fn redact(&self, text: &str, token: Option<&str>) -> String {
        // Query values first: a secret replaced first could cut a query apart (a URL's own
        // credential `/ws?token=` inside another URL) and leave the value after it unread.
        let mut out = redact_query(text, &self.param);
        if let Some(t) = token.filter(|t| t.len() >= MIN_SECRET_BYTES) {
            let mut encoded = String::new();
            encode_into(&mut encoded, t);
            for s in [t, encoded.as_str()] {
                out = crate::text::replace(&out, s, HIDDEN);
            }
        }
        for s in &self.secrets {
            out = crate::text::replace(&out, s, HIDDEN);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_value_in_a_query_is_hidden_whatever_its_length() {
        for name in CREDENTIAL_PARAMS {
            let text = ["The URL 'wss://h/ws?room=1&", name, "=a' is invalid"].concat();
            assert_eq!(redact_query(&text, ""), ["The URL 'wss://h/ws?room=1&", name, "=***' is invalid"].concat());
        }
        assert_eq!(redact_query("ws://h/?Access_Token=x%20y#f", ""), "ws://h/?Access_Token=***#f");
        assert_eq!(redact_query("ws://h/?tok=1&token=2&mytoken=3", "tok"), "ws://h/?tok=***&token=***&mytoken=3");
        assert_eq!(redact_query("token expired; ?token= empty; a&key", ""), "token expired; ?token= empty; a&key");
        assert_eq!(redact_query("é?jwt=é€&x", ""), "é?jwt=***&x");
        assert_eq!(redact_query("\"ws://h/?sig=a\\\"b\"", ""), "\"ws://h/?sig=***\\\"b\"");
    }

    #[test]
    fn a_short_secret_is_hidden_only_as_a_query_value() {
        let r = Redactor::new("wss://h/ws", "token");
        assert_eq!(r.redact("token expired", Some("expired")), "token expired");
        assert_eq!(r.redact("ws://h/ws?token=expired", Some("expired")), "ws://h/ws?token=***");
        assert_eq!(r.redact("bad token s3cret tok/é s3cret%20tok%2F%C3%A9", Some("s3cret tok/é")), "bad token *** ***");
    }

    #[test]
    fn a_secret_that_spans_a_query_does_not_uncover_the_value_after_it() {
        // Found by the options fuzzer: the URL's own credential value `/ws?token=` is also a
        // piece of another URL; replaced first it cut that URL's query apart.
        let r = Redactor::new("ws://h/ws?token=/ws?token=\n", "token");
        // The query value goes first (`?token=***`), then the secret `/ws?token=` around it.
        assert_eq!(r.redact("ws://h/ws?token=%09", Some("\t")), "ws://h******");
    }

    #[test]
    fn the_urls_own_credentials_and_the_configured_param_are_hidden() {
        let r = Redactor::new("wss://h/ws?room=1&access_token=abc%2Fdefgh&pw=12345678&auth=short", "pw");
        assert_eq!(r.redact("reason: abc%2Fdefgh, 12345678, short", None), "reason: ***, ***, short");
        assert_eq!(r.redact("ws://h/ws?pw=1&room=1", None), "ws://h/ws?pw=***&room=1");
        let odd = Redactor::new("wss://h/ws", "my token");
        assert_eq!(odd.redact("ws://h/ws?my%20token=a", None), "ws://h/ws?my%20token=***");
    }
}
