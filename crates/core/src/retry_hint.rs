//! Retry hints a server writes in a close frame's reason: the one channel it has to tell a
//! browser when to come back (a page cannot read a failed handshake's status or its
//! `Retry-After` header). The engine reads them once per browser, on the close.
//!
//! Forms read:
//! - `retry-after=<ms>` anywhere in the reason (`"restart; retry-after=5000"`): not before then;
//! - `reconnect-within=<ms>`: at a moment drawn uniformly over that window (a drain);
//! - a JSON object reason with `retryAfterMs` (ms) or `Retry-After` (seconds, a number or a
//!   string of digits, as Courier sends `{"Retry-After":"10"}`).
//!
//! Both kinds may come together: not before `retry-after`, then spread over `reconnect-within`.
//! Every value is cut to [`MAX_HINT_MS`]. Only the first [`MAX_HINT_REASON_BYTES`] of a reason
//! are read (the most a close frame carries).

use crate::error::decimal;
use crate::flat_json::{flat_object, Value};
use crate::time::Ms;
use alloc::string::String;

/// The longest wait a hint can set (10 minutes): a server cannot park its browsers for a day
/// by mistake. A larger value is cut to this and reported as capped.
pub const MAX_HINT_MS: Ms = 600_000;

/// A close reason is at most 123 bytes on the wire; no more of one is read.
pub const MAX_HINT_REASON_BYTES: usize = 123;

/// The text form's keys.
const AFTER_KEY: &str = "retry-after";
const WITHIN_KEY: &str = "reconnect-within";
/// The JSON form's keys: `retryAfterMs` (exact), `Retry-After` (any case, seconds).
const JSON_AFTER_MS_KEY: &str = "retryAfterMs";

/// What a server asked for in its close reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryHint {
    /// Not before this long after the close (ms).
    pub after_ms: Ms,
    /// A window (ms, starting after `after_ms`) the attempt is drawn uniformly over.
    pub within_ms: Option<Ms>,
    /// Whether a value was above [`MAX_HINT_MS`] and was cut to it.
    pub capped: bool,
}

/// A hint the engine could not read: it is ignored (the retry follows the backoff) and the
/// debug log says why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HintError {
    /// The value after a hint's key is not a whole number ≥ 0 (`retry-after=5s`,
    /// `{"retryAfterMs":1.5}`, a `Retry-After` HTTP date).
    NotWholeNumber {
        /// The key as the reason spells it in this form (`retry-after`, `retryAfterMs`, …).
        key: &'static str,
        /// The value found (clipped to 20 characters).
        got: String,
    },
}

impl HintError {
    /// The human message (concatenated: no formatting machinery in the wasm).
    pub fn message(&self) -> String {
        match self {
            HintError::NotWholeNumber { key, got } => {
                [key, ": expected a whole number ≥ 0, got \"", got, "\""].concat()
            }
        }
    }
}

impl RetryHint {
    /// The hint as the debug log shows it: `retry-after=5000`, `reconnect-within=30000`, or
    /// both; ` (capped)` when a value was cut to [`MAX_HINT_MS`]. Seconds read from
    /// `Retry-After` are shown in ms.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if self.after_ms > 0 || self.within_ms.is_none() {
            s.push_str(AFTER_KEY);
            s.push('=');
            s.push_str(&decimal(self.after_ms));
        }
        if let Some(w) = self.within_ms {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(WITHIN_KEY);
            s.push('=');
            s.push_str(&decimal(w));
        }
        if self.capped {
            s.push_str(" (capped)");
        }
        s
    }
}

/// The hint in `reason`, if it has one. A JSON object reason is read as JSON (and, if it is
/// not valid JSON, as text); any other reason is searched for the text form.
pub fn parse(reason: &str) -> Result<Option<RetryHint>, HintError> {
    let reason = clip_bytes(reason, MAX_HINT_REASON_BYTES);
    if reason.trim_start().starts_with('{') {
        if let Some(found) = json_hint(reason.trim_start()) {
            return found;
        }
    }
    text_hint(reason)
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn clip_bytes(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Builds a hint from raw values (ms), capping each.
fn hint(after_ms: Option<u64>, within_ms: Option<u64>) -> Option<RetryHint> {
    if after_ms.is_none() && within_ms.is_none() {
        return None;
    }
    let after = after_ms.unwrap_or(0);
    let capped = after > MAX_HINT_MS || within_ms.is_some_and(|w| w > MAX_HINT_MS);
    Some(RetryHint { after_ms: after.min(MAX_HINT_MS), within_ms: within_ms.map(|w| w.min(MAX_HINT_MS)), capped })
}

// ---- the text form -------------------------------------------------------------------------

fn text_hint(reason: &str) -> Result<Option<RetryHint>, HintError> {
    let after = text_value(reason, AFTER_KEY)?;
    let within = text_value(reason, WITHIN_KEY)?;
    Ok(hint(after, within))
}

/// The value of the first `key=<digits>` in `reason` (key in any case, at a word boundary).
fn text_value(reason: &str, key: &'static str) -> Result<Option<u64>, HintError> {
    let bytes = reason.as_bytes();
    let k = key.as_bytes();
    let mut i = 0;
    while i + k.len() < bytes.len() {
        let at_key = bytes[i..i + k.len()].eq_ignore_ascii_case(k)
            && bytes[i + k.len()] == b'='
            && (i == 0 || !is_word_byte(bytes[i - 1]));
        if at_key {
            let start = i + k.len() + 1;
            let digits = bytes[start..].iter().take_while(|b| b.is_ascii_digit()).count();
            let end = start + digits;
            let clean_end = bytes.get(end).is_none_or(|b| !is_word_byte(*b) && *b != b'.');
            if digits == 0 || !clean_end {
                let word = bytes[start..].iter().take_while(|b| !b.is_ascii_whitespace() && **b != b';' && **b != b',').count();
                return Err(not_whole(key, reason.get(start..start + word).unwrap_or_default()));
            }
            return Ok(Some(digits_value(&bytes[start..end])));
        }
        i += 1;
    }
    Ok(None)
}

/// Letters, digits, `-` and `_`: what a key's neighbour may not be.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Decimal digits as a number, saturating (the cap applies later).
pub(crate) fn digits_value(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |v, d| v.saturating_mul(10).saturating_add(u64::from(d - b'0')))
}

fn not_whole(key: &'static str, got: &str) -> HintError {
    HintError::NotWholeNumber { key, got: got.chars().take(20).collect() }
}

// ---- the JSON form -------------------------------------------------------------------------

/// The hint of a JSON object reason: `None` when `text` is not one JSON object (the caller
/// then reads it as text), else its `retryAfterMs` / `Retry-After`.
fn json_hint(text: &str) -> Option<Result<Option<RetryHint>, HintError>> {
    let mut after_ms: Option<Result<u64, HintError>> = None;
    let mut seconds: Option<Result<u64, HintError>> = None;
    let complete = flat_object(text, |key, value| {
        if key == JSON_AFTER_MS_KEY && after_ms.is_none() {
            after_ms = Some(whole(value).ok_or_else(|| not_whole("retryAfterMs", value.raw())));
        } else if key.eq_ignore_ascii_case(AFTER_KEY) && seconds.is_none() {
            seconds = Some(whole(value).map(|s| s.saturating_mul(1000)).ok_or_else(|| not_whole("Retry-After", value.raw())));
        }
    });
    if !complete {
        return None;
    }
    // `retryAfterMs` (the finer one) wins over `Retry-After` when both are there.
    Some(match after_ms.or(seconds) {
        None => Ok(None),
        Some(Ok(ms)) => Ok(hint(Some(ms), None)),
        Some(Err(e)) => Err(e),
    })
}

/// A whole number ≥ 0 written as a JSON number or a string of digits.
fn whole(v: Value<'_>) -> Option<u64> {
    match v {
        Value::Number(s) | Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits_value(s.as_bytes()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(ms: Ms) -> Option<RetryHint> {
        Some(RetryHint { after_ms: ms, within_ms: None, capped: false })
    }

    #[test]
    fn the_text_form_is_found_anywhere_in_the_reason_in_any_case() {
        assert_eq!(parse("retry-after=5000"), Ok(after(5000)));
        assert_eq!(parse("restart; retry-after=5000"), Ok(after(5000)));
        assert_eq!(parse("Retry-After=250, bye"), Ok(after(250)));
        assert_eq!(parse("drain reconnect-within=30000"), Ok(Some(RetryHint { after_ms: 0, within_ms: Some(30_000), capped: false })));
        assert_eq!(
            parse("reconnect-within=30000 retry-after=2000"),
            Ok(Some(RetryHint { after_ms: 2000, within_ms: Some(30_000), capped: false }))
        );
        assert_eq!(parse("retry-after=0"), Ok(after(0)));
    }

    #[test]
    fn a_reason_without_a_hint_has_none_and_lookalikes_are_not_hints() {
        for reason in ["", "restart", "Alive Redeploy", "retry-after", "retry-after 5000", "no-retry-after=5", "xretry-after=5", "retry-afterwards=5"] {
            assert_eq!(parse(reason), Ok(None), "{reason:?}");
        }
    }

    #[test]
    fn a_value_that_is_not_a_whole_number_is_an_error_naming_the_key() {
        let err = |reason: &str| parse(reason).unwrap_err().message();
        assert_eq!(err("retry-after=5s"), "retry-after: expected a whole number ≥ 0, got \"5s\"");
        assert_eq!(err("retry-after=1.5; x"), "retry-after: expected a whole number ≥ 0, got \"1.5\"");
        assert_eq!(err("retry-after="), "retry-after: expected a whole number ≥ 0, got \"\"");
        assert_eq!(err("reconnect-within=-1"), "reconnect-within: expected a whole number ≥ 0, got \"-1\"");
        assert_eq!(err(r#"{"retryAfterMs":1.5}"#), "retryAfterMs: expected a whole number ≥ 0, got \"1.5\"");
        assert_eq!(err(r#"{"Retry-After":"Wed, 21 Oct 2026 07:28:00 GMT"}"#), "Retry-After: expected a whole number ≥ 0, got \"Wed, 21 Oct 2026 07:\"");
        assert_eq!(err(r#"{"retryAfterMs":-5}"#), "retryAfterMs: expected a whole number ≥ 0, got \"-5\"");
    }

    #[test]
    fn json_reasons_give_ms_or_seconds() {
        assert_eq!(parse(r#"{"retryAfterMs":7000}"#), Ok(after(7000)));
        assert_eq!(parse(r#" { "reason": "deploy", "retryAfterMs": "7000" } "#), Ok(after(7000)));
        // Courier: seconds, as a string.
        assert_eq!(parse(r#"{"Retry-After":"10"}"#), Ok(after(10_000)));
        assert_eq!(parse(r#"{"retry-after":3,"nested":{"retryAfterMs":1}}"#), Ok(after(3000)));
        // The finer key wins when both are there.
        assert_eq!(parse(r#"{"Retry-After":"10","retryAfterMs":500}"#), Ok(after(500)));
        assert_eq!(parse(r#"{"type":"bye","data":[1,{"a":"}"}]}"#), Ok(None));
        // Not JSON after all: read as text.
        assert_eq!(parse("{broken retry-after=900"), Ok(after(900)));
        assert_eq!(parse(r#"{"retryAfterMs":900"#), Ok(None));
    }

    #[test]
    fn values_are_capped_at_ten_minutes_and_say_so() {
        let h = parse("retry-after=86400000").unwrap().unwrap();
        assert_eq!((h.after_ms, h.capped), (MAX_HINT_MS, true));
        assert_eq!(h.describe(), "retry-after=600000 (capped)");
        let h = parse("reconnect-within=99999999999999999999999").unwrap().unwrap();
        assert_eq!((h.within_ms, h.capped), (Some(MAX_HINT_MS), true));
        assert_eq!(parse(r#"{"Retry-After":"601"}"#).unwrap().unwrap().after_ms, MAX_HINT_MS);
        assert!(!parse("retry-after=600000").unwrap().unwrap().capped);
    }

    #[test]
    fn describe_writes_the_canonical_form() {
        assert_eq!(parse(r#"{"Retry-After":"10"}"#).unwrap().unwrap().describe(), "retry-after=10000");
        assert_eq!(parse("reconnect-within=30000").unwrap().unwrap().describe(), "reconnect-within=30000");
        assert_eq!(parse("retry-after=1 reconnect-within=2").unwrap().unwrap().describe(), "retry-after=1 reconnect-within=2");
        assert_eq!(parse("retry-after=0").unwrap().unwrap().describe(), "retry-after=0");
    }

    #[test]
    fn only_the_first_123_bytes_are_read() {
        let pad = "x".repeat(109);
        assert_eq!(parse(&[&pad, " retry-after=5"].concat()), Ok(after(5)), "ends at byte 123");
        let pad = "x".repeat(112);
        assert_eq!(parse(&[&pad, " retry-after=5"].concat()), Ok(None), "the key starts inside, ends outside");
        // A cut inside a character is not a panic.
        let wide = "é".repeat(70);
        assert_eq!(parse(&wide), Ok(None));
    }
}
