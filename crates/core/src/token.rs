//! Token settings and how a token goes into the connect URL.

use alloc::string::String;

/// Token settings (`options.token`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TokenOptions {
    /// The query parameter the token goes in. Default `"token"`.
    pub param: String,
    /// A URL the worker fetches (with credentials) before each connect and every `pollMs`;
    /// its response body, trimmed, is the token. Default: none.
    pub url: Option<String>,
    /// How often `url` is polled while any tab is attached. Default 10000.
    pub poll_ms: u64,
    /// Reports from tabs (`setToken`) within this long count as one. Default 250.
    pub debounce_ms: u64,
    /// The token the first connect carries (a tab's own: it does not count as a different
    /// setting). Default: none.
    pub value: Option<String>,
    /// The page has a function that returns a token (`get`, which stays in the page; the
    /// worker is told `true`). The worker asks one such tab before each connect, on a
    /// refresh-token close and every `pollMs` (`token_ask.rs`). A tab's own business.
    pub get: bool,
    /// No socket opens without a token: with no token and nothing to ask, the endpoint waits
    /// for `setToken`. Implied by `url` and `get`. Default false.
    pub required: bool,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            param: "token".into(),
            url: None,
            poll_ms: 10_000,
            debounce_ms: 250,
            value: None,
            get: false,
            required: false,
        }
    }
}

impl TokenOptions {
    /// Every key `token` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["param", "url", "pollMs", "debounceMs", "value", "get", "required"];
}

/// The most bytes a token may have.
pub const MAX_TOKEN_BYTES: usize = 8192;

/// Whether a token can be used: 1 to [`MAX_TOKEN_BYTES`] bytes.
pub fn is_usable_token(t: &str) -> bool {
    !t.is_empty() && t.len() <= MAX_TOKEN_BYTES
}

/// `url` with `param=<token>` added to its query, percent-encoded.
pub fn with_token(url: &str, param: &str, token: &str) -> String {
    let mut out = String::with_capacity(url.len() + param.len() + token.len() * 3 + 2);
    out.push_str(url);
    out.push(if url.contains('?') { '&' } else { '?' });
    encode_into(&mut out, param);
    out.push('=');
    encode_into(&mut out, token);
    out
}

/// `url` with `param=<value>` added (for the resume parameter and the like).
pub fn with_param(url: &str, param: &str, value: &str) -> String {
    with_token(url, param, value)
}

/// Appends `s` percent-encoded as a query component (unreserved characters kept).
pub(crate) fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_percent_encoded_into_the_query() {
        assert_eq!(with_token("ws://h/ws", "token", "a b&c=d/é"), "ws://h/ws?token=a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(with_token("ws://h/ws?x=1", "t", "abc"), "ws://h/ws?x=1&t=abc");
    }
}
