//! What the page calls: [`TabClient`], the object `connect()` resolves to (js/index.js
//! wraps it), over the client's [`Inner`] state.

use crate::client::{Inner, Reattach, TabClient};
use crate::js::{get, js_error, json_stringify, later};
use crate::listeners::Event;
use std::rc::Rc;
use tabmux_core::{EngineError, Error, ProtocolError};
use tabmux_web::{is_frame, ToWorker};
use wasm_bindgen::prelude::*;


fn closed_error() -> JsValue {
    js_error(&Error::Protocol(ProtocolError::BadMessage("this client is closed".into())))
}

/// `v` as a function, or the error `why` (code `bad-message`).
fn function(v: JsValue, why: &str) -> Result<js_sys::Function, JsValue> {
    v.dyn_into().map_err(|_| js_error(&Error::Protocol(ProtocolError::BadMessage(why.into()))))
}

/// `s` in double quotes (for names in messages; no escaping needed for what they show).
fn quoted(s: &str) -> String {
    ["\"", s, "\""].concat()
}

impl TabClient {
    /// A direct-mode client: `attach` gets the function the in-page engine posts this
    /// client's messages to, attaches it, and returns the link to the engine. The promise
    /// resolves to the client once the engine has welcomed it.
    /// `notice` (when not `undefined`) is an error told to the first `error` listener.
    pub fn local(tab_id: String, options: &JsValue, notice: JsValue, attach: Reattach) -> js_sys::Promise {
        let inner = Inner::new(false, tab_id);
        inner.client_options(options);
        if !notice.is_undefined() {
            *inner.notice.borrow_mut() = Some(notice);
        }
        let welcomed = inner.welcome_promise();
        let weak = Rc::downgrade(&inner);
        let sink = Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
            if let Some(i) = weak.upgrade() {
                i.on_incoming(&v);
            }
        });
        let f: js_sys::Function = sink.as_ref().unchecked_ref::<js_sys::Function>().clone();
        *inner.local_sink.borrow_mut() = Some(sink);
        match attach(f, (None, 0)) {
            Ok(link) => {
                *inner.link.borrow_mut() = Some(link);
                *inner.reattach.borrow_mut() = Some(attach);
            }
            Err(e) => {
                inner.fail_connect(&e);
            }
        }
        welcomed
    }
}

impl TabClient {
    /// `"shared"` (SharedWorker) or `"direct"` (a socket in this page).
    fn transport(&self) -> String {
        self.inner.transport_name().to_string()
    }

    /// This client's id in the engine.
    fn client_id(&self) -> u32 {
        self.inner.client_id.get()
    }

    /// This page's id (shared by every client in the page).
    fn tab_id(&self) -> String {
        self.inner.tab_id.clone()
    }

    /// The last status received (`null` before the first).
    fn status(&self) -> JsValue {
        self.inner.status()
    }

    /// Adds a listener for `"message"`, `"status"`, `"error"`, `"gap"` or `"leader"`; returns
    /// its id for `off`. `exclusive` (for `"message"` only): the listener runs only for the
    /// frames the worker chose this client for, one tab per frame (`tabmux_core::leader`).
    fn on(&self, event: JsValue, listener: JsValue, exclusive: bool) -> Result<u32, JsValue> {
        const EXPECTED: &str = "(expected \"message\", \"status\", \"error\", \"gap\" or \"leader\")";
        let ev = event.as_string().as_deref().and_then(Event::parse).ok_or_else(|| {
            js_error(&Error::InvalidOptions(match event.as_string() {
                Some(name) => ["unknown event ", &quoted(&name), " ", EXPECTED].concat(),
                None => ["the event must be a string ", EXPECTED].concat(),
            }))
        })?;
        let listener = function(listener, "on takes a function as the listener")?;
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        if exclusive {
            if ev != Event::Message {
                return Err(js_error(&Error::InvalidOptions("exclusive is for \"message\" listeners".into())));
            }
            let mut listeners = self.inner.listeners.borrow_mut();
            let first = listeners.snapshot(Event::One).is_empty();
            let id = listeners.add(Event::One, listener);
            drop(listeners);
            if first {
                self.inner.post(ToWorker::Exclusive { topic: None, on: true });
            }
            return Ok(id);
        }
        if ev == Event::Error {
            // Told at once, to the first error listener only (added right after `connect()`).
            if let Some(notice) = self.inner.notice.borrow_mut().take() {
                if let Err(e) = listener.call1(&JsValue::NULL, &notice) {
                    web_sys::console::error_2(&"tabmux: a listener threw:".into(), &e);
                }
            }
        }
        Ok(self.inner.listeners.borrow_mut().add(ev, listener))
    }

    /// Removes a listener; returns whether it was there.
    fn off(&self, id: u32) -> bool {
        let removed = self.inner.listeners.borrow_mut().remove(id);
        if removed == Some(Event::One) && self.inner.listeners.borrow_mut().snapshot(Event::One).is_empty() {
            self.inner.post(ToWorker::Exclusive { topic: None, on: false });
        }
        removed.is_some()
    }

    /// Sends a frame (string, `ArrayBuffer` or typed array) on the shared socket. Resolves
    /// once it is written (told with the worker's next message to this tab, at most 20 ms
    /// after the write, or at once for a send made on hearing of the last ones:
    /// `tabmux_core::ack_hold`); while the socket is not open it waits in the engine's queue.
    /// Rejects (code `queue-full`, `expired`, …) when it will never be written.
    fn send(&self, data: JsValue) -> js_sys::Promise {
        if self.inner.closed.get() {
            return js_sys::Promise::reject(&closed_error());
        }
        if !is_frame(&data) {
            return js_sys::Promise::reject(&js_error(&Error::Protocol(ProtocolError::BadMessage(
                "send takes a string, an ArrayBuffer or a typed array".into(),
            ))));
        }
        let (id, p) = self.inner.request();
        self.inner.post_request(id, ToWorker::Send { id, data, prompt: self.inner.prompt() });
        p
    }

    /// Sends `JSON.stringify(value)` as a text frame, like `send`. A value JSON cannot write
    /// (a cycle, a BigInt, a function, `undefined`) rejects with `bad-message`.
    fn send_json(&self, value: JsValue) -> js_sys::Promise {
        match json_stringify(&value) {
            Ok(text) if text.is_string() => self.send(text),
            Ok(_) => js_sys::Promise::reject(&js_error(&Error::Protocol(ProtocolError::BadMessage("sendJson: the value has no JSON form".into())))),
            Err(e) => js_sys::Promise::reject(&js_error(&Error::Protocol(ProtocolError::BadMessage(
                ["sendJson: ", &get(&e, "message").as_string().unwrap_or_default()].concat(),
            )))),
        }
    }

    /// Calls `handler(data, topic)` for every frame of `topic` while subscribed; returns an
    /// id for `unsubscribe`. The first subscriber in the browser makes the worker send the
    /// subscribe frame; the last one leaving sends the unsubscribe frame. `exclusive`: the
    /// handler runs only for the frames the worker chose this client for, one subscribed
    /// tab per frame (`tabmux_core::leader`).
    fn subscribe(&self, topic: JsValue, handler: JsValue, exclusive: bool) -> Result<u32, JsValue> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        let Some(topic) = topic.as_string().filter(|t| !t.is_empty() && t.len() <= 256) else {
            return Err(js_error(&Error::Engine(EngineError::Topic("a topic must be a string of 1 to 256 bytes".into()))));
        };
        let handler = function(handler, "subscribe takes a function as the handler")?;
        let id = self.inner.next_handler.get() + 1;
        self.inner.next_handler.set(id);
        let first_exclusive = exclusive && !self.inner.has_exclusive(&topic);
        {
            let mut topics = self.inner.topics.borrow_mut();
            match topics.iter_mut().find(|(t, _)| *t == topic) {
                Some((_, handlers)) => handlers.push((id, handler, exclusive)),
                None => topics.push((topic.clone(), vec![(id, handler, exclusive)])),
            }
        }
        let new = !self.inner.engine_topics.borrow().contains(&topic);
        if new {
            self.inner.engine_topics.borrow_mut().push(topic.clone());
            self.inner.topic_op(true, &topic);
        }
        if first_exclusive {
            self.inner.post(ToWorker::Exclusive { topic: Some(topic), on: true });
        }
        Ok(id)
    }

    /// Removes a topic handler; the last one of a topic in this client unsubscribes it.
    /// Returns whether the handler was there.
    fn unsubscribe(&self, id: u32) -> bool {
        let (topic, exclusive, emptied) = {
            let mut topics = self.inner.topics.borrow_mut();
            let found = topics.iter().enumerate().find_map(|(at, (_, h))| Some((at, h.iter().position(|(i, _, _)| *i == id)?)));
            let Some((at, h)) = found else { return false };
            let handlers = &mut topics[at].1;
            let exclusive = handlers.remove(h).2;
            let emptied = handlers.is_empty();
            let topic = if emptied { topics.remove(at).0 } else { topics[at].0.clone() };
            (topic, exclusive, emptied)
        };
        if exclusive && !self.inner.has_exclusive(&topic) {
            self.inner.post(ToWorker::Exclusive { topic: Some(topic.clone()), on: false });
        }
        if emptied {
            let inner = self.inner.clone();
            later(move || {
                let resubscribed = inner.topics.borrow().iter().any(|(t, _)| *t == topic);
                if resubscribed || inner.closed.get() {
                    return;
                }
                let held = {
                    let mut engine_topics = inner.engine_topics.borrow_mut();
                    let at = engine_topics.iter().position(|t| *t == topic);
                    at.map(|i| engine_topics.remove(i)).is_some()
                };
                if held {
                    inner.topic_op(false, &topic);
                }
            });
        }
        true
    }

    /// Resolves to the frames the worker kept for `topic` (or for frames without a topic),
    /// oldest first. Needs `replay.frames` > 0.
    fn history(&self, topic: JsValue) -> js_sys::Promise {
        if self.inner.closed.get() {
            return js_sys::Promise::reject(&closed_error());
        }
        let topic = match topic.as_string() {
            Some(t) => Some(t),
            None if topic.is_undefined() || topic.is_null() => None,
            None => {
                return js_sys::Promise::reject(&js_error(&Error::Protocol(ProtocolError::BadMessage("history takes a topic string, or nothing".into()))))
            }
        };
        let (id, p) = self.inner.request();
        self.inner.post_request(id, ToWorker::History { id, topic });
        p
    }

    /// Resolves to the endpoint's stats (a plain object).
    fn stats(&self) -> js_sys::Promise {
        if self.inner.closed.get() {
            return js_sys::Promise::reject(&closed_error());
        }
        let (id, p) = self.inner.request();
        self.inner.post_request(id, ToWorker::Stats { id });
        p
    }

    /// Asks for a connection attempt now, if the socket is not open or opening.
    fn reconnect(&self) -> Result<(), JsValue> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        self.inner.post(ToWorker::Reconnect {});
        Ok(())
    }

    /// Reports a token (for example after sign-in). Reports from every tab within
    /// `token.debounceMs` count as one; a token equal to the current one does nothing; a new
    /// one reconnects the shared socket once. The token is never echoed in status or errors.
    /// `null` signs out: at once, every tab of this endpoint loses its socket (`signOut()`).
    fn set_token(&self, token: JsValue) -> Result<(), JsValue> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        let t = match token.as_string() {
            Some(t) => Some(t),
            None if token.is_null() => None,
            None => return Err(js_error(&Error::Protocol(ProtocolError::BadMessage("setToken takes a string, or null to sign out".into())))),
        };
        // Remembered for a replacement worker's hello, or a new attach after the page comes
        // back from the back/forward cache: newer than anything this tab heard of.
        {
            let mut w = self.inner.watch.borrow_mut();
            w.token.clone_from(&t);
            w.token_gen += 1;
        }
        self.inner.post(ToWorker::Token { token: t });
        Ok(())
    }

    /// Detaches this client; the socket closes when the last client of its endpoint leaves.
    /// Calling it again does nothing.
    fn close(&self) {
        self.inner.shutdown(true);
    }
}

/// The calls of js/index.js's `Client`, by name: one wasm export (`TabClient::call`) for all
/// of them rather than one per method (each export brings its own shim in the wasm and its
/// own method in the glue; docs/internals/sizes.md). Exported to JavaScript as the frozen
/// object `Op` that js/index.js imports, so each number is written once, here.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `transport` (getter): `"shared"` or `"direct"`.
    Transport = 0,
    /// `clientId` (getter).
    ClientId = 1,
    /// `tabId` (getter).
    TabId = 2,
    /// `status` (getter).
    Status = 3,
    /// `on(event, listener)`: the listener's id.
    On = 4,
    /// `off(id)`: whether it was there.
    Off = 5,
    /// `send(data)`: a promise.
    Send = 6,
    /// `sendJson(value)`: a promise.
    SendJson = 7,
    /// `subscribe(topic, handler)`: the handler's id.
    Subscribe = 8,
    /// `unsubscribe(id)`: whether it was there.
    Unsubscribe = 9,
    /// `history(topic?)`: a promise.
    History = 10,
    /// `stats()`: a promise.
    Stats = 11,
    /// `reconnect()`.
    Reconnect = 12,
    /// `setToken(token)`; `signOut()` is `setToken(null)`.
    SetToken = 13,
    /// `close()`.
    Close = 14,
    /// `leader` (getter): whether the worker chose this client as its endpoint's leader.
    Leader = 15,
    /// `on(event, listener, { exclusive: true })`: the listener's id.
    OnExclusive = 16,
    /// `subscribe(topic, handler, { exclusive: true })`: the handler's id.
    SubscribeExclusive = 17,
    /// The error every call of a closed client gives (returned, not thrown): what
    /// js/index.js's `Closed` holds once the wasm side is freed.
    ClosedError = 18,
}

#[wasm_bindgen]
impl TabClient {
    /// Call `op` ([`Op`]; another number throws) with up to two arguments. Getters and `off`/`unsubscribe` return
    /// their value; `send`, `sendJson`, `history` and `stats` a promise; `on`, `subscribe`,
    /// `reconnect` and `setToken` throw their error. An unknown `op` throws.
    pub fn call(&self, op: Op, a: JsValue, b: JsValue) -> Result<JsValue, JsValue> {
        // Ids are u32 numbers; anything else is no id (`false`).
        let id = |v: &JsValue| v.as_f64().filter(|n| n.fract() == 0.0 && (0.0..=4_294_967_295.0).contains(n)).map(|n| n as u32);
        Ok(match op {
            Op::Transport => self.transport().into(),
            Op::ClientId => self.client_id().into(),
            Op::TabId => self.tab_id().into(),
            Op::Status => self.status(),
            Op::On => self.on(a, b, false)?.into(),
            Op::OnExclusive => self.on(a, b, true)?.into(),
            Op::Leader => self.inner.leader.get().into(),
            Op::Off => id(&a).is_some_and(|i| self.off(i)).into(),
            Op::Send => self.send(a).into(),
            Op::SendJson => self.send_json(a).into(),
            Op::Subscribe => self.subscribe(a, b, false)?.into(),
            Op::SubscribeExclusive => self.subscribe(a, b, true)?.into(),
            Op::Unsubscribe => id(&a).is_some_and(|i| self.unsubscribe(i)).into(),
            Op::History => self.history(a).into(),
            Op::Stats => self.stats().into(),
            Op::Reconnect => self.reconnect().map(|()| JsValue::UNDEFINED)?,
            Op::SetToken => self.set_token(a).map(|()| JsValue::UNDEFINED)?,
            Op::Close => {
                self.close();
                JsValue::UNDEFINED
            }
            Op::ClosedError => closed_error(),
        })
    }
}
