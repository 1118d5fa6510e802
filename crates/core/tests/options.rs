//! Options: defaults, parsing from JSON (as from a JS object), and every validation error.
use tabmux_core::{CloseAction, Jitter, Mode, Options};

/// Through the one options reader every shell uses (here over serde_json; JS objects in the browser).
fn parse(json: &str) -> Result<Options, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    tabmux_core::read_options(&v).map_err(|e| e.to_string())
}

#[test]
fn defaults_fill_everything_but_the_url() {
    let o = parse(r#"{"url":"ws://127.0.0.1:1/ws"}"#).unwrap();
    assert_eq!(o, Options::new("ws://127.0.0.1:1/ws"));
    assert_eq!(o.worker_url, "/shared-websocket-worker.js");
    assert_eq!(o.mode, Mode::Auto);
    assert_eq!((o.backoff.initial_ms, o.backoff.factor, o.backoff.max_ms), (7500, 1.0, 30_000));
    assert_eq!((o.backoff.jitter, o.backoff.max_attempts, o.backoff.min_uptime_ms), (Jitter::FullOnce, None, 5000));
    assert_eq!(o.connect_timeout_ms, 10_000);
}

#[test]
fn every_option_is_read() {
    let o = parse(
        r#"{"url":"wss://x.example/ws?a=1","workerUrl":"/w.js","mode":"direct","connectTimeoutMs":500,
            "backoff":{"initialMs":5000,"factor":3,"maxMs":30000,"jitter":"decorrelated","maxAttempts":5,"minUptimeMs":1},
            "closeCodes":{"4001":"fatal","1006":"retry-now"}}"#,
    )
    .unwrap();
    assert_eq!(o.mode, Mode::Direct);
    assert_eq!(o.backoff.jitter, Jitter::Decorrelated);
    assert_eq!(o.backoff.max_attempts, Some(5));
    assert_eq!(o.close_code_table().unwrap(), vec![(1006, CloseAction::RetryNow), (4001, CloseAction::Fatal)]);
}

/// Each jitter is read as written: a ratio as a number, a mode by its name.
#[test]
fn every_jitter_and_close_action_is_read_as_written() {
    for (text, jitter) in [("0.35", Jitter::Ratio(0.35)), ("0", Jitter::Ratio(0.0)), ("1", Jitter::Ratio(1.0)), (r#""full""#, Jitter::Full), (r#""equal""#, Jitter::Equal), (r#""decorrelated""#, Jitter::Decorrelated), (r#""full-once""#, Jitter::FullOnce)] {
        let o = parse(&format!(r#"{{"url":"ws://h/ws","backoff":{{"jitter":{text}}}}}"#)).unwrap();
        let mut want = Options::new("ws://h/ws");
        want.backoff.jitter = jitter;
        assert_eq!(o, want, "{text}");
    }
    for (name, action) in [("retry", CloseAction::Retry), ("retry-now", CloseAction::RetryNow), ("refresh-token", CloseAction::RefreshToken), ("fatal", CloseAction::Fatal)] {
        let o = parse(&format!(r#"{{"url":"ws://h/ws","closeCodes":{{"4001":"{name}"}}}}"#)).unwrap();
        assert_eq!(o.close_code_table().unwrap(), vec![(4001, action)], "{name}");
    }
}

/// The top-level fields of a value's `{:#?}` form, in order: each field's name and its text
/// (a nested value's lines included). The derived `Debug` lists every field, so this names
/// them all without a second list of them.
fn debug_fields(value: &impl std::fmt::Debug) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in format!("{value:#?}").lines().skip(1) {
        let top = line.strip_prefix("    ").filter(|rest| !rest.starts_with(' '));
        match top.and_then(|rest| rest.split_once(": ")).filter(|(name, _)| name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')) {
            Some((name, value)) => fields.push((name.to_string(), value.to_string())),
            None => {
                if let Some(last) = fields.last_mut() {
                    last.1.push_str(line);
                }
            }
        }
    }
    fields
}

/// Every field of `changed` differs from the same field of `default`.
fn every_field_differs(changed: &impl std::fmt::Debug, default: &impl std::fmt::Debug, what: &str) {
    let (a, b) = (debug_fields(changed), debug_fields(default));
    assert!(!a.is_empty() && a.len() == b.len(), "{what}: {a:?} / {b:?}");
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert_ne!(x, y, "{what}.{name} is its default: the test's JSON should change it");
    }
}

/// Every field set away from its default is read back as it was written: the reader misses
/// no option.
#[test]
fn options_with_every_field_changed_read_back_unchanged() {
    use tabmux_core::{BackoffOptions, BreakerOptions, HeartbeatOptions, PingMatch, Pointers, PongMatch, QueueOptions, ReplayOptions, TokenOptions};
    let json = r#"{"url":"wss://x.example/ws","workerUrl":"/w.js","mode":"shared","workerTimeoutMs":2500,
        "backoff":{"initialMs":100,"factor":1.5,"maxMs":900,"jitter":0.25,"maxAttempts":7,"minUptimeMs":11},
        "closeCodes":{"4001":"refresh-token","4002":"retry-now","4003":"retry","4004":"fatal"},"closeCodePreset":"pusher",
        "connectTimeoutMs":1234,"breaker":{"failureThreshold":9,"resetTimeoutMs":4321},
        "heartbeat":{"intervalMs":2000,"timeoutMs":300,"ping":"p","pong":{"field":"op","value":"po"}},
        "token":{"param":"t","url":"/tok","pollMs":7000,"debounceMs":12,"value":"v","get":true,"required":true},
        "dedup":{"key":["/a","/b"],"capacity":17},"sequence":{"key":"/s","resumeParam":"from"},
        "topics":{"key":"/t","subscribe":"s {topic}","unsubscribe":"u {topic}"},
        "queue":{"maxMessages":5,"maxBytes":66,"ttlMs":77},"replay":{"frames":3,"bytes":44},"idleCloseMs":99,"json":true,
        "serverPing":{"match":{"field":"op","value":"hb"},"reply":"ack"},"protocols":["v2","v1"],"debug":true,"account":"ann"}"#;
    let o = parse(json).unwrap();
    let default = Options::new("ws://h/");
    // The JSON changes every field (so a field the reader skipped would show here)...
    every_field_differs(&o, &default, "options");
    every_field_differs(&o.backoff, &BackoffOptions::default(), "backoff");
    every_field_differs(&o.breaker, &BreakerOptions::default(), "breaker");
    let heartbeat = o.heartbeat.clone().unwrap();
    every_field_differs(&heartbeat, &HeartbeatOptions::default(), "heartbeat");
    every_field_differs(&heartbeat.pong, &PongMatch::default(), "heartbeat.pong");
    every_field_differs(&o.token, &TokenOptions::default(), "token");
    every_field_differs(&o.queue, &QueueOptions::default(), "queue");
    every_field_differs(&o.replay, &ReplayOptions::default(), "replay");
    // (dedup, sequence, topics and serverPing have no default: None above, each field below.)

    // ...and each is read as written.
    let dedup = o.dedup.clone().unwrap();
    assert_eq!((dedup.key, dedup.capacity), (Pointers::Many(vec!["/a".into(), "/b".into()]), 17));
    let sequence = o.sequence.clone().unwrap();
    assert_eq!((sequence.key.as_str(), sequence.resume_param.as_str()), ("/s", "from"));
    let topics = o.topics.clone().unwrap();
    assert_eq!((topics.key.as_str(), topics.subscribe.as_str(), topics.unsubscribe.as_str()), ("/t", "s {topic}", "u {topic}"));
    let ping = o.server_ping.clone().unwrap();
    assert_eq!((ping.matches, ping.reply.as_str()), (PingMatch::Field { field: "op".into(), value: "hb".into() }, "ack"));
    let mut want = Options::new("wss://x.example/ws");
    want.worker_url = "/w.js".into();
    want.mode = Mode::Shared;
    want.worker_timeout_ms = 2500;
    let b = &mut want.backoff;
    (b.initial_ms, b.factor, b.max_ms, b.jitter, b.max_attempts, b.min_uptime_ms) = (100, 1.5, 900, Jitter::Ratio(0.25), Some(7), 11);
    for (code, action) in [("4001", CloseAction::RefreshToken), ("4002", CloseAction::RetryNow), ("4003", CloseAction::Retry), ("4004", CloseAction::Fatal)] {
        want.close_codes.insert(code.into(), action);
    }
    want.close_code_preset = Some("pusher".into());
    want.connect_timeout_ms = 1234;
    (want.breaker.failure_threshold, want.breaker.reset_timeout_ms) = (9, 4321);
    let mut h = HeartbeatOptions::default();
    (h.interval_ms, h.timeout_ms, h.ping) = (2000, 300, "p".into());
    (h.pong.field, h.pong.value) = ("op".into(), "po".into());
    want.heartbeat = Some(h);
    let t = &mut want.token;
    (t.param, t.url, t.poll_ms, t.debounce_ms, t.value, t.get, t.required) = ("t".into(), Some("/tok".into()), 7000, 12, Some("v".into()), true, true);
    (want.dedup, want.sequence, want.topics, want.server_ping) = (o.dedup.clone(), o.sequence.clone(), o.topics.clone(), o.server_ping.clone());
    (want.queue.max_messages, want.queue.max_bytes, want.queue.ttl_ms) = (5, 66, 77);
    (want.replay.frames, want.replay.bytes) = (3, 44);
    want.idle_close_ms = 99;
    want.json = true;
    want.protocols = vec!["v2".into(), "v1".into()];
    want.debug = true;
    want.account = Some("ann".into());
    assert_eq!(o, want);

    // And the defaults are what Options::new says, with one pointer or a list.
    let o = tabmux_core::read_options(&serde_json::json!({ "url": "ws://h/", "dedup": { "key": "/id" }, "heartbeat": false, "token": { "url": null } })).unwrap();
    assert_eq!(o.dedup.as_ref().map(|d| (d.key.list(), d.capacity)), Some((vec!["/id"], 200)));
    assert_eq!((o.heartbeat, o.token.url, o.backoff.jitter), (None, None, Jitter::FullOnce));
}

/// What each option is when it is not given, as the reader fills it in: the one place the
/// defaults are read from (`Options::new` and each options struct's `Default`, or the reader's
/// own for the parts that have none).
#[test]
fn each_default_is_the_documented_one() {
    let o = parse(r#"{"url":"ws://h/ws","dedup":{"key":"/id"},"sequence":{"key":"/seq"},"heartbeat":{}}"#).unwrap();
    assert_eq!((o.worker_url.as_str(), o.mode, o.worker_timeout_ms, o.connect_timeout_ms, o.idle_close_ms), ("/shared-websocket-worker.js", Mode::Auto, 10_000, 10_000, 5_000));
    let b = &o.backoff;
    assert_eq!((b.initial_ms, b.factor, b.max_ms, b.jitter, b.max_attempts, b.min_uptime_ms), (7500, 1.0, 30_000, Jitter::FullOnce, None, 5000));
    assert_eq!((o.close_codes.len(), o.close_code_preset.as_deref()), (0, None));
    assert_eq!((o.breaker.failure_threshold, o.breaker.reset_timeout_ms), (3, 30_000));
    let h = o.heartbeat.as_ref().unwrap();
    assert_eq!((h.interval_ms, h.timeout_ms, h.ping.as_str(), h.pong.field.as_str(), h.pong.value.as_str()), (30_000, 10_000, r#"{"type":"ping"}"#, "type", "pong"));
    let t = &o.token;
    assert_eq!((t.param.as_str(), t.url.as_deref(), t.poll_ms, t.debounce_ms, t.value.as_deref(), t.get, t.required), ("token", None, 10_000, 250, None, false, false));
    assert_eq!(o.dedup.as_ref().map(|d| d.capacity), Some(200));
    assert_eq!(o.sequence.as_ref().map(|s| s.resume_param.as_str()), Some("since"));
    assert_eq!((o.topics.is_none(), o.server_ping.is_none(), o.account.is_none()), (true, true, true));
    assert_eq!((o.queue.max_messages, o.queue.max_bytes, o.queue.ttl_ms), (1000, 1 << 20, 60_000));
    assert_eq!((o.replay.frames, o.replay.bytes), (0, 1 << 20));
    assert_eq!((o.json, o.debug, o.protocols.len()), (false, false, 0));
    // An object option given as `{}` or `null` is the same as leaving it out.
    for key in ["backoff", "breaker", "token", "queue", "replay", "closeCodes"] {
        for value in ["{}", "null"] {
            assert_eq!(parse(&format!(r#"{{"url":"ws://h/ws","{key}":{value}}}"#)).unwrap(), Options::new("ws://h/ws"), "{key}: {value}");
        }
    }
}

#[test]
fn each_bad_option_gets_a_message_that_names_it() {
    let cases = [
        (r#"{}"#, "missing field `url`"),
        (r#"{"url":""}"#, "tabmux: invalid options: url is required (a ws:// or wss:// URL)"),
        (r#"{"url":"http://h/ws"}"#, "tabmux: invalid options: url must start with ws:// or wss://, got \"http://h/ws\""),
        (r#"{"url":"/ws"}"#, "tabmux: invalid options: url must start with ws:// or wss://, got \"/ws\""),
        (r#"{"url":"ws:///ws"}"#, "tabmux: invalid options: url has no host"),
        (r#"{"url":"ws://h/ws#x"}"#, "tabmux: invalid options: url must not contain a #fragment"),
        (r#"{"url":"ws://h/ws","mode":"bogus"}"#, "unknown variant `bogus`, expected one of `auto`, `shared`, `direct`"),
        (r#"{"url":"ws://h/ws","colour":1}"#, "unknown field `colour`"),
        (r#"{"url":"ws://h/ws","backoff":{"factor":0.5}}"#, "tabmux: invalid options: backoff.factor must be a finite number ≥ 1"),
        (r#"{"url":"ws://h/ws","backoff":{"initialMs":0}}"#, "tabmux: invalid options: backoff.initialMs must be at least 1"),
        (r#"{"url":"ws://h/ws","backoff":{"initialMs":5000,"maxMs":100}}"#, "tabmux: invalid options: backoff.maxMs must be ≥ backoff.initialMs"),
        (r#"{"url":"ws://h/ws","backoff":{"jitter":1.5}}"#, "jitter ratio must be between 0 and 1, got 1.5"),
        (r#"{"url":"ws://h/ws","backoff":{"jitter":"wobbly"}}"#, "tabmux: invalid options: backoff.jitter: expected a ratio between 0 and 1, or \"full\", \"full-once\", \"equal\" or \"decorrelated\", got \"wobbly\""),
        (r#"{"url":"ws://h/ws","backoff":{"jitter":true}}"#, "backoff.jitter: expected a ratio between 0 and 1, or \"full\", \"full-once\", \"equal\" or \"decorrelated\", got true"),
        (r#"{"url":"ws://h/ws","backoff":{"maxMs":-1}}"#, "tabmux: invalid options: backoff.maxMs: expected a whole number ≥ 0, got -1"),
        (r#"{"url":"ws://h/ws","backoff":{"maxMs":1.5}}"#, "tabmux: invalid options: backoff.maxMs: expected a whole number ≥ 0, got 1.5"),
        (r#"{"url":"ws://h/ws","backoff":{"factor":"two"}}"#, "tabmux: invalid options: backoff.factor: expected a number, got \"two\""),
        (r#"{"url":"ws://h/ws","backoff":5}"#, "tabmux: invalid options: backoff: expected an object, got 5"),
        (r#"{"url":"ws://h/ws","backoff":{"initalMs":5}}"#, "tabmux: invalid options: unknown field `backoff.initalMs`, expected one of `backoff.initialMs`, `backoff.factor`, `backoff.maxMs`, `backoff.jitter`, `backoff.maxAttempts`, `backoff.minUptimeMs`"),
        (r#"{"url":"ws://h/ws","heartbeat":"yes"}"#, "tabmux: invalid options: heartbeat: expected true, false or an object, got \"yes\""),
        (r#"{"url":"ws://h/ws","heartbeat":{"pong":{"field":"type"}}}"#, "tabmux: invalid options: heartbeat.pong: missing field `value`"),
        (r#"{"url":"ws://h/ws","heartbeat":{"pong":{"field":"type","value":"pong","x":1}}}"#, "unknown field `heartbeat.pong.x`, expected one of `heartbeat.pong.field`, `heartbeat.pong.value`"),
        (r#"{"url":"ws://h/ws","dedup":{"capacity":5}}"#, "tabmux: invalid options: dedup: missing field `key`"),
        (r#"{"url":"ws://h/ws","dedup":{"key":["/id",7]}}"#, "tabmux: invalid options: dedup.key: expected a string, got 7"),
        (r#"{"url":"ws://h/ws","sequence":{"key":"/seq","resume":"s"}}"#, "unknown field `sequence.resume`, expected one of `sequence.key`, `sequence.resumeParam`"),
        (r#"{"url":"ws://h/ws","topics":{"key":"/t","subscribe":"{topic}"}}"#, "tabmux: invalid options: topics: missing field `unsubscribe`"),
        (r#"{"url":"ws://h/ws","queue":{"ttlMs":null}}"#, "tabmux: invalid options: queue.ttlMs: expected a whole number ≥ 0, got null"),
        (r#"{"url":"ws://h/ws","token":{"url":5}}"#, "tabmux: invalid options: token.url: expected a string, got 5"),
        (r#"{"url":"ws://h/ws","breaker":{"failureThreshold":4294967296}}"#, "tabmux: invalid options: breaker.failureThreshold: expected a whole number ≥ 0, got 4294967296"),
        (r#"{"url":"ws://h/ws","closeCodes":{"4001":3}}"#, "tabmux: invalid options: closeCodes.4001: expected a string, got 3"),
        ("[1]", "tabmux: invalid options: options must be an object with at least a url"),
        (r#"{"url":"ws://h/ws","backoff":{"maxAttempts":0}}"#, "tabmux: invalid options: backoff.maxAttempts must be at least 1 (omit it to retry for ever)"),
        (r#"{"url":"ws://h/ws","connectTimeoutMs":0}"#, "tabmux: invalid options: connectTimeoutMs must be at least 1"),
        (r#"{"url":"ws://h/ws","closeCodes":{"abc":"fatal"}}"#, "tabmux: invalid options: closeCodes key \"abc\" is not a close code (1000-4999)"),
        (r#"{"url":"ws://h/ws","closeCodes":{"4001":"explode"}}"#, "unknown variant `explode`"),
        (r#"{"url":"ws://h/ws","closeCodePreset":"phoenix"}"#, "tabmux: invalid options: closeCodePreset: unknown variant `phoenix`, expected one of `pusher`, `centrifugo`, `graphql-ws`"),
        (r#"{"url":"ws://h/ws","closeCodePreset":4000}"#, r#"tabmux: invalid options: closeCodePreset: expected a preset ("pusher", "centrifugo", "graphql-ws") or null, got 4000"#),
        (r#"{"url":"ws://h/ws","workerUrl":""}"#, "tabmux: invalid options: workerUrl must not be empty"),
        (r#"{"url":"ws://h/ws","workerTimeoutMs":0}"#, "tabmux: invalid options: workerTimeoutMs must be 1 to 600000"),
        (r#"{"url":"ws://h/ws","workerTimeoutMs":600001}"#, "tabmux: invalid options: workerTimeoutMs must be 1 to 600000"),
        (r#"{"url":42}"#, "tabmux: invalid options: url: expected a string, got 42"),
        (r#"{"url":"ws://h/ws","json":"yes"}"#, "tabmux: invalid options: json: expected true or false, got \"yes\""),
        (r#"{"url":"ws://h/ws","json":1}"#, "tabmux: invalid options: json: expected true or false, got 1"),
        (r#"{"url":"ws://h/ws","debug":"console"}"#, "tabmux: invalid options: debug: expected true or false, got \"console\""),
        (r#"{"url":"ws://h/ws","logger":"console"}"#, "tabmux: invalid options: logger: expected a function, got \"console\""),
    ];
    for (json, want) in cases {
        let err = parse(json).unwrap_err();
        assert!(err.contains(want), "{json}: got {err:?}, want {want:?}");
    }
}

/// A field's name as the reader reads it: camelCase (`match` for `matches`, a Rust keyword).
fn option_name(field: &str) -> String {
    if field == "matches" {
        return "match".into();
    }
    let mut parts = field.split('_');
    let first = parts.next().unwrap_or_default().to_string();
    parts.fold(first, |acc, p| acc + &p[..1].to_uppercase() + &p[1..])
}

/// The option names of a value's fields (from its derived `Debug`), sorted.
fn field_names(value: &impl std::fmt::Debug) -> Vec<String> {
    let mut keys: Vec<String> = debug_fields(value).into_iter().map(|(name, _)| option_name(&name)).collect();
    keys.sort_unstable();
    keys
}

/// A list of keys the reader accepts, sorted, as the field names are.
fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort_unstable();
    keys
}

/// Each object the options reader walks checks its keys against a `KEYS` list
/// (options_reader.rs, check_keys); each list must name exactly its struct's fields. A field
/// added without its key (or a key without its field) fails here.
#[test]
fn the_key_lists_match_the_fields() {
    use tabmux_core::{
        BackoffOptions, BreakerOptions, DedupOptions, HeartbeatOptions, PongMatch, QueueOptions, ReplayOptions, SequenceOptions, ServerPingOptions, TokenOptions, TopicOptions,
    };
    // Those without a default: read from their smallest valid object.
    let o = parse(r#"{"url":"ws://h/","dedup":{"key":"/id"},"sequence":{"key":"/seq"},"topics":{"key":"/topic","subscribe":"{topic}","unsubscribe":"{topic}"}}"#).unwrap();
    let ping = ServerPingOptions::preset("graphql-ws").unwrap();
    let lists: Vec<(&str, Vec<String>, &[&str])> = vec![
        ("options", field_names(&Options::new("ws://h/")), Options::KEYS),
        ("backoff", field_names(&BackoffOptions::default()), BackoffOptions::KEYS),
        ("breaker", field_names(&BreakerOptions::default()), BreakerOptions::KEYS),
        ("heartbeat", field_names(&HeartbeatOptions::default()), HeartbeatOptions::KEYS),
        ("heartbeat.pong", field_names(&PongMatch::default()), PongMatch::KEYS),
        ("token", field_names(&TokenOptions::default()), TokenOptions::KEYS),
        ("dedup", field_names(&o.dedup.unwrap()), DedupOptions::KEYS),
        ("sequence", field_names(&o.sequence.unwrap()), SequenceOptions::KEYS),
        ("topics", field_names(&o.topics.unwrap()), TopicOptions::KEYS),
        ("queue", field_names(&QueueOptions::default()), QueueOptions::KEYS),
        ("replay", field_names(&ReplayOptions::default()), ReplayOptions::KEYS),
        ("serverPing", field_names(&ping), ServerPingOptions::KEYS),
        ("serverPing.match", field_names(&ping.matches), ServerPingOptions::MATCH_KEYS),
    ];
    assert_eq!(lists.len(), 13);
    for (name, fields, keys) in lists {
        assert_eq!(fields, sorted(keys), "{name}: the fields (left) and the KEYS list (right) differ");
    }
}

#[test]
fn a_ws_url_from_an_https_page_is_refused_unless_the_host_is_loopback() {
    use tabmux_core::check_mixed_content;
    let refused = |url: &str| check_mixed_content(url, "https:").unwrap_err().to_string();
    assert_eq!(
        refused("ws://api.example.com/ws?a=1"),
        "tabmux: invalid options: url is ws:// but this page is served over https: the browser blocks an insecure WebSocket from a secure page (mixed content); use wss://api.example.com/ws?***"
    );
    // The query is left out of the message, whatever it holds (it may hold credentials).
    assert!(refused("ws://h.example/ws?access_token=abcdefgh").ends_with("use wss://h.example/ws?***"));
    assert_eq!(check_mixed_content("ws://api.example.com/ws", "HTTPS:").unwrap_err().code(), "invalid-options");
    for url in ["ws://user@10.0.0.1:80/ws", "ws://127.0.0.1.evil.example/ws", "ws://localhost.example/ws", "ws://[::2]/ws", "ws://127.0.0.256/ws", "ws://127.0.0/ws"] {
        assert!(check_mixed_content(url, "https:").is_err(), "{url}");
    }
    for url in [
        "wss://api.example.com/ws",
        "ws://localhost:8080/ws",
        "ws://LOCALHOST/ws",
        "ws://dev.localhost/ws",
        "ws://127.0.0.1:9/ws",
        "ws://127.1.2.3/ws",
        "ws://[::1]:8080/ws",
        "ws://u:p@localhost/ws",
    ] {
        assert_eq!(check_mixed_content(url, "https:"), Ok(()), "{url}");
    }
    // An http page (or a file, or an extension) may open ws:// anywhere.
    for proto in ["http:", "file:", "chrome-extension:", ""] {
        assert_eq!(check_mixed_content("ws://api.example.com/ws", proto), Ok(()), "{proto}");
    }
}

/// Every limit accepts its edge value and refuses one past it, each on its own (the full
/// mutation run found these comparisons and their `||` unpinned).
#[test]
fn every_limit_accepts_its_edge_and_refuses_one_past_it_each_on_its_own() {
    use serde_json::json;
    let check = |extra: serde_json::Value| {
        let mut o = json!({ "url": "ws://h/ws" });
        o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        parse(&o.to_string())
    };
    let ok = |extra: serde_json::Value| assert_eq!(check(extra.clone()).err(), None, "{extra}");
    let bad = |extra: serde_json::Value, want: &str| {
        let err = check(extra.clone()).unwrap_err();
        assert!(err.ends_with(want), "{extra}: got {err:?}, want …{want:?}");
    };
    ok(json!({ "backoff": { "initialMs": 500, "maxMs": 500 } }));
    bad(json!({ "backoff": { "initialMs": 500, "maxMs": 499 } }), "backoff.maxMs must be ≥ backoff.initialMs");
    let hb = "heartbeat intervalMs and timeoutMs must be at least 1";
    bad(json!({ "heartbeat": { "intervalMs": 0, "timeoutMs": 1 } }), hb);
    bad(json!({ "heartbeat": { "intervalMs": 1, "timeoutMs": 0 } }), hb);
    let empty = "heartbeat ping, pong.field and pong.value must not be empty";
    bad(json!({ "heartbeat": { "ping": "" } }), empty);
    bad(json!({ "heartbeat": { "pong": { "field": "", "value": "pong" } } }), empty);
    bad(json!({ "heartbeat": { "pong": { "field": "type", "value": "" } } }), empty);
    ok(json!({ "token": { "param": "p".repeat(256), "url": "u".repeat(8192) } }));
    bad(json!({ "token": { "param": "p".repeat(257) } }), "token param or url is too long");
    bad(json!({ "token": { "url": "u".repeat(8193) } }), "token param or url is too long");
    ok(json!({ "queue": { "maxMessages": 100_000, "maxBytes": 64 << 20 } }));
    bad(json!({ "queue": { "maxMessages": 100_001 } }), "queue maxMessages ≤ 100000 and maxBytes ≤ 64 MiB");
    bad(json!({ "queue": { "maxBytes": (64 << 20) + 1 } }), "queue maxMessages ≤ 100000 and maxBytes ≤ 64 MiB");
    ok(json!({ "replay": { "frames": 10_000, "bytes": 64 << 20 } }));
    bad(json!({ "replay": { "frames": 10_001 } }), "replay frames ≤ 10000 and bytes ≤ 64 MiB");
    bad(json!({ "replay": { "bytes": (64 << 20) + 1 } }), "replay frames ≤ 10000 and bytes ≤ 64 MiB");
    ok(json!({ "closeCodes": { "1000": "fatal", "4999": "retry" } }));
    bad(json!({ "closeCodes": { "999": "fatal" } }), "closeCodes key \"999\" is not a close code (1000-4999)");
    bad(json!({ "closeCodes": { "5000": "fatal" } }), "closeCodes key \"5000\" is not a close code (1000-4999)");
    let spaces = "url must not contain spaces or control characters";
    bad(json!({ "url": "ws://h/a b" }), spaces);
    bad(json!({ "url": "ws://h/a\u{7}" }), spaces);
}

#[test]
fn state_names_are_the_wire_names() {
    use tabmux_core::State;
    let states = [State::Connecting, State::Open, State::Reconnecting, State::Offline, State::Down, State::Unauthorized, State::Closed];
    let names = states.map(State::as_str);
    assert_eq!(names, ["connecting", "open", "reconnecting", "offline", "down", "unauthorized", "closed"]);
}

#[test]
fn the_heartbeat_is_on_by_default_and_true_means_the_defaults() {
    let on = parse(r#"{"url":"ws://h/ws"}"#).unwrap().heartbeat.unwrap();
    assert_eq!((on.interval_ms, on.timeout_ms, on.ping.as_str()), (30_000, 10_000, r#"{"type":"ping"}"#));
    assert_eq!(parse(r#"{"url":"ws://h/ws","heartbeat":true}"#).unwrap().heartbeat, Some(on));
    assert_eq!(parse(r#"{"url":"ws://h/ws","heartbeat":false}"#).unwrap().heartbeat, None);
    assert_eq!(parse(r#"{"url":"ws://h/ws","heartbeat":null}"#).unwrap().heartbeat, None);
}

/// The fuzzer's seed options (`fuzz/seeds/options`) stay valid, so it starts from options that
/// reach the engine.
#[test]
fn the_fuzz_seed_options_parse_and_validate() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/options");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(parse(&text).err(), None, "{}", path.display());
            n += 1;
        }
    }
    assert_eq!(n, 2);
}
