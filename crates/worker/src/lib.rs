//! tabmux-worker: the SharedWorker runtime.
//!
//! The JS shim (`worker/shared-websocket-worker.js`) queues ports until this module is
//! loaded, then calls [`start`] once and [`WorkerRuntime::attach`] for every port. Each
//! port speaks `tabmux_web::protocol`: frames pass through untouched, a hello's options are
//! validated here, everything else goes to the driver's `serve` (the same dispatch direct
//! mode uses), and a malformed message gets an error reply on its own port without
//! disturbing anyone else.
//!
//! Every map here is bounded: a port that has not said a valid hello within
//! `HELLO_TIMEOUT_MS` is closed and forgotten, a port whose hello is refused at once, and no
//! more than `MAX_PENDING_PORTS` wait for their hello (`tabmux_core::protocol`). Before its
//! hello a port may only say hello (or goodbye): anything else is refused `not-attached`.
#![allow(unsafe_code)] // wasm-bindgen's generated glue; no hand-written unsafe.

use gloo_events::EventListener as PortListener;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use tabmux_core::error::decimal;
use tabmux_core::protocol::{HELLO_TIMEOUT_MS, MAX_PENDING_PORTS};
use tabmux_core::{ClientId, DEV_BUILD, Error, ProtocolError, SortedMap, WorkerError};
use tabmux_web::locks::{self, Held};
use tabmux_web::{parse_options, Driver, Sink, ToTab, ToWorker, TokenClaim};
use wasm_bindgen::prelude::*;
use web_sys::MessagePort;


struct PortEntry {
    port: MessagePort,
    client: Option<ClientId>,
    /// The tab's liveness lock the worker waits on: its grant drops the client only while it
    /// is still this one (a tab lets its lock go before an unload, and may take a new one).
    lock: Option<String>,
    /// The lock this worker holds for this tab while both live (let go with the entry). The
    /// tab waits on it: granted, the worker is gone (however it ended) or let the tab go; so
    /// the tab's wait ends by a grant, never an abort (Firefox keeps no page with an aborted
    /// lock request in its back/forward cache).
    life: Option<Held>,
    /// Until its hello is accepted: closes and forgets the port after `HELLO_TIMEOUT_MS`.
    hello_deadline: Option<Timeout>,
    _listener: Option<PortListener>,
}

struct State {
    driver: Driver,
    _network: RefCell<Vec<PortListener>>,
    ports: RefCell<SortedMap<u32, PortEntry>>,
    next_port: std::cell::Cell<u32>,
    /// This worker's release (the build id compiled into its wasm): a hello of another
    /// release is refused.
    build: String,
    /// Why every hello is refused: the shim was stamped with another release than its wasm.
    mixed: Option<String>,
    /// Names this worker's per-tab life locks (see [`hold_life_lock`]).
    seed: u64,
    next_lock: std::cell::Cell<u32>,
    /// Whether the first client was attached (its `tabmux:worker-hello` mark is made).
    first_hello: std::cell::Cell<bool>,
}


/// The worker's single runtime: one engine, every port.
#[wasm_bindgen]
pub struct WorkerRuntime {
    state: Rc<State>,
}

/// Starts the runtime. Call once, when the wasm module is ready. `build` is the build id the
/// shim was stamped with (scripts/build.mjs; "dev" otherwise); the wasm's own
/// ([`tabmux_web::build_id`]) is this worker's release. When the two differ (a shim of one
/// release over a cached glue and wasm of another) every hello is refused (`worker-failed`).
#[wasm_bindgen]
pub fn start(build: String) -> WorkerRuntime {
    let own = tabmux_web::build_id();
    let mixed = (build != own).then(|| {
        ["the worker script is build ", &build, " but its wasm is build ", &own, " (a cached file of another release); reload the page"].concat()
    });
    console_error_panic_hook::set_once();
    let seed = tabmux_web::random_seed();
    let state = Rc::new(State {
        driver: Driver::new(seed),
        _network: RefCell::new(Vec::new()),
        ports: RefCell::new(SortedMap::new()),
        next_port: std::cell::Cell::new(1),
        build: own,
        mixed,
        seed,
        next_lock: std::cell::Cell::new(0),
        first_hello: std::cell::Cell::new(false),
    });
    // The worker's own view of the network (its navigator.onLine, read by the driver at start
    // and again on these events where the engine sends them; tabs' reports are the prompt
    // where it does not, as in Chromium).
    let global: web_sys::EventTarget = js_sys::global().unchecked_into();
    for event in ["online", "offline"] {
        let weak = Rc::downgrade(&state);
        state._network.borrow_mut().push(PortListener::new(&global, event, move |_| {
            if let Some(s) = weak.upgrade() {
                s.driver.network_changed();
            }
        }));
    }
    WorkerRuntime { state }
}

#[wasm_bindgen]
impl WorkerRuntime {
    /// Takes a port from a `connect` event and serves it: it has `HELLO_TIMEOUT_MS` to say a
    /// valid hello. Past `MAX_PENDING_PORTS` ports without one, it is refused and closed.
    pub fn attach(&self, port: MessagePort) {
        let pending = self.state.ports.borrow().values().filter(|e| e.client.is_none()).count();
        if pending >= MAX_PENDING_PORTS {
            // The number is MAX_PENDING_PORTS, written out.
            let why = "tabmux: 1024 ports of this worker have not said hello yet; this one is closed";
            drop(port.post_message(&ToTab::error(&Error::Worker(WorkerError::TooManyPorts(why.into())), None).encode()));
            port.close();
            return;
        }
        let key = self.state.next_port.get();
        self.state.next_port.set(key.wrapping_add(1));
        let weak = Rc::downgrade(&self.state);
        let listener = PortListener::new(&port, "message", move |ev| {
            if let Some(state) = weak.upgrade() {
                on_port_message(&state, key, &tabmux_web::event_data(ev));
            }
        });
        let weak = Rc::downgrade(&self.state);
        let hello_deadline = tabmux_web::timer::after(
            HELLO_TIMEOUT_MS,
            Box::new(move || {
                if let Some(state) = weak.upgrade() {
                    let late = state.ports.borrow().get(&key).is_some_and(|e| e.client.is_none());
                    if late {
                        drop_port(&state, key, Some(&Error::Protocol(ProtocolError::NotAttached)));
                    }
                }
            }),
        );
        port.start();
        self.state.ports.borrow_mut().insert(
            key,
            PortEntry { port, client: None, lock: None, life: None, hello_deadline: Some(hello_deadline), _listener: Some(listener) },
        );
    }

    /// How many clients are attached. Test builds only (feature `test-hooks`).
    #[cfg(feature = "test-hooks")]
    #[wasm_bindgen(js_name = clientCount)]
    pub fn client_count(&self) -> usize {
        self.state.driver.client_count()
    }

    /// How many ports are held (attached or still saying hello). Test builds only (feature
    /// `test-hooks`).
    #[cfg(feature = "test-hooks")]
    #[wasm_bindgen(js_name = portCount)]
    pub fn port_count(&self) -> usize {
        self.state.ports.borrow().len()
    }
}

/// Takes a Web Lock for the tab on port `key` and holds it while both live; once granted,
/// tells the tab its name (`alive`). The browser releases it when the worker ends, however
/// it ends, so a tab waiting on it learns that the worker is gone. The worker releases it
/// itself when the tab leaves or asks (before an unload): the tab's wait then ends by a grant
/// it ignores.
fn hold_life_lock(state: &Rc<State>, key: u32) {
    let n = state.next_lock.get();
    state.next_lock.set(n.wrapping_add(1));
    let name = ["tabmux-worker:", &decimal(state.seed), ":", &decimal(u64::from(n))].concat();
    let weak = Rc::downgrade(state);
    let named = name.clone();
    locks::hold(&name, move |held| {
        let Some(s) = weak.upgrade() else { return };
        let mut ports = s.ports.borrow_mut();
        // A tab that left (or let go) meanwhile: `held` is dropped, the lock goes at once.
        let Some(e) = ports.get_mut(&key).filter(|e| e.client.is_some() && e.lock.is_some()) else { return };
        // A former life lock of this tab goes as this one takes its place.
        e.life = Some(held);
        post_alive(&e.port, &named);
    });
}

/// Tells a tab the name of the lock this worker holds for life.
fn post_alive(port: &MessagePort, lock: &str) {
    drop(port.post_message(&ToTab::Alive { lock: lock.to_string() }.encode()));
}

/// Waits for the tab's Web Lock: the worker is granted it only once the tab has let it go
/// (closed, crashed or killed, with or without a goodbye), and then drops the client,
/// unless the tab said beforehand that it lets this lock go and stays.
fn watch_lock(state: &Rc<State>, key: u32, client: ClientId, name: &str) {
    if let Some(e) = state.ports.borrow_mut().get_mut(&key) {
        e.lock = Some(name.to_string());
    }
    hold_life_lock(state, key);
    // Without Web Locks the tab's pagehide goodbye is what remains.
    let weak = Rc::downgrade(state);
    let watched = name.to_string();
    locks::wait(name, move || {
        if let Some(state) = weak.upgrade() {
            let still_here = state
                .ports
                .borrow()
                .get(&key)
                .is_some_and(|e| e.client == Some(client) && e.lock.as_deref() == Some(watched.as_str()));
            if still_here {
                state.ports.borrow_mut().remove(&key);
                state.driver.detach(client);
            }
        }
    });
}

/// A mark in this worker's performance timeline, for the start-up figures (README,
/// "Start-up"): the shim makes `tabmux:worker-script`, `-glue` and `-wasm`, this module
/// `tabmux:worker-hello` once its first client is attached and welcomed.
fn mark(name: &str) {
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap_or_default();
    if let Ok(mark) = js_sys::Reflect::get(&perf, &"mark".into()).map(JsCast::unchecked_into::<js_sys::Function>) {
        if mark.is_function() {
            let _ = mark.call1(&perf, &name.into());
        }
    }
}

/// Forgets a port that has no client (its hello never came, or was refused) and closes it,
/// after telling it `why`.
fn drop_port(state: &Rc<State>, key: u32, why: Option<&Error>) {
    let entry = state.ports.borrow_mut().remove(&key);
    if let Some(e) = entry {
        if let Some(why) = why {
            drop(e.port.post_message(&ToTab::error(why, None).encode()));
        }
        e.port.close();
    }
}

/// Whether a message is a `{ t }` of this type (compared on the JS side: a 100 MB `t` is not
/// copied into wasm).
fn is_type(data: &JsValue, t: &str) -> bool {
    data.is_object() && js_sys::Reflect::get(data, &"t".into()).is_ok_and(|v| v == JsValue::from_str(t))
}

fn on_port_message(state: &Rc<State>, key: u32, data: &JsValue) {
    // Test builds only (feature `test-hooks`, the test worker of scripts/build.mjs): tests
    // prove a crash is reported to every tab.
    #[cfg(feature = "test-hooks")]
    if is_type(data, "panic") {
        panic!("a test asked this worker to panic");
    }
    // Test builds only: what this worker holds, for the tests of its bounds.
    #[cfg(feature = "test-hooks")]
    if is_type(data, "counts") {
        if let Some(e) = state.ports.borrow().get(&key) {
            drop(e.port.post_message(&counts(state)));
        }
        return;
    }
    // A page's messages of one task come as one post: each is handled as if it came alone.
    ToWorker::read_post(data, |item, msg| on_message(state, key, item, msg));
}

/// One message from port `key` (`item` as posted).
fn on_message(state: &Rc<State>, key: u32, item: &JsValue, msg: Result<ToWorker, Error>) {
    // Read for each message: a hello earlier in the same post attached the port.
    let (port, client) = match state.ports.borrow().get(&key) {
        Some(e) => (e.port.clone(), e.client),
        None => return,
    };
    let reply_err = |e: &Error| drop(port.post_message(&ToTab::error(e, None).encode()));
    let msg = match msg {
        Ok(m) => m,
        // A hello that cannot be read is a refused hello: the port goes.
        Err(e) if client.is_none() && is_type(item, ToWorker::HELLO) => return drop_port(state, key, Some(&e)),
        Err(e) => return reply_err(&e),
    };
    match (msg, client) {
        (ToWorker::Hello { .. }, None) if state.mixed.is_some() => {
            let why = state.mixed.clone().unwrap_or_default();
            drop_port(state, key, Some(&Error::Worker(WorkerError::Failed(why))));
        }
        (ToWorker::Hello { build, .. }, None) if build.as_deref().unwrap_or(DEV_BUILD) != state.build => {
            // A page of another release: the worker it was built for is not this one (the
            // script at its URL changed under it). Its client falls back or retries.
            let page = build.as_deref().unwrap_or(DEV_BUILD);
            let why = ["this page is build ", page, " but the worker script is build ", &state.build, "; a page and a worker of different releases do not share (reload the page for the new release)"].concat();
            drop_port(state, key, Some(&Error::Worker(WorkerError::Failed(why))));
        }
        (ToWorker::Hello { tab_id, options, lock, token, token_gen, seq, .. }, None) => {
            let claim = TokenClaim { token: token.as_deref(), gen: token_gen };
            let attached = parse_options(&options)
                .and_then(|o| state.driver.attach(Sink::port(port.clone()), &tab_id, o, claim, seq));
            match attached {
                Ok(c) => {
                    if let Some(e) = state.ports.borrow_mut().get_mut(&key) {
                        e.client = Some(c);
                        e.hello_deadline = None;
                    }
                    if !state.first_hello.replace(true) {
                        mark("tabmux:worker-hello");
                    }
                    // Its lock tells this worker when the tab is gone; the life lock taken
                    // for it tells the tab when this worker is.
                    if let Some(name) = lock {
                        watch_lock(state, key, c, &name);
                    }
                }
                // Refused (options, too many clients or endpoints): the port goes.
                Err(e) => drop_port(state, key, Some(&e)),
            }
        }
        // A port without a client may only leave (which forgets it, as its hello's deadline
        // would).
        (ToWorker::Bye { handled }, _) => {
            // Forget the port first, so nothing more is posted to it.
            let entry = state.ports.borrow_mut().remove(&key);
            if let Some(c) = client {
                state.driver.detach_after(c, handled);
            }
            if let Some(e) = entry {
                e.port.close();
            }
        }
        (ToWorker::Liveness { lock }, Some(c)) => match lock {
            Some(name) => watch_lock(state, key, c, &name),
            None => {
                // The tab lets its lock go and stays: neither lock means anything until it
                // takes a new one.
                let life = state.ports.borrow_mut().get_mut(&key).and_then(|e| {
                    e.lock = None;
                    e.life.take()
                });
                drop(life);
            }
        },
        // Nothing else before a hello: no port decides anything for the others unattached.
        (_, None) => reply_err(&Error::Protocol(ProtocolError::NotAttached)),
        (msg, Some(c)) => state.driver.serve(c, msg),
    }
}

/// `{ t: "counts", ports, pending, clients, memoryBytes }`: the ports held, those without a
/// client yet, the clients and the wasm memory. Test builds only.
#[cfg(feature = "test-hooks")]
fn counts(state: &State) -> JsValue {
    let ports = state.ports.borrow();
    let o = js_sys::Object::new();
    let pending = ports.values().filter(|e| e.client.is_none()).count();
    let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer();
    let memory = memory.unchecked_into::<js_sys::ArrayBuffer>().byte_length();
    for (k, v) in [("ports", ports.len() as f64), ("pending", pending as f64), ("clients", state.driver.client_count() as f64), ("memoryBytes", f64::from(memory))] {
        let _ = js_sys::Reflect::set(&o, &k.into(), &v.into());
    }
    let _ = js_sys::Reflect::set(&o, &"t".into(), &"counts".into());
    o.into()
}

// The worker's allocator: talc instead of std's dlmalloc (smaller, and faster in talc's
// wasm benchmarks). In-place realloc stays on: the worker grows buffers as frames pass.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
