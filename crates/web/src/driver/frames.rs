//! Reading a frame without copying it into wasm: the heartbeat's pong, the server-ping
//! probe, and the dedup key, sequence number and topic the endpoint's options point at.

use std::borrow::Cow;
use tabmux_core::{FrameProbe, Options, PongMatch, ServerPingOptions};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` on a JS string, without copying it through wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;

    /// A JS string, seen through an `includes` that takes a JS string (no copy either way).
    type JsText;
    #[wasm_bindgen(method)]
    fn includes(this: &JsText, needle: &JsValue) -> bool;
}

/// Pongs are small: longer text frames are never parsed to look for one.
const MAX_PONG_LEN: usize = 1024;

/// Recognises the heartbeat's pong without copying frames into wasm: a cheap `includes`
/// on the JS string first, `JSON.parse` only for the few frames that pass it.
pub(super) struct PongMatcher {
    needle: JsValue,
    field: JsValue,
    value: JsValue,
}

impl PongMatcher {
    pub(super) fn new(p: &PongMatch) -> Self {
        PongMatcher {
            needle: JsValue::from_str(&p.value),
            field: JsValue::from_str(&p.field),
            value: JsValue::from_str(&p.value),
        }
    }

    pub(super) fn matches(&self, data: &JsValue, len: usize) -> bool {
        if len > MAX_PONG_LEN || !data.is_string() || !data.unchecked_ref::<JsText>().includes(&self.needle) {
            return false;
        }
        match json_parse(data) {
            Ok(v) if v.is_object() => js_sys::Reflect::get(&v, &self.field).is_ok_and(|f| f == self.value),
            _ => false,
        }
    }
}

/// Recognises the server's pings (`serverPing`) with the text it looks for made a JS string
/// once: a `Field` match asks every small text frame whether it contains its value.
pub(super) struct ServerPingMatcher {
    options: ServerPingOptions,
    text: JsValue,
}

impl ServerPingMatcher {
    pub(super) fn new(options: ServerPingOptions) -> Self {
        ServerPingMatcher { text: JsValue::from_str(options.matches.text()), options }
    }

    pub(super) fn matches(&self, data: &JsValue, len: usize) -> bool {
        self.options.matches(&JsFrame { data, len, known: (self.options.matches.text(), &self.text) })
    }
}

/// A frame as the server-ping matcher sees it: the JS value, read without copying it into
/// wasm (only a frame of the exact pattern's length is compared as text). `known`: the
/// matcher's text and the same as a JS string.
struct JsFrame<'a> {
    data: &'a JsValue,
    len: usize,
    known: (&'a str, &'a JsValue),
}

impl JsFrame<'_> {
    /// `text` as a JS string: the one made already when it is the matcher's.
    fn js(&self, text: &str) -> Cow<'_, JsValue> {
        if text == self.known.0 { Cow::Borrowed(self.known.1) } else { Cow::Owned(JsValue::from_str(text)) }
    }
}

impl FrameProbe for JsFrame<'_> {
    fn size(&self) -> usize {
        self.len
    }
    fn is_text(&self) -> bool {
        self.data.is_string()
    }
    fn text_equals(&self, text: &str) -> bool {
        *self.data == *self.js(text)
    }
    fn text_contains(&self, needle: &str) -> bool {
        self.data.unchecked_ref::<JsText>().includes(&self.js(needle))
    }
    fn json_string_field(&self, field: &str) -> Option<String> {
        let v = json_parse(self.data).ok().filter(JsValue::is_object)?;
        js_sys::Reflect::get(&v, &JsValue::from_str(field)).ok()?.as_string()
    }
}

/// A JSON pointer as the property names to walk.
type Path = Vec<JsValue>;

fn path(pointer: &str) -> Path {
    tabmux_core::text::pointer_segments(pointer).iter().map(|seg| JsValue::from_str(seg)).collect()
}

fn walk(root: &JsValue, path: &Path) -> Option<JsValue> {
    let mut cur = root.clone();
    for seg in path {
        if !cur.is_object() {
            return None;
        }
        cur = js_sys::Reflect::get(&cur, seg).ok()?;
    }
    (!cur.is_undefined() && !cur.is_null()).then_some(cur)
}

/// Reads a frame's sequence number in the page (`sequence.key`), where the worker's numbers
/// do not reach: the tab delivers each number once across a worker's replacement.
pub struct SeqReader(Path);

impl SeqReader {
    /// A reader for the JSON pointer `key`.
    pub fn new(key: &str) -> Self {
        SeqReader(path(key))
    }

    /// The frame's number: a whole number at the pointer of a JSON text frame.
    pub fn read(&self, data: &JsValue) -> Option<u64> {
        if !data.is_string() {
            return None;
        }
        let doc = json_parse(data).ok()?;
        walk(&doc, &self.0).and_then(|v| v.as_f64()).and_then(whole)
    }
}

/// A whole number a JS number can hold exactly.
fn whole(n: f64) -> Option<u64> {
    (n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n)).then_some(n as u64)
}

/// Pulls the dedup key, sequence number and topic out of a text frame with one
/// `JSON.parse`, only for endpoints that use them. The frame text itself stays in JS.
pub(super) struct Extractor {
    keys: Vec<Path>,
    seq: Option<Path>,
    topic: Option<Path>,
}

#[derive(Default)]
pub(super) struct Extracted {
    pub(super) key: Option<String>,
    pub(super) seq: Option<u64>,
    pub(super) topic: Option<String>,
}

impl Extractor {
    pub(super) fn new(o: &Options) -> Option<Extractor> {
        let keys: Vec<Path> = o.dedup.as_ref().map_or_else(Vec::new, |d| d.key.list().into_iter().map(path).collect());
        let seq = o.sequence.as_ref().map(|q| path(&q.key));
        let topic = o.topics.as_ref().map(|t| path(&t.key));
        (!keys.is_empty() || seq.is_some() || topic.is_some()).then_some(Extractor { keys, seq, topic })
    }

    pub(super) fn extract(&self, data: &JsValue) -> Extracted {
        if !data.is_string() {
            return Extracted::default();
        }
        let Ok(doc) = json_parse(data) else { return Extracted::default() };
        let key = self.keys.iter().find_map(|p| walk(&doc, p)).and_then(|v| {
            v.as_string().or_else(|| {
                v.as_f64().map(|_| String::from(js_sys::Number::unchecked_from_js(v).to_string_with_radix(10).unwrap_or_default()))
            })
        });
        let seq = self.seq.as_ref().and_then(|p| walk(&doc, p)).and_then(|v| v.as_f64()).and_then(whole);
        let topic = self.topic.as_ref().and_then(|p| walk(&doc, p)).and_then(|v| v.as_string());
        Extracted { key, seq, topic }
    }
}
