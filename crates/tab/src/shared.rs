//! Shared mode: the page's side of the SharedWorker. It says hello, holds the page's
//! liveness lock, watches the worker's life lock and starts a replacement when the worker
//! dies. It reads only `mode`, `workerUrl`, `workerTimeoutMs` and (for the page's mixed-content
//! rule) `url` of
//! the options: the worker validates the rest and its error rejects `connect()`.

use crate::client::{Inner, Link, WELCOME_TIMEOUT_MS};
use crate::js::{get, js_error, later, listen};
use gloo_events::EventListener;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tabmux_core::backlog::DRAIN_EVERY;
use tabmux_core::{check_mixed_content, Error, WORKER_NAME, WorkerError};
use tabmux_web::{performance_now, post_of, ToWorker};
use wasm_bindgen::prelude::*;
use web_sys::{MessagePort, SharedWorker, WorkerOptions};

/// The worker's name ends with this: every page asks for an extended lifetime.
const EXTENDED_LIFETIME_TAG: &str = "xl";

/// The default URL of the worker script.
const DEFAULT_WORKER_URL: &str = "/shared-websocket-worker.js";

thread_local! {
    static TAB_ID: String = random_id();
}

fn random_id() -> String {
    let mut n = tabmux_web::random_seed();
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
/// The page's release is the build id compiled into its wasm ([`tabmux_web::build_id`]): the
/// worker is named `tabmux-v1-<build>-xl` and the hello carries it.
#[cfg_attr(feature = "shared-entry", wasm_bindgen(js_name = connectShared))]
pub fn connect_shared(options: JsValue, direct: JsValue) -> js_sys::Promise {
    match start(options, direct, tabmux_web::build_id()) {
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
    // So does `token.get`: the worker is told `get: true` and asks this page for tokens.
    let page_options = options.clone();
    let token = get(&options, "token");
    let getter = get(&token, "get").is_function();
    let options = if get(&options, "logger").is_function() || getter {
        let copy = js_sys::Object::assign(&js_sys::Object::new(), options.unchecked_ref());
        if get(&options, "logger").is_function() {
            let _ = js_sys::Reflect::delete_property(&copy, &"logger".into());
            let _ = js_sys::Reflect::set(&copy, &"debug".into(), &true.into());
        }
        if getter {
            let t = js_sys::Object::assign(&js_sys::Object::new(), token.unchecked_ref());
            let _ = js_sys::Reflect::set(&t, &"get".into(), &true.into());
            let _ = js_sys::Reflect::set(&copy, &"token".into(), &t);
        }
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
    if let Err(e) = inner.open_worker(&worker_url) {
        inner.reject_connect(&e);
        return Ok(welcomed);
    }
    let weak = Rc::downgrade(&inner);
    inner.hold_lock(move |lock| {
        if let Some(i) = weak.upgrade() {
            let build = Some(i.watch.borrow().build.clone());
            i.post(ToWorker::Hello { build, tab_id: i.tab_id.clone(), options, lock, token: None, token_gen: 0, seq: None });
        }
    });
    // The first worker has `workerTimeoutMs` to welcome this client (lifetime.rs).
    inner.start_life(u64::from(timeout_ms));
    Ok(welcomed)
}

/// A worker's port.
struct PortLink {
    port: MessagePort,
    /// Frames handled from this worker (data and topic frames): said after every
    /// DRAIN_EVERY, and in the goodbye, so the worker hands what this page never handled to
    /// the next page (a reload).
    handled: Rc<Cell<u64>>,
    /// Sends of this task, posted together at its end (one message for a burst of sends).
    outbox: Rc<RefCell<Vec<JsValue>>>,
    /// `performance.now()` at the last send, after its post when it went alone (see
    /// [`SEND_GAP_MS`]).
    last_send: Cell<f64>,
    _worker: SharedWorker,
    _listeners: [EventListener; 2],
}

/// A send that comes this long (ms) after the page's last one is posted at once, with no
/// microtask (a page answering its server now and then). One that comes sooner is part of a
/// burst: it waits in the outbox for the end of the task and goes with the others in one
/// post. The gap is counted from the end of the last send's post when that went alone (a post
/// takes a while, and the send right after it is still part of the burst). Above the
/// coarsened clock's step (Chromium: 0.1 ms); with a 1 ms clock (Firefox) it reads "not in
/// the same millisecond".
const SEND_GAP_MS: f64 = 0.25;

/// Posts the sends waiting in `outbox`: one alone, several as one array.
fn flush_sends(port: &MessagePort, outbox: &RefCell<Vec<JsValue>>) -> bool {
    let sends = std::mem::take(&mut *outbox.borrow_mut());
    post_of(sends).is_none_or(|post| port.post_message(&post).is_ok())
}

impl Link for PortLink {
    fn post(&self, msg: ToWorker) -> bool {
        if let ToWorker::Send { .. } = msg {
            let now = performance_now();
            let alone = now - self.last_send.replace(now) >= SEND_GAP_MS;
            if alone && self.outbox.borrow().is_empty() {
                let posted = self.port.post_message(&msg.encode()).is_ok();
                self.last_send.set(performance_now());
                return posted;
            }
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
            self.post(ToWorker::Bye { handled: Some(self.handled.get()) });
        }
        self.port.close();
    }
}

/// Starts (or joins) the SharedWorker at `url` and makes its port this client's link.
fn open_worker(inner: &Rc<Inner>, url: &str) -> Result<Rc<dyn Link>, JsValue> {
    let wo = WorkerOptions::new();
    // Named after this page's release: a page of another release starts its own worker.
    // And after its lifetime: pages that ask for different lifetimes cannot share a worker
    // (the browser refuses the second), so the name keeps them apart instead of failing.
    wo.set_name(&[WORKER_NAME, "-", &inner.watch.borrow().build, "-", EXTENDED_LIFETIME_TAG].concat());
    // Where the browser has it (Chromium), the worker outlives its last page for a while:
    // a reload or a same-site navigation finds it, with its socket (`idleCloseMs`).
    // Elsewhere the option is ignored and the worker ends with its last page.
    let _ = js_sys::Reflect::set(&wo, &"extendedLifetime".into(), &true.into());
    let worker = SharedWorker::new_with_worker_options(url, &wo).map_err(|e| {
        let why = get(&e, "message").as_string().unwrap_or_default();
        js_error(&Error::Worker(WorkerError::Failed(["could not start the shared worker at ", url, ": ", &why].concat())))
    })?;
    let port = worker.port();
    let weak = Rc::downgrade(inner);
    // Frames handled from this worker: said after every DRAIN_EVERY, so the worker posts no
    // more than its bound to a page that stops handling them (tabmux_core::backlog).
    let handled = Rc::new(Cell::new(0u64));
    let counted = handled.clone();
    let drain = port.clone();
    let on_message = listen(&port, "message", move |ev| {
        if let Some(i) = weak.upgrade() {
            let before = handled.get();
            let n = before + i.on_incoming(&tabmux_web::event_data(ev));
            handled.set(n);
            if n / DRAIN_EVERY > before / DRAIN_EVERY {
                let total = n - n % DRAIN_EVERY;
                let _ = drain.post_message(&ToWorker::Drained { total }.encode());
            }
        }
    });
    let weak = Rc::downgrade(inner);
    let generation = inner.watch.borrow().life.as_ref().map_or(0, tabmux_core::worker_life::WorkerLife::generation);
    let script = url.to_string();
    let on_error = listen(&worker, "error", move |_| {
        if let Some(i) = weak.upgrade() {
            let e = Error::Worker(WorkerError::Failed(["the shared worker script at ", &script, " failed to load or run"].concat()));
            // A replacement that does not load is lost like any worker (tried again later);
            // the first one fails `connect()` (which may fall back to direct mode).
            i.worker_lost(generation, &e.message());
            i.fail_connect(&e);
        }
    });
    port.start();
    let link: Rc<dyn Link> =
        Rc::new(PortLink { port, handled: counted, outbox: Rc::default(), last_send: Cell::new(f64::NEG_INFINITY), _worker: worker, _listeners: [on_message, on_error] });
    *inner.link.borrow_mut() = Some(link.clone());
    Ok(link)
}

impl Inner {
    /// See [`open_worker`] (for a replacement worker).
    pub(crate) fn open_worker(self: &Rc<Self>, url: &str) -> Result<Rc<dyn Link>, JsValue> {
        open_worker(self, url)
    }
}
