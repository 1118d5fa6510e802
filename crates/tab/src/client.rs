//! `connect()` and the client it returns.

use crate::listeners::{emit, Event, Listeners};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use tabmux_core::{check_mixed_content, ClientId, Error, Mode, Options, PROTOCOL_VERSION, WORKER_NAME};
use tabmux_web::{is_frame, parse_options, to_js, Driver, Sink, ToTab};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, MessagePort, SharedWorker, WorkerOptions};

/// How long `connect()` waits for the worker's welcome.
const WELCOME_TIMEOUT_MS: u32 = 10_000;

thread_local! {
    static TAB_ID: String = random_id();
    static DIRECT: Driver = Driver::new(random_seed());
}

fn random_seed() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64 ^ (js_sys::Date::now() as u64)
}

fn random_id() -> String {
    let mut n = random_seed();
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..12).map(|_| { let c = alphabet[(n % 36) as usize] as char; n /= 36; c }).collect()
}

/// A JS `Error` with the message and a `code` property.
fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

type Resolvers = (js_sys::Function, js_sys::Function);

enum Transport {
    Shared { port: MessagePort, _worker: SharedWorker, _listeners: [EventListener; 2] },
    Direct { driver: Driver, client: ClientId, _sink: Closure<dyn Fn(JsValue)> },
}

struct Inner {
    transport: RefCell<Option<Transport>>,
    shared: bool,
    listeners: RefCell<Listeners>,
    status: RefCell<JsValue>,
    client_id: Cell<u32>,
    connecting: RefCell<Option<Resolvers>>,
    pending: RefCell<BTreeMap<u32, Resolvers>>,
    next_request: Cell<u32>,
    closed: Cell<bool>,
    /// pagehide (goodbye), online/offline and visibilitychange (forwarded to the engine).
    page_listeners: RefCell<Vec<EventListener>>,
    /// Topic → its handlers in this client (the engine holds one subscription per client).
    topics: RefCell<BTreeMap<String, Vec<(u32, js_sys::Function)>>>,
    /// Topics the engine holds for this client. An unsubscribe waits a microtask, so an
    /// unsubscribe immediately followed by a subscribe (React StrictMode's remount) sends
    /// nothing at all.
    engine_topics: RefCell<std::collections::BTreeSet<String>>,
    next_handler: Cell<u32>,
    /// Resolving this lets go of the Web Lock that tells the worker this tab is alive.
    lock_release: RefCell<Option<js_sys::Function>>,
    /// This client, for callbacks that need to start a replacement worker.
    this: Weak<Inner>,
    /// The options and the liveness lock's name: a replacement worker gets the same hello.
    hello: RefCell<Option<(Options, Option<String>)>>,
    /// Bumped each time the shared worker is replaced; events of an older one are ignored.
    generation: Cell<u32>,
    /// Replacements started in a row without a welcome (sets the delay before the next).
    replacements: Cell<u32>,
    /// The pending replacement, or the deadline for its welcome.
    replace_timer: RefCell<Option<Timeout>>,
    /// Aborts this client's wait on the worker's life lock.
    worker_watch: RefCell<Option<web_sys::AbortController>>,
    /// The last token this client set, told again to a replacement worker.
    token: RefCell<Option<String>>,
}

/// A page's connection to a shared (or, in direct mode, its own) WebSocket.
#[wasm_bindgen]
pub struct TabClient {
    inner: Rc<Inner>,
}

/// Connects this page. Resolves once the engine has accepted the client (not when the
/// socket opens: watch `status` for that). Rejects with an `Error` whose `code` says why.
#[wasm_bindgen]
pub async fn connect(options: JsValue) -> Result<TabClient, JsValue> {
    console_error_panic_hook::set_once();
    let opts = parse_options(&options).map_err(|e| js_error(&e))?;
    // A secure page cannot open ws:// (mixed content): say so here, not as a socket that
    // never opens. The worker runs in this page's origin, so the same rule holds there.
    let protocol = js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| js_sys::Reflect::get(&l, &"protocol".into()))
        .ok()
        .and_then(|p| p.as_string())
        .unwrap_or_default();
    check_mixed_content(&opts.url, &protocol).map_err(|e| js_error(&e))?;
    let has_shared = js_sys::Reflect::get(&js_sys::global(), &"SharedWorker".into())
        .map(|v| v.is_function())
        .unwrap_or(false);
    let shared = match opts.mode {
        Mode::Direct => false,
        Mode::Shared if !has_shared => {
            return Err(js_error(&Error::InvalidOptions(
                "mode \"shared\" was asked for, but this browser has no SharedWorker (use \"auto\" to fall back)".into(),
            )))
        }
        _ => has_shared,
    };
    let inner = Rc::new_cyclic(|this| Inner {
        transport: RefCell::new(None),
        shared,
        listeners: RefCell::new(Listeners::default()),
        status: RefCell::new(JsValue::NULL),
        client_id: Cell::new(0),
        connecting: RefCell::new(None),
        pending: RefCell::new(BTreeMap::new()),
        next_request: Cell::new(0),
        closed: Cell::new(false),
        page_listeners: RefCell::new(Vec::new()),
        topics: RefCell::new(BTreeMap::new()),
        engine_topics: RefCell::new(std::collections::BTreeSet::new()),
        next_handler: Cell::new(0),
        lock_release: RefCell::new(None),
        this: this.clone(),
        hello: RefCell::new(None),
        generation: Cell::new(0),
        replacements: Cell::new(0),
        replace_timer: RefCell::new(None),
        worker_watch: RefCell::new(None),
        token: RefCell::new(None),
    });
    let welcomed = js_sys::Promise::new(&mut |resolve, reject| {
        *inner.connecting.borrow_mut() = Some((resolve, reject));
    });
    let _deadline = if shared {
        let url = opts.worker_url.clone();
        let lock = hold_lock(&inner).await;
        *inner.hello.borrow_mut() = Some((opts.clone(), lock.clone()));
        start_shared(&inner, opts, lock)?;
        let weak = Rc::downgrade(&inner);
        Some(Timeout::new(WELCOME_TIMEOUT_MS, move || {
            if let Some(i) = weak.upgrade() {
                i.fail_connect(&Error::WorkerFailed(format!(
                    "the shared worker at {url} did not answer within {} s",
                    WELCOME_TIMEOUT_MS / 1000
                )));
            }
        }))
    } else {
        start_direct(&inner, opts)?;
        None
    };
    if let Err(e) = JsFuture::from(welcomed).await {
        inner.shutdown(false);
        return Err(e);
    }
    watch_page(&inner);
    Ok(TabClient { inner })
}

/// Says goodbye on `pagehide`, and forwards online/offline and "became visible" to the
/// engine, which acts on them once for the whole browser.
fn watch_page(inner: &Rc<Inner>) {
    let global: web_sys::EventTarget = js_sys::global().unchecked_into();
    let mut listeners = Vec::new();
    let weak = Rc::downgrade(inner);
    listeners.push(EventListener::new(&global, "pagehide", move |_| {
        if let Some(i) = weak.upgrade() {
            i.shutdown(true);
        }
    }));
    for (event, online) in [("online", true), ("offline", false)] {
        let weak = Rc::downgrade(inner);
        listeners.push(EventListener::new(&global, event, move |_| {
            if let Some(i) = weak.upgrade() {
                i.forward(Forward::Online(online));
            }
        }));
    }
    let document = get(&js_sys::global(), "document");
    if document.is_object() {
        let weak = Rc::downgrade(inner);
        let doc: web_sys::EventTarget = document.clone().unchecked_into();
        listeners.push(EventListener::new(&doc, "visibilitychange", move |_| {
            if get(&document, "visibilityState").as_string().as_deref() == Some("visible") {
                if let Some(i) = weak.upgrade() {
                    i.forward(Forward::Visible);
                }
            }
        }));
    }
    *inner.page_listeners.borrow_mut() = listeners;
}

enum Forward {
    Online(bool),
    Visible,
}

thread_local! {
    static LOCK_COUNTER: Cell<u32> = const { Cell::new(0) };
}

/// Takes a Web Lock that this client holds until it closes (or the page dies). The worker
/// waits for the same lock, so it learns of a tab that vanished without a goodbye.
/// Resolves to the lock's name, or `None` where Web Locks do not exist.
async fn hold_lock(inner: &Rc<Inner>) -> Option<String> {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    let request = get(&locks, "request").dyn_into::<js_sys::Function>().ok()?;
    let n = LOCK_COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let name = TAB_ID.with(|t| format!("tabmux:{t}:{n}"));
    let mut release = None;
    let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted_resolve = None;
    let granted = js_sys::Promise::new(&mut |resolve, _| granted_resolve = Some(resolve));
    let granted_resolve = granted_resolve.expect("the executor ran");
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = granted_resolve.call0(&JsValue::NULL);
        held.into()
    });
    request.call2(&locks, &name.as_str().into(), &callback).ok()?;
    JsFuture::from(granted).await.ok()?;
    *inner.lock_release.borrow_mut() = release;
    Some(name)
}

fn start_shared(inner: &Rc<Inner>, opts: Options, lock: Option<String>) -> Result<(), JsValue> {
    let wo = WorkerOptions::new();
    wo.set_name(WORKER_NAME);
    let worker = SharedWorker::new_with_worker_options(&opts.worker_url, &wo).map_err(|e| {
        js_error(&Error::WorkerFailed(format!(
            "could not start the shared worker at {}: {}",
            opts.worker_url,
            get(&e, "message").as_string().unwrap_or_default()
        )))
    })?;
    let port = worker.port();
    let weak = Rc::downgrade(inner);
    let on_message = EventListener::new(&port, "message", move |ev| {
        if let (Some(i), Some(ev)) = (weak.upgrade(), ev.dyn_ref::<MessageEvent>()) {
            i.on_incoming(&ev.data());
        }
    });
    let weak = Rc::downgrade(inner);
    let url = opts.worker_url.clone();
    let generation = inner.generation.get();
    let on_error = EventListener::new(&worker, "error", move |_| {
        if let Some(i) = weak.upgrade() {
            let e = Error::WorkerFailed(format!("the shared worker script at {url} failed to load or run"));
            if generation > 0 {
                // A replacement that does not load: try again later, as with any lost worker.
                i.worker_lost(generation, &e.to_string());
            }
            i.fail_connect(&e);
        }
    });
    port.start();
    let hello = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&hello, &k.into(), v);
    set("t", &"hello".into())?;
    set("v", &PROTOCOL_VERSION.into())?;
    set("tabId", &TAB_ID.with(|t| JsValue::from_str(t)))?;
    set("options", &to_js(&opts))?;
    if let Some(l) = lock {
        set("lock", &l.into())?;
    }
    // Only a replacement worker's hello has one: the token this client set before.
    if let Some(t) = inner.token.borrow().as_deref() {
        set("token", &t.into())?;
    }
    port.post_message(&hello)?;
    *inner.transport.borrow_mut() =
        Some(Transport::Shared { port, _worker: worker, _listeners: [on_message, on_error] });
    Ok(())
}

fn start_direct(inner: &Rc<Inner>, opts: Options) -> Result<(), JsValue> {
    let weak: Weak<Inner> = Rc::downgrade(inner);
    let sink = Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
        if let Some(i) = weak.upgrade() {
            i.on_incoming(&v);
        }
    });
    let f: js_sys::Function = sink.as_ref().unchecked_ref::<js_sys::Function>().clone();
    let driver = DIRECT.with(Driver::clone);
    let client = TAB_ID
        .with(|t| driver.attach(Sink::Local(f), t, opts, None))
        .map_err(|e| js_error(&e))?;
    *inner.transport.borrow_mut() = Some(Transport::Direct { driver, client, _sink: sink });
    Ok(())
}

impl Inner {
    fn forward(&self, what: Forward) {
        let direct = match &*self.transport.borrow() {
            Some(Transport::Direct { driver, .. }) => Some(driver.clone()),
            _ => None,
        };
        match (direct, what) {
            (Some(d), Forward::Online(on)) => d.online(on),
            (Some(d), Forward::Visible) => d.visible(),
            (None, Forward::Online(on)) => {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"t".into(), &"online".into());
                let _ = js_sys::Reflect::set(&msg, &"online".into(), &on.into());
                self.post(&msg);
            }
            (None, Forward::Visible) => self.post_control("visible", None),
        }
    }

    /// A new request id with its promise, settled by the matching reply.
    fn request(&self) -> (u32, js_sys::Promise) {
        let id = self.next_request.get().wrapping_add(1);
        self.next_request.set(id);
        let p = js_sys::Promise::new(&mut |resolve, reject| {
            self.pending.borrow_mut().insert(id, (resolve, reject));
        });
        (id, p)
    }

    fn topic_op(&self, op: &str, topic: &str) {
        let direct = match &*self.transport.borrow() {
            Some(Transport::Direct { driver, client, .. }) => Some((driver.clone(), *client)),
            _ => None,
        };
        let result = match direct {
            Some((d, c)) if op == "subscribe" => d.subscribe(c, topic),
            Some((d, c)) => d.unsubscribe(c, topic),
            None => {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"t".into(), &op.into());
                let _ = js_sys::Reflect::set(&msg, &"topic".into(), &topic.into());
                self.post(&msg);
                Ok(())
            }
        };
        if let Err(e) = result {
            self.on_incoming(&ToTab::error(&e, None));
        }
    }

    /// Posts to the worker. `false` while there is none (a replacement is being started).
    fn post(&self, msg: &JsValue) -> bool {
        match &*self.transport.borrow() {
            Some(Transport::Shared { port, .. }) => port.post_message(msg).is_ok(),
            _ => false,
        }
    }

    /// Waits on the worker's life lock: granted means the worker is gone, however it ended.
    fn watch_worker(&self, name: &str) {
        let locks = get(&get(&js_sys::global(), "navigator"), "locks");
        let Ok(request) = get(&locks, "request").dyn_into::<js_sys::Function>() else { return };
        let Ok(abort) = web_sys::AbortController::new() else { return };
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"signal".into(), &abort.signal());
        let weak = self.this.clone();
        let generation = self.generation.get();
        let granted = Closure::once_into_js(move |_lock: JsValue| {
            if let Some(i) = weak.upgrade() {
                i.worker_lost(generation, "the worker stopped (ended by the browser or crashed)");
            }
        });
        // Rejects with AbortError when this client stops watching: nothing to do then.
        if let Ok(p) = request.call3(&locks, &name.into(), &opts, &granted) {
            if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = JsFuture::from(p).await;
                });
            }
        }
        if let Some(old) = self.worker_watch.borrow_mut().replace(abort) {
            old.abort();
        }
    }

    /// The worker of `generation` is gone: everything waiting on it is rejected, the status
    /// says so, and a replacement starts after a short delay (100 ms, doubling to 5 s while
    /// replacements fail). Later news of the same worker is ignored.
    fn worker_lost(&self, generation: u32, why: &str) {
        if self.closed.get() || !self.shared || generation != self.generation.get() {
            return;
        }
        self.generation.set(generation.wrapping_add(1));
        let old = self.transport.borrow_mut().take();
        if let Some(Transport::Shared { port, .. }) = old {
            port.close();
        }
        if let Some(watch) = self.worker_watch.borrow_mut().take() {
            watch.abort();
        }
        let lost = js_error(&Error::WorkerCrashed(why.to_string()));
        for (_, (_, reject)) in std::mem::take(&mut *self.pending.borrow_mut()) {
            let _ = reject.call1(&JsValue::NULL, &lost);
        }
        let status = js_sys::Object::assign(&js_sys::Object::new(), &self.status.borrow().clone().unchecked_into());
        let _ = js_sys::Reflect::set(&status, &"state".into(), &"reconnecting".into());
        let _ = js_sys::Reflect::set(&status, &"lastError".into(), &Error::WorkerCrashed(why.to_string()).to_string().into());
        *self.status.borrow_mut() = status.clone().into();
        let list = self.listeners.borrow_mut().snapshot(Event::Status);
        emit(&list, &status);
        let n = self.replacements.get();
        self.replacements.set(n.saturating_add(1));
        let delay = (100u32 << n.min(6)).min(5_000);
        let weak = self.this.clone();
        let next = generation.wrapping_add(1);
        *self.replace_timer.borrow_mut() = Some(Timeout::new(delay, move || {
            // Out of the timer's own callback first: starting may replace this timer.
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(i) = weak.upgrade() {
                    i.replace_worker(next);
                }
            });
        }));
    }

    /// Starts a replacement worker with the same hello, and gives it 10 s to answer.
    fn replace_worker(&self, generation: u32) {
        if self.closed.get() || generation != self.generation.get() {
            return;
        }
        let (Some(inner), Some((opts, lock))) = (self.this.upgrade(), self.hello.borrow().clone()) else { return };
        if let Err(e) = start_shared(&inner, opts, lock) {
            let why = get(&e, "message").as_string().unwrap_or_default();
            return self.worker_lost(generation, &why);
        }
        let weak = self.this.clone();
        *self.replace_timer.borrow_mut() = Some(Timeout::new(WELCOME_TIMEOUT_MS, move || {
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(i) = weak.upgrade() {
                    i.worker_lost(generation, "the replacement worker did not answer within 10 s");
                }
            });
        }));
    }

    /// A replacement worker welcomed this client (its token went in the hello): its topics
    /// are subscribed again.
    fn replaced(&self) {
        self.replace_timer.borrow_mut().take();
        self.replacements.set(0);
        let topics: Vec<String> = self.engine_topics.borrow().iter().cloned().collect();
        for t in topics {
            self.topic_op("subscribe", &t);
        }
    }

    fn fail_connect(&self, e: &Error) {
        if let Some((_, reject)) = self.connecting.borrow_mut().take() {
            let _ = reject.call1(&JsValue::NULL, &js_error(e));
        }
    }

    fn on_incoming(&self, data: &JsValue) {
        if is_frame(data) {
            let list = self.listeners.borrow_mut().snapshot(Event::Message);
            emit(&list, data);
            return;
        }
        let t = get(data, "t").as_string().unwrap_or_default();
        match t.as_str() {
            "welcome" => {
                self.client_id.set(get(data, "clientId").as_f64().unwrap_or(0.0) as u32);
                if let Some((resolve, _)) = self.connecting.borrow_mut().take() {
                    let _ = resolve.call0(&JsValue::NULL);
                }
                if self.generation.get() > 0 {
                    self.replaced();
                }
            }
            "alive" => {
                if let Some(name) = get(data, "lock").as_string() {
                    self.watch_worker(&name);
                }
            }
            "status" => {
                let status = get(data, "status");
                *self.status.borrow_mut() = status.clone();
                let list = self.listeners.borrow_mut().snapshot(Event::Status);
                emit(&list, &status);
            }
            "sent" => {
                let id = get(data, "id").as_f64().unwrap_or(-1.0) as u32;
                if let Some((resolve, _)) = self.pending.borrow_mut().remove(&id) {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
            "history" => {
                let id = get(data, "id").as_f64().unwrap_or(-1.0) as u32;
                if let Some((resolve, _)) = self.pending.borrow_mut().remove(&id) {
                    let _ = resolve.call1(&JsValue::NULL, &get(data, "frames"));
                }
            }
            "topic" => {
                let topic = get(data, "topic").as_string().unwrap_or_default();
                let handlers: Vec<js_sys::Function> =
                    self.topics.borrow().get(&topic).map_or_else(Vec::new, |h| h.iter().map(|(_, f)| f.clone()).collect());
                let frame = get(data, "data");
                for f in handlers {
                    if let Err(e) = f.call2(&JsValue::NULL, &frame, &topic.as_str().into()) {
                        web_sys::console::error_2(&"tabmux: a topic handler threw:".into(), &e);
                    }
                }
            }
            "gap" => {
                let gap = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&gap, &"from".into(), &get(data, "from"));
                let _ = js_sys::Reflect::set(&gap, &"to".into(), &get(data, "to"));
                let list = self.listeners.borrow_mut().snapshot(Event::Gap);
                emit(&list, &gap);
            }
            "stats" => {
                let id = get(data, "id").as_f64().unwrap_or(-1.0) as u32;
                let stats = get(data, "stats");
                let _ = js_sys::Reflect::set(&stats, &"memoryBytes".into(), &get(data, "memoryBytes"));
                let _ = js_sys::Reflect::set(&stats, &"transport".into(), &self.transport_name().into());
                if let Some((resolve, _)) = self.pending.borrow_mut().remove(&id) {
                    let _ = resolve.call1(&JsValue::NULL, &stats);
                }
            }
            "error" => {
                let message = get(data, "message").as_string().unwrap_or_else(|| "tabmux: unknown error".into());
                let err = js_sys::Error::new(&message);
                let _ = js_sys::Reflect::set(&err, &"code".into(), &get(data, "code"));
                if let Some(id) = get(data, "id").as_f64() {
                    if let Some((_, reject)) = self.pending.borrow_mut().remove(&(id as u32)) {
                        let _ = reject.call1(&JsValue::NULL, &err);
                        return;
                    }
                }
                if let Some((_, reject)) = self.connecting.borrow_mut().take() {
                    let _ = reject.call1(&JsValue::NULL, &err);
                    return;
                }
                let list = self.listeners.borrow_mut().snapshot(Event::Error);
                if emit(&list, &err) == 0 {
                    web_sys::console::warn_1(&err);
                }
                if get(data, "code").as_string().as_deref() == Some("worker-crashed") {
                    // The worker is gone: start a replacement (after the error is told).
                    let why = message.strip_prefix("tabmux: the worker crashed: ").unwrap_or(&message).to_string();
                    self.worker_lost(self.generation.get(), &why);
                }
            }
            _ => web_sys::console::warn_2(&"tabmux: unknown message from the worker".into(), data),
        }
    }

    fn transport_name(&self) -> &'static str {
        if self.shared {
            "shared"
        } else {
            "direct"
        }
    }

    fn post_control(&self, t: &str, id: Option<u32>) {
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"t".into(), &t.into());
        match id {
            Some(id) => {
                let _ = js_sys::Reflect::set(&msg, &"id".into(), &id.into());
                self.post_request(id, &msg);
            }
            None => drop(self.post(&msg)),
        }
    }

    /// Posts a request; with no worker to take it (a replacement is starting) it is
    /// rejected at once rather than left waiting.
    fn post_request(&self, id: u32, msg: &JsValue) {
        if !self.post(msg) {
            let e = Error::WorkerCrashed("a replacement worker is starting; try again shortly".into());
            self.on_incoming(&ToTab::error(&e, Some(id)));
        }
    }

    /// Detaches from the engine and drops every listener and pending request.
    fn shutdown(&self, say_bye: bool) {
        if self.closed.replace(true) {
            return;
        }
        let transport = self.transport.borrow_mut().take();
        match transport {
            Some(Transport::Shared { port, .. }) => {
                if say_bye {
                    let msg = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&msg, &"t".into(), &"bye".into());
                    let _ = port.post_message(&msg);
                }
                port.close();
            }
            Some(Transport::Direct { driver, client, .. }) => driver.detach(client),
            None => {}
        }
        let closed = js_error(&Error::NotOpen("closed".into()));
        for (_, (_, reject)) in std::mem::take(&mut *self.pending.borrow_mut()) {
            let _ = reject.call1(&JsValue::NULL, &closed);
        }
        self.listeners.borrow_mut().clear();
        self.page_listeners.borrow_mut().clear();
        self.topics.borrow_mut().clear();
        self.engine_topics.borrow_mut().clear();
        self.replace_timer.borrow_mut().take();
        self.token.borrow_mut().take();
        if let Some(watch) = self.worker_watch.borrow_mut().take() {
            watch.abort();
        }
        // Let go of the liveness lock last: the worker may act on it at once.
        if let Some(release) = self.lock_release.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

fn closed_error() -> JsValue {
    js_error(&Error::BadMessage("this client is closed".into()))
}

#[wasm_bindgen]
impl TabClient {
    /// `"shared"` (SharedWorker) or `"direct"` (a socket in this page).
    #[wasm_bindgen(getter)]
    pub fn transport(&self) -> String {
        self.inner.transport_name().to_string()
    }

    /// This client's id in the engine.
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> u32 {
        self.inner.client_id.get()
    }

    /// This page's id (shared by every client in the page).
    #[wasm_bindgen(getter, js_name = tabId)]
    pub fn tab_id(&self) -> String {
        TAB_ID.with(String::clone)
    }

    /// The last status received (`null` before the first).
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> JsValue {
        self.inner.status.borrow().clone()
    }

    /// Adds a listener for `"message"`, `"status"` or `"error"`; returns its id for `off`.
    pub fn on(&self, event: &str, listener: js_sys::Function) -> Result<u32, JsValue> {
        let ev = Event::parse(event).ok_or_else(|| {
            js_error(&Error::InvalidOptions(format!(
                "unknown event {event:?} (expected \"message\", \"status\" or \"error\")"
            )))
        })?;
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        Ok(self.inner.listeners.borrow_mut().add(ev, listener))
    }

    /// Removes a listener; returns whether it was there.
    pub fn off(&self, id: u32) -> bool {
        self.inner.listeners.borrow_mut().remove(id)
    }

    /// Sends a frame (string, `ArrayBuffer` or typed array) on the shared socket. Resolves
    /// once it is written; while the socket is not open it waits in the engine's queue.
    /// Rejects (code `queue-full`, `expired`, …) when it will never be written.
    pub fn send(&self, data: JsValue) -> js_sys::Promise {
        if self.inner.closed.get() {
            return js_sys::Promise::reject(&closed_error());
        }
        if !is_frame(&data) {
            return js_sys::Promise::reject(&js_error(&Error::BadMessage(
                "send takes a string, an ArrayBuffer or a typed array".into(),
            )));
        }
        let (id, p) = self.inner.request();
        let direct = match &*self.inner.transport.borrow() {
            Some(Transport::Direct { driver, client, .. }) => Some((driver.clone(), *client)),
            _ => None,
        };
        match direct {
            Some((driver, client)) => {
                if let Err(e) = driver.send(client, &data, Some(id)) {
                    self.inner.on_incoming(&ToTab::error(&e, Some(id)));
                }
            }
            None => {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"t".into(), &"send".into());
                let _ = js_sys::Reflect::set(&msg, &"id".into(), &id.into());
                let _ = js_sys::Reflect::set(&msg, &"data".into(), &data);
                self.inner.post_request(id, &msg);
            }
        }
        p
    }

    /// Calls `handler(data, topic)` for every frame of `topic` while subscribed; returns an
    /// id for `unsubscribe`. The first subscriber in the browser makes the worker send the
    /// subscribe frame; the last one leaving sends the unsubscribe frame.
    pub fn subscribe(&self, topic: String, handler: js_sys::Function) -> Result<u32, JsValue> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        if topic.is_empty() || topic.len() > 256 {
            return Err(js_error(&Error::Topic("a topic must be 1 to 256 bytes".into())));
        }
        let id = self.inner.next_handler.get() + 1;
        self.inner.next_handler.set(id);
        self.inner.topics.borrow_mut().entry(topic.clone()).or_default().push((id, handler));
        let new = self.inner.engine_topics.borrow_mut().insert(topic.clone());
        if new {
            self.inner.topic_op("subscribe", &topic);
        }
        Ok(id)
    }

    /// Removes a topic handler; the last one of a topic in this client unsubscribes it.
    /// Returns whether the handler was there.
    pub fn unsubscribe(&self, id: u32) -> bool {
        let emptied = {
            let mut topics = self.inner.topics.borrow_mut();
            let Some((topic, handlers)) = topics.iter_mut().find(|(_, h)| h.iter().any(|(i, _)| *i == id)) else {
                return false;
            };
            handlers.retain(|(i, _)| *i != id);
            let topic = topic.clone();
            if handlers.is_empty() {
                topics.remove(&topic);
                Some(topic)
            } else {
                None
            }
        };
        if let Some(topic) = emptied {
            let inner = self.inner.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let resubscribed = inner.topics.borrow().contains_key(&topic);
                if !resubscribed && !inner.closed.get() && inner.engine_topics.borrow_mut().remove(&topic) {
                    inner.topic_op("unsubscribe", &topic);
                }
            });
        }
        true
    }

    /// Resolves to the frames the worker kept for `topic` (or for frames without a topic),
    /// oldest first. Needs `replay.frames` > 0.
    pub fn history(&self, topic: Option<String>) -> js_sys::Promise {
        if self.inner.closed.get() {
            return js_sys::Promise::reject(&closed_error());
        }
        let (id, p) = self.inner.request();
        let direct = match &*self.inner.transport.borrow() {
            Some(Transport::Direct { driver, client, .. }) => Some(driver.history_message(*client, id, topic.as_deref())),
            _ => None,
        };
        match direct {
            Some(msg) => self.inner.on_incoming(&msg),
            None => {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"t".into(), &"history".into());
                let _ = js_sys::Reflect::set(&msg, &"id".into(), &id.into());
                if let Some(t) = &topic {
                    let _ = js_sys::Reflect::set(&msg, &"topic".into(), &t.as_str().into());
                }
                self.inner.post_request(id, &msg);
            }
        }
        p
    }

    /// Resolves to the endpoint's stats (a plain object).
    pub fn stats(&self) -> js_sys::Promise {
        if self.inner.closed.get() {
            return js_sys::Promise::reject(&closed_error());
        }
        let (id, p) = self.inner.request();
        let direct = match &*self.inner.transport.borrow() {
            Some(Transport::Direct { driver, client, .. }) => Some(driver.stats_message(*client, id)),
            _ => None,
        };
        match direct {
            Some(msg) => self.inner.on_incoming(&msg),
            None => self.inner.post_control("stats", Some(id)),
        }
        p
    }

    /// Asks for a connection attempt now, if the socket is not open or opening.
    pub fn reconnect(&self) -> Result<(), JsValue> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        let direct = match &*self.inner.transport.borrow() {
            Some(Transport::Direct { driver, client, .. }) => Some((driver.clone(), *client)),
            _ => None,
        };
        match direct {
            Some((driver, client)) => driver.reconnect(client).map_err(|e| js_error(&e)),
            None => {
                self.inner.post_control("reconnect", None);
                Ok(())
            }
        }
    }

    /// Reports a token (for example after sign-in). Reports from every tab within
    /// `token.debounceMs` count as one; a token equal to the current one does nothing; a new
    /// one reconnects the shared socket once. The token is never echoed in status or errors.
    #[wasm_bindgen(js_name = setToken)]
    pub fn set_token(&self, token: JsValue) -> Result<(), JsValue> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        let Some(t) = token.as_string() else {
            return Err(js_error(&Error::BadMessage("setToken takes a string".into())));
        };
        let direct = match &*self.inner.transport.borrow() {
            Some(Transport::Direct { driver, client, .. }) => Some((driver.clone(), *client)),
            _ => None,
        };
        match direct {
            Some((driver, client)) => driver.set_token(client, &t).map_err(|e| js_error(&e)),
            None => {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"t".into(), &"token".into());
                let _ = js_sys::Reflect::set(&msg, &"token".into(), &token);
                self.inner.post(&msg);
                // Remembered for a replacement worker's hello.
                *self.inner.token.borrow_mut() = Some(t);
                Ok(())
            }
        }
    }

    /// Detaches this client; the socket closes when the last client of its endpoint leaves.
    /// Calling it again does nothing.
    pub fn close(&self) {
        self.inner.shutdown(true);
    }
}
