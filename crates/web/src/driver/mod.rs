//! The driver: runs the engine against real WebSockets and `setTimeout`. This file: the
//! client-facing calls and the socket and timer events; `actions.rs`: carrying out the
//! engine's actions; `frames.rs`: reading frames without copying them into wasm.

use crate::protocol::{ToTab, ToWorker};
use crate::wire::{frame_len, ms_at, navigator_on_line, now_ms, object, performance_now, wall_offset_ms};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use frames::{Extracted, Extractor, PongMatcher, ServerPingMatcher};
pub use tabmux_core::engine::TokenClaim;
use tabmux_core::{
    ClientId, Delivery, EndpointId, Engine, EngineError, Error, FrameMeta, Options, ProtocolError, SendOutcome,
    SocketId, SortedMap,
};
use wasm_bindgen::prelude::*;
use web_sys::WebSocket;

mod actions;
mod frames;
mod sink;

pub use frames::SeqReader;
pub use sink::Sink;

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen through a `send` that takes any JS value, so a string frame is
    /// passed on without being copied into wasm and back.
    type AnySend;
    #[wasm_bindgen(method, js_name = send, catch)]
    fn send(this: &AnySend, data: &JsValue) -> Result<(), JsValue>;
}

struct Socket {
    ws: WebSocket,
    endpoint: EndpointId,
    pong: Option<PongMatcher>,
    server_ping: Option<ServerPingMatcher>,
    extract: Option<Extractor>,
    _listeners: [EventListener; 3],
}

/// A send waiting in the engine's queue: its data, and whom to answer.
struct PendingSend {
    request: Option<u32>,
    data: JsValue,
}

struct Inner {
    engine: Engine,
    sockets: SortedMap<SocketId, Socket>,
    sinks: SortedMap<ClientId, Sink>,
    /// Per endpoint, its clients' sinks in delivery order; rebuilt when clients change,
    /// so a frame costs one `Rc` clone, not a lookup per client.
    fanout: SortedMap<EndpointId, Rc<[Sink]>>,
    /// The armed timer and its deadline.
    timer: Option<(u64, Timeout)>,
    /// [`wall_offset_ms`] when last looked at: a jump means this context was suspended (or
    /// the OS clock stepped), see [`Inner::check_wake`].
    wall_offset: i64,
    next_send: u64,
    pending_sends: SortedMap<u64, PendingSend>,
    /// Frames kept for replay, by the engine's id (it says when to forget them).
    replay: SortedMap<u64, JsValue>,
    /// A second look at this context's `navigator.onLine`, [`NETWORK_RECHECK_MS`] after a
    /// tab's report (see [`Driver::tab_online`]).
    recheck: Option<Timeout>,
}

/// After a tab reports the network, this context's own `navigator.onLine` is read at once and
/// again this much later: a page's event and a worker's `navigator.onLine` change on separate
/// threads, in no guaranteed order (Chromium sends the worker no event to wait for).
pub const NETWORK_RECHECK_MS: u32 = 1000;

/// One engine with its sockets, timers and client sinks. Cheap to clone (shared).
#[derive(Clone)]
pub struct Driver {
    inner: Rc<RefCell<Inner>>,
}

type Posts = Vec<(Rc<[Sink]>, JsValue)>;

impl Driver {
    /// A driver whose jitter follows from `seed`; its engine starts from this context's
    /// `navigator.onLine`.
    pub fn new(seed: u64) -> Self {
        let mut engine = Engine::new(seed);
        engine.handle_online(now_ms(), navigator_on_line().unwrap_or(true));
        Driver {
            inner: Rc::new(RefCell::new(Inner {
                engine,
                sockets: SortedMap::new(),
                sinks: SortedMap::new(),
                fanout: SortedMap::new(),
                timer: None,
                wall_offset: wall_offset_ms(),
                next_send: 1,
                pending_sends: SortedMap::new(),
                replay: SortedMap::new(),
                recheck: None,
            })),
        }
    }

    /// Attaches a client; it is sent a welcome and the current status at once. `token`: the
    /// one it carries from its last worker, with the number of its change; `resume`: the
    /// last sequence number it delivered before that worker ended
    /// ([`tabmux_core::Engine::handle_hello`]).
    pub fn attach(&self, sink: Sink, tab_id: &str, options: Options, token: TokenClaim<'_>, resume: Option<u64>) -> Result<ClientId, Error> {
        let (client, endpoint, differs) = {
            let mut inner = self.inner.borrow_mut();
            let differs = inner.engine.conflicting_options(&options);
            let (client, endpoint) = inner.engine.handle_hello(now_ms(), tab_id, options, token, resume)?;
            inner.sinks.insert(client, sink.clone());
            inner.rebuild_fanout(endpoint);
            (client, endpoint, differs)
        };
        sink.post(&ToTab::Welcome { client_id: client.0 }.encode());
        if differs {
            sink.post(&ToTab::error(&Error::Engine(EngineError::OptionsDiffer), None).encode());
        }
        // The endpoint may already be open: the new client must hear its status now, even if
        // the engine has nothing new to tell the others.
        let status = self.inner.borrow().engine.status(endpoint);
        if let Some(s) = status {
            sink.post(&ToTab::Status { status: object(&s.fields()) }.encode());
        }
        self.pump();
        Ok(client)
    }

    /// Detaches a client; the last one of an endpoint closes its socket (after
    /// `idleCloseMs`, during which the next page takes it over).
    pub fn detach(&self, client: ClientId) {
        self.detach_after(client, None);
    }

    /// Detaches a client that said goodbye having handled `handled` of the frames posted to
    /// it: those posted past that, still kept for replay, go to the next page
    /// ([`tabmux_core::Engine::handle_detach_unhandled`]).
    pub fn detach_after(&self, client: ClientId, handled: Option<u64>) {
        {
            let mut inner = self.inner.borrow_mut();
            let endpoint = inner.engine.endpoint_of(client);
            let unhandled = match (handled, inner.sinks.get(&client)) {
                (Some(n), Some(sink)) => sink.unhandled(n),
                _ => Vec::new(),
            };
            inner.engine.handle_detach_unhandled(now_ms(), client, &unhandled);
            inner.sinks.remove(&client);
            if let Some(ep) = endpoint {
                inner.rebuild_fanout(ep);
            }
        }
        self.pump();
    }

    /// Sends a frame (string, `ArrayBuffer` or typed array) on the client's socket, or
    /// queues it until the socket opens. With a `request` id the client is answered
    /// [`ToTab::Sent`] once the frame is written (errors carry the id too): without waiting
    /// for a post to go with when `prompt` (`tabmux_core::ack_hold`).
    pub fn send(&self, client: ClientId, data: &JsValue, request: Option<u32>, prompt: bool) -> Result<(), Error> {
        let ack = {
            let mut inner = self.inner.borrow_mut();
            let Some(len) = frame_len(data) else {
                inner.engine.note_send_error(now_ms(), client);
                return Err(Error::Protocol(ProtocolError::BadMessage("send takes a string, an ArrayBuffer or a typed array".into())));
            };
            let send = inner.next_send;
            inner.next_send += 1;
            match inner.engine.handle_send(now_ms(), client, send, len)? {
                SendOutcome::Write(socket) => {
                    // The engine only names sockets the driver holds; a miss is refused, not a panic.
                    let Some(s) = inner.sockets.get(&socket) else {
                        return Err(Error::Engine(EngineError::NotOpen("the socket is gone".into())));
                    };
                    if let Err(e) = s.ws.unchecked_ref::<AnySend>().send(data) {
                        inner.engine.note_send_error(now_ms(), client);
                        return Err(Error::Engine(EngineError::NotOpen(js_message(&e))));
                    }
                    request.and_then(|id| inner.sinks.get(&client).map(|s| (s.clone(), id)))
                }
                SendOutcome::Queued => {
                    inner.pending_sends.insert(send, PendingSend { request, data: data.clone() });
                    None
                }
            }
        };
        if let Some((sink, id)) = ack {
            sink.post_ack(&ToTab::Sent { id }.encode(), prompt);
        }
        self.pump();
        Ok(())
    }

    /// Subscribes a client to a topic (the engine sends the subscribe frame for the first).
    pub fn subscribe(&self, client: ClientId, topic: &str) -> Result<(), Error> {
        let r = self.inner.borrow_mut().engine.handle_subscribe(now_ms(), client, topic);
        self.pump();
        r
    }

    /// Unsubscribes a client from a topic.
    pub fn unsubscribe(&self, client: ClientId, topic: &str) -> Result<(), Error> {
        let r = self.inner.borrow_mut().engine.handle_unsubscribe(now_ms(), client, topic);
        self.pump();
        r
    }

    /// The answer to a history request.
    fn history_message(&self, client: ClientId, id: u32, topic: Option<&str>) -> ToTab {
        let inner = self.inner.borrow();
        match inner.engine.history(client, topic) {
            Ok(ids) => {
                let frames: js_sys::Array = ids.iter().filter_map(|i| inner.replay.get(i)).collect();
                ToTab::History { id, frames: frames.into() }
            }
            Err(e) => ToTab::error(&e, Some(id)),
        }
    }

    /// A tab asked to reconnect now.
    pub fn reconnect(&self, client: ClientId) -> Result<(), Error> {
        let r = self.inner.borrow_mut().engine.handle_reconnect(now_ms(), client);
        self.pump();
        r
    }

    /// A tab reported a token (debounced in the engine), or signed out (`None`: at once).
    pub fn set_token(&self, client: ClientId, token: Option<&str>) -> Result<(), Error> {
        let r = match token {
            Some(t) => self.inner.borrow_mut().engine.handle_set_token(now_ms(), client, t),
            None => self.inner.borrow_mut().engine.handle_sign_out(now_ms(), client),
        };
        self.pump();
        r
    }

    /// This context's own view of the network changed, or may have: its `navigator.onLine`
    /// is read now and given to the engine (`tabmux_core::Engine::handle_online`). The worker
    /// calls this at start and on its `online`/`offline` events (Firefox and WebKit send them
    /// to a SharedWorker; Chromium does not, but its `navigator.onLine` follows the network).
    pub fn network_changed(&self) {
        let online = navigator_on_line().unwrap_or(true);
        {
            let mut inner = self.inner.borrow_mut();
            inner.check_wake(now_ms(), None);
            inner.engine.handle_online(now_ms(), online);
        }
        self.pump();
    }

    /// An attached client's page saw the browser go online or offline. The report counts
    /// with this context's own view, read now and again [`NETWORK_RECHECK_MS`] later
    /// (`tabmux_core::Engine::handle_tab_online`): no tab decides alone.
    fn tab_online(&self, client: ClientId, online: bool) -> Result<(), Error> {
        let reported = self.inner.borrow_mut().engine.handle_tab_online(now_ms(), client, online);
        self.network_changed();
        let weak = Rc::downgrade(&self.inner);
        let recheck = crate::timer::after(
            NETWORK_RECHECK_MS,
            Box::new(move || {
                if let Some(d) = Driver::from_weak(&weak) {
                    d.network_changed();
                }
            }),
        );
        self.inner.borrow_mut().recheck = Some(recheck);
        reported
    }

    /// A client's page became visible (or hidden): the leader rule's input, and a visible
    /// page wakes an endpoint that is down.
    pub fn visible(&self, client: ClientId, visible: bool) -> Result<(), Error> {
        let r = {
            let mut inner = self.inner.borrow_mut();
            inner.check_wake(now_ms(), None);
            inner.engine.handle_visibility(now_ms(), client, visible)
        };
        self.pump();
        r
    }

    /// A client's `history` or `stats` request, within its budget or refused
    /// (`tabmux_core::request_budget`).
    fn admit(&self, client: ClientId) -> Result<(), Error> {
        self.inner.borrow_mut().engine.admit_request(now_ms(), client)
    }

    /// The stats answer for a client.
    fn stats_message(&self, client: ClientId, id: u32) -> ToTab {
        match self.inner.borrow().engine.stats(client) {
            Ok(stats) => ToTab::Stats { id, stats: object(&stats.fields()), memory_bytes: wasm_memory_bytes() },
            Err(e) => ToTab::error(&e, Some(id)),
        }
    }

    /// Posts `msg` to an attached client's sink (nothing for a client that is gone).
    fn reply(&self, client: ClientId, msg: &ToTab) {
        let sink = self.inner.borrow().sinks.get(&client).cloned();
        if let Some(s) = sink {
            s.post(&msg.encode());
        }
    }

    /// Carries out a message from an attached client: the one dispatch shared by the
    /// SharedWorker (messages from a port) and direct mode (messages from the page). Answers
    /// and errors go to the client's sink. A hello is refused (the client already said it);
    /// a goodbye detaches.
    pub fn serve(&self, client: ClientId, msg: ToWorker) {
        // Requests whose answers copy data: within the client's budget, or refused.
        if let ToWorker::History { id, .. } | ToWorker::Stats { id } = msg {
            if let Err(e) = self.admit(client) {
                return self.reply(client, &ToTab::error(&e, Some(id)));
            }
        }
        let result = match msg {
            ToWorker::Frame(data) => self.send(client, &data, None, false),
            ToWorker::Send { id, data, prompt } => {
                if let Err(e) = self.send(client, &data, Some(id), prompt) {
                    self.reply(client, &ToTab::error(&e, Some(id)));
                }
                Ok(())
            }
            ToWorker::Subscribe { topic } => self.subscribe(client, &topic),
            ToWorker::Unsubscribe { topic } => self.unsubscribe(client, &topic),
            ToWorker::History { id, topic } => {
                let answer = self.history_message(client, id, topic.as_deref());
                self.reply(client, &answer);
                Ok(())
            }
            ToWorker::Stats { id } => {
                let answer = self.stats_message(client, id);
                self.reply(client, &answer);
                Ok(())
            }
            ToWorker::Token { token } => self.set_token(client, token.as_deref()),
            ToWorker::TokenAnswer { req, token, error } => {
                let result = match &error {
                    Some(e) => Err(e.as_str()),
                    None => Ok(token.as_deref()),
                };
                self.inner.borrow_mut().engine.handle_token_answer(now_ms(), client, req, result);
                self.pump();
                Ok(())
            }
            ToWorker::Reconnect {} => self.reconnect(client),
            ToWorker::Online { online } => self.tab_online(client, online),
            ToWorker::Visible { visible } => self.visible(client, visible != Some(false)),
            ToWorker::Exclusive { topic, on } => {
                self.inner.borrow_mut().engine.handle_exclusive(now_ms(), client, topic.as_deref(), on)
            }
            ToWorker::Drained { total } => {
                let sink = self.inner.borrow().sinks.get(&client).cloned();
                let caught_up = sink.map_or(Ok(false), |s| s.drained(total));
                if caught_up == Ok(true) {
                    self.inner.borrow_mut().engine.handle_lagging(now_ms(), client, false);
                    self.pump();
                }
                caught_up.map(drop)
            }
            ToWorker::Hello { .. } => Err(Error::Protocol(ProtocolError::BadMessage("this port already said hello".into()))),
            // Liveness locks are the worker's business (it handles them before this);
            // an in-page engine has none.
            ToWorker::Liveness { .. } => Ok(()),
            ToWorker::Bye { handled } => {
                self.detach_after(client, handled);
                Ok(())
            }
        };
        if let Err(e) = result {
            self.reply(client, &ToTab::error(&e, None));
        }
    }

    /// How many clients are attached.
    pub fn client_count(&self) -> usize {
        self.inner.borrow().engine.client_count()
    }

    /// Carries out the engine's actions until there are none, then arms the timer.
    /// Messages to sinks are posted with no borrow held, so a listener may call back in.
    fn pump(&self) {
        loop {
            let posts: Posts = {
                let mut inner = self.inner.borrow_mut();
                let posts = inner.run_actions(&self.inner);
                inner.arm_timer(Rc::downgrade(&self.inner));
                posts
            };
            if posts.is_empty() {
                return;
            }
            for (sinks, msg) in posts {
                for s in sinks.iter() {
                    s.post(&msg);
                }
            }
        }
    }

    fn from_weak(weak: &Weak<RefCell<Inner>>) -> Option<Driver> {
        weak.upgrade().map(|inner| Driver { inner })
    }

    fn on_open(&self, socket: SocketId) {
        {
            let mut inner = self.inner.borrow_mut();
            let protocol = inner.sockets.get(&socket).map(|s| s.ws.protocol()).unwrap_or_default();
            inner.engine.handle_open_with_protocol(now_ms(), socket, &protocol);
        }
        self.pump();
    }

    fn on_close(&self, socket: SocketId, code: u16, reason: &str) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.sockets.remove(&socket);
            inner.engine.handle_close(now_ms(), socket, code, reason);
        }
        self.pump();
    }

    fn on_message(&self, socket: SocketId, data: &JsValue) {
        // Decide under the borrow; post after releasing it (a listener may call back in).
        enum Then {
            All(Rc<[Sink]>),
            Topic(Vec<Sink>, JsValue),
            Nothing,
        }
        // The client chosen for the frame's exclusive handlers: its sink, and the message
        // that marks the frame as its own.
        let mut one: Option<(Sink, JsValue)> = None;
        let len = frame_len(data).unwrap_or(0);
        let mut kept = None;
        // One clock read for the engine and for the ports' idle rule.
        let now = performance_now();
        let then = {
            let mut guard = self.inner.borrow_mut();
            let inner = &mut *guard;
            let Some(s) = inner.sockets.get(&socket) else { return };
            let endpoint = s.endpoint;
            let pong = s.pong.as_ref().is_some_and(|m| m.matches(data, len));
            let server_ping = !pong && s.server_ping.as_ref().is_some_and(|p| p.matches(data, len));
            let mut x = match (&s.extract, pong || server_ping) {
                (Some(e), false) => e.extract(data),
                _ => Extracted::default(),
            };
            let meta =
                FrameMeta { len, pong, server_ping, key: x.key.as_deref(), seq: x.seq, topic: x.topic.as_deref() };
            match inner.engine.handle_frame(ms_at(now), socket, meta) {
                Delivery::To { clients, topic, retain, one: chosen } => {
                    let then = if topic {
                        // Only the subscribers, each told the topic so the tab can route it.
                        let sinks = clients.iter().filter_map(|c| inner.sinks.get(c).cloned()).collect();
                        // The topic was read for the engine; the message takes it (no copy).
                        let topic = x.topic.take().unwrap_or_default();
                        if let Some(sink) = chosen.and_then(|c| inner.sinks.get(&c)) {
                            let msg = ToTab::Topic { topic: topic.clone(), data: data.clone(), one: true };
                            one = Some((sink.clone(), msg.encode()));
                        }
                        Then::Topic(sinks, ToTab::Topic { topic, data: data.clone(), one: false }.encode())
                    } else {
                        if let Some(sink) = chosen.and_then(|c| inner.sinks.get(&c)) {
                            one = Some((sink.clone(), ToTab::One { data: data.clone() }.encode()));
                        }
                        inner.fanout.get(&endpoint).cloned().map_or(Then::Nothing, Then::All)
                    };
                    if let Some(id) = retain {
                        inner.replay.insert(id, data.clone());
                    }
                    kept = retain;
                    then
                }
                Delivery::Drop => Then::Nothing,
            }
        };
        let (sinks, msg): (&[Sink], &JsValue) = match &then {
            Then::All(sinks) => (sinks, data),
            Then::Topic(sinks, msg) => (sinks, msg),
            Then::Nothing => (&[], data),
        };
        // Whether the frame goes to its ports at once (sink.rs): decided once, before the
        // first of its posts.
        let idle = !sinks.is_empty() && sink::idle(now);
        sink::posting(|| {
            for s in sinks {
                let msg = match &one {
                    Some((chosen, own)) if chosen.same(s) => own,
                    _ => msg,
                };
                if s.post_frame(msg, len, kept, idle) {
                    self.lagging(s);
                }
            }
        });
        // A pong changes the status; a gap, an eviction or a new leader is an action.
        if self.inner.borrow().engine.has_actions() {
            self.pump();
        }
    }

    /// A tab just fell past the backlog bound (rare): the engine is told which.
    #[cold]
    fn lagging(&self, sink: &Sink) {
        let mut inner = self.inner.borrow_mut();
        let client = inner.sinks.iter().find(|(_, s)| s.same(sink)).map(|(c, _)| *c);
        if let Some(c) = client {
            inner.engine.handle_lagging(now_ms(), c, true);
        }
    }

    fn on_timer(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            let now = now_ms();
            let due = inner.timer.take().map(|(deadline, _)| deadline);
            inner.check_wake(now, due);
            inner.engine.handle_timeout(now);
        }
        self.pump();
    }
}

/// A jump of the wall clock against the monotonic one bigger than this reads as a suspension
/// (sleep, a frozen context) or a step of the OS clock: either way the sockets are probed.
/// Well above the drift of the two clocks between two looks (NTP slews at most 0.5 ms/s).
const WAKE_DRIFT_MS: i64 = 5_000;

/// A timer that fires this much later than its deadline reads as a suspension too (where
/// the monotonic clock counts sleep, or a timer held back while frozen).
const WAKE_LATE_MS: u64 = 10_000;

impl Inner {
    /// Looks for signs that this context was suspended since the last look (the wall
    /// clock's offset from the monotonic one jumped; the timer due at `due` fired far too
    /// late) and tells the engine ([`tabmux_core::Engine::handle_wake`]).
    fn check_wake(&mut self, now: u64, due: Option<u64>) {
        let offset = wall_offset_ms();
        let jump = offset.abs_diff(self.wall_offset);
        self.wall_offset = offset;
        let late = due.map_or(0, |d| now.saturating_sub(d));
        let jumped = jump > WAKE_DRIFT_MS as u64;
        if jumped || late > WAKE_LATE_MS {
            self.engine.handle_wake(now, if jumped { jump } else { late });
        }
    }
}

/// The message of a thrown JS value (an Error's `message`, or its string form).
pub fn js_message(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".to_string())
}

/// The size of this module's linear memory.
fn wasm_memory_bytes() -> u32 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |b| b.byte_length())
}
