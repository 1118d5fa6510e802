//! tabmux-worker: the SharedWorker runtime.
//!
//! The JS shim (`worker/shared-websocket-worker.js`) queues ports until this module is
//! loaded, then calls [`start`] once and [`WorkerRuntime::attach`] for every port. Each
//! port speaks `tabmux_web::protocol`: frames pass through untouched, a hello's options are
//! validated here, everything else goes to the driver's `serve` (the same dispatch direct
//! mode uses), and a malformed message gets an error reply on its own port without
//! disturbing anyone else.
#![allow(unsafe_code)] // wasm-bindgen's generated glue; no hand-written unsafe.

use gloo_events::EventListener as PortListener;
use std::cell::RefCell;
use std::rc::Rc;
use tabmux_core::{ClientId, Error, SortedMap, DEV_BUILD};
use tabmux_web::{parse_options, Driver, Sink, ToTab, ToWorker};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, MessagePort};


struct PortEntry {
    port: MessagePort,
    client: Option<ClientId>,
    _listener: Option<PortListener>,
}

struct State {
    allow_test_panic: bool,
    driver: Driver,
    _network: RefCell<Vec<PortListener>>,
    ports: RefCell<SortedMap<u32, PortEntry>>,
    next_port: std::cell::Cell<u32>,
    /// The Web Lock this worker holds for as long as it lives, once granted. Tabs wait on it:
    /// when they are granted it, the worker is gone (a panic, or the browser ended it).
    life_lock: RefCell<Option<String>>,
    /// This worker's release (the build id the shim was stamped with): a hello of another
    /// release is refused.
    build: String,
}

/// The worker's single runtime: one engine, every port.
#[wasm_bindgen]
pub struct WorkerRuntime {
    state: Rc<State>,
}

/// Starts the runtime. Call once, when the wasm module is ready. `allow_test_panic` makes
/// `{ t: "panic" }` panic on purpose (the shim sets it only for a worker script URL with
/// `?test-panic`, a worker of its own), so tests can prove a crash is reported. `build` is
/// this worker's build id (scripts/build.mjs writes it into the shim; "dev" otherwise).
#[wasm_bindgen]
pub fn start(allow_test_panic: bool, build: String) -> WorkerRuntime {
    console_error_panic_hook::set_once();
    let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64 ^ (js_sys::Date::now() as u64);
    let state = Rc::new(State {
        allow_test_panic,
        driver: Driver::new(seed),
        _network: RefCell::new(Vec::new()),
        ports: RefCell::new(SortedMap::new()),
        next_port: std::cell::Cell::new(1),
        life_lock: RefCell::new(None),
        build,
    });
    hold_life_lock(&state, seed);
    // The worker's own view of the network; tabs forward theirs too.
    let global: web_sys::EventTarget = js_sys::global().unchecked_into();
    for (event, online) in [("online", true), ("offline", false)] {
        let weak = Rc::downgrade(&state);
        state._network.borrow_mut().push(PortListener::new(&global, event, move |_| {
            if let Some(s) = weak.upgrade() {
                s.driver.online(online);
            }
        }));
    }
    let on_line = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"onLine".into()))
        .ok()
        .and_then(|v| v.as_bool());
    if on_line == Some(false) {
        state.driver.online(false);
    }
    WorkerRuntime { state }
}

#[wasm_bindgen]
impl WorkerRuntime {
    /// Takes a port from a `connect` event and serves it.
    pub fn attach(&self, port: MessagePort) {
        let key = self.state.next_port.get();
        self.state.next_port.set(key.wrapping_add(1));
        let weak = Rc::downgrade(&self.state);
        let listener = PortListener::new(&port, "message", move |ev| {
            if let (Some(state), Some(ev)) = (weak.upgrade(), ev.dyn_ref::<MessageEvent>()) {
                on_port_message(&state, key, &ev.data());
            }
        });
        port.start();
        self.state.ports.borrow_mut().insert(key, PortEntry { port, client: None, _listener: Some(listener) });
    }

    /// How many clients are attached (for tests and the demo).
    #[wasm_bindgen(js_name = clientCount)]
    pub fn client_count(&self) -> usize {
        self.state.driver.client_count()
    }

    /// How many ports are held (attached or still saying hello).
    #[wasm_bindgen(js_name = portCount)]
    pub fn port_count(&self) -> usize {
        self.state.ports.borrow().len()
    }
}

fn locks() -> Option<(JsValue, js_sys::Function)> {
    let locks = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"locks".into()))
        .ok()?;
    let request = js_sys::Reflect::get(&locks, &"request".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    Some((locks, request))
}

/// Takes a lock of this worker's own and never lets it go: the browser releases it when the
/// worker ends, however it ends.
fn hold_life_lock(state: &Rc<State>, seed: u64) {
    let Some((locks, request)) = locks() else { return };
    let name = format!("tabmux-worker:{seed:x}");
    let weak = Rc::downgrade(state);
    let held = name.clone();
    let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        if let Some(s) = weak.upgrade() {
            // Tabs that said hello before the grant learn of the lock now.
            for e in s.ports.borrow().values().filter(|e| e.client.is_some()) {
                post_alive(&e.port, &held);
            }
            *s.life_lock.borrow_mut() = Some(held);
        }
        js_sys::Promise::new(&mut |_, _| {}).into()
    });
    let _ = request.call2(&locks, &name.into(), &granted);
}

/// Tells a tab the name of the lock this worker holds for life.
fn post_alive(port: &MessagePort, lock: &str) {
    drop(port.post_message(&ToTab::Alive { lock: lock.to_string() }.encode()));
}

/// Waits for the tab's Web Lock: the worker is granted it only once the tab has let it go
/// (closed, crashed or killed, with or without a goodbye), and then drops the client.
fn watch_lock(state: &Rc<State>, key: u32, client: ClientId, name: &str) {
    let Some((locks, request)) = locks() else {
        return; // No Web Locks here: the tab's pagehide goodbye is what remains.
    };
    let weak = Rc::downgrade(state);
    let granted = Closure::once_into_js(move |_lock: JsValue| {
        if let Some(state) = weak.upgrade() {
            let still_here = state.ports.borrow().get(&key).is_some_and(|e| e.client == Some(client));
            if still_here {
                state.ports.borrow_mut().remove(&key);
                state.driver.detach(client);
            }
        }
    });
    let _ = request.call2(&locks, &name.into(), &granted);
}

fn on_port_message(state: &Rc<State>, key: u32, data: &JsValue) {
    let (port, client) = match state.ports.borrow().get(&key) {
        Some(e) => (e.port.clone(), e.client),
        None => return,
    };
    let reply_err = |e: &Error| drop(port.post_message(&ToTab::error(e, None).encode()));
    if state.allow_test_panic && js_sys::Reflect::get(data, &"t".into()).ok().and_then(|t| t.as_string()).as_deref() == Some("panic") {
        panic!("a test asked this worker to panic");
    }
    let msg = match ToWorker::decode(data) {
        Ok(m) => m,
        Err(e) => return reply_err(&e),
    };
    match (msg, client) {
        (ToWorker::Hello { build, .. }, None) if build.as_deref().unwrap_or(DEV_BUILD) != state.build => {
            // A page of another release: the worker it was built for is not this one (the
            // script at its URL changed under it). Its client falls back or retries.
            let page = build.as_deref().unwrap_or(DEV_BUILD);
            let why = ["this page is build ", page, " but the worker script is build ", &state.build, "; a page and a worker of different releases do not share (reload the page for the new release)"].concat();
            reply_err(&Error::WorkerFailed(why));
        }
        (ToWorker::Hello { tab_id, options, lock, token, .. }, None) => {
            let attached = parse_options(&options)
                .and_then(|o| state.driver.attach(Sink::Port(port.clone()), &tab_id, o, token.as_deref()));
            match attached {
                Ok(c) => {
                    if let Some(e) = state.ports.borrow_mut().get_mut(&key) {
                        e.client = Some(c);
                    }
                    if let Some(name) = lock {
                        watch_lock(state, key, c, &name);
                    }
                    // The tab waits on this worker's life lock to learn when it is gone.
                    if let Some(name) = state.life_lock.borrow().as_deref() {
                        post_alive(&port, name);
                    }
                }
                Err(e) => reply_err(&e),
            }
        }
        (ToWorker::Bye, _) => {
            // Forget the port first, so nothing more is posted to it.
            let entry = state.ports.borrow_mut().remove(&key);
            if let Some(c) = client {
                state.driver.detach(c);
            }
            if let Some(e) = entry {
                e.port.close();
            }
        }
        // The browser's view of the network and visibility counts whoever reports it.
        (ToWorker::Online { online }, _) => state.driver.online(online),
        (ToWorker::Visible, _) => state.driver.visible(),
        (_, None) => reply_err(&Error::NotAttached),
        (msg, Some(c)) => state.driver.serve(c, msg),
    }
}
