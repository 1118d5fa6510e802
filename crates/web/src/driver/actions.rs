//! Carrying out the engine's actions: sockets opened and closed, frames written, tokens
//! fetched, and the messages each action sends to the clients.

use super::{js_message, AnySend, Driver, Inner, Posts, Sink, Socket};
use super::frames::{Extractor, PongMatcher, ServerPingMatcher};
use crate::protocol::ToTab;
use crate::wire::{frame_len, now_ms, object, performance_now};
use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use tabmux_core::{Action, EndpointId, EngineError, Error, SocketId};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, WebSocket};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &JsValue) -> js_sys::Promise;
}

impl Inner {
    pub(super) fn rebuild_fanout(&mut self, endpoint: EndpointId) {
        let sinks: Vec<Sink> =
            self.engine.clients_of(endpoint).iter().filter_map(|c| self.sinks.get(c).cloned()).collect();
        if sinks.is_empty() {
            self.fanout.remove(&endpoint);
        } else {
            self.fanout.insert(endpoint, sinks.into());
        }
    }

    pub(super) fn sinks_of(&self, endpoint: EndpointId) -> Rc<[Sink]> {
        self.fanout.get(&endpoint).cloned().unwrap_or_else(|| Rc::from(Vec::new()))
    }

    pub(super) fn run_actions(&mut self, me: &Rc<RefCell<Inner>>) -> Posts {
        let mut posts = Vec::new();
        // Sockets the browser refused to create, with why.
        let mut failed: Vec<(SocketId, String)> = Vec::new();
        loop {
            let Some(action) = self.engine.poll_action() else {
                // Drained: the refused sockets are inputs now, and what the engine makes of
                // them is drained in turn.
                if failed.is_empty() {
                    break;
                }
                for (socket, msg) in failed.drain(..) {
                    self.engine.handle_open_failed(now_ms(), socket, &msg);
                }
                continue;
            };
            match action {
                Action::OpenSocket { socket, url } => {
                    let endpoint = self.endpoint_for_new_socket(socket);
                    let protocols = self.engine.options_of(endpoint).map_or(&[][..], |o| &o.protocols[..]);
                    match open_socket(me, socket, &url, protocols) {
                        Ok((ws, listeners)) => {
                            let pong = self
                                .engine
                                .options_of(endpoint)
                                .and_then(|o| o.heartbeat.as_ref())
                                .map(|h| PongMatcher::new(&h.pong));
                            let extract = self.engine.options_of(endpoint).and_then(Extractor::new);
                            let server_ping = self.engine.options_of(endpoint).and_then(|o| o.server_ping.clone()).map(ServerPingMatcher::new);
                            self.sockets.insert(socket, Socket { ws, endpoint, pong, server_ping, extract, _listeners: listeners });
                        }
                        // Told to the engine after this drain, as any input.
                        Err(msg) => failed.push((socket, msg)),
                    }
                }
                Action::SendText { socket, data } => {
                    if let Some(s) = self.sockets.get(&socket) {
                        let _ = s.ws.send_with_str(&data);
                    }
                }
                Action::FetchToken { endpoint, url } => fetch_token(Rc::downgrade(me), endpoint, url),
                Action::AskToken { client, req } => {
                    if let Some(sink) = self.sinks.get(&client) {
                        posts.push((Rc::from(vec![sink.clone()]), ToTab::AskToken { req }.encode()));
                    }
                }
                Action::Token { clients, token, gen } => {
                    let sinks: Vec<Sink> = clients.iter().filter_map(|c| self.sinks.get(c).cloned()).collect();
                    if !sinks.is_empty() {
                        posts.push((sinks.into(), ToTab::Token { token, gen }.encode()));
                    }
                }
                Action::WriteQueued { socket, client, send } => {
                    let Some(p) = self.pending_sends.remove(&send) else { continue };
                    let written = self.sockets.get(&socket).map(|s| s.ws.unchecked_ref::<AnySend>().send(&p.data));
                    let reply = match written {
                        Some(Ok(())) => p.request.map(|id| ToTab::Sent { id }),
                        Some(Err(e)) => Some(ToTab::error(&Error::Engine(EngineError::NotOpen(js_message(&e))), p.request)),
                        None => Some(ToTab::error(&Error::Engine(EngineError::NotOpen("closed".into())), p.request)),
                    }
                    .map(|m| m.encode());
                    if let (Some(msg), Some(sink)) = (reply, self.sinks.get(&client)) {
                        posts.push((Rc::from(vec![sink.clone()]), msg));
                    }
                }
                Action::SendFailed { client, send, error } => {
                    let request = self.pending_sends.remove(&send).and_then(|p| p.request);
                    if let Some(sink) = self.sinks.get(&client) {
                        posts.push((Rc::from(vec![sink.clone()]), ToTab::error(&error, request).encode()));
                    }
                }
                Action::OpenFailed { endpoint, message } => {
                    // The engine redacted the token from the message.
                    posts.push((self.sinks_of(endpoint), ToTab::error(&Error::Engine(EngineError::OpenFailed(message)), None).encode()));
                }
                Action::Gap { endpoint, from, to } => {
                    posts.push((self.sinks_of(endpoint), ToTab::Gap { from, to }.encode()));
                }
                Action::Forget { replay } => {
                    self.replay.remove(&replay);
                }
                Action::Redeliver { client, topic, replay } => {
                    // Posted like frames that just arrived (the engine counted them).
                    let Some(sink) = self.sinks.get(&client).cloned() else { continue };
                    for id in replay {
                        let Some(data) = self.replay.get(&id) else { continue };
                        let len = frame_len(data).unwrap_or(0);
                        let msg = match &topic {
                            Some(t) => ToTab::Topic { topic: t.clone(), data: data.clone(), one: false }.encode(),
                            None => data.clone(),
                        };
                        // One port: whether to post at once is read for each frame (the first may go at once,
                        // the rest then join a batch).
                        if sink.post_frame(&msg, len, Some(id), super::sink::idle(performance_now())) {
                            self.engine.handle_lagging(now_ms(), client, true);
                        }
                    }
                }
                Action::CloseSocket { socket, code, reason } => {
                    if let Some(s) = self.sockets.remove(&socket) {
                        // Dropping `s` removes its listeners: no event of it reaches the engine.
                        let _ = s.ws.close_with_code_and_reason(code, &reason);
                    }
                }
                Action::Log { clients, event, .. } => {
                    // Only to the clients that asked (the engine makes none otherwise).
                    let sinks: Vec<Sink> = clients.iter().filter_map(|c| self.sinks.get(c).cloned()).collect();
                    if !sinks.is_empty() {
                        posts.push((sinks.into(), ToTab::Log { event: object(&event.fields()) }.encode()));
                    }
                }
                Action::Leader { client, leader } => {
                    if let Some(sink) = self.sinks.get(&client) {
                        posts.push((Rc::from(vec![sink.clone()]), ToTab::Leader { leader }.encode()));
                    }
                }
                Action::Status { endpoint, status } => {
                    posts.push((self.sinks_of(endpoint), ToTab::Status { status: object(&status.fields()) }.encode()));
                }
            }
        }
        posts
    }

    /// The endpoint a socket the engine just asked for belongs to.
    fn endpoint_for_new_socket(&self, socket: SocketId) -> EndpointId {
        self.engine.endpoint_of_socket(socket).expect("the engine names sockets it holds")
    }

    pub(super) fn arm_timer(&mut self, weak: Weak<RefCell<Inner>>) {
        let Some(deadline) = self.engine.poll_timeout() else {
            self.timer = None;
            return;
        };
        if self.timer.as_ref().is_some_and(|(d, _)| *d == deadline) {
            return;
        }
        // setTimeout takes a signed 32-bit delay (2^31 ms or more fires at once): a longer
        // wait is cut to the most it takes, and the early call finds nothing due and arms
        // the rest.
        let delay = deadline.saturating_sub(now_ms()).min(MAX_TIMER_MS) as u32;
        let t = crate::timer::after(
            delay,
            Box::new(move || {
                if let Some(d) = Driver::from_weak(&weak) {
                    d.on_timer();
                }
            }),
        );
        self.timer = Some((deadline, t));
    }
}

/// The longest delay `setTimeout` takes (2^31 − 1 ms, about 24.8 days).
pub(crate) const MAX_TIMER_MS: u64 = i32::MAX as u64;

fn open_socket(
    me: &Rc<RefCell<Inner>>,
    socket: SocketId,
    url: &str,
    protocols: &[String],
) -> Result<(WebSocket, [EventListener; 3]), String> {
    let ws = if protocols.is_empty() {
        WebSocket::new(url)
    } else {
        let list: js_sys::Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
        WebSocket::new_with_str_sequence(url, &list)
    }
    .map_err(|e| js_message(&e))?;
    ws.set_binary_type(BinaryType::Arraybuffer);
    let weak = Rc::downgrade(me);
    let w = weak.clone();
    let on_open = EventListener::new(&ws, "open", move |_| {
        if let Some(d) = Driver::from_weak(&w) {
            d.on_open(socket);
        }
    });
    let w = weak.clone();
    let on_message = EventListener::new(&ws, "message", move |ev| {
        if let Some(d) = Driver::from_weak(&w) {
            d.on_message(socket, &crate::wire::event_data(ev));
        }
    });
    let on_close = EventListener::new(&ws, "close", move |ev| {
        if let (Some(d), Some(ev)) = (Driver::from_weak(&weak), ev.dyn_ref::<CloseEvent>()) {
            d.on_close(socket, ev.code(), &ev.reason());
        }
    });
    Ok((ws, [on_open, on_message, on_close]))
}

/// Fetches the token (with credentials) and reports the result to the engine.
fn fetch_token(weak: Weak<RefCell<Inner>>, endpoint: EndpointId, url: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let result = fetch_text(&url).await;
        if let Some(d) = Driver::from_weak(&weak) {
            {
                let engine = &mut d.inner.borrow_mut().engine;
                match result {
                    // Not signed in (any more): the endpoint signs out for every tab.
                    Err(Fetched::Refused(status)) => engine.handle_token_refused(now_ms(), endpoint, status),
                    Err(Fetched::Failed(e)) => engine.handle_token_fetched(now_ms(), endpoint, Err(&e)),
                    Ok(t) => engine.handle_token_fetched(now_ms(), endpoint, Ok(&t)),
                }
            }
            d.pump();
        }
    });
}

/// Why a token fetch brought no token.
enum Fetched {
    /// HTTP 401 or 403.
    Refused(u16),
    /// Anything else, said.
    Failed(String),
}

impl From<String> for Fetched {
    fn from(s: String) -> Self {
        Fetched::Failed(s)
    }
}

async fn fetch_text(url: &str) -> Result<String, Fetched> {
    let init = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&init, &"credentials".into(), &"include".into());
    let _ = js_sys::Reflect::set(&init, &"cache".into(), &"no-store".into());
    let resp = wasm_bindgen_futures::JsFuture::from(global_fetch(url, &init)).await.map_err(|e| js_message(&e))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| Fetched::Failed("fetch did not return a Response".to_string()))?;
    match resp.status() {
        401 | 403 => return Err(Fetched::Refused(resp.status())),
        s if !resp.ok() => return Err(Fetched::Failed(["HTTP ", &tabmux_core::error::decimal(u64::from(s))].concat())),
        _ => {}
    }
    let text = resp.text().map_err(|e| js_message(&e))?;
    let text = wasm_bindgen_futures::JsFuture::from(text).await.map_err(|e| js_message(&e))?;
    text.as_string().ok_or_else(|| Fetched::Failed("the token response is not text".to_string()))
}
