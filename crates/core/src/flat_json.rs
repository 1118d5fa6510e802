//! A small reader for one flat JSON object, as a close reason may be (`{"retryAfterMs":5000}`):
//! the top-level members, raw, with nested values skipped over. `serde_json` is not in the
//! wasm build, and a reason is at most 123 bytes.

/// A JSON value as the hint reader needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// A number, as written.
    Number(&'a str),
    /// A string's raw contents (between the quotes, escapes as written).
    Str(&'a str),
    /// Anything else (an object, an array, `true`, `null`): the text it spans.
    Other(&'a str),
}

impl<'a> Value<'a> {
    /// The text of the value as written (a string's without its quotes).
    pub(crate) fn raw(&self) -> &'a str {
        match *self {
            Value::Number(s) | Value::Str(s) | Value::Other(s) => s,
        }
    }
}

/// Walks the top-level members of the JSON object `text`, calling `member` with each raw key
/// (escapes as written) and value. `false` when `text` is not exactly one well-formed object
/// (values inside are only skipped over, but their brackets and strings must be balanced).
pub(crate) fn flat_object<'a>(text: &'a str, mut member: impl FnMut(&'a str, Value<'a>)) -> bool {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return false;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return skip_ws(b, i + 1) == b.len();
    }
    loop {
        let Some((key, next)) = string_at(text, i) else { return false };
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return false;
        }
        i = skip_ws(b, i + 1);
        let Some((value, next)) = value_at(text, i) else { return false };
        member(key, value);
        i = skip_ws(b, next);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return skip_ws(b, i + 1) == b.len(),
            _ => return false,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The string starting at `i` (a `"`): its raw contents and the index after its closing quote.
fn string_at(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return Some((text.get(i + 1..j)?, j + 1)),
            _ => j += 1,
        }
    }
    None
}

/// The value starting at `i` and the index after it.
fn value_at(text: &str, i: usize) -> Option<(Value<'_>, usize)> {
    let b = text.as_bytes();
    match *b.get(i)? {
        b'"' => string_at(text, i).map(|(s, next)| (Value::Str(s), next)),
        b'{' | b'[' => {
            // Skipped over, brackets and strings balanced.
            let mut depth = 0usize;
            let mut j = i;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = string_at(text, j)?.1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some((Value::Other(text.get(i..=j)?), j + 1));
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let len = b[i..].iter().take_while(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')).count();
            let raw = text.get(i..i + len)?;
            let number = raw.bytes().next().is_some_and(|c| c == b'-' || c.is_ascii_digit());
            (len > 0).then_some((if number { Value::Number(raw) } else { Value::Other(raw) }, i + len))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn members(text: &str) -> Option<Vec<(&str, &str)>> {
        let mut out = Vec::new();
        flat_object(text, |k, v| out.push((k, v.raw()))).then_some(out)
    }

    #[test]
    fn reads_top_level_members_and_skips_nested_ones() {
        assert_eq!(members(r#" {"a": 1, "b":"x\"}", "c":{"d":[1,"]"]},"e":true} "#), Some(vec![("a", "1"), ("b", r#"x\"}"#), ("c", r#"{"d":[1,"]"]}"#), ("e", "true")]));
        assert_eq!(members("{}"), Some(vec![]));
    }

    #[test]
    fn anything_but_one_well_formed_object_is_refused() {
        for text in ["", "[]", "{", r#"{"a":}"#, r#"{"a" 1}"#, r#"{"a":1,}"#, r#"{"a":1} x"#, r#"{"a":"1}"#, r#"{a:1}"#, r#"{"a":[1}"#, r#"{"a":"\"#] {
            assert_eq!(members(text), None, "{text}");
        }
    }
}
