//! Small text helpers, so the wasm holds none of what std's would bring: `str::replace` and
//! `str::contains(&str)` bring the two-way substring searcher and str slicing's panic path,
//! and `{:?}` brings Debug escaping with its Unicode tables. The
//! texts here are short (error messages, URLs, templates, JSON pointers), so a plain byte
//! search is enough. Each helper is checked against the std form it replaces.

use alloc::string::String;
use alloc::vec::Vec;

/// Where `needle` first occurs in `text` at or after byte `from` (a byte search: both are
/// UTF-8, so a match always starts and ends on character boundaries).
fn find_from(text: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return (from <= text.len()).then_some(from);
    }
    (from..(text.len() + 1).saturating_sub(needle.len())).find(|&i| text.get(i..i + needle.len()) == Some(needle))
}

/// Whether `needle` occurs in `text` (as `text.contains(needle)`).
pub fn contains(text: &str, needle: &str) -> bool {
    find_from(text.as_bytes(), needle.as_bytes(), 0).is_some()
}

/// `text` with every occurrence of `needle` replaced by `with` (as `text.replace(needle, with)`).
pub fn replace(text: &str, needle: &str, with: &str) -> String {
    let (t, n) = (text.as_bytes(), needle.as_bytes());
    let mut out: Vec<u8> = Vec::with_capacity(t.len());
    let mut at = 0;
    if n.is_empty() {
        // As std: `with` before every character and at the end.
        for c in text.chars() {
            out.extend_from_slice(with.as_bytes());
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        out.extend_from_slice(with.as_bytes());
    } else {
        while let Some(i) = find_from(t, n, at) {
            out.extend_from_slice(t.get(at..i).unwrap_or_default());
            out.extend_from_slice(with.as_bytes());
            at = i + n.len();
        }
        out.extend_from_slice(t.get(at..).unwrap_or_default());
    }
    // Whole characters were copied and whole UTF-8 strings inserted: always valid.
    String::from_utf8(out).unwrap_or_default()
}

/// `s` in double quotes, as `{:?}` shows a string for the characters people type: `"` and
/// `\` escaped, control characters as `\n`, `\r`, `\t`, `\0` or `\u{..}`. (Debug also escapes
/// some invisible Unicode characters; this shows them as they are.)
pub fn quote_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str("\\u{");
                for shift in [4u32, 0] {
                    let d = ((c as u32) >> shift) & 15;
                    if shift == 0 || d != 0 {
                        out.push(char::from_digit(d, 16).unwrap_or('0'));
                    }
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The property names a JSON pointer (RFC 6901) walks: `/a~1b/c~0d` → `a/b`, `c~d`.
pub fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|seg| {
            let mut out = String::with_capacity(seg.len());
            let mut chars = seg.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, chars.peek()) {
                    ('~', Some('1')) => {
                        out.push('/');
                        chars.next();
                    }
                    ('~', Some('0')) => {
                        out.push('~');
                        chars.next();
                    }
                    (c, _) => out.push(c),
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// Short strings over a small alphabet (with multi-byte characters), so needles occur.
    fn strings(seed: u64, n: usize) -> Vec<String> {
        let alphabet = ['\0', 'a', 'b', '~', '0', '1', '/', '"', '\\', '\n', '\u{1}', '\u{7f}', 'é', '€', '𝄞', '{', '}'];
        let mut rng = crate::Rng::new(seed);
        (0..n)
            .map(|_| {
                let len = (rng.next_u64() % 9) as usize;
                (0..len).map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize]).collect()
            })
            .collect()
    }

    #[test]
    fn contains_and_replace_match_std() {
        let texts = strings(1, 400);
        let needles = strings(2, 60);
        for t in &texts {
            for n in &needles {
                assert_eq!(contains(t, n), t.contains(n.as_str()), "{t:?} contains {n:?}");
                assert_eq!(replace(t, n, "<*>"), t.replace(n.as_str(), "<*>"), "{t:?} replace {n:?}");
                assert_eq!(replace(t, n, ""), t.replace(n.as_str(), ""), "{t:?} remove {n:?}");
            }
        }
        assert_eq!(replace("a{topic}b{topic}", "{topic}", "x"), "axbx");
        assert_eq!(replace("aaa", "aa", "b"), "ba");
    }

    #[test]
    fn quote_escaped_matches_debug_for_what_people_type() {
        for s in strings(3, 2000) {
            assert_eq!(quote_escaped(&s), format!("{s:?}"), "{s:?}");
        }
        assert_eq!(quote_escaped("http://h/ws"), "\"http://h/ws\"");
        assert_eq!(quote_escaped("\u{0}\u{1b}"), "\"\\0\\u{1b}\"");
    }

    #[test]
    fn pointer_segments_unescape_as_rfc_6901_says() {
        assert_eq!(pointer_segments(""), Vec::<String>::new());
        assert_eq!(pointer_segments("/"), [""]);
        assert_eq!(pointer_segments("/a~1b/c~0d"), ["a/b", "c~d"]);
        // ~01 is "~1" (unescaped once, left to right), not "/".
        assert_eq!(pointer_segments("/~01/~10/~~1/~2"), ["~1", "/0", "~/", "~2"]);
        for s in strings(4, 500) {
            let want: Vec<String> = s.split('/').skip(1).map(|seg| seg.replace("~1", "/").replace("~0", "~")).collect();
            assert_eq!(pointer_segments(&s), want, "{s:?}");
        }
    }
}
