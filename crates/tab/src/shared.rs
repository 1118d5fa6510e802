//! Shared mode: the page's side of the SharedWorker. It says hello, holds the page's
//! liveness lock, watches the worker's life lock and starts a replacement when the worker
//! dies. It reads only `mode`, `workerUrl`, `workerTimeoutMs` and (for the page's mixed-content
//! rule) `url` of
//! the options: the worker validates the rest and its error rejects `connect()`.

use crate::client::{get, js_error, later, listen, timer, timer_later, Inner, Link};
use gloo_events::EventListener;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tabmux_core::error::decimal;
use tabmux_core::backlog::DRAIN_EVERY;
use tabmux_core::{check_mixed_content, Error, WORKER_NAME};
use tabmux_web::{locks, ToWorker};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, MessagePort, SharedWorker, WorkerOptions};

/// How long `connect()` (or a replacement) waits for the worker's welcome, unless
/// `workerTimeoutMs` says otherwise.
const WELCOME_TIMEOUT_MS: u32 = 10_000;

/// How long after `beforeunload` a page that is still here takes its locks again (the
/// navigation was cancelled, or was a download).
const RELOCK_MS: u32 = 2_000;

/// How long a client waits for a worker that said it crashed to be really gone (its life lock
/// granted) before it starts a replacement anyway.
const DYING_MS: u32 = 3_000;

/// How much later than a tab with a token a tab without one starts a replacement worker.
const TOKENLESS_EXTRA_MS: u32 = 100;

/// The default URL of the worker script.
const DEFAULT_WORKER_URL: &str = "/shared-websocket-worker.js";

thread_local! {
    static TAB_ID: String = random_id();
    static LOCK_COUNTER: Cell<u32> = const { Cell::new(0) };
}

fn random_id() -> String {
    let mut n = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64 ^ (js_sys::Date::now() as u64);
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..12)
        .map(|_| {
            let c = alphabet[(n % 36) as usize] as char;
            n /= 36;
            c
        })
        .collect()
}

/// This page's id, shared by every client of the page (direct mode's too).
#[cfg_attr(feature = "shared-entry", wasm_bindgen(js_name = tabId))]
pub fn tab_id() -> String {
    TAB_ID.with(String::clone)
}

fn invalid(why: &str) -> JsValue {
    js_error(&Error::InvalidOptions(why.to_string()))
}

fn has_shared_worker() -> bool {
    get(&js_sys::global(), "SharedWorker").is_function()
}

/// Which transport `connect(options)` uses here: `"shared"` or `"direct"`. Only `mode` is
/// read; a `mode` this does not know goes to whichever transport validates the options,
/// which names the bad value.
#[cfg_attr(feature = "shared-entry", wasm_bindgen(js_name = pickTransport))]
pub fn pick_transport(options: &JsValue) -> Result<String, JsValue> {
    if !options.is_object() {
        return Err(invalid("options must be an object with at least a url"));
    }
    let mode = get(options, "mode").as_string();
    let shared = match mode.as_deref() {
        Some("direct") => false,
        Some("shared") if !has_shared_worker() => {
            return Err(invalid(
                "mode \"shared\" was asked for, but this browser has no SharedWorker (use \"auto\" to fall back)",
            ))
        }
        _ => has_shared_worker(),
    };
    Ok(if shared { "shared" } else { "direct" }.into())
}

/// Connects this page through the SharedWorker. Resolves to the client once the worker has
/// accepted it (not when the socket opens: watch `status` for that). Rejects with an `Error`
/// whose `code` says why (`invalid-options` from the worker's validation, `worker-failed`).
///
/// `direct(options, notice)` is the page's way to direct mode (it loads that module). In
/// `mode: "auto"` (or no mode) a worker that fails before its welcome — its script does not
/// load or throws, its wasm does not compile, it does not answer within `workerTimeoutMs` —
/// makes this client hand over to `direct` with the `worker-failed` error as the notice, and
/// `connect()` resolves to the direct client. `mode: "shared"` rejects instead.
///
/// `build` is this page's release (the build id scripts/build.mjs computed from the worker
/// files): the worker is named `tabmux-v1-<build>` and the hello carries it.
#[cfg_attr(feature = "shared-entry", wasm_bindgen(js_name = connectShared))]
pub fn connect_shared(options: JsValue, direct: JsValue, build: String) -> js_sys::Promise {
    match start(options, direct, build) {
        Ok(p) => p,
        Err(e) => js_sys::Promise::reject(&e),
    }
}

fn start(options: JsValue, direct: JsValue, build: String) -> Result<js_sys::Promise, JsValue> {
    if !options.is_object() {
        return Err(invalid("options must be an object with at least a url"));
    }
    // The worker validates `url`; the one rule that depends on the page is checked here
    // too, before a worker starts (the worker checks it again for other clients).
    if let Some(url) = get(&options, "url").as_string() {
        let protocol = get(&get(&js_sys::global(), "location"), "protocol").as_string().unwrap_or_default();
        check_mixed_content(&url, &protocol).map_err(|e| js_error(&e))?;
    }
    let worker_url = match get(&options, "workerUrl") {
        v if v.is_undefined() => DEFAULT_WORKER_URL.to_string(),
        v => match v.as_string() {
            Some(u) if !u.is_empty() => u,
            Some(_) => return Err(invalid("workerUrl must not be empty")),
            None => return Err(invalid("workerUrl must be a string (the URL of the worker script)")),
        },
    };
    // The worker validates it too (1 to 600000); here a bad value only means the default.
    let timeout_ms = match get(&options, "workerTimeoutMs").as_f64() {
        Some(t) if (1.0..=600_000.0).contains(&t) => t as u32,
        _ => WELCOME_TIMEOUT_MS,
    };
    let fallback = match get(&options, "mode").as_string().as_deref() {
        Some("shared") => None,
        _ => direct.dyn_into::<js_sys::Function>().ok(),
    };
    // The hello carries a copy: later changes to the page's object change nothing, and a
    // value that cannot cross to the worker is refused here.
    // A logger stays in the page (a function cannot cross): the worker is told `debug: true`.
    let page_options = options.clone();
    let options = if get(&options, "logger").is_function() {
        let copy = js_sys::Object::assign(&js_sys::Object::new(), options.unchecked_ref());
        let _ = js_sys::Reflect::delete_property(&copy, &"logger".into());
        let _ = js_sys::Reflect::set(&copy, &"debug".into(), &true.into());
        copy.into()
    } else {
        options
    };
    let options = match get(&js_sys::global(), "structuredClone").dyn_into::<js_sys::Function>() {
        Ok(clone) => clone.call1(&JsValue::NULL, &options).map_err(|e| {
            let why = get(&e, "message").as_string().unwrap_or_default();
            invalid(&["options must be plain data (strings, numbers, booleans, objects, arrays): ", &why].concat())
        })?,
        Err(_) => options,
    };
    let inner = Inner::new(true, tab_id());
    inner.client_options(&page_options);
    // From here the client keeps itself alive until the welcome or a failure.
    let welcomed = inner.welcome_promise();
    {
        let mut w = inner.watch.borrow_mut();
        w.hello = Some((options.clone(), worker_url.clone()));
        w.fallback = fallback;
        w.timeout_ms = timeout_ms;
        w.build = build;
    }
    // The worker script starts loading while the liveness lock is taken.
    if let Err(e) = open_worker(&inner, &worker_url) {
        inner.reject_connect(&e);
        return Ok(welcomed);
    }
    let weak = Rc::downgrade(&inner);
    hold_lock(&inner, move |lock| {
        if let Some(i) = weak.upgrade() {
            let build = Some(i.watch.borrow().build.clone());
            i.post(ToWorker::Hello { build, tab_id: i.tab_id.clone(), options, lock, token: None });
        }
    });
    let weak = Rc::downgrade(&inner);
    inner.watch.borrow_mut().replace_timer = Some(timer(timeout_ms, move || {
        if let Some(i) = weak.upgrade() {
            let ms = decimal(u64::from(timeout_ms));
            let why = ["the shared worker at ", &worker_url, " did not answer within ", &ms, " ms"].concat();
            i.fail_connect(&Error::WorkerFailed(why));
        }
    }));
    Ok(welcomed)
}

/// A worker's port.
struct PortLink {
    port: MessagePort,
    /// Sends of this task, posted together at its end (one message for a burst of sends).
    outbox: Rc<RefCell<Vec<JsValue>>>,
    _worker: SharedWorker,
    _listeners: [EventListener; 2],
}

/// Posts the sends waiting in `outbox`: one alone, several as one array.
fn flush_sends(port: &MessagePort, outbox: &RefCell<Vec<JsValue>>) -> bool {
    let sends = std::mem::take(&mut *outbox.borrow_mut());
    match sends.len() {
        0 => true,
        1 => port.post_message(&sends[0]).is_ok(),
        _ => port.post_message(&ToWorker::Batch(sends.into_iter().collect()).encode()).is_ok(),
    }
}

impl Link for PortLink {
    fn post(&self, msg: ToWorker) -> bool {
        if let ToWorker::Send { .. } = msg {
            let first = {
                let mut outbox = self.outbox.borrow_mut();
                outbox.push(msg.encode());
                outbox.len() == 1
            };
            if first {
                let (port, outbox) = (self.port.clone(), self.outbox.clone());
                later(move || {
                    let _ = flush_sends(&port, &outbox);
                });
            }
            return true;
        }
        // Anything else goes after the sends made before it.
        flush_sends(&self.port, &self.outbox) && self.port.post_message(&msg.encode()).is_ok()
    }

    fn end(&self, say_bye: bool) {
        if say_bye {
            self.post(ToWorker::Bye);
        }
        self.port.close();
    }
}

/// Starts (or joins) the SharedWorker at `url` and makes its port this client's link.
fn open_worker(inner: &Rc<Inner>, url: &str) -> Result<Rc<dyn Link>, JsValue> {
    let wo = WorkerOptions::new();
    // Named after this page's release: a page of another release starts its own worker.
    wo.set_name(&[WORKER_NAME, "-", &inner.watch.borrow().build].concat());
    let worker = SharedWorker::new_with_worker_options(url, &wo).map_err(|e| {
        let why = get(&e, "message").as_string().unwrap_or_default();
        js_error(&Error::WorkerFailed(["could not start the shared worker at ", url, ": ", &why].concat()))
    })?;
    let port = worker.port();
    let weak = Rc::downgrade(inner);
    // Frames handled from this worker: said after every DRAIN_EVERY, so the worker posts no
    // more than its bound to a page that stops handling them (tabmux_core::backlog).
    let handled = Cell::new(0u64);
    let drain = port.clone();
    let on_message = listen(&port, "message", move |ev| {
        if let (Some(i), Some(ev)) = (weak.upgrade(), ev.dyn_ref::<MessageEvent>()) {
            let before = handled.get();
            let n = before + i.on_incoming(&ev.data());
            handled.set(n);
            if n / DRAIN_EVERY > before / DRAIN_EVERY {
                let total = n - n % DRAIN_EVERY;
                let _ = drain.post_message(&ToWorker::Drained { total }.encode());
            }
        }
    });
    let weak = Rc::downgrade(inner);
    let generation = inner.watch.borrow().generation;
    let script = url.to_string();
    let on_error = listen(&worker, "error", move |_| {
        if let Some(i) = weak.upgrade() {
            let e = Error::WorkerFailed(["the shared worker script at ", &script, " failed to load or run"].concat());
            if generation > 0 {
                // A replacement that does not load: try again later, as with any lost worker.
                worker_lost(&i, generation, &e.message());
            }
            i.fail_connect(&e);
        }
    });
    port.start();
    let link: Rc<dyn Link> = Rc::new(PortLink { port, outbox: Rc::default(), _worker: worker, _listeners: [on_message, on_error] });
    *inner.link.borrow_mut() = Some(link.clone());
    Ok(link)
}

/// Takes a Web Lock that this client holds until it closes (or the page dies), then calls
/// `then` with its name (`None` where Web Locks do not exist, at once). The worker waits for
/// the same lock, so it learns of a tab that vanished without a goodbye.
fn hold_lock(inner: &Rc<Inner>, then: impl FnOnce(Option<String>) + 'static) {
    if !locks::available() {
        return then(None);
    }
    let n = LOCK_COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let name = ["tabmux:", &inner.tab_id, ":", &decimal(u64::from(n))].concat();
    let weak = Rc::downgrade(inner);
    let granted_name = name.clone();
    let asked = locks::hold(&name, move |held| {
        // Gone (or in the back/forward cache) while the lock was on its way: `held` is
        // dropped, so the lock goes at once.
        let Some(i) = weak.upgrade().filter(|i| !i.closed.get() && !i.suspended.get()) else { return };
        let old = i.watch.borrow_mut().lock.replace((granted_name.clone(), held));
        drop(old);
        then(Some(granted_name));
    });
    if !asked {
        inner.fail_connect(&Error::WorkerFailed("could not take a Web Lock".into()));
    }
}

/// Waits on the life lock the worker holds for this client: granted means the worker is
/// gone, however it ended, unless the worker let it go on purpose (this client left, or let
/// its own lock go before an unload). The wait is never aborted: Firefox keeps no page with
/// an aborted lock request in its back/forward cache.
pub(crate) fn watch_worker(inner: &Inner, name: &str) {
    let weak = inner.this.clone();
    let generation = inner.watch.borrow().generation;
    let watched = name.to_string();
    let asked = locks::wait(name, move || {
        if let Some(i) = weak.upgrade() {
            let (current, dying, release) = {
                let mut w = i.watch.borrow_mut();
                let release = match w.letting_go.take() {
                    Some((name, release)) if name == watched => Some(release),
                    other => {
                        w.letting_go = other;
                        None
                    }
                };
                let dying = match w.dying.take() {
                    Some((name, delay)) if name == watched => Some(delay),
                    other => {
                        w.dying = other;
                        None
                    }
                };
                (w.worker_lock.as_deref() == Some(watched.as_str()), dying, release)
            };
            // The worker has read that this client lets its lock go: it goes now.
            drop(release);
            if current {
                // Gone already: nothing more to wait for.
                i.watch.borrow_mut().worker_lock = None;
                worker_lost(&i, generation, "the worker stopped (ended by the browser or crashed)");
            } else if let Some(delay) = dying {
                // The worker that crashed is gone now: its replacement may start.
                let next = i.watch.borrow().generation;
                schedule_replacement(&i, next, delay);
            }
        }
    });
    if asked {
        inner.watch.borrow_mut().worker_lock = Some(name.to_string());
    }
}

/// The worker of `generation` is gone: everything waiting on it is rejected, the status
/// says so, the `error` listeners are told (`worker-crashed`), and a replacement starts after a short delay (100 ms, doubling to 5 s while
/// replacements fail; 100 ms more for a tab that never set a token). Later news of the same
/// worker is ignored.
pub(crate) fn worker_lost(inner: &Inner, generation: u32, why: &str) {
    if inner.closed.get() || !inner.shared || generation != inner.watch.borrow().generation {
        return;
    }
    let (delay, dying) = {
        let mut w = inner.watch.borrow_mut();
        w.generation = generation.wrapping_add(1);
        let n = w.replacements;
        w.replacements = n.saturating_add(1);
        // A tab that set a token says hello first: the replacement's first socket then opens
        // with it, instead of opening without it for a tokenless tab's hello and reconnecting
        // when the token arrives (the token lived only in the lost worker and this tab).
        let token_wait = if w.token.is_some() { 0 } else { TOKENLESS_EXTRA_MS };
        let delay = (100u32 << n.min(6)).min(5_000) + token_wait;
        // A worker that says it crashed is still ending: wait for its life lock.
        let dying = w.worker_lock.take().map(|name| (name, delay));
        w.dying = dying.clone();
        (delay, dying.is_some())
    };
    let old = inner.link.borrow_mut().take();
    if let Some(link) = old {
        link.end(false);
    }
    if inner.logs() {
        inner.log(&log_event(&[("event", "worker-lost".into()), ("reason", why.into()), ("replaceInMs", delay.into())]));
    }
    let lost = Error::WorkerCrashed(why.to_string());
    let err = js_error(&lost);
    inner.reject_pending(&err);
    let status = js_sys::Object::assign(&js_sys::Object::new(), &inner.status().unchecked_into());
    let _ = js_sys::Reflect::set(&status, &"state".into(), &"reconnecting".into());
    let _ = js_sys::Reflect::set(&status, &"lastError".into(), &lost.message().into());
    inner.set_status(status.into());
    // Told once per lost worker, however the news came: the worker's own report of a panic,
    // or its life lock granted (a browser that ended it, or a panic report that lost the race
    // with the lock: the two travel by different channels).
    inner.report(&err);
    let next = generation.wrapping_add(1);
    schedule_replacement(inner, next, if dying { DYING_MS } else { delay });
}

/// Starts the replacement of `generation` after `delay` ms.
fn schedule_replacement(inner: &Inner, generation: u32, delay: u32) {
    let weak = inner.this.clone();
    // Out of the timer's own callback first: starting may replace this timer.
    let timer = timer_later(delay, move || {
        if let Some(i) = weak.upgrade() {
            replace_worker(&i, generation);
        }
    });
    inner.watch.borrow_mut().replace_timer = Some(timer);
}

/// Starts a replacement worker with the same hello, and gives it `workerTimeoutMs` to answer.
fn replace_worker(inner: &Rc<Inner>, generation: u32) {
    if inner.closed.get() || generation != inner.watch.borrow().generation {
        return;
    }
    inner.watch.borrow_mut().dying = None;
    let (hello, lock, token) = {
        let w = inner.watch.borrow();
        (w.hello.clone(), w.lock.as_ref().map(|(name, _)| name.clone()), w.token.clone())
    };
    let Some((options, url)) = hello else { return };
    let link = match open_worker(inner, &url) {
        Ok(l) => l,
        Err(e) => return worker_lost(inner, generation, &get(&e, "message").as_string().unwrap_or_default()),
    };
    // The token this client set before goes in the hello: the new socket opens with it.
    let build = Some(inner.watch.borrow().build.clone());
    link.post(ToWorker::Hello { build, tab_id: inner.tab_id.clone(), options, lock, token });
    let weak = inner.this.clone();
    let timeout_ms = inner.watch.borrow().timeout_ms;
    let timer = timer_later(timeout_ms, move || {
        if let Some(i) = weak.upgrade() {
            worker_lost(&i, generation, "the replacement worker did not answer within workerTimeoutMs");
        }
    });
    inner.watch.borrow_mut().replace_timer = Some(timer);
}

/// A replacement worker welcomed this client: its topics are subscribed again.
pub(crate) fn replaced(inner: &Inner) {
    let (generation, restored) = {
        let mut w = inner.watch.borrow_mut();
        w.replace_timer.take();
        w.replacements = 0;
        (w.generation, std::mem::take(&mut w.restoring))
    };
    if inner.logs() {
        let event = if restored { "restored" } else { "worker-replaced" };
        inner.log(&log_event(&[("event", event.into()), ("generation", generation.into())]));
    }
    inner.resubscribe();
}

/// Stops every timer and watch, and lets go of the liveness lock (last: the worker may act
/// on it at once).
pub(crate) fn stop_watching(inner: &Inner) {
    let locks = {
        let mut w = inner.watch.borrow_mut();
        w.token.take();
        w.stop()
    };
    // Last: the worker may act on it at once.
    drop(locks);
}

/// A log event made in the page (the worker's own events come from the engine).
fn log_event(fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// Before an unload: lets go of the liveness lock, telling the worker first (so the release
/// does not read as this tab's death; the worker then lets go of the life lock it holds for
/// this client, which ends this client's wait on it), so that Firefox, which keeps no page
/// holding or waiting for a Web Lock, may keep the page in its back/forward cache. A page
/// still here [`RELOCK_MS`] later (the navigation was cancelled, or was a download) takes a
/// lock again, and the worker a new life lock for it.
pub(crate) fn unlock_for_unload(inner: &Inner) {
    if inner.closed.get() || inner.suspended.get() {
        return;
    }
    let release = {
        let mut w = inner.watch.borrow_mut();
        let Some((_, held)) = w.lock.take() else {
            return;
        };
        // The worker lets go of this client's life lock in turn: the wait on it ends by a
        // grant that means nothing now but "read", and this client's own lock goes then.
        match w.worker_lock.take() {
            Some(name) => {
                w.letting_go = Some((name, held));
                None
            }
            None => Some(held),
        }
    };
    inner.post(ToWorker::Liveness { lock: None });
    drop(release);
    let weak = inner.this.clone();
    let timer = timer_later(RELOCK_MS, move || {
        if let Some(i) = weak.upgrade() {
            relock(&i);
        }
    });
    inner.watch.borrow_mut().relock_timer = Some(timer);
}

/// Takes the liveness lock again and tells the worker, which takes a new life lock for this
/// client and names it (`alive`).
fn relock(inner: &Rc<Inner>) {
    if inner.closed.get() || inner.suspended.get() {
        return;
    }
    let (generation, unread) = {
        let mut w = inner.watch.borrow_mut();
        w.relock_timer.take();
        (w.generation, w.letting_go.take())
    };
    // The worker never answered: the old lock goes now (its grant to the worker names a lock
    // the worker no longer watches once it reads the new one).
    drop(unread);
    let weak = Rc::downgrade(inner);
    hold_lock(inner, move |lock| {
        if let Some(i) = weak.upgrade() {
            // A replacement worker started meanwhile got this lock in its hello's place.
            if i.watch.borrow().generation == generation {
                i.post(ToWorker::Liveness { lock });
            }
        }
    });
}

/// The page went into the back/forward cache (its link already ended): news of the old
/// worker is ignored from now on, every timer stops, and both locks are let go. The hello
/// and the token stay, for [`rejoin`].
pub(crate) fn let_go(inner: &Inner) {
    if !inner.shared {
        return;
    }
    let locks = {
        let mut w = inner.watch.borrow_mut();
        w.generation = w.generation.wrapping_add(1);
        w.replacements = 0;
        w.stop()
    };
    // Last: the worker may act on it at once.
    drop(locks);
}

/// The page came back from the back/forward cache: the same hello as the first, with a new
/// liveness lock and the last token, to whatever worker runs now (the old one, or a new one
/// if it ended meanwhile). Its welcome subscribes the topics again.
pub(crate) fn rejoin(inner: &Rc<Inner>) {
    let (generation, hello) = {
        let mut w = inner.watch.borrow_mut();
        w.restoring = true;
        (w.generation, w.hello.clone())
    };
    let Some((options, url)) = hello else { return };
    if let Err(e) = open_worker(inner, &url) {
        return worker_lost(inner, generation, &get(&e, "message").as_string().unwrap_or_default());
    }
    let weak = Rc::downgrade(inner);
    hold_lock(inner, move |lock| {
        if let Some(i) = weak.upgrade() {
            if i.watch.borrow().generation == generation {
                let (token, build) = {
                    let w = i.watch.borrow();
                    (w.token.clone(), Some(w.build.clone()))
                };
                i.post(ToWorker::Hello { build, tab_id: i.tab_id.clone(), options, lock, token });
            }
        }
    });
    let weak = inner.this.clone();
    let timer = timer_later(WELCOME_TIMEOUT_MS, move || {
        if let Some(i) = weak.upgrade() {
            worker_lost(&i, generation, "the worker did not answer within 10 s");
        }
    });
    inner.watch.borrow_mut().replace_timer = Some(timer);
}
