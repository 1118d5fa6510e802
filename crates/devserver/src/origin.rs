//! Which origins may talk to the dev server: its own (`http://127.0.0.1:PORT`) and those named
//! with `--allow-origin`. A request that carries another `Origin` — a page of any other site
//! fetching `/token` or `/control/stats` (which lists the query strings sockets were accepted
//! with, tokens included), or opening a WebSocket (cross-site WebSocket hijacking) — is
//! answered 403 before any route runs. A request without an `Origin` (a navigation, a page's
//! own same-origin GET, a test's own `fetch` from Node) is served, with no CORS header; an
//! allowed origin gets `Access-Control-Allow-Origin` naming it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The origins the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins {
    allowed: Vec<String>,
}

/// What to do with a request, by its `Origin` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No `Origin`: served without CORS headers.
    NoOrigin,
    /// An allowed origin: served, and told so (`Access-Control-Allow-Origin: <it>`).
    Allowed(String),
    /// Any other origin (`null` included): 403.
    Refused,
}

impl Origins {
    /// The server's own origin on `port`, and `extra` (each `scheme://host[:port]`, compared
    /// exactly, without a trailing slash).
    pub fn new(port: u16, extra: &[String]) -> Self {
        let mut allowed = vec![format!("http://127.0.0.1:{port}")];
        allowed.extend(extra.iter().map(|o| o.trim_end_matches('/').to_string()));
        Origins { allowed }
    }

    /// The verdict for a request whose `Origin` header is `origin`.
    pub fn check(&self, origin: Option<&[u8]>) -> Verdict {
        match origin {
            None => Verdict::NoOrigin,
            Some(o) => match std::str::from_utf8(o) {
                Ok(o) if self.allowed.iter().any(|a| a == o) => Verdict::Allowed(o.to_string()),
                _ => Verdict::Refused,
            },
        }
    }
}

/// The middleware every route goes through (WebSocket upgrades included).
pub async fn guard(State(origins): State<Arc<Origins>>, req: Request, next: Next) -> Response {
    let verdict = origins.check(req.headers().get(header::ORIGIN).map(HeaderValue::as_bytes));
    match verdict {
        Verdict::Refused => (StatusCode::FORBIDDEN, "tabmux-devserver: this Origin is not allowed (see --allow-origin)").into_response(),
        Verdict::NoOrigin => next.run(req).await,
        Verdict::Allowed(o) => {
            let mut resp = next.run(req).await;
            if let Ok(v) = HeaderValue::from_str(&o) {
                resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
                resp.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_origin_and_the_named_ones_are_allowed() {
        let o = Origins::new(8123, &["http://127.0.0.1:9000/".into()]);
        assert_eq!(o.check(None), Verdict::NoOrigin);
        assert_eq!(o.check(Some(b"http://127.0.0.1:8123")), Verdict::Allowed("http://127.0.0.1:8123".into()));
        assert_eq!(o.check(Some(b"http://127.0.0.1:9000")), Verdict::Allowed("http://127.0.0.1:9000".into()));
        for foreign in [&b"http://localhost:8123"[..], b"http://127.0.0.1:8124", b"https://127.0.0.1:8123", b"http://evil.example", b"null", b"", b"\xff"] {
            assert_eq!(o.check(Some(foreign)), Verdict::Refused, "{}", String::from_utf8_lossy(foreign));
        }
    }
}
