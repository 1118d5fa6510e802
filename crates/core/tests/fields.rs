//! What tabs are told, exactly: the status, counters and stats objects and every log event, as
//! the shells build them from `fields()` (the one form of each: no serializer ships).
use serde_json::json;
use tabmux_core::fields::to_json;
use tabmux_core::{BreakerState, CloseInfo, Counters, Health, LogEvent, Percentiles, Quality, RetryReason, SortedMap, State, Stats, Status};

/// A status with every field set.
fn full_status() -> Status {
    Status {
        state: State::Reconnecting,
        attempt: 2,
        next_retry_at: Some(1_700),
        retry_reason: Some(RetryReason::ServerHint),
        last_close: Some(CloseInfo { code: 1012, reason: "restart".into() }),
        last_error: Some("token fetch failed: HTTP 500".into()),
        breaker: BreakerState::HalfOpen,
        breaker_retry_at: Some(1_900),
        rtt_ms: Some(42),
        quality: Quality::Good,
        last_heartbeat_at: Some(1_500),
        protocol: Some("v2".into()),
        health: Health::Critical,
        online: true,
        tabs: 3,
        clients: 4,
    }
}

/// A status with every optional field empty.
fn empty_status() -> Status {
    Status {
        state: State::Connecting,
        attempt: 0,
        next_retry_at: None,
        retry_reason: None,
        last_close: None,
        last_error: None,
        breaker: BreakerState::Closed,
        breaker_retry_at: None,
        rtt_ms: None,
        quality: Quality::Unknown,
        last_heartbeat_at: None,
        protocol: None,
        health: Health::Warning,
        online: false,
        tabs: 1,
        clients: 1,
    }
}

#[test]
fn a_status_is_exactly_this_object() {
    let full = full_status();
    let want = json!({
        "state": "reconnecting", "attempt": 2, "nextRetryAt": 1700, "retryReason": "server-hint",
        "lastClose": { "code": 1012, "reason": "restart" }, "lastError": "token fetch failed: HTTP 500",
        "breaker": "half-open", "breakerRetryAt": 1900, "rttMs": 42, "quality": "good", "lastHeartbeatAt": 1500,
        "protocol": "v2", "health": "critical", "online": true, "tabs": 3, "clients": 4,
    });
    assert_eq!(to_json(&full.fields()), want);
    let empty = empty_status();
    let want = json!({
        "state": "connecting", "attempt": 0, "nextRetryAt": null, "retryReason": null, "lastClose": null,
        "lastError": null, "breaker": "closed", "breakerRetryAt": null, "rttMs": null, "quality": "unknown",
        "lastHeartbeatAt": null, "protocol": null, "health": "warning", "online": false, "tabs": 1, "clients": 1,
    });
    assert_eq!(to_json(&empty.fields()), want);
}

/// Every counter, each with its own value.
fn counters() -> Counters {
    let mut c = Counters::default();
    (c.frames_in, c.frames_out, c.bytes_in, c.bytes_out, c.deliveries, c.connects, c.attempts) = (1, 2, 3, 4, 5, 6, 7);
    (c.errors, c.pings, c.pongs, c.token_fetches, c.token_reconnects, c.duplicates, c.gaps) = (8, 9, 10, 11, 12, 13, 14);
    (c.topic_frames, c.subscribes, c.unsubscribes, c.queued, c.server_pings, c.server_hints) = (15, 16, 17, 18, 19, 20);
    c
}

fn counters_json() -> serde_json::Value {
    json!({
        "framesIn": 1, "framesOut": 2, "bytesIn": 3, "bytesOut": 4, "deliveries": 5, "connects": 6, "attempts": 7,
        "errors": 8, "pings": 9, "pongs": 10, "tokenFetches": 11, "tokenReconnects": 12, "duplicates": 13, "gaps": 14,
        "topicFrames": 15, "subscribes": 16, "unsubscribes": 17, "queued": 18, "serverPings": 19, "serverHints": 20,
    })
}

#[test]
fn counters_are_exactly_this_object() {
    assert_eq!(to_json(&counters().fields()), counters_json());
}

/// The stats: their own fields, then the status's and the counters' beside them (one flat
/// object), then the windows.
#[test]
fn stats_are_exactly_this_object() {
    let mut close_codes = SortedMap::new();
    close_codes.insert("1006".to_string(), 2);
    close_codes.insert("4000".to_string(), 1);
    let stats = Stats {
        queue_messages: 21,
        queue_bytes: 22,
        replay_frames: 23,
        replay_bytes: 24,
        topics: 25,
        dedup_keys: 26,
        last_seq: Some(27),
        status: full_status(),
        counters: counters(),
        endpoints: 28,
        reconnects: 29,
        close_codes,
        durations_ms: Percentiles { p50: Some(30), p95: Some(31), count: 32 },
        rtt_ms_p: Percentiles { p50: None, p95: None, count: 0 },
    };
    let mut want = json!({
        "queueMessages": 21, "queueBytes": 22, "replayFrames": 23, "replayBytes": 24, "topics": 25, "dedupKeys": 26,
        "lastSeq": 27, "endpoints": 28, "reconnects": 29, "closeCodes": { "1006": 2, "4000": 1 },
        "durations": { "p50": 30, "p95": 31, "count": 32 }, "rtt": { "p50": null, "p95": null, "count": 0 },
    });
    let map = want.as_object_mut().unwrap();
    map.extend(to_json(&full_status().fields()).as_object().unwrap().clone());
    map.extend(counters_json().as_object().unwrap().clone());
    assert_eq!(map.len(), 12 + 16 + 20, "no name of the three parts is another's");
    assert_eq!(to_json(&stats.fields()), want);
    // The status and counters come after the stats' own seven fields, in their order.
    let names: Vec<&str> = stats.fields().iter().map(|(k, _)| *k).collect();
    assert_eq!(names[..8], ["queueMessages", "queueBytes", "replayFrames", "replayBytes", "topics", "dedupKeys", "lastSeq", "state"]);
    assert_eq!(names[names.len() - 5..], ["endpoints", "reconnects", "closeCodes", "durations", "rtt"]);
}

/// Every event a logger receives: `event` first, its name in kebab-case, fields in camelCase.
#[test]
fn every_log_event_is_exactly_this_object() {
    let events = [
        (LogEvent::Connect { attempt: 2, url: "ws://h/?token=***".into() }, json!({ "event": "connect", "attempt": 2, "url": "ws://h/?token=***" })),
        (LogEvent::Open { protocol: None }, json!({ "event": "open", "protocol": null })),
        (LogEvent::Open { protocol: Some("v1".into()) }, json!({ "event": "open", "protocol": "v1" })),
        (LogEvent::Close { code: 4000, reason: "heartbeat timeout".into(), class: "retry-now" }, json!({ "event": "close", "code": 4000, "reason": "heartbeat timeout", "class": "retry-now" })),
        (LogEvent::Retry { attempt: 3, delay_ms: 8000, at: 123, hint: None }, json!({ "event": "retry", "attempt": 3, "delayMs": 8000, "at": 123, "hint": null })),
        (
            LogEvent::Retry { attempt: 1, delay_ms: 30_000, at: 456, hint: Some("reconnect-within=30000".into()) },
            json!({ "event": "retry", "attempt": 1, "delayMs": 30000, "at": 456, "hint": "reconnect-within=30000" }),
        ),
        (LogEvent::Down { attempt: 5 }, json!({ "event": "down", "attempt": 5 })),
        (LogEvent::Breaker { from: BreakerState::HalfOpen, to: BreakerState::Open }, json!({ "event": "breaker", "from": "half-open", "to": "open" })),
        (LogEvent::Breaker { from: BreakerState::Closed, to: BreakerState::HalfOpen }, json!({ "event": "breaker", "from": "closed", "to": "half-open" })),
        (LogEvent::TokenFetch, json!({ "event": "token-fetch" })),
        (LogEvent::TokenFetched { ok: false, changed: false, error: Some("HTTP 500".into()) }, json!({ "event": "token-fetched", "ok": false, "changed": false, "error": "HTTP 500" })),
        (LogEvent::TokenFetched { ok: true, changed: true, error: None }, json!({ "event": "token-fetched", "ok": true, "changed": true, "error": null })),
        (LogEvent::SignedOut { reason: "token URL answered 401".into() }, json!({ "event": "signed-out", "reason": "token URL answered 401" })),
        (LogEvent::Wake { asleep_ms: 60_000 }, json!({ "event": "wake", "asleepMs": 60000 })),
        (LogEvent::Drops { duplicates: 7, gaps: 1 }, json!({ "event": "drops", "duplicates": 7, "gaps": 1 })),
    ];
    for (e, want) in events {
        assert_eq!(to_json(&e.fields()), want, "{e:?}");
        assert_eq!(e.fields()[0].0, "event", "{e:?}: event first");
    }
}

/// The names each enum is shown by, every variant.
#[test]
fn every_state_reason_grade_and_position_has_its_wire_name() {
    let states = [State::Connecting, State::Open, State::Reconnecting, State::Offline, State::Down, State::Unauthorized, State::Closed];
    assert_eq!(states.map(State::as_str), ["connecting", "open", "reconnecting", "offline", "down", "unauthorized", "closed"]);
    let reasons = [RetryReason::Backoff, RetryReason::ServerHint, RetryReason::CloseCode, RetryReason::Breaker, RetryReason::Resume];
    assert_eq!(reasons.map(RetryReason::as_str), ["backoff", "server-hint", "close-code", "breaker", "resume"]);
    assert_eq!([Health::Healthy, Health::Warning, Health::Critical].map(Health::as_str), ["healthy", "warning", "critical"]);
    assert_eq!([Quality::Unknown, Quality::Good, Quality::Fair, Quality::Poor].map(Quality::as_str), ["unknown", "good", "fair", "poor"]);
    assert_eq!([BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen].map(BreakerState::as_str), ["closed", "open", "half-open"]);
}
