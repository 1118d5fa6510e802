//! The connections, their logs, and the operations tests ask for.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// What a connection's writer task sends.
pub enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    Close(u16, String),
}

/// How many entries each log keeps (oldest dropped first).
const LOG_CAP: usize = 10_000;

#[derive(Serialize, Clone)]
struct Accept {
    /// ms since the server started.
    at: u64,
    channel: String,
    query: String,
    refused: bool,
    /// The subprotocols the client offered (Sec-WebSocket-Protocol), in its order.
    protocols: Vec<String>,
    /// The one the server chose, if any.
    protocol: Option<String>,
}

#[derive(Serialize, Clone)]
struct Received {
    at: u64,
    conn: u64,
    channel: String,
    data: String,
}

#[derive(Serialize, Clone)]
struct Closed {
    at: u64,
    conn: u64,
    channel: String,
    code: u16,
}

struct Conn {
    channel: String,
    tx: UnboundedSender<Outgoing>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    conns: BTreeMap<u64, Conn>,
    total: u64,
    seq: BTreeMap<String, u64>,
    accepts: VecDeque<Accept>,
    received: VecDeque<Received>,
    closes: VecDeque<Closed>,
    paused_until: Option<Instant>,
    pong_off: bool,
    token: String,
    token_fetches: VecDeque<u64>,
    /// Notes posted by benchmark and test pages (`POST /control/note`).
    notes: VecDeque<(u64, serde_json::Value)>,
    /// Probe id → (channel, sent at); acks turn into round-trip samples per channel.
    probes_sent: BTreeMap<u64, (String, Instant)>,
    next_probe: u64,
    rtts: BTreeMap<String, Vec<f64>>,
    /// Channels whose connections are closed (1011) as soon as they are accepted.
    slam: BTreeSet<String>,
    /// Paths of the files served (the static folders), oldest first: what pages fetched.
    files: VecDeque<String>,
    /// Per channel, the last numbered frames broadcast (seq, frame), for sockets that ask to
    /// resume (`?replay=1&since=N`: the frames after N are sent first). At most REPLAY_CAP.
    recent: BTreeMap<String, (VecDeque<(u64, String)>, usize)>,
}

/// Numbered frames kept per channel for `?replay=1&since=N`, and their bytes at most.
const REPLAY_CAP: usize = 20_000;
const REPLAY_BYTES: usize = 8 << 20;

/// `since=N` of a query that also has `replay=1`: the socket wants the frames after N.
fn resume_from(query: &str) -> Option<u64> {
    let mut pairs = query.split('&');
    if !pairs.clone().any(|kv| kv == "replay=1") {
        return None;
    }
    pairs.find_map(|kv| kv.strip_prefix("since=")).and_then(|n| n.parse().ok())
}

/// Everything the server knows, behind one lock.
pub struct Hub {
    start: Instant,
    relay: bool,
    inner: Mutex<Inner>,
}

fn push_capped<T>(q: &mut VecDeque<T>, v: T) {
    if q.len() == LOG_CAP {
        q.pop_front();
    }
    q.push_back(v);
}

impl Hub {
    pub fn new(relay: bool) -> Self {
        // `/token` answers 401 while the token is empty (`/control/token?value=`).
        Hub { start: Instant::now(), relay, inner: Mutex::new(Inner { token: "dev-token".into(), ..Inner::default() }) }
    }

    pub fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn paused(&self) -> bool {
        self.lock().paused_until.is_some_and(|t| Instant::now() < t)
    }

    pub fn pause_for(&self, d: Duration) {
        self.lock().paused_until = Some(Instant::now() + d);
    }

    pub fn note_refused(&self, channel: &str, query: &str) {
        let at = self.now();
        let mut g = self.lock();
        push_capped(&mut g.accepts, Accept { at, channel: channel.into(), query: query.into(), refused: true, protocols: Vec::new(), protocol: None });
    }

    /// A socket joins `channel`. `protocols`: what it offered; `protocol`: what was chosen.
    pub fn join(&self, channel: &str, query: &str, protocols: Vec<String>, protocol: Option<String>, tx: UnboundedSender<Outgoing>) -> u64 {
        let at = self.now();
        let mut g = self.lock();
        g.next_id += 1;
        g.total += 1;
        let id = g.next_id;
        if g.slam.contains(channel) {
            let _ = tx.send(Outgoing::Close(1011, "accepted and closed at once".into()));
        }
        // Under the lock: the replayed frames go before any new broadcast to this socket.
        if let (Some(since), Some((recent, _))) = (resume_from(query), g.recent.get(channel)) {
            for (_, frame) in recent.iter().filter(|(seq, _)| *seq > since) {
                let _ = tx.send(Outgoing::Text(frame.clone()));
            }
        }
        g.conns.insert(id, Conn { channel: channel.into(), tx });
        push_capped(&mut g.accepts, Accept { at, channel: channel.into(), query: query.into(), refused: false, protocols, protocol });
        id
    }

    pub fn leave(&self, id: u64, code: u16) {
        let at = self.now();
        let mut g = self.lock();
        if let Some(c) = g.conns.remove(&id) {
            push_capped(&mut g.closes, Closed { at, conn: id, channel: c.channel, code });
        }
    }

    pub fn received(&self, id: u64, channel: &str, data: &str) {
        let at = self.now();
        let mut g = self.lock();
        let logged: String = data.chars().take(4096).collect();
        push_capped(&mut g.received, Received { at, conn: id, channel: channel.into(), data: logged });
        if let Some(rest) = data.strip_prefix("{\"probe-ack\":") {
            // A page answering a latency probe: the round trip on the server's clock.
            if let Ok(id) = rest.trim_end_matches('}').parse::<u64>() {
                if let Some((ch, sent)) = g.probes_sent.get(&id).cloned() {
                    let ms = sent.elapsed().as_secs_f64() * 1000.0;
                    let samples = g.rtts.entry(ch).or_default();
                    if samples.len() < 100_000 {
                        samples.push(ms);
                    }
                }
            }
            return;
        }
        if data.contains("\"type\":\"ping\"") {
            if g.pong_off {
                return;
            }
            if let Some(c) = g.conns.get(&id) {
                let _ = c.tx.send(Outgoing::Text(r#"{"type":"pong"}"#.into()));
            }
        } else if self.relay && data.contains("\"type\":\"chat\"") {
            for c in g.conns.values().filter(|c| c.channel == channel) {
                let _ = c.tx.send(Outgoing::Text(data.to_string()));
            }
        }
    }

    /// Sends `n` frames to every connection of `channel`: `text` as given, or
    /// `{"seq":k,"channel":…,"pad":"…"}` padded to about `size` bytes (with `"topic"` first
    /// when given). `skip` sequence numbers are skipped first.
    pub fn broadcast(&self, channel: &str, n: u64, size: usize, text: Option<&str>, topic: Option<&str>, skip: u64) -> serde_json::Value {
        let at = self.now();
        let mut g = self.lock();
        *g.seq.entry(channel.to_string()).or_insert(0) += skip;
        let topic_field = topic.map_or_else(String::new, |t| format!("\"topic\":{},", serde_json::json!(t)));
        let conns = g.conns.values().filter(|c| c.channel == channel).count();
        let mut first = None;
        for _ in 0..n {
            let frame = match text {
                Some(t) => t.to_string(),
                None => {
                    let seq = g.seq.entry(channel.to_string()).or_insert(0);
                    *seq += 1;
                    let seq = *seq;
                    first.get_or_insert(seq);
                    let head = format!("{{{topic_field}\"seq\":{seq},\"channel\":{},\"pad\":\"", serde_json::json!(channel));
                    let pad = size.saturating_sub(head.len() + 2);
                    let frame = format!("{head}{}\"}}", "x".repeat(pad));
                    let (recent, bytes) = g.recent.entry(channel.to_string()).or_default();
                    recent.push_back((seq, frame.clone()));
                    *bytes += frame.len();
                    while recent.len() > REPLAY_CAP || *bytes > REPLAY_BYTES {
                        let Some((_, old)) = recent.pop_front() else { break };
                        *bytes -= old.len();
                    }
                    frame
                }
            };
            for c in g.conns.values().filter(|c| c.channel == channel) {
                let _ = c.tx.send(Outgoing::Text(frame.clone()));
            }
        }
        serde_json::json!({ "sent": n, "conns": conns, "firstSeq": first, "at": at })
    }

    /// The server's clock (ms since it started).
    pub fn clock(&self) -> u64 {
        self.now()
    }

    /// The demo feed: one tick frame to every connection of `channel`.
    pub fn tick(&self, channel: &str) {
        let at = self.now();
        let mut g = self.lock();
        let seq = g.seq.entry(format!("tick:{channel}")).or_insert(0);
        *seq += 1;
        let seq = *seq;
        let mut frames = vec![format!("{{\"type\":\"tick\",\"seq\":{seq},\"serverMs\":{at}}}")];
        // Topic frames for the demo's subscriptions (the worker routes them).
        frames.push(format!("{{\"topic\":\"prices\",\"price\":{}.{:02}}}", 100 + seq % 7, (seq * 37) % 100));
        if seq % 3 == 0 {
            frames.push(format!("{{\"topic\":\"news\",\"headline\":\"item {}\"}}", seq / 3));
        }
        for c in g.conns.values().filter(|c| c.channel == channel) {
            for f in &frames {
                let _ = c.tx.send(Outgoing::Text(f.clone()));
            }
        }
    }

    /// Closes every connection (of `channel`, if given) with `code`.
    pub fn close_all(&self, channel: Option<&str>, code: u16, reason: &str) -> usize {
        let g = self.lock();
        let mut n = 0;
        for c in g.conns.values().filter(|c| channel.is_none_or(|ch| c.channel == ch)) {
            let _ = c.tx.send(Outgoing::Close(code, reason.to_string()));
            n += 1;
        }
        n
    }

    /// Makes `channel` close every connection as soon as it is accepted (or stops that).
    pub fn set_slam(&self, channel: &str, on: bool) {
        let mut g = self.lock();
        if on {
            g.slam.insert(channel.to_string());
        } else {
            g.slam.remove(channel);
        }
    }

    /// Sends `n` binary frames of `size` bytes to every connection of `channel`.
    pub fn broadcast_binary(&self, channel: &str, n: u64, size: usize) -> serde_json::Value {
        let g = self.lock();
        let frame: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut conns = 0;
        for c in g.conns.values().filter(|c| c.channel == channel) {
            conns += 1;
            for _ in 0..n {
                let _ = c.tx.send(Outgoing::Binary(frame.clone()));
            }
        }
        serde_json::json!({ "sent": n, "conns": conns })
    }

    /// Stops or resumes answering pings.
    pub fn set_pong(&self, enabled: bool) {
        self.lock().pong_off = !enabled;
    }

    /// Sets the token `/token` hands out.
    pub fn set_token(&self, token: &str) {
        self.lock().token = token.to_string();
    }

    /// A `/token` fetch: logged, answered with the current token.
    pub fn fetch_token(&self) -> String {
        let at = self.now();
        let mut g = self.lock();
        push_capped(&mut g.token_fetches, at);
        g.token.clone()
    }

    /// Stores a note from a page (bounded; oldest dropped).
    pub fn note(&self, v: serde_json::Value) {
        let at = self.now();
        push_capped(&mut self.lock().notes, (at, v));
    }

    /// Notes whose `run` field equals `run` (all when empty), each with the server time it arrived.
    pub fn notes(&self, run: &str) -> serde_json::Value {
        let g = self.lock();
        let list: Vec<serde_json::Value> = g
            .notes
            .iter()
            .filter(|(_, v)| run.is_empty() || v.get("run").and_then(|r| r.as_str()) == Some(run))
            .map(|(at, v)| serde_json::json!({ "at": at, "note": v }))
            .collect();
        serde_json::json!(list)
    }

    /// Sends one latency probe `{"probe":id}` to every connection of `channel`.
    pub fn probe(&self, channel: &str) {
        let mut g = self.lock();
        g.next_probe += 1;
        let id = g.next_probe;
        g.probes_sent.insert(id, (channel.to_string(), Instant::now()));
        if g.probes_sent.len() > 100_000 {
            let first = *g.probes_sent.keys().next().expect("not empty");
            g.probes_sent.remove(&first);
        }
        let frame = format!("{{\"probe\":{id}}}");
        for c in g.conns.values().filter(|c| c.channel == channel) {
            let _ = c.tx.send(Outgoing::Text(frame.clone()));
        }
    }

    /// The round-trip samples (ms) collected for `channel`, cleared.
    pub fn take_rtts(&self, channel: &str) -> Vec<f64> {
        self.lock().rtts.remove(channel).unwrap_or_default()
    }

    /// A file was served (or asked for) at `path`.
    pub fn note_file(&self, path: &str) {
        push_capped(&mut self.lock().files, path.to_string());
    }

    pub fn reset_logs(&self) {
        let mut g = self.lock();
        g.files.clear();
        g.token_fetches.clear();
        g.notes.clear();
        g.accepts.clear();
        g.received.clear();
        g.closes.clear();
    }

    pub fn stats(&self) -> serde_json::Value {
        let g = self.lock();
        let mut by_channel: BTreeMap<&str, usize> = BTreeMap::new();
        for c in g.conns.values() {
            *by_channel.entry(c.channel.as_str()).or_default() += 1;
        }
        serde_json::json!({
            "now": self.now(),
            "current": g.conns.len(),
            "total": g.total,
            "byChannel": by_channel,
            "paused": g.paused_until.is_some_and(|t| Instant::now() < t),
            "accepts": g.accepts,
            "received": g.received,
            "closes": g.closes,
            "pong": !g.pong_off,
            "tokenFetches": g.token_fetches,
            "files": g.files,
        })
    }
}
