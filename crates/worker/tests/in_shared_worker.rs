//! The worker runtime inside a real SharedWorkerGlobalScope, with real WebSockets to the
//! dev server that `npm test` starts (its address is baked in at compile time).
#![allow(missing_docs)]

use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use tabmux_worker::{start, WorkerRuntime};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{MessageChannel, MessageEvent, MessagePort};

wasm_bindgen_test_configure!(run_in_shared_worker);

#[path = "../../../tests/wasm_support.rs"]
mod support;
use support::{ctl, get, sleep_ms, wait_for, ws_url};

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn hello(tab: &str, url: &str) -> JsValue {
    obj(&[
        ("t", "hello".into()),
        ("v", 1.into()),
        ("tabId", tab.into()),
        ("options", obj(&[("url", url.into())])),
    ])
}

/// A fake tab: one end of a MessageChannel whose other end the runtime serves.
struct Tab {
    port: MessagePort,
    got: Rc<RefCell<Vec<JsValue>>>,
    _listener: EventListener,
}

impl Tab {
    fn new(rt: &WorkerRuntime) -> Tab {
        let ch = MessageChannel::new().unwrap();
        rt.attach(ch.port1());
        let port = ch.port2();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        let listener = EventListener::new(&port, "message", move |ev| {
            let data = ev.dyn_ref::<MessageEvent>().unwrap().data();
            // Several messages posted together (a batch of frames): each in order, as a tab
            // takes them.
            match data.dyn_ref::<js_sys::Array>() {
                Some(batch) => g.borrow_mut().extend(batch.iter()),
                None => g.borrow_mut().push(data),
            }
        });
        port.start();
        Tab { port, got, _listener: listener }
    }

    fn post(&self, v: &JsValue) {
        self.port.post_message(v).unwrap();
    }

    fn frames(&self) -> Vec<String> {
        self.got.borrow().iter().filter_map(|v| v.as_string()).collect()
    }

    fn of_type(&self, t: &str) -> Vec<JsValue> {
        self.got.borrow().iter().filter(|v| get(v, "t").as_string().as_deref() == Some(t)).cloned().collect()
    }

    fn last_status(&self) -> Option<JsValue> {
        self.of_type("status").last().map(|m| get(m, "status"))
    }

    fn is_open_with(&self, tabs: u32) -> bool {
        self.last_status().is_some_and(|s| {
            get(&s, "state").as_string().as_deref() == Some("open") && get(&s, "tabs").as_f64() == Some(tabs as f64)
        })
    }

    fn error_codes(&self) -> Vec<String> {
        self.of_type("error").iter().map(|e| get(e, "code").as_string().unwrap()).collect()
    }
}

fn seq_frames(first: f64, n: usize, channel: &str) -> Vec<String> {
    (0..n).map(|i| format!("{{\"seq\":{},\"channel\":\"{channel}\",\"pad\":\"\"}}", first as u64 + i as u64)).collect()
}

/// How many `tabmux:worker-hello` marks this worker's performance timeline holds.
fn hello_marks() -> u32 {
    let perf = get(&js_sys::global(), "performance");
    let by_name: js_sys::Function = get(&perf, "getEntriesByName").unchecked_into();
    js_sys::Array::from(&by_name.call1(&perf, &"tabmux:worker-hello".into()).unwrap()).length()
}

#[wasm_bindgen_test]
async fn two_ports_share_one_socket_inside_a_real_shared_worker() {
    assert!(js_sys::global().dyn_into::<web_sys::SharedWorkerGlobalScope>().is_ok(), "not in a SharedWorker");
    let marks_before = hello_marks();
    let rt = start("dev".into());
    let a = Tab::new(&rt);
    let b = Tab::new(&rt);
    a.post(&hello("tab-a", &ws_url("wasm-shared")));
    b.post(&hello("tab-b", &ws_url("wasm-shared")));
    wait_for("both open with 2 tabs", || a.is_open_with(2) && b.is_open_with(2)).await;
    assert_eq!(a.of_type("welcome").len(), 1);
    assert_eq!(rt.client_count(), 2);
    // One start-up mark per runtime: its first client, not the second.
    assert_eq!(hello_marks(), marks_before + 1);
    let stats = ctl("/control/stats").await;
    assert_eq!(get(&get(&stats, "byChannel"), "wasm-shared").as_f64(), Some(1.0));

    let sent = ctl("/control/broadcast?channel=wasm-shared&n=3").await;
    let want = seq_frames(get(&sent, "firstSeq").as_f64().unwrap(), 3, "wasm-shared");
    wait_for("3 frames on both ports", || a.frames().len() == 3 && b.frames().len() == 3).await;
    assert_eq!(a.frames(), want);
    assert_eq!(b.frames(), want);

    // A frame posted by a tab goes out on the shared socket.
    b.post(&JsValue::from_str("from the wasm test"));
    a.post(&obj(&[("t", "stats".into()), ("id", 7.into())]));
    wait_for("stats reply", || a.of_type("stats").len() == 1).await;
    let reply = &a.of_type("stats")[0];
    assert_eq!(get(reply, "id").as_f64(), Some(7.0));
    assert_eq!(get(&get(reply, "stats"), "framesIn").as_f64(), Some(3.0));
    assert_eq!(get(&get(reply, "stats"), "deliveries").as_f64(), Some(6.0));
    assert!(get(reply, "memoryBytes").as_f64().unwrap() > 0.0);

    // Both say goodbye: the socket closes at the server.
    a.post(&obj(&[("t", "bye".into())]));
    b.post(&obj(&[("t", "bye".into())]));
    wait_for("ports released", || rt.port_count() == 0).await;
    assert_eq!(rt.client_count(), 0);
    assert!(support::channel_closed("wasm-shared").await, "the server still holds the socket");
    let recv = get(&ctl("/control/stats").await, "received");
    let got: Vec<String> = js_sys::Array::from(&recv).iter().map(|r| get(&r, "data").as_string().unwrap()).collect();
    assert!(got.contains(&"from the wasm test".to_string()));
}

#[wasm_bindgen_test]
async fn garbage_on_one_port_gets_error_replies_and_the_other_port_keeps_receiving() {
    let rt = start("dev".into());
    let good = Tab::new(&rt);
    good.post(&hello("good", &ws_url("wasm-garbage")));
    wait_for("good open", || good.is_open_with(1)).await;

    let bad = Tab::new(&rt);
    let garbage = [
        JsValue::from(42),
        JsValue::NULL,
        obj(&[]),
        obj(&[("t", "explode".into())]),
        JsValue::from_str("a frame before hello"),
        obj(&[("t", "stats".into()), ("id", 1.into())]),
    ];
    for g in &garbage {
        bad.post(g);
    }
    wait_for("an error for each", || bad.error_codes().len() == garbage.len()).await;
    assert_eq!(bad.error_codes(), ["bad-message", "bad-message", "bad-message", "bad-message", "not-attached", "not-attached"]);
    let msgs: Vec<String> = bad.of_type("error").iter().map(|e| get(e, "message").as_string().unwrap()).collect();
    assert_eq!(msgs[3], "tabmux: bad message to the worker: unknown message type \"explode\"");
    // A refused hello closes its port: each on a port of its own.
    let refused = [
        obj(&[("t", "hello".into()), ("v", 99.into()), ("tabId", "x".into()), ("options", obj(&[("url", "ws://h/".into())]))]),
        obj(&[("t", "hello".into()), ("v", 1.into()), ("tabId", "x".into()), ("options", obj(&[("url", "http://nope/".into())]))]),
        obj(&[("t", "hello".into()), ("v", 1.into()), ("tabId", "".into()), ("options", obj(&[("url", "ws://h/".into())]))]),
        obj(&[("t", "hello".into()), ("v", 1.into()), ("tabId", "x".into()), ("options", 5.into())]),
    ];
    let tabs: Vec<Tab> = refused.iter().map(|h| {
        let t = Tab::new(&rt);
        t.post(h);
        t
    }).collect();
    wait_for("each hello refused", || tabs.iter().all(|t| t.error_codes().len() == 1)).await;
    let codes: Vec<String> = tabs.iter().map(|t| t.error_codes()[0].clone()).collect();
    assert_eq!(codes, ["version-mismatch", "invalid-options", "bad-message", "invalid-options"]);
    let msg = |t: &Tab| get(&t.of_type("error")[0], "message").as_string().unwrap();
    assert_eq!(msg(&tabs[0]), "tabmux: protocol version 99 is not spoken by this worker (it speaks 1)");
    assert_eq!(msg(&tabs[1]), "tabmux: invalid options: url must start with ws:// or wss://, got \"http://nope/\"");
    assert_eq!(rt.port_count(), 2, "the refused ports are forgotten");
    // Nothing more reaches a refused port's worker side.
    tabs[0].post(&obj(&[("t", "stats".into()), ("id", 2.into())]));
    sleep_ms(200).await;
    assert_eq!(tabs[0].got.borrow().len(), 1);
    assert_eq!(rt.client_count(), 1);

    // The good tab never noticed.
    let sent = ctl("/control/broadcast?channel=wasm-garbage&n=2").await;
    wait_for("2 frames", || good.frames().len() == 2).await;
    assert_eq!(good.frames(), seq_frames(get(&sent, "firstSeq").as_f64().unwrap(), 2, "wasm-garbage"));
    assert!(good.error_codes().is_empty());

    // The bad port can still attach properly afterwards; a second hello is refused.
    bad.post(&hello("bad", &ws_url("wasm-garbage")));
    wait_for("bad attached", || bad.is_open_with(2)).await;
    bad.post(&hello("bad", &ws_url("wasm-garbage")));
    wait_for("second hello refused", || bad.error_codes().len() == garbage.len() + 1).await;
    assert_eq!(bad.error_codes().last().unwrap(), "bad-message");
    good.post(&obj(&[("t", "bye".into())]));
    bad.post(&obj(&[("t", "bye".into())]));
    wait_for("released", || rt.port_count() == 0).await;
}

/// A hello as a replacement worker gets it: with the tab's token, so the first socket already
/// carries it. A hello whose token is not a string is refused.
///
/// Liveness, both ways: the worker takes a life lock for each tab that says hello with a lock
/// of its own, and names it (`alive`): a tab granted it knows the worker is gone. A tab that
/// says `{ t: "lock" }` (before an unload) may let its lock go without being dropped, and the
/// worker lets go of that tab's life lock in turn; with a new lock (`{ t: "lock", lock }`) the
/// tab is watched again and gets a new life lock; that lock let go without a word is the
/// tab's death: dropped, and its life lock let go.
#[wasm_bindgen_test]
async fn a_hello_with_a_token_connects_with_it_and_locks_watch_both_ways() {
    let rt = start("dev".into());
    let refused = Tab::new(&rt);
    let bad = hello("bad", &ws_url("wasm-token"));
    js_sys::Reflect::set(&bad, &"token".into(), &5.into()).unwrap();
    refused.post(&bad);
    wait_for("the bad hello refused", || refused.error_codes().len() == 1).await;
    assert_eq!(refused.error_codes(), ["bad-message"]);
    // A refused hello's port is closed: the tab tries again on a new one.
    let tab = Tab::new(&rt);
    let first = hold_lock("tabmux-test-tab:1").await;
    let good = hello("tab-t", &ws_url("wasm-token"));
    js_sys::Reflect::set(&good, &"token".into(), &"s3cret".into()).unwrap();
    js_sys::Reflect::set(&good, &"lock".into(), &"tabmux-test-tab:1".into()).unwrap();
    tab.post(&good);
    wait_for("open", || tab.is_open_with(1)).await;
    let accepts = js_sys::Array::from(&get(&ctl("/control/stats").await, "accepts"));
    let queries: Vec<String> = accepts
        .iter()
        .filter(|a| get(a, "channel").as_string().as_deref() == Some("wasm-token"))
        .map(|a| get(&a, "query").as_string().unwrap())
        .collect();
    assert_eq!(queries, ["token=s3cret"]);

    wait_for("the life lock named", || tab.of_type("alive").len() == 1).await;
    let life = get(&tab.of_type("alive")[0], "lock").as_string().unwrap();
    assert!(life.starts_with("tabmux-worker:"), "{life}");
    assert!(held_locks().await.contains(&life), "{life} held");

    // Before an unload: the tab says so, then lets its lock go; it stays attached.
    tab.post(&obj(&[("t", "lock".into())]));
    wait_for_async("the life lock let go", || async { !held_locks().await.contains(&life) }).await;
    first.call0(&JsValue::NULL).unwrap();
    wait_for_async("the tab's lock let go", || async { !held_locks().await.iter().any(|l| l == "tabmux-test-tab:1") }).await;
    support::sleep_ms(200).await;
    assert_eq!(rt.client_count(), 1, "still attached");

    // Still here: a new lock, watched again, and a new life lock for it.
    let second = hold_lock("tabmux-test-tab:2").await;
    tab.post(&obj(&[("t", "lock".into()), ("lock", "tabmux-test-tab:2".into())]));
    wait_for("a new life lock named", || tab.of_type("alive").len() == 2).await;
    let life2 = get(&tab.of_type("alive")[1], "lock").as_string().unwrap();
    assert_ne!(life2, life);
    assert!(held_locks().await.contains(&life2), "{life2} held");

    // Now its lock goes without a word: the tab is gone.
    second.call0(&JsValue::NULL).unwrap();
    wait_for("the tab dropped", || rt.client_count() == 0 && rt.port_count() == 0).await;
    wait_for_async("its life lock let go", || async { !held_locks().await.contains(&life2) }).await;
}

/// Takes the Web Lock `name` and holds it until the returned function is called.
async fn hold_lock(name: &str) -> js_sys::Function {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    let request: js_sys::Function = get(&locks, "request").dyn_into().unwrap();
    let mut release = None;
    let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted_fn = None;
    let granted = js_sys::Promise::new(&mut |resolve, _| granted_fn = Some(resolve));
    let granted_fn = granted_fn.unwrap();
    let cb = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        granted_fn.call0(&JsValue::NULL).unwrap();
        held.into()
    });
    request.call2(&locks, &name.into(), &cb).unwrap();
    wasm_bindgen_futures::JsFuture::from(granted).await.unwrap();
    release.unwrap()
}

/// The names of the Web Locks held in this origin now.
async fn held_locks() -> Vec<String> {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    let query: js_sys::Function = get(&locks, "query").dyn_into().unwrap();
    let snapshot = wasm_bindgen_futures::JsFuture::from(query.call0(&locks).unwrap().dyn_into::<js_sys::Promise>().unwrap()).await.unwrap();
    js_sys::Array::from(&get(&snapshot, "held")).iter().map(|l| get(&l, "name").as_string().unwrap()).collect()
}

/// Polls the async `cond` every 25 ms for up to 10 s.
async fn wait_for_async<F: std::future::Future<Output = bool>>(what: &str, cond: impl Fn() -> F) {
    for _ in 0..400 {
        if cond().await {
            return;
        }
        support::sleep_ms(25).await;
    }
    panic!("timed out waiting for {what}");
}

fn hello_with(tab: &str, options: JsValue) -> JsValue {
    obj(&[("t", "hello".into()), ("v", 1.into()), ("tabId", tab.into()), ("options", options)])
}

/// The worker's side of the debug log and of server pings: log messages go only to the port
/// whose hello asked for them; a server ping is answered once and reaches neither port.
#[wasm_bindgen_test]
async fn log_messages_only_to_the_debug_port_and_a_server_ping_answered_once_for_both() {
    let rt = start("dev".into());
    let loud = Tab::new(&rt);
    let quiet = Tab::new(&rt);
    let url = ws_url("wasm-log");
    let ping = || obj(&[("url", url.as_str().into()), ("heartbeat", false.into()), ("serverPing", "centrifugo".into())]);
    let with_debug = ping();
    js_sys::Reflect::set(&with_debug, &"debug".into(), &true.into()).unwrap();
    loud.post(&hello_with("tab-loud", with_debug));
    quiet.post(&hello_with("tab-quiet", ping()));
    wait_for("both open with 2 tabs", || loud.is_open_with(2) && quiet.is_open_with(2)).await;
    ctl("/control/broadcast?channel=wasm-log&text=%7B%7D").await;
    ctl("/control/broadcast?channel=wasm-log&text=after").await;
    wait_for("the frame after the ping", || loud.frames() == ["after"] && quiet.frames() == ["after"]).await;
    let events: Vec<String> = loud.of_type("log").iter().map(|m| get(&get(m, "event"), "event").as_string().unwrap()).collect();
    assert_eq!(&events[..2], ["connect", "open"]);
    assert_eq!(quiet.of_type("log").len(), 0, "no log message to a port that did not ask");
    let recv = get(&ctl("/control/stats").await, "received");
    let got: Vec<String> = js_sys::Array::from(&recv)
        .iter()
        .filter(|r| get(r, "channel").as_string().as_deref() == Some("wasm-log"))
        .map(|r| get(&r, "data").as_string().unwrap())
        .collect();
    assert_eq!(got, ["{}"], "one answer for two ports");
    loud.post(&obj(&[("t", "bye".into())]));
    quiet.post(&obj(&[("t", "bye".into())]));
    wait_for("ports released", || rt.port_count() == 0).await;
}
