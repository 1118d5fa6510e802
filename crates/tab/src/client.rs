//! The client a page holds: listeners, subscriptions and pending requests, routed from
//! whatever the engine says. The engine is reached through a [`Link`]: a SharedWorker's
//! port (`shared.rs`, this module's own transport) or the in-page engine of direct mode
//! (the `tabmux-direct` module, loaded only where it runs).

use crate::js::{coded_error, get, js_error, json_parse};
use crate::listeners::{emit, Event, Listeners};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use tabmux_core::ack_hold::Heard;
use tabmux_core::worker_life::{Welcome, WorkerLife};
use tabmux_core::{EngineError, Error, ErrorCode, WorkerError};
use tabmux_web::locks::Held;
use tabmux_web::{performance_now, SeqReader, ToTab, ToWorker};
use wasm_bindgen::prelude::*;

/// The way to the engine: a worker's port, or the engine in this page.
pub trait Link {
    /// Hands a message to the engine. `false` when nothing can take it (a replacement
    /// worker is being started).
    fn post(&self, msg: ToWorker) -> bool;
    /// Ends the link, after a goodbye when `say_bye`.
    fn end(&self, say_bye: bool);
}

type Resolvers = (js_sys::Function, js_sys::Function);

/// What a shared client keeps to replace its worker (see `lifetime.rs`).
#[derive(Default)]
pub(crate) struct WorkerWatch {
    /// The hello's options (a structured copy of the page's) and the worker script URL.
    pub hello: Option<(JsValue, String)>,
    /// The name of the Web Lock this client holds while it lives, and its release.
    pub lock: Option<(String, Held)>,
    /// Where this client is with its worker (`tabmux_core::worker_life`): joining, attached,
    /// lost, dying, replacing, in the back/forward cache, rejoining, closed. `None` in direct
    /// mode.
    pub life: Option<WorkerLife>,
    /// The timer for the life's deadline (`WorkerLife::poll_timeout`).
    pub life_timer: Option<Timeout>,
    /// The last token this client set or its worker told (`None`: none, or signed out),
    /// told again to a replacement worker with `token_gen`, the number of that change.
    pub token: Option<String>,
    /// See `token`.
    pub token_gen: u64,
    /// `mode: "auto"`: the page's way to direct mode, taken if the worker fails before its
    /// welcome (see `connect_shared`).
    pub fallback: Option<js_sys::Function>,
    /// How long a worker has to welcome this client (`workerTimeoutMs`).
    pub timeout_ms: u32,
    /// This page's build id (the worker's name and the hello carry it).
    pub build: String,
    /// The life lock the worker holds for this client, as its `alive` named it, while this
    /// client waits on it. A grant of any other (one the worker let go of on purpose, or an
    /// older worker's) means nothing.
    pub worker_lock: Option<String>,
    /// Takes the locks again if the page is still here after `beforeunload`.
    pub relock_timer: Option<Timeout>,
    /// Before an unload: the worker's life lock for this client, and the release of this
    /// client's own lock, let go once that life lock is granted (the worker has read that this
    /// client lets its lock go; released earlier, the worker could read it as a death).
    pub letting_go: Option<(String, Held)>,
}

impl WorkerWatch {
    /// Stops every timer and every wait on the worker, and hands back this client's locks
    /// (its own and one being let go) for the caller to drop when it is done.
    pub(crate) fn stop(&mut self) -> (Option<(String, Held)>, Option<(String, Held)>) {
        self.life_timer.take();
        self.relock_timer.take();
        self.worker_lock.take();
        (self.lock.take(), self.letting_go.take())
    }
}

/// How long `connect()` (or a replacement) waits for the worker's welcome, unless
/// `workerTimeoutMs` says otherwise.
pub(crate) const WELCOME_TIMEOUT_MS: u32 = 10_000;

/// A page's connection to a shared (or, in direct mode, its own) WebSocket. Its methods
/// (what the page calls) are in `api.rs`.
#[wasm_bindgen]
pub struct TabClient {
    pub(crate) inner: Rc<Inner>,
}

/// Direct mode: attaches the client's sink to the in-page engine, with the client's last
/// token (again when the page comes back from the back/forward cache).
pub type Reattach = Box<dyn Fn(js_sys::Function, (Option<String>, u64)) -> Result<Rc<dyn Link>, Error>>;

pub(crate) struct Inner {
    pub link: RefCell<Option<Rc<dyn Link>>>,
    /// `true` for the SharedWorker transport, `false` for direct mode.
    pub shared: bool,
    pub tab_id: String,
    pub(crate) listeners: RefCell<Listeners>,
    pub(crate) status: RefCell<JsValue>,
    pub(crate) client_id: Cell<u32>,
    pub connecting: RefCell<Option<Resolvers>>,
    /// Requests waiting for their answer, by id (a handful at a time: a list is enough).
    pub(crate) pending: RefCell<Vec<(u32, Resolvers)>>,
    pub(crate) next_request: Cell<u32>,
    /// Whether a send made now answers acknowledgements just read, and asks for its own at
    /// once (`tabmux_core::ack_hold`).
    pub(crate) heard: Cell<Heard>,
    pub closed: Cell<bool>,
    /// `options.json`: text frames reach this client's handlers parsed (once per frame).
    pub(crate) json: Cell<bool>,
    /// `options.debug` (console) or `options.logger`: where the engine's log events go.
    pub(crate) debug: Cell<bool>,
    pub(crate) logger: RefCell<Option<js_sys::Function>>,
    /// `options.token.get`: the page's function the engine asks for a token.
    pub(crate) token_get: RefCell<Option<js_sys::Function>>,
    /// In the back/forward cache: detached from the engine, everything else kept.
    pub suspended: Cell<bool>,
    /// pagehide (goodbye), online/offline and visibilitychange (forwarded to the engine).
    pub(crate) page_listeners: RefCell<Vec<EventListener>>,
    /// Topic → its handlers in this client (the engine holds one subscription per client),
    /// each with whether it is exclusive.
    pub(crate) topics: RefCell<Vec<(String, Vec<(u32, js_sys::Function, bool)>)>>,
    /// Whether the worker chose this client as its endpoint's leader (`tabmux_core::leader`).
    pub(crate) leader: Cell<bool>,
    /// Topics the engine holds for this client. An unsubscribe waits a microtask, so an
    /// unsubscribe immediately followed by a subscribe (React StrictMode's remount) sends
    /// nothing at all.
    pub(crate) engine_topics: RefCell<Vec<String>>,
    pub(crate) next_handler: Cell<u32>,
    /// This client, for callbacks that outlive a borrow.
    pub this: Weak<Inner>,
    /// Shared mode: the worker's liveness and its replacement.
    pub watch: RefCell<WorkerWatch>,
    /// Direct mode: the function the in-page engine posts to.
    pub(crate) local_sink: RefCell<Option<Closure<dyn Fn(JsValue)>>>,
    /// Direct mode: how to attach to the in-page engine again.
    pub(crate) reattach: RefCell<Option<Reattach>>,
    /// This client itself while `connect()` waits: nothing else holds it until the promise
    /// hands it to the page. Dropped at the welcome or at the failure.
    pub(crate) connecting_self: RefCell<Option<Rc<Inner>>>,
    /// Direct mode taken over from a failed worker: its `worker-failed` error, told to the
    /// first `error` listener when it is added (the page adds them after `connect()`).
    pub(crate) notice: RefCell<Option<JsValue>>,
    /// `sequence.key`, read here too: this page delivers each number once, in order, also
    /// across a worker's replacement (whose stream resumes after the lowest number the tabs
    /// had, so a tab ahead of the others sees some again).
    pub(crate) seq: RefCell<Option<SeqReader>>,
    /// The last sequence number this page delivered.
    pub(crate) last_seq: Cell<Option<u64>>,
    /// Set when this page says hello to a new worker: the next numbered frame tells a gap
    /// the worker could not see (this page was behind the number it resumed after).
    pub(crate) check_gap: Cell<bool>,
}


impl Inner {
    pub(crate) fn new(shared: bool, tab_id: String) -> Rc<Inner> {
        Rc::new_cyclic(|this| Inner {
            link: RefCell::new(None),
            shared,
            tab_id,
            listeners: RefCell::new(Listeners::default()),
            status: RefCell::new(JsValue::NULL),
            client_id: Cell::new(0),
            connecting: RefCell::new(None),
            pending: RefCell::new(Vec::new()),
            next_request: Cell::new(0),
            heard: Cell::default(),
            closed: Cell::new(false),
            json: Cell::new(false),
            debug: Cell::new(false),
            logger: RefCell::new(None),
            token_get: RefCell::new(None),
            suspended: Cell::new(false),
            page_listeners: RefCell::new(Vec::new()),
            topics: RefCell::new(Vec::new()),
            leader: Cell::new(false),
            engine_topics: RefCell::new(Vec::new()),
            next_handler: Cell::new(0),
            this: this.clone(),
            watch: RefCell::new(WorkerWatch::default()),
            local_sink: RefCell::new(None),
            reattach: RefCell::new(None),
            connecting_self: RefCell::new(None),
            notice: RefCell::new(None),
            seq: RefCell::new(None),
            last_seq: Cell::new(None),
            check_gap: Cell::new(false),
        })
    }

    /// The promise `connect()` returns: resolved with the client at the first welcome,
    /// rejected by an error before it (and the client shut down). The client keeps itself
    /// alive until then.
    pub(crate) fn welcome_promise(self: &Rc<Self>) -> js_sys::Promise {
        *self.connecting_self.borrow_mut() = Some(self.clone());
        js_sys::Promise::new(&mut |resolve, reject| {
            *self.connecting.borrow_mut() = Some((resolve, reject));
        })
    }

    /// Reads the options this client itself acts on (the engine validates them all).
    pub(crate) fn client_options(&self, options: &JsValue) {
        self.json.set(get(options, "json").as_bool() == Some(true));
        let logger = get(options, "logger").dyn_into::<js_sys::Function>().ok();
        self.debug.set(logger.is_some() || get(options, "debug").as_bool() == Some(true));
        *self.logger.borrow_mut() = logger;
        *self.token_get.borrow_mut() = get(&get(options, "token"), "get").dyn_into::<js_sys::Function>().ok();
        *self.seq.borrow_mut() = get(&get(options, "sequence"), "key").as_string().map(|k| SeqReader::new(&k));
    }

    /// Calls `token.get` for the engine's question `req` and posts the answer: the token, none
    /// (it resolved to null or undefined: signed out), or why it failed (it threw, rejected,
    /// or resolved to something else).
    fn answer_token(&self, req: u64) {
        let answer = move |weak: &Weak<Inner>, result: Result<Option<String>, String>| {
            if let Some(i) = weak.upgrade() {
                i.post(ToWorker::answer(req, result));
            }
        };
        let Some(getter) = self.token_get.borrow().clone() else {
            return answer(&self.this, Err("this tab has no token.get".into()));
        };
        let promise = match getter.call0(&JsValue::NULL) {
            Ok(v) => js_sys::Promise::resolve(&v),
            Err(e) => return answer(&self.this, Err(tabmux_web::js_message(&e))),
        };
        let (ok, fail) = (self.this.clone(), self.this.clone());
        let ok = crate::js::once_js(Box::new(move |v: JsValue| {
            let result = match v.as_string() {
                Some(t) => Ok(Some(t)),
                None if v.is_null() || v.is_undefined() => Ok(None),
                None => Err("token.get resolved to something that is not a string".into()),
            };
            answer(&ok, result);
        }));
        let fail = crate::js::once_js(Box::new(move |e: JsValue| answer(&fail, Err(tabmux_web::js_message(&e)))));
        // `once_into_js` closures free themselves when called; `then` calls one of the two
        // (the other is reclaimed with the promise).
        if let Ok(then) = get(&promise, "then").dyn_into::<js_sys::Function>() {
            let _ = then.call2(&promise, &ok, &fail);
        }
    }

    /// Whether a frame is new to this page: with `sequence` on, its number is above the last
    /// one delivered (a worker's replacement resumes the stream after the lowest number any
    /// tab had). The first numbered frame after such a hello that skips numbers is a `gap`.
    fn fresh(&self, data: &JsValue) -> bool {
        // Direct mode keeps its engine (and its numbers) for the page's whole life.
        if !self.shared {
            return true;
        }
        let Some(n) = self.seq.borrow().as_ref().and_then(|r| r.read(data)) else { return true };
        match self.last_seq.get() {
            Some(last) if n <= last => return false,
            Some(last) if n > last + 1 && self.check_gap.get() => self.on_message(ToTab::Gap { from: last + 1, to: n - 1 }),
            _ => {}
        }
        self.check_gap.set(false);
        self.last_seq.set(Some(n));
        true
    }

    /// Whether this client logs (the engine sends it log events only then).
    pub(crate) fn logs(&self) -> bool {
        self.debug.get()
    }

    /// A debug-log event to this client's logger, or to the console with `debug: true`.
    pub(crate) fn log(&self, event: &JsValue) {
        let logger = self.logger.borrow().clone();
        match logger {
            Some(f) => {
                if let Err(e) = f.call1(&JsValue::NULL, event) {
                    web_sys::console::error_2(&"tabmux: the logger threw:".into(), &e);
                }
            }
            None => web_sys::console::debug_2(&"tabmux:".into(), event),
        }
    }

    /// A frame as this client's handlers get it: untouched, or with `json` its parsed value.
    /// A frame that is not JSON text goes to the `error` listeners (code `bad-json`, the
    /// frame itself in `error.frame`) and to no handler.
    pub(crate) fn payload(&self, data: JsValue) -> Option<JsValue> {
        if !self.json.get() {
            return Some(data);
        }
        let parsed = if data.is_string() { json_parse(&data).map_err(|e| get(&e, "message")) } else { Err(JsValue::UNDEFINED) };
        match parsed {
            Ok(v) => Some(v),
            Err(why) => {
                let why = why.as_string().unwrap_or_else(|| "a binary frame".into());
                let err = coded_error(ErrorCode::BadJson, &["tabmux: json is on and a frame is not JSON text: ", &why].concat());
                let _ = js_sys::Reflect::set(&err, &"frame".into(), &data);
                self.report(&err);
                None
            }
        }
    }

    /// An error that answers no request: to the `error` listeners, or to the console when
    /// there are none.
    pub(crate) fn report(&self, err: &JsValue) {
        let list = self.listeners.borrow_mut().snapshot(Event::Error);
        if emit(&list, err) == 0 {
            web_sys::console::warn_1(err);
        }
    }

    /// The request with this id, no longer pending.
    pub(crate) fn take_pending(&self, id: u32) -> Option<Resolvers> {
        let mut pending = self.pending.borrow_mut();
        let i = pending.iter().position(|(p, _)| *p == id)?;
        Some(pending.swap_remove(i).1)
    }

    /// Rejects `connect()`'s promise, if it is still waiting, and ends this client. In
    /// `mode: "auto"` a `worker-failed` error instead hands `connect()` over to direct mode:
    /// its promise follows the direct client's, which tells the error as its notice.
    pub(crate) fn reject_connect(&self, err: &JsValue) -> bool {
        let Some((resolve, reject)) = self.connecting.borrow_mut().take() else { return false };
        let (fallback, hello) = {
            let mut w = self.watch.borrow_mut();
            (w.fallback.take(), w.hello.as_ref().map(|(o, _)| o.clone()))
        };
        // A worker that answered with an error is alive: the goodbye frees its port.
        self.shutdown(true);
        let worker_failed = get(err, "code").as_string().as_deref() == Some(ErrorCode::WorkerFailed.as_str());
        match (fallback, hello) {
            (Some(direct), Some(options)) if worker_failed => {
                web_sys::console::warn_2(&"tabmux: falling back to direct mode:".into(), err);
                let _ = match direct.call2(&JsValue::NULL, &options, err) {
                    Ok(p) => resolve.call1(&JsValue::NULL, &p),
                    Err(e) => reject.call1(&JsValue::NULL, &e),
                };
            }
            _ => drop(reject.call1(&JsValue::NULL, err)),
        }
        // Last: this may drop the client itself.
        self.connecting_self.borrow_mut().take();
        true
    }

    /// Hands a message to the engine; `false` while there is no link.
    pub(crate) fn post(&self, msg: ToWorker) -> bool {
        // Cloned out of the cell: in direct mode the engine answers synchronously, and a
        // listener it calls may close this client.
        let link = self.link.borrow().clone();
        link.is_some_and(|l| l.post(msg))
    }

    /// Posts a request; with nothing to take it (a replacement worker is starting) it is
    /// rejected at once rather than left waiting.
    pub(crate) fn post_request(&self, id: u32, msg: ToWorker) {
        if !self.post(msg) {
            let e = Error::Worker(WorkerError::Crashed("a replacement worker is starting; try again shortly".into()));
            self.on_message(ToTab::error(&e, Some(id)));
        }
    }

    /// A new request id with its promise, settled by the matching answer.
    pub(crate) fn request(&self) -> (u32, js_sys::Promise) {
        let id = self.next_request.get().wrapping_add(1);
        self.next_request.set(id);
        let p = js_sys::Promise::new(&mut |resolve, reject| {
            self.pending.borrow_mut().push((id, (resolve, reject)));
        });
        (id, p)
    }

    /// Rejects everything waiting on an answer with `err`.
    pub(crate) fn reject_pending(&self, err: &JsValue) {
        for (_, (_, reject)) in std::mem::take(&mut *self.pending.borrow_mut()) {
            let _ = reject.call1(&JsValue::NULL, err);
        }
    }

    pub(crate) fn fail_connect(&self, e: &Error) {
        self.reject_connect(&js_error(e));
    }

    /// Sets the status and tells the `status` listeners.
    pub(crate) fn set_status(&self, status: JsValue) {
        *self.status.borrow_mut() = status.clone();
        let list = self.listeners.borrow_mut().snapshot(Event::Status);
        emit(&list, &status);
    }

    pub(crate) fn status(&self) -> JsValue {
        self.status.borrow().clone()
    }

    /// The topics the engine holds for this client (subscribed again on a new worker).
    pub(crate) fn engine_topics(&self) -> Vec<String> {
        self.engine_topics.borrow().clone()
    }

    /// A message from the engine, as posted on a port (or by the in-page engine).
    /// Returns how many frames it held (data and topic frames: what the worker's backlog
    /// counts).
    pub(crate) fn on_incoming(&self, data: &JsValue) -> u64 {
        self.heard.set(Heard::READING);
        let mut acks = false;
        // Several messages posted together: each as if it came alone, in order.
        let mut frames = 0;
        ToTab::read_post(data, |item, msg| match msg {
            Ok(msg) => {
                frames += u64::from(matches!(msg, ToTab::Frame(_) | ToTab::Topic { .. }));
                acks |= matches!(msg, ToTab::Sent { .. });
                self.on_message(msg);
            }
            Err(e) => web_sys::console::warn_3(&"tabmux: unreadable message from the worker:".into(), &e.message().into(), item),
        });
        self.heard.set(Heard::read(acks.then(performance_now)));
        frames
    }

    /// Whether a send made now answers acknowledgements just read (`tabmux_core::ack_hold`).
    pub(crate) fn prompt(&self) -> bool {
        self.heard.get().prompt(performance_now)
    }

    pub(crate) fn on_message(&self, msg: ToTab) {
        match msg {
            ToTab::Frame(data) => self.frame(data, false),
            ToTab::One { data } => self.frame(data, true),
            ToTab::Leader { leader } => self.set_leader(leader),
            ToTab::Welcome { client_id } => {
                self.client_id.set(client_id);
                self.post_visibility();
                // The deadline for this welcome (first connect, replacement, return) is met.
                let welcome = self.welcomed();
                let connecting = self.connecting.borrow_mut().take();
                let me = self.connecting_self.borrow_mut().take();
                if let (Some((resolve, _)), Some(me)) = (connecting, me) {
                    me.watch_page();
                    let _ = resolve.call1(&JsValue::NULL, &TabClient { inner: me }.into());
                }
                if matches!(welcome, Some(Welcome::Replaced | Welcome::Restored)) {
                    self.replaced(welcome == Some(Welcome::Restored));
                }
            }
            ToTab::Alive { lock } => self.watch_worker(&lock),
            ToTab::AskToken { req } => self.answer_token(req),
            ToTab::Token { token, gen } => {
                let mut w = self.watch.borrow_mut();
                (w.token, w.token_gen) = (token, gen);
            }
            ToTab::Log { event } => {
                if self.logs() {
                    self.log(&event);
                }
            }
            ToTab::Status { status } => self.set_status(status),
            ToTab::Sent { id } => {
                if let Some((resolve, _)) = self.take_pending(id) {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
            ToTab::History { id, frames } => {
                if let Some((resolve, _)) = self.take_pending(id) {
                    let _ = resolve.call1(&JsValue::NULL, &frames);
                }
            }
            ToTab::Topic { topic, data, one } => {
                if !self.fresh(&data) {
                    return;
                }
                // Exclusive handlers only for the frames this client was chosen for.
                let handlers: Vec<js_sys::Function> = self
                    .topics
                    .borrow()
                    .iter()
                    .find(|(t, _)| *t == topic)
                    .map_or_else(Vec::new, |(_, h)| h.iter().filter(|(_, _, x)| one || !x).map(|(_, f, _)| f.clone()).collect());
                if handlers.is_empty() {
                    return;
                }
                let Some(data) = self.payload(data) else { return };
                for f in handlers {
                    if let Err(e) = f.call2(&JsValue::NULL, &data, &topic.as_str().into()) {
                        web_sys::console::error_2(&"tabmux: a topic handler threw:".into(), &e);
                    }
                }
            }
            ToTab::Lagged { missed } => {
                let err = js_error(&Error::Engine(EngineError::Lagged(missed)));
                let _ = js_sys::Reflect::set(&err, &"missed".into(), &(missed as f64).into());
                self.report(&err);
            }
            ToTab::Gap { from, to } => {
                let gap = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&gap, &"from".into(), &(from as f64).into());
                let _ = js_sys::Reflect::set(&gap, &"to".into(), &(to as f64).into());
                let list = self.listeners.borrow_mut().snapshot(Event::Gap);
                emit(&list, &gap);
            }
            ToTab::Stats { id, stats, memory_bytes } => {
                let _ = js_sys::Reflect::set(&stats, &"memoryBytes".into(), &memory_bytes.into());
                let _ = js_sys::Reflect::set(&stats, &"transport".into(), &self.transport_name().into());
                if let Some((resolve, _)) = self.take_pending(id) {
                    let _ = resolve.call1(&JsValue::NULL, &stats);
                }
            }
            ToTab::Error { code, message, id, reason } => {
                let err = coded_error(code, &message);
                if let Some((_, reject)) = id.and_then(|id| self.take_pending(id)) {
                    let _ = reject.call1(&JsValue::NULL, &err);
                    return;
                }
                if self.reject_connect(&err) {
                    return;
                }
                if code == ErrorCode::WorkerCrashed {
                    // The worker is gone: told and replaced by worker_lost, once per worker
                    // whichever news comes first (this report or its life lock).
                    let why = reason.as_deref().unwrap_or(&message);
                    let generation = self.watch.borrow().life.as_ref().map_or(0, WorkerLife::generation);
                    self.worker_lost(generation, why);
                } else {
                    self.report(&err);
                }
            }
        }
    }

    pub(crate) fn transport_name(&self) -> &'static str {
        if self.shared {
            "shared"
        } else {
            "direct"
        }
    }

    pub(crate) fn topic_op(&self, subscribe: bool, topic: &str) {
        let topic = topic.to_string();
        self.post(if subscribe { ToWorker::Subscribe { topic } } else { ToWorker::Unsubscribe { topic } });
    }

    /// Subscribes again every topic this client holds, and registers its exclusive handlers
    /// again (a replacement worker knows none).
    pub(crate) fn resubscribe(&self) {
        for t in self.engine_topics() {
            self.topic_op(true, &t);
            if self.has_exclusive(&t) {
                self.post(ToWorker::Exclusive { topic: Some(t), on: true });
            }
        }
        if !self.listeners.borrow_mut().snapshot(Event::One).is_empty() {
            self.post(ToWorker::Exclusive { topic: None, on: true });
        }
    }

    /// Whether this client has an exclusive handler for `topic`.
    pub(crate) fn has_exclusive(&self, topic: &str) -> bool {
        self.topics.borrow().iter().any(|(t, h)| t == topic && h.iter().any(|(_, _, x)| *x))
    }

    /// A data frame: to the `message` listeners, and with `one` (the worker chose this client
    /// for it) to the exclusive ones too. Parsed only when someone listens, once for all.
    fn frame(&self, data: JsValue, one: bool) {
        if !self.fresh(&data) {
            return;
        }
        let list = self.listeners.borrow_mut().snapshot(Event::Message);
        let exclusive = if one { self.listeners.borrow_mut().snapshot(Event::One) } else { Default::default() };
        if list.is_empty() && exclusive.is_empty() {
            return;
        }
        if let Some(data) = self.payload(data) {
            emit(&list, &data);
            emit(&exclusive, &data);
        }
    }

    /// Tells the engine whether this page is visible (the leader rule prefers visible pages).
    pub(crate) fn post_visibility(&self) {
        let state = get(&get(&js_sys::global(), "document"), "visibilityState").as_string();
        self.post(ToWorker::Visible { visible: Some(state.as_deref() != Some("hidden")) });
    }

    /// Whether this client leads; a change is told to the `leader` listeners.
    pub(crate) fn set_leader(&self, leader: bool) {
        if self.leader.replace(leader) != leader {
            let list = self.listeners.borrow_mut().snapshot(Event::Leader);
            emit(&list, &leader.into());
        }
    }

    /// Detaches from the engine and drops every listener and pending request.
    pub(crate) fn shutdown(&self, say_bye: bool) {
        if self.closed.replace(true) {
            return;
        }
        // No longer the leader from before the engine hears of it: never two at once.
        self.set_leader(false);
        if let Some(link) = self.link.borrow_mut().take() {
            link.end(say_bye);
        }
        self.reject_pending(&js_error(&Error::Engine(EngineError::NotOpen("closed".into()))));
        // Its status listeners (a React hook's) hear that it is closed, last.
        let last = js_sys::Object::assign(&js_sys::Object::new(), self.status().unchecked_ref());
        let _ = js_sys::Reflect::set(&last, &"state".into(), &"closed".into());
        self.set_status(last.into());
        self.listeners.borrow_mut().clear();
        self.page_listeners.borrow_mut().clear();
        self.topics.borrow_mut().clear();
        self.engine_topics.borrow_mut().clear();
        self.stop_watching();
        self.local_sink.borrow_mut().take();
        self.reattach.borrow_mut().take();
    }

    /// The page went into the back/forward cache: says goodbye to the engine (the worker
    /// counts the page out, and closes the socket if it was the last) and lets go of its
    /// locks, but keeps listeners, topics and status for [`Inner::resume`]. What waited on an
    /// answer is rejected: it will not come.
    pub(crate) fn suspend(&self) {
        if self.closed.get() || self.suspended.replace(true) {
            return;
        }
        self.set_leader(false);
        let link = self.link.borrow_mut().take();
        if let Some(link) = link {
            link.end(true);
        }
        self.reject_pending(&js_error(&Error::Engine(EngineError::NotOpen("suspended: the page went into the back/forward cache".into()))));
        self.let_go();
    }

    /// The page came back from the back/forward cache: attaches again (a new hello to the
    /// worker, or to the in-page engine) and subscribes its topics again.
    pub(crate) fn resume(self: &Rc<Self>) {
        if self.closed.get() || !self.suspended.replace(false) {
            return;
        }
        if self.shared {
            return self.rejoin();
        }
        let sink = self.local_sink.borrow().as_ref().map(|s| s.as_ref().unchecked_ref::<js_sys::Function>().clone());
        let attached = match (self.reattach.borrow().as_ref(), sink) {
            (Some(reattach), Some(sink)) => {
                let carried = {
                    let w = self.watch.borrow();
                    (w.token.clone(), w.token_gen)
                };
                reattach(sink, carried)
            }
            _ => return,
        };
        match attached {
            Ok(link) => {
                *self.link.borrow_mut() = Some(link);
                self.resubscribe();
            }
            Err(e) => self.on_message(ToTab::error(&e, None)),
        }
    }
}
