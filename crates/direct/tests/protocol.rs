//! The page ⇄ worker codec in a real page: every message of both directions survives
//! `encode` then `decode` unchanged, posts of several messages are read in order, and each
//! malformed field is refused with a message naming it.
#![allow(missing_docs)]

use tabmux_core::{Error, ErrorCode, ProtocolError};
use tabmux_web::{names_made, post_of, ToTab, ToWorker};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn obj(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// Every message to the worker, each field set, and again with its optional fields left out.
fn to_worker() -> Vec<ToWorker> {
    let bytes: JsValue = js_sys::Uint8Array::from(&[1u8, 2, 3][..]).into();
    vec![
        ToWorker::Frame("a frame".into()),
        ToWorker::Frame(bytes.clone()),
        ToWorker::Hello { build: s("b1"), tab_id: "t".into(), options: obj(r#"{"url":"ws://h/"}"#), lock: s("l"), token: s("tok"), token_gen: 3, seq: Some(9) },
        ToWorker::Hello { build: None, tab_id: "t".into(), options: JsValue::UNDEFINED, lock: None, token: None, token_gen: 0, seq: None },
        ToWorker::Stats { id: 4_000_000_000 },
        ToWorker::Reconnect {},
        ToWorker::Bye { handled: Some(12) },
        ToWorker::Bye { handled: None },
        ToWorker::Liveness { lock: s("l2") },
        ToWorker::Liveness { lock: None },
        ToWorker::Token { token: s("") },
        ToWorker::Token { token: None },
        ToWorker::answer(7, Ok(s("tok"))),
        ToWorker::answer(7, Ok(None)),
        ToWorker::answer(7, Err("no session".into())),
        ToWorker::Online { online: false },
        ToWorker::Visible { visible: Some(true) },
        ToWorker::Visible { visible: None },
        ToWorker::Exclusive { topic: s("prices"), on: true },
        ToWorker::Exclusive { topic: None, on: false },
        ToWorker::Send { id: 1, data: bytes.clone(), prompt: false },
        ToWorker::Send { id: 2, data: bytes, prompt: true },
        ToWorker::Drained { total: 9_000_000_000_000_000 },
        ToWorker::Subscribe { topic: "prices".into() },
        ToWorker::Unsubscribe { topic: "".into() },
        ToWorker::History { id: 0, topic: s("news") },
        ToWorker::History { id: 0, topic: None },
    ]
}

/// Every message to a page, as [`to_worker`].
fn to_tab() -> Vec<ToTab> {
    let buffer: JsValue = js_sys::ArrayBuffer::new(8).into();
    vec![
        ToTab::Frame("a frame".into()),
        ToTab::Frame(buffer.clone()),
        ToTab::Welcome { client_id: 5 },
        ToTab::Alive { lock: "life".into() },
        ToTab::Status { status: obj(r#"{"state":"open"}"#) },
        ToTab::Stats { id: 2, stats: obj("{}"), memory_bytes: 65_536 },
        ToTab::Sent { id: 3 },
        ToTab::Gap { from: 10, to: 12 },
        ToTab::Error { code: ErrorCode::QueueFull, message: "tabmux: full".into(), id: Some(8), reason: s("why") },
        ToTab::Error { code: ErrorCode::WorkerCrashed, message: "tabmux: crashed".into(), id: None, reason: None },
        ToTab::History { id: 1, frames: js_sys::Array::of2(&"x".into(), &buffer).into() },
        ToTab::Topic { topic: "prices".into(), data: buffer.clone(), one: true },
        ToTab::Topic { topic: "prices".into(), data: "p".into(), one: false },
        ToTab::One { data: buffer },
        ToTab::Leader { leader: true },
        ToTab::Lagged { missed: 300 },
        ToTab::Log { event: obj(r#"{"event":"open"}"#) },
        ToTab::AskToken { req: 6 },
        ToTab::Token { token: s("tok"), gen: 2 },
        ToTab::Token { token: None, gen: 3 },
    ]
}

/// Every example survives `encode` then `decode` unchanged, and every wire name (`all`) has
/// at least one example.
fn round_trips<M: PartialEq + std::fmt::Debug>(examples: Vec<M>, all: &[&str], tag: fn(&M) -> Option<&'static str>, encode: fn(&M) -> JsValue, decode: fn(&JsValue) -> Result<M, Error>) {
    let mut covered: Vec<&str> = examples.iter().filter_map(tag).collect();
    covered.sort_unstable();
    covered.dedup();
    let mut all = all.to_vec();
    all.sort_unstable();
    assert_eq!(covered, all, "every message has an example");
    for m in examples {
        assert_eq!(decode(&encode(&m)).as_ref(), Ok(&m));
    }
}

#[wasm_bindgen_test]
fn every_message_of_both_directions_round_trips() {
    round_trips(to_worker(), ToWorker::TAGS, ToWorker::tag, ToWorker::encode, ToWorker::decode);
    round_trips(to_tab(), ToTab::TAGS, ToTab::tag, ToTab::encode, ToTab::decode);
}

#[wasm_bindgen_test]
fn the_protocols_names_are_made_once() {
    let all = || {
        to_worker().iter().for_each(|m| drop(ToWorker::decode(&m.encode())));
        to_tab().iter().for_each(|m| drop(ToTab::decode(&m.encode())));
    };
    all();
    let made = names_made();
    assert!(made > ToWorker::TAGS.len() + ToTab::TAGS.len(), "tags and field names are cached: {made}");
    all();
    assert_eq!(names_made(), made, "a name used again is not made again");
}

#[wasm_bindgen_test]
fn optional_fields_and_defaults_are_left_out() {
    let keys = |v: JsValue| -> Vec<String> { js_sys::Object::keys(&v.into()).iter().filter_map(|k| k.as_string()).collect() };
    assert_eq!(keys(ToTab::Topic { topic: "a".into(), data: "d".into(), one: false }.encode()), ["t", "topic", "data"]);
    assert_eq!(keys(ToTab::Topic { topic: "a".into(), data: "d".into(), one: true }.encode()), ["t", "topic", "data", "one"]);
    assert_eq!(keys(ToWorker::Bye { handled: None }.encode()), ["t"]);
    assert_eq!(keys(ToWorker::Hello { build: None, tab_id: "t".into(), options: JsValue::NULL, lock: None, token: None, token_gen: 0, seq: None }.encode()), ["t", "v", "tabId", "options"]);
    assert_eq!(keys(ToTab::Welcome { client_id: 1 }.encode()), ["t", "v", "clientId"]);
    // An acknowledgement is its id alone.
    assert_eq!(ToTab::Sent { id: 7 }.encode().as_f64(), Some(7.0));
    // Where `null` means something (no request; signed out), `None` is written as null.
    let json = |v: JsValue| String::from(js_sys::JSON::stringify(&v).unwrap());
    assert_eq!(json(ToTab::error(&Error::Protocol(ProtocolError::NotAttached), None).encode()), r#"{"t":"error","code":"not-attached","message":"tabmux: the first message on a port must be a hello","id":null}"#);
    assert_eq!(json(ToTab::Token { token: None, gen: 4 }.encode()), r#"{"t":"token","token":null,"gen":4}"#);
    assert_eq!(json(ToWorker::Token { token: None }.encode()), r#"{"t":"token","token":null}"#);
    assert_eq!(json(ToWorker::answer(2, Ok(None)).encode()), r#"{"t":"answer","req":2,"token":null}"#);
}

#[wasm_bindgen_test]
fn a_post_of_several_is_read_in_order_and_a_nested_array_alone_is_refused() {
    let msgs = [ToWorker::Frame("one".into()), ToWorker::Reconnect {}, ToWorker::Frame("two".into())];
    let post = post_of(msgs.iter().map(ToWorker::encode).collect()).unwrap();
    let arr: js_sys::Array = post.clone().into();
    arr.splice(1, 0, &js_sys::Array::of1(&"inner".into()));
    let mut read = Vec::new();
    ToWorker::read_post(&post, |_, m| read.push(m));
    assert_eq!(read.len(), 4);
    assert_eq!(read[0].as_ref(), Ok(&msgs[0]));
    assert_eq!(read[1], Err(Error::Protocol(ProtocolError::BadMessage("a batch holds messages, not batches".into()))));
    assert_eq!(read[2].as_ref(), Ok(&msgs[1]));
    assert_eq!(read[3].as_ref(), Ok(&msgs[2]));
    // One message is posted as itself; none is no post.
    assert_eq!(post_of(vec![JsValue::from("x")]), Some(JsValue::from("x")));
    assert_eq!(post_of(Vec::new()), None);
    let mut one = Vec::new();
    ToTab::read_post(&"x".into(), |_, m| one.push(m));
    assert_eq!(one, [Ok(ToTab::Frame("x".into()))]);
    // A frame with an acknowledgement riding it.
    let mut acked = Vec::new();
    ToTab::read_post(&post_of(vec!["y".into(), ToTab::Sent { id: 9 }.encode()]).unwrap(), |_, m| acked.push(m));
    assert_eq!(acked, [Ok(ToTab::Frame("y".into())), Ok(ToTab::Sent { id: 9 })]);
}

#[wasm_bindgen_test]
fn a_number_is_an_acknowledgement_only_towards_a_page_and_only_a_whole_one_in_u32() {
    let batch = |items: &[JsValue]| -> JsValue { items.iter().collect::<js_sys::Array>().into() };
    let bytes: JsValue = js_sys::Uint8Array::new_with_length(2).into();
    let mut read = Vec::new();
    ToTab::read_post(&batch(&["a".into(), 1.5.into(), 7.into(), bytes.clone()]), |_, m| read.push(m));
    assert_eq!(
        read,
        [
            Ok(ToTab::Frame("a".into())),
            Err(Error::Protocol(ProtocolError::BadMessage("sent's id must be an integer".into()))),
            Ok(ToTab::Sent { id: 7 }),
            Ok(ToTab::Frame(bytes.clone())),
        ]
    );
    let mut read = Vec::new();
    ToTab::read_post(&4294967295.0.into(), |_, m| read.push(m));
    assert_eq!(read, [Ok(ToTab::Sent { id: u32::MAX })]);
    // Towards the worker a number is no message at all, alone or in a batch.
    let not_a_message = || Err(Error::Protocol(ProtocolError::BadMessage("expected a string, an ArrayBuffer, or an object with a \"t\" field".into())));
    let mut read = Vec::new();
    ToWorker::read_post(&batch(&[7.into(), "b".into()]), |_, m| read.push(m));
    assert_eq!(read, [not_a_message(), Ok(ToWorker::Frame("b".into()))]);
    assert_eq!(ToWorker::decode(&7.into()), not_a_message());
}

#[wasm_bindgen_test]
fn each_malformed_field_is_refused_with_what_it_must_be() {
    let refused = |json: &str| match ToWorker::decode(&obj(json)) {
        Err(Error::Protocol(ProtocolError::BadMessage(m))) => m,
        other => panic!("{json}: {other:?}"),
    };
    let long = "x".repeat(65);
    assert_eq!(refused(&format!(r#"{{"t":"hello","v":1,"tabId":"{long}"}}"#)), "hello's tabId must be a string of 1 to 64 characters");
    assert_eq!(refused(r#"{"t":"hello","v":1,"tabId":""}"#), "hello's tabId must be a string of 1 to 64 characters");
    assert_eq!(refused(r#"{"t":"hello","v":1,"tabId":"a","lock":""}"#), "hello's lock must be a string of 1 to 128 characters, or null");
    assert_eq!(refused(r#"{"t":"hello","v":1,"tabId":"a","gen":-1}"#), "hello's gen must be an integer");
    assert_eq!(refused(r#"{"t":"hello","v":"1","tabId":"a"}"#), "hello's v must be the protocol version, a number");
    assert_eq!(ToWorker::decode(&obj(r#"{"t":"hello","v":2,"tabId":""}"#)), Err(Error::Protocol(ProtocolError::VersionMismatch { got: 2, want: 1 })));
    assert_eq!(refused(r#"{"t":"stats","id":1.5}"#), "stats's id must be an integer");
    assert_eq!(refused(r#"{"t":"online"}"#), "online's online must be a boolean");
    assert_eq!(refused(r#"{"t":"drained","n":"3"}"#), "drained's n must be an integer");
    assert_eq!(refused(r#"{"t":"subscribe"}"#), "subscribe's topic must be a string of at most 256 characters");
    assert_eq!(refused(r#"{"t":"answer","req":1,"error":5}"#), "answer's error must be a string of at most 1024 characters, or null");
    assert_eq!(refused(r#"{"t":"nope"}"#), "unknown message type \"nope\"");
    assert_eq!(refused(r#"{"x":1}"#), "the object has no \"t\" field naming a message type");
    assert_eq!(refused("5"), "expected a string, an ArrayBuffer, or an object with a \"t\" field");
    // Only the worker posts a number (an acknowledgement), and only a whole one in u32.
    for bad in [1.5, -1.0, 4294967296.0, f64::NAN] {
        assert_eq!(ToTab::decode(&bad.into()), Err(Error::Protocol(ProtocolError::BadMessage("sent's id must be an integer".into()))), "{bad}");
    }
    // A page's error report from the worker script's shim, which writes `id: null`.
    let shim = obj(r#"{"t":"error","code":"worker-failed","message":"tabmux: no wasm","id":null}"#);
    assert_eq!(ToTab::decode(&shim), Ok(ToTab::Error { code: ErrorCode::WorkerFailed, message: "tabmux: no wasm".into(), id: None, reason: None }));
}
