//! Temporary: the serde derives on the option types and the options reader must give the same
//! Options for every input both accept (the defaults above all), before the serde side goes.
use serde_json::{json, Value};
use tabmux_core::{read_options, Options};

fn inputs() -> Vec<Value> {
    let url = "ws://h/ws";
    let mut v = vec![json!({ "url": url })];
    // Each sub-object empty, null, and with its smallest required content: the defaults.
    let parts: Vec<(&str, Vec<Value>)> = vec![
        ("workerUrl", vec![json!("/w.js")]),
        ("mode", vec![json!("auto"), json!("shared"), json!("direct")]),
        ("workerTimeoutMs", vec![json!(1), json!(600_000)]),
        ("backoff", vec![json!({}), json!(null), json!({ "initialMs": 1 }), json!({ "factor": 2 }), json!({ "maxMs": 8000 }), json!({ "jitter": 0.5 }), json!({ "jitter": 0 }), json!({ "jitter": 1 }), json!({ "jitter": "full" }), json!({ "jitter": "equal" }), json!({ "jitter": "decorrelated" }), json!({ "jitter": "full-once" }), json!({ "maxAttempts": 3 }), json!({ "maxAttempts": null }), json!({ "minUptimeMs": 0 })]),
        ("closeCodes", vec![json!({}), json!(null), json!({ "4000": "fatal", "1006": "retry-now", "4001": "refresh-token", "1012": "retry" })]),
        ("closeCodePreset", vec![json!(null), json!("pusher"), json!("centrifugo"), json!("graphql-ws")]),
        ("connectTimeoutMs", vec![json!(1), json!(123_456)]),
        ("breaker", vec![json!({}), json!(null), json!({ "failureThreshold": 2 }), json!({ "resetTimeoutMs": 9 })]),
        ("heartbeat", vec![json!(true), json!(false), json!(null), json!({}), json!({ "intervalMs": 5 }), json!({ "timeoutMs": 6 }), json!({ "ping": "p" }), json!({ "pong": { "field": "t", "value": "v" } })]),
        ("token", vec![json!({}), json!(null), json!({ "param": "p" }), json!({ "url": "/t" }), json!({ "url": null }), json!({ "pollMs": 9 }), json!({ "debounceMs": 0 }), json!({ "value": "v" }), json!({ "value": null }), json!({ "get": true }), json!({ "get": false }), json!({ "required": true })]),
        ("dedup", vec![json!(null), json!({ "key": "/id" }), json!({ "key": ["/a", "/b"] }), json!({ "key": "/id", "capacity": 7 })]),
        ("sequence", vec![json!(null), json!({ "key": "/seq" }), json!({ "key": "/seq", "resumeParam": "from" })]),
        ("topics", vec![json!(null), json!({ "key": "/t", "subscribe": "s{topic}", "unsubscribe": "u{topic}" })]),
        ("queue", vec![json!({}), json!(null), json!({ "maxMessages": 3 }), json!({ "maxBytes": 4 }), json!({ "ttlMs": 5 })]),
        ("replay", vec![json!({}), json!(null), json!({ "frames": 0 }), json!({ "bytes": 9 })]),
        ("idleCloseMs", vec![json!(0), json!(77)]),
        ("json", vec![json!(true), json!(false)]),
        ("serverPing", vec![json!(null), json!({ "match": "ping", "reply": "pong" }), json!({ "match": { "field": "op", "value": "hb" }, "reply": "ack" })]),
        ("protocols", vec![json!([]), json!(["a", "b"])]),
        ("debug", vec![json!(true), json!(false)]),
        ("account", vec![json!(null), json!("ann")]),
    ];
    for (key, values) in parts {
        for value in values {
            v.push(json!({ "url": url, key: value }));
        }
    }
    // The fuzzer's seeds and every options object the tests read with serde.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/options");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            v.push(serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap());
        }
    }
    for variant in 0..12 {
        v.push(json!({
            "url": url,
            "backoff": { "initialMs": 100, "maxMs": 2000, "maxAttempts": if variant % 3 == 0 { json!(4) } else { Value::Null } },
            "breaker": { "failureThreshold": 3, "resetTimeoutMs": 5000 },
            "heartbeat": { "intervalMs": 1000, "timeoutMs": 500 },
            "token": if variant % 2 == 0 { json!({ "url": "/token", "pollMs": 3000 }) } else { json!({}) },
            "dedup": { "key": "/id", "capacity": 20 },
            "sequence": { "key": "/seq" },
            "topics": { "key": "/topic", "subscribe": "{\"s\":\"{topic}\"}", "unsubscribe": "{\"u\":\"{topic}\"}" },
            "queue": { "maxMessages": 5, "maxBytes": 500, "ttlMs": 3000 },
            "replay": { "frames": 3, "bytes": 400 },
            "idleCloseMs": if variant % 4 == 1 { 1500 } else { 0 },
            "serverPing": if variant % 2 == 1 { json!({ "match": "2", "reply": "3" }) } else { Value::Null },
        }));
    }
    v
}

#[test]
fn serde_and_the_reader_read_the_same_options() {
    let mut compared = 0;
    let mut only = Vec::new();
    for v in inputs() {
        let by_serde = serde_json::from_value::<Options>(v.clone()).map_err(|e| e.to_string());
        let by_reader = read_options(&v).map_err(|e| e.to_string());
        match (&by_serde, &by_reader) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{v}");
                compared += 1;
            }
            // The one difference: the reader takes `null` for an object option as its
            // absence (what a JS `undefined` or `null` means to the page), serde refuses it.
            (Err(e), Ok(b)) if e.starts_with("invalid type: null") => {
                assert_eq!(b, &Options::new("ws://h/ws"), "{v}");
                only.push(v.to_string());
            }
            _ => panic!("{v}: serde {by_serde:?}, reader {by_reader:?}"),
        }
    }
    assert_eq!(only.len(), 6, "{only:?}");
    // Options::new (what the reader starts from) against serde's defaults, too.
    assert_eq!(serde_json::from_value::<Options>(json!({ "url": "ws://h/ws" })).unwrap(), Options::new("ws://h/ws"));
    eprintln!("{compared} inputs compared");
    assert!(compared > 80, "{compared}");
}
