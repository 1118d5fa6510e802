//! tabmux-devserver: serves the demo and the worker files, a WebSocket feed, and control
//! endpoints that tests and the demo use. Binds to 127.0.0.1 only.
//!
//! ```text
//! tabmux-devserver [--port N] [--static DIR]... [--tick-ms N] [--relay] [--csp POLICY] [--cache-control VALUE] [--allow-origin ORIGIN]...
//! ```
//! Only its own origin (`http://127.0.0.1:PORT`) and each `--allow-origin` may fetch from it
//! or open its WebSockets: a request with any other `Origin` header gets 403 (`origin.rs`).
//! `--csp` sends `Content-Security-Policy: POLICY` with every response, `{ws-origin}` in it
//! replaced by this server's `ws://127.0.0.1:PORT`.
//! `--port 0` (the default) picks a free port; the first line printed is
//! `tabmux-devserver listening on http://127.0.0.1:PORT`. Every response carries
//! `Cache-Control: no-store` unless `--cache-control` says otherwise (browsers keep no
//! `no-store` page in their back/forward cache: the tests of that use `no-cache`).

mod hub;
mod origin;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use hub::{Hub, Outgoing};
use origin::Origins;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

struct Args {
    port: u16,
    statics: Vec<String>,
    tick_ms: u64,
    cache_control: HeaderValue,
    relay: bool,
    csp: Option<String>,
    allow_origins: Vec<String>,
}

const USAGE: &str = "usage: tabmux-devserver [--port N] [--static DIR]... [--tick-ms N] [--relay] [--csp POLICY] [--cache-control VALUE] [--allow-origin ORIGIN]...";

impl Default for Args {
    fn default() -> Self {
        Args {
            port: 0,
            statics: Vec::new(),
            tick_ms: 0,
            relay: false,
            csp: None,
            cache_control: HeaderValue::from_static("no-store"),
            allow_origins: Vec::new(),
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => a.port = val("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--static" => a.statics.push(val("--static")?),
            "--tick-ms" => a.tick_ms = val("--tick-ms")?.parse().map_err(|e| format!("--tick-ms: {e}"))?,
            "--relay" => a.relay = true,
            "--csp" => a.csp = Some(val("--csp")?),
            "--allow-origin" => a.allow_origins.push(val("--allow-origin")?),
            "--cache-control" => {
                a.cache_control = HeaderValue::from_str(&val("--cache-control")?).map_err(|e| format!("--cache-control: {e}"))?
            }
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(a)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let hub = Arc::new(Hub::new(args.relay));
    if args.tick_ms > 0 {
        let hub = hub.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(args.tick_ms));
            loop {
                every.tick().await;
                hub.tick("");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .unwrap_or_else(|e| {
            eprintln!("tabmux-devserver: cannot bind 127.0.0.1:{}: {e}", args.port);
            std::process::exit(1);
        });
    let port = listener.local_addr().expect("bound").port();
    let app = app(hub, &args, port).unwrap_or_else(|e| {
        eprintln!("tabmux-devserver: {e}");
        std::process::exit(2);
    });
    println!("tabmux-devserver listening on http://127.0.0.1:{port}");
    // No Nagle: a small write (a frame, a probe) that follows another unacknowledged one
    // would otherwise wait for the browser's delayed ACK (up to 40 ms on loopback), which
    // made the benchmark's paced round trips about 20 ms in every mode, even at 50 frames/s.
    let listener = listener.tap_io(|tcp| drop(tcp.set_nodelay(true)));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("server");
}

/// Every route, the static folders, and the layers: CSP, Cache-Control, and the origin guard
/// outermost (it runs first, for WebSocket upgrades too).
fn app(hub: Arc<Hub>, args: &Args, port: u16) -> Result<Router, String> {
    let files = hub.clone();
    let mut app = Router::new()
        .route("/ws", any(ws_default))
        .route("/ws/{channel}", any(ws_channel))
        .route("/control/stats", get(control_stats))
        .route("/control/broadcast", any(control_broadcast))
        .route("/control/close", any(control_close))
        .route("/control/pause", any(control_pause))
        .route("/control/reset", any(control_reset))
        .route("/control/pong", any(control_pong))
        .route("/control/token", any(control_token))
        .route("/token", get(token))
        .route("/control/note", axum::routing::post(control_note))
        .route("/control/notes", get(control_notes))
        .route("/control/probe", any(control_probe))
        .route("/control/probes", get(control_probes))
        .route("/control/ticker", any(control_ticker))
        .route("/control/notify", any(control_notify))
        .route("/control/slam", any(control_slam))
        .route("/control/slow-page", get(control_slow_page))
        .with_state(hub);
    // Each --static folder is tried in order; the first that has the file serves it.
    let mut chain: Option<Router> = None;
    for dir in args.statics.iter().rev() {
        let serve = ServeDir::new(dir).append_index_html_on_directories(true);
        chain = Some(match chain {
            None => Router::new().fallback_service(serve),
            Some(next) => Router::new().fallback_service(serve.fallback(next)),
        });
    }
    if let Some(chain) = chain {
        // Every path asked of the static folders is logged (`files` in /control/stats), so
        // a test can tell which of the package's files a page fetched.
        let chain = chain.layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            files.note_file(req.uri().path());
            next.run(req)
        }));
        app = app.fallback_service(chain);
    }
    if let Some(policy) = &args.csp {
        let policy = policy.replace("{ws-origin}", &format!("ws://127.0.0.1:{port}"));
        let value = HeaderValue::from_str(&policy).map_err(|e| format!("--csp: {e}"))?;
        app = app.layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, value));
    }
    let origins = Arc::new(Origins::new(port, &args.allow_origins));
    Ok(app
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, args.cache_control.clone()))
        .layer(axum::middleware::from_fn_with_state(origins, origin::guard)))
}

async fn ws_default(
    State(hub): State<Arc<Hub>>,
    RawQuery(q): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(hub, String::new(), q.unwrap_or_default(), ws)
}

async fn ws_channel(
    State(hub): State<Arc<Hub>>,
    Path(channel): Path<String>,
    RawQuery(q): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(hub, channel, q.unwrap_or_default(), ws)
}

fn upgrade(hub: Arc<Hub>, channel: String, query: String, ws: WebSocketUpgrade) -> Response {
    if hub.paused() {
        hub.note_refused(&channel, &query);
        return (StatusCode::SERVICE_UNAVAILABLE, "paused by /control/pause").into_response();
    }
    // `?subprotocol=NAME`: this socket requires that subprotocol. Offered, it is chosen;
    // not offered, the socket is accepted and closed at once with 4406, as graphql-ws does.
    let offered: Vec<String> = ws.requested_protocols().filter_map(|p| p.to_str().ok().map(String::from)).collect();
    let required = query.split('&').find_map(|kv| kv.strip_prefix("subprotocol=")).map(String::from);
    let (ws, refuse) = match required {
        Some(r) if offered.contains(&r) => (ws.protocols([r]), None),
        Some(_) => (ws, Some((4406, "Subprotocol not acceptable"))),
        None => (ws, None),
    };
    // `?auth=1`: a socket without a non-empty `token=` is accepted and closed at once with
    // 4401, as servers that authenticate after the upgrade do.
    let tokenless = !query.split('&').any(|kv| kv.strip_prefix("token=").is_some_and(|t| !t.is_empty()));
    let refuse = refuse.or((query.split('&').any(|kv| kv == "auth=1") && tokenless).then_some((4401, "token required")));
    let chosen = ws.selected_protocol().and_then(|p| p.to_str().ok()).map(String::from);
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| serve_socket(hub, channel, query, offered, chosen, refuse, socket))
}

async fn serve_socket(
    hub: Arc<Hub>,
    channel: String,
    query: String,
    offered: Vec<String>,
    chosen: Option<String>,
    refuse: Option<(u16, &'static str)>,
    socket: WebSocket,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    if let Some((code, reason)) = refuse {
        let _ = tx.send(Outgoing::Close(code, reason.into()));
    }
    let id = hub.join(&channel, &query, offered, chosen, tx);
    let (mut sink, mut stream) = futures_split(socket);
    let writer = tokio::spawn(async move {
        use futures_util::SinkExt;
        while let Some(out) = rx.recv().await {
            let msg = match out {
                Outgoing::Text(t) => Message::Text(t.into()),
                Outgoing::Binary(b) => Message::Binary(b.into()),
                Outgoing::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(axum::extract::ws::CloseFrame { code, reason: reason.into() })))
                        .await;
                    break;
                }
            };
            if sink.send(msg).await.is_err() {
                break;
            }
        }
    });
    use futures_util::StreamExt;
    let mut close_code = 1006;
    while let Some(msg) = stream.next().await {
        match msg {
            Ok(Message::Text(t)) => hub.received(id, &channel, t.as_str()),
            Ok(Message::Binary(b)) => hub.received(id, &channel, &format!("<binary {} bytes>", b.len())),
            Ok(Message::Close(frame)) => {
                close_code = frame.map_or(1005, |f| f.code);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    hub.leave(id, close_code);
    writer.abort();
}

fn futures_split(
    socket: WebSocket,
) -> (
    futures_util::stream::SplitSink<WebSocket, Message>,
    futures_util::stream::SplitStream<WebSocket>,
) {
    use futures_util::StreamExt;
    socket.split()
}

async fn control_stats(State(hub): State<Arc<Hub>>) -> impl IntoResponse {
    Json(hub.stats())
}

#[derive(Deserialize)]
struct BroadcastQ {
    #[serde(default)]
    channel: String,
    n: Option<u64>,
    size: Option<usize>,
    text: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    skip: u64,
    #[serde(default)]
    binary: bool,
}

async fn control_broadcast(State(hub): State<Arc<Hub>>, Query(q): Query<BroadcastQ>) -> impl IntoResponse {
    let n = q.n.unwrap_or(1).min(1_000_000);
    if q.binary {
        return Json(hub.broadcast_binary(&q.channel, n, q.size.unwrap_or(16).min(16 << 20)));
    }
    Json(hub.broadcast(&q.channel, n, q.size.unwrap_or(0).min(16 << 20), q.text.as_deref(), q.topic.as_deref(), q.skip))
}

#[derive(Deserialize)]
struct CloseQ {
    channel: Option<String>,
    code: Option<u16>,
    #[serde(default)]
    reason: String,
}

async fn control_close(State(hub): State<Arc<Hub>>, Query(q): Query<CloseQ>) -> impl IntoResponse {
    Json(serde_json::json!({ "closed": hub.close_all(q.channel.as_deref(), q.code.unwrap_or(1012), &q.reason) }))
}

#[derive(Deserialize)]
struct PauseQ {
    ms: u64,
    #[serde(default)]
    drop: bool,
}

async fn control_pause(State(hub): State<Arc<Hub>>, Query(q): Query<PauseQ>) -> impl IntoResponse {
    hub.pause_for(Duration::from_millis(q.ms.min(600_000)));
    let closed = if q.drop { hub.close_all(None, 1012, "server paused") } else { 0 };
    Json(serde_json::json!({ "pausedMs": q.ms, "closed": closed }))
}

#[derive(Deserialize)]
struct SlowPageQ {
    ms: u64,
}

/// A page that arrives `ms` (≤ 10 s) late, as over a real network: the tests of the
/// back/forward cache navigate to it (browsers decide what to keep when the next page
/// arrives; a page on 127.0.0.1 arrives within milliseconds).
async fn control_slow_page(Query(q): Query<SlowPageQ>) -> impl IntoResponse {
    tokio::time::sleep(Duration::from_millis(q.ms.min(10_000))).await;
    ([(header::CONTENT_TYPE, "text/html")], "<!doctype html><title>ready</title><p>a page elsewhere</p>")
}

async fn control_reset(State(hub): State<Arc<Hub>>) -> impl IntoResponse {
    hub.reset_logs();
    Json(serde_json::json!({ "ok": true }))
}

#[derive(Deserialize)]
struct PongQ {
    enabled: bool,
}

async fn control_pong(State(hub): State<Arc<Hub>>, Query(q): Query<PongQ>) -> impl IntoResponse {
    hub.set_pong(q.enabled);
    Json(serde_json::json!({ "pong": q.enabled }))
}

#[derive(Deserialize)]
struct TokenQ {
    value: String,
}

async fn control_token(State(hub): State<Arc<Hub>>, Query(q): Query<TokenQ>) -> impl IntoResponse {
    hub.set_token(&q.value);
    Json(serde_json::json!({ "ok": true }))
}

/// The token endpoint a page's `token.url` points at: the current token as text, or 401
/// when it is empty (`/control/token?value=`: signed out).
async fn token(State(hub): State<Arc<Hub>>) -> impl IntoResponse {
    match hub.fetch_token() {
        t if t.is_empty() => (StatusCode::UNAUTHORIZED, String::new()),
        t => (StatusCode::OK, t),
    }
}

async fn control_note(State(hub): State<Arc<Hub>>, Json(v): Json<serde_json::Value>) -> impl IntoResponse {
    hub.note(v);
    Json(serde_json::json!({ "at": hub.clock() }))
}

#[derive(Deserialize)]
struct NotesQ {
    #[serde(default)]
    run: String,
}

async fn control_notes(State(hub): State<Arc<Hub>>, Query(q): Query<NotesQ>) -> impl IntoResponse {
    Json(hub.notes(&q.run))
}

/// Runs `f` `count` times, `ms` apart, in the background (bounded: it stops by itself).
fn every(ms: u64, count: u64, f: impl Fn() + Send + 'static) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(ms.max(1)));
        for _ in 0..count {
            interval.tick().await;
            f();
        }
    });
}

#[derive(Deserialize)]
struct ProbeQ {
    #[serde(default)]
    channel: String,
    n: u64,
    interval_ms: u64,
}

/// Sends `n` probes `interval_ms` apart (in the background); pages answer each with
/// `{"probe-ack":id}` and the server records the round trip.
async fn control_probe(State(hub): State<Arc<Hub>>, Query(q): Query<ProbeQ>) -> impl IntoResponse {
    let n = q.n.min(100_000);
    every(q.interval_ms, n, move || hub.probe(&q.channel));
    Json(serde_json::json!({ "probes": n }))
}

#[derive(Deserialize)]
struct ProbesQ {
    #[serde(default)]
    channel: String,
}

async fn control_probes(State(hub): State<Arc<Hub>>, Query(q): Query<ProbesQ>) -> impl IntoResponse {
    Json(serde_json::json!({ "rttMs": hub.take_rtts(&q.channel) }))
}

#[derive(Deserialize)]
struct TickerQ {
    #[serde(default)]
    channel: String,
    ms: u64,
    count: u64,
    /// With a size: each tick is one broadcast frame of this size (`{"seq":…}`, as
    /// `/control/broadcast` sends), a paced load for the benchmark; without: the demo's ticks.
    size: Option<usize>,
}

/// Ticks `channel` every `ms` for `count` ticks (bounded: it stops by itself).
async fn control_ticker(State(hub): State<Arc<Hub>>, Query(q): Query<TickerQ>) -> impl IntoResponse {
    let count = q.count.min(100_000);
    let at = hub.now();
    match q.size {
        Some(size) => every(q.ms, count, move || {
            hub.broadcast(&q.channel, 1, size.min(1 << 20), None, None, 0);
        }),
        None => every(q.ms, count, move || hub.tick(&q.channel)),
    }
    Json(serde_json::json!({ "ticks": count, "at": at }))
}

#[derive(Deserialize)]
struct NotifyQ {
    #[serde(default)]
    channel: String,
    text: Option<String>,
}

/// One `{"type":"notify","text":…}` frame to every socket of `channel`: the demo shows it as
/// one toast across its tabs (an exclusive handler runs in one tab).
async fn control_notify(State(hub): State<Arc<Hub>>, Query(q): Query<NotifyQ>) -> impl IntoResponse {
    let text = q.text.unwrap_or_else(|| "Hello from the server".into());
    let frame = serde_json::json!({ "type": "notify", "text": text }).to_string();
    Json(hub.broadcast(&q.channel, 1, 0, Some(&frame), None, 0))
}

#[derive(Deserialize)]
struct SlamQ {
    #[serde(default)]
    channel: String,
    on: bool,
}

/// A server that accepts and closes at once, for ever (until turned off), on one channel.
async fn control_slam(State(hub): State<Arc<Hub>>, Query(q): Query<SlamQ>) -> impl IntoResponse {
    hub.set_slam(&q.channel, q.on);
    Json(serde_json::json!({ "slam": q.on }))
}

#[cfg(test)]
mod tests {
    //! The server as a browser of another site meets it: its `Origin` decides.
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on a free port with `extra` allowed origins; its port.
    async fn serve(extra: &[&str]) -> u16 {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let args = Args { allow_origins: extra.iter().map(|s| s.to_string()).collect(), ..Args::default() };
        let app = app(Arc::new(Hub::new(false)), &args, port).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        port
    }

    /// The status line and headers of a GET of `path` with these extra header lines.
    async fn head(port: u16, path: &str, headers: &[&str]) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{}\r\n", headers.iter().map(|h| format!("{h}\r\n")).collect::<String>());
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "closed before the headers");
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
        text.split("\r\n\r\n").next().unwrap().to_string()
    }

    const UPGRADE: &[&str] = &["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"];

    fn with(origin: &str, more: &[&'static str]) -> Vec<String> {
        let mut h: Vec<String> = more.iter().map(|s| s.to_string()).collect();
        h.push(format!("Origin: {origin}"));
        h
    }

    async fn get(port: u16, path: &str, headers: Vec<String>) -> String {
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        head(port, path, &refs).await
    }

    #[tokio::test]
    async fn a_foreign_origin_gets_403_for_the_token_the_control_endpoints_and_a_websocket_upgrade() {
        let port = serve(&[]).await;
        for foreign in ["http://evil.example", "http://localhost:1", "null"] {
            for path in ["/token", "/control/stats", "/control/close"] {
                let h = get(port, path, with(foreign, &[])).await;
                assert!(h.starts_with("http/1.1 403"), "{foreign} {path}: {h}");
                assert!(!h.contains("access-control-allow-origin"), "{h}");
            }
            let h = get(port, "/ws/x", with(foreign, UPGRADE)).await;
            assert!(h.starts_with("http/1.1 403"), "{foreign} upgrade: {h}");
        }
    }

    #[tokio::test]
    async fn its_own_origin_and_the_allowed_ones_are_served_and_named_no_origin_is_served_without_cors() {
        let port = serve(&["http://127.0.0.1:1"]).await;
        let own = format!("http://127.0.0.1:{port}");
        for origin in [own.as_str(), "http://127.0.0.1:1"] {
            let h = get(port, "/token", with(origin, &[])).await;
            assert!(h.starts_with("http/1.1 200"), "{origin}: {h}");
            assert!(h.contains(&format!("access-control-allow-origin: {origin}")), "{h}");
            let h = get(port, "/ws/x", with(origin, UPGRADE)).await;
            assert!(h.starts_with("http/1.1 101"), "{origin} upgrade: {h}");
        }
        let h = get(port, "/control/stats", Vec::new()).await;
        assert!(h.starts_with("http/1.1 200") && !h.contains("access-control-allow-origin"), "{h}");
        let h = get(port, "/ws/x", UPGRADE.iter().map(|s| s.to_string()).collect()).await;
        assert!(h.starts_with("http/1.1 101"), "no Origin (not a browser): {h}");
    }
}
