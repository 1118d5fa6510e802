//! An 8-hour session on the virtual clock: heartbeats every 30 s, token polls every 10 s,
//! a server restart every 2 minutes (so the close and duration windows fill past their caps), frames every second with dedup, sequence and topics,
//! sends, tabs coming and going. Every bounded structure is sampled each hour: after the
//! first hour nothing grows.
mod common;
use common::*;
use tabmux_core::{Action, FrameMeta};

#[test]
fn eight_hours_of_traffic_grow_nothing() {
    let mut h = Harness::new(7);
    let o = options_from_json(serde_json::json!({
        "url": "ws://h/ws",
        "token": { "url": "/token", "pollMs": 10000 },
        "dedup": { "key": "/id" },
        "sequence": { "key": "/seq" },
        "topics": { "key": "/topic", "subscribe": "{\"s\":\"{topic}\"}", "unsubscribe": "{\"u\":\"{topic}\"}" },
        "replay": { "frames": 50 },
    }));
    let (anchor, ep) = h.attach("anchor", o.clone());
    let mut seq = 0u64;
    let mut samples = Vec::new();
    let mut actions_seen = 0;
    let mut pings = 0;
    let mut fetches = 0;
    let end = h.now + 8 * 3600 * 1000;
    let mut next_restart = h.now + 2 * 60 * 1000;
    let mut hour = h.now + 3600 * 1000;
    let mut second = 0u64;
    while h.now < end {
        h.now += 1000;
        second += 1;
        h.engine.handle_timeout(h.now);
        h.drain();
        // Answer the shell's requests (token fetches, opens, pings) until none are left.
        while actions_seen < h.actions.len() {
            let a = h.actions[actions_seen].clone();
            actions_seen += 1;
            match a {
                Action::FetchToken { endpoint, .. } => {
                    fetches += 1;
                    h.engine.handle_token_fetched(h.now, endpoint, Ok("token-1"));
                }
                Action::OpenSocket { socket, .. } => h.engine.handle_open(h.now, socket),
                Action::SendText { socket, data } if data.contains("ping") => {
                    pings += 1;
                    let _ = h.engine.handle_frame(h.now + 20, socket, FrameMeta { len: 15, pong: true, ..Default::default() });
                }
                _ => {}
            }
            h.drain();
        }
        if let Some(s) = h.engine.status(ep).and_then(|_| h.actions.iter().rev().find_map(|a| match a {
            Action::OpenSocket { socket, .. } => Some(*socket),
            _ => None,
        })) {
            seq += 1;
            let id = format!("m{seq}");
            let topic = ["a", "b", "c"][(seq % 3) as usize];
            let meta = FrameMeta { len: 200, pong: false, server_ping: false, key: Some(&id), seq: Some(seq), topic: Some(topic) };
            if h.engine.handle_frame(h.now, s, meta) == tabmux_core::Delivery::Drop {
                // Not open yet: the server sends this one again after the resume (`since`).
                seq -= 1;
            }
            // A tab comes, subscribes, sends, leaves, every minute.
            if second % 60 == 0 {
                let (c, _) = h.engine.handle_attach(h.now, &format!("tab{second}"), o.clone()).unwrap();
                h.engine.handle_subscribe(h.now, c, topic).unwrap();
                let _ = h.engine.handle_send(h.now, c, second, 100);
                h.engine.handle_detach(h.now, c);
            }
            if h.now >= next_restart {
                next_restart += 2 * 60 * 1000;
                h.engine.handle_close(h.now, s, 1012, "restart");
            }
        }
        if h.now >= hour {
            hour += 3600 * 1000;
            let st = h.engine.stats(anchor).unwrap();
            samples.push((
                st.dedup_keys,
                st.replay_frames,
                st.replay_bytes,
                st.queue_messages,
                st.topics,
                st.close_codes.values().sum::<u32>(),
                st.durations_ms.count,
                st.rtt_ms_p.count,
            ));
            // The harness's own action log is the test's, not the engine's: keep it small.
            h.actions.clear();
            actions_seen = 0;
        }
    }
    assert_eq!(samples.len(), 8);
    let st = h.engine.stats(anchor).unwrap();
    // About 3 pings per 2-minute connection; a fetch before each connect plus one per 10 s.
    assert!(pings >= 700 && fetches >= 2880, "pings {pings}, fetches {fetches}");
    assert_eq!(st.counters.gaps, 0);
    assert_eq!(st.status.tabs, 1);
    // Every structure reaches its cap and stays there: from hour 4 on nothing changes
    // (the close-code window, 100 entries, is the last to fill: 30 restarts an hour).
    assert!(samples[3..].iter().all(|s| *s == samples[3]), "{samples:?}");
    assert_eq!((samples[3].5, samples[3].6, samples[3].7), (100, 50, 50), "windows at their caps");
    assert_eq!(samples[1].0, 200, "dedup keys at capacity");
    assert_eq!(samples[1].1, 150, "replay: 50 per topic × 3 topics");
    assert_eq!(samples[1].4, 0, "no topics left without tabs");
}
