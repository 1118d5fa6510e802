//! Direct mode in a real page: the engine running in the page with a real socket to the dev
//! server, behind the same client as shared mode, and option validation.
#![allow(missing_docs)]

use gloo_timers::future::TimeoutFuture;
use std::cell::RefCell;
use std::rc::Rc;
use tabmux_direct::connect_direct;
use tabmux_tab::{Op, TabClient};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

async fn connect(options: JsValue) -> Result<TabClient, JsValue> {
    let client = JsFuture::from(connect_direct(options, "wasmtestpage".into(), JsValue::UNDEFINED)).await?;
    TabClient::try_from_js_value(client)
}

wasm_bindgen_test_configure!(run_in_browser);

#[path = "../../../tests/wasm_support.rs"]
mod support;
use support::{ctl, get, wait_for, ws_url};

fn options(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

const U: JsValue = JsValue::UNDEFINED;

/// A client call through its one wasm export, as js/index.js makes it.
fn call(client: &TabClient, op: Op, a: JsValue) -> JsValue {
    client.call(op, a, U).unwrap()
}

fn promise(p: JsValue) -> JsFuture {
    JsFuture::from(js_sys::Promise::from(p))
}

fn recorder(client: &TabClient, event: &str) -> (Rc<RefCell<Vec<JsValue>>>, Closure<dyn Fn(JsValue)>, u32) {
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let f = Closure::<dyn Fn(JsValue)>::new(move |v| g.borrow_mut().push(v));
    let id = client.call(Op::On, event.into(), f.as_ref().clone()).unwrap().as_f64().unwrap() as u32;
    (got, f, id)
}

#[wasm_bindgen_test]
async fn direct_mode_runs_the_engine_in_the_page_with_the_same_api() {
    let url = ws_url("wasm-direct");
    let client = connect(options(&format!(r#"{{"url":"{url}","mode":"direct"}}"#))).await.unwrap();
    assert_eq!(call(&client, Op::Transport, U).as_string().unwrap(), "direct");
    let (frames, _f1, frames_id) = recorder(&client, "message");
    let (statuses, _f2, _) = recorder(&client, "status");
    let c = &client;
    wait_for("open", || get(&call(&c, Op::Status, U), "state").as_string().as_deref() == Some("open")).await;
    assert_eq!(get(&call(&client, Op::Status, U), "tabs").as_f64(), Some(1.0));
    assert_eq!(get(&statuses.borrow()[0], "state").as_string().as_deref(), Some("open"));

    let sent = ctl("/control/broadcast?channel=wasm-direct&n=4").await;
    let first = get(&sent, "firstSeq").as_f64().unwrap() as u64;
    wait_for("4 frames", || frames.borrow().len() == 4).await;
    let got: Vec<String> = frames.borrow().iter().map(|v| v.as_string().unwrap()).collect();
    let want: Vec<String> = (first..first + 4).map(|s| format!("{{\"seq\":{s},\"channel\":\"wasm-direct\",\"pad\":\"\"}}")).collect();
    assert_eq!(got, want);

    promise(call(&client, Op::Send, JsValue::from_str("direct from wasm"))).await.unwrap();
    let err = promise(call(&client, Op::Send, JsValue::from(5))).await.unwrap_err();
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("bad-message"));

    let stats = promise(call(&client, Op::Stats, U)).await.unwrap();
    assert_eq!(get(&stats, "framesIn").as_f64(), Some(4.0));
    assert_eq!(get(&stats, "framesOut").as_f64(), Some(1.0));
    assert_eq!(get(&stats, "transport").as_string().as_deref(), Some("direct"));

    // off() removes the listener: a later frame is not recorded.
    assert_eq!(call(&client, Op::Off, frames_id.into()), JsValue::TRUE);
    assert_eq!(call(&client, Op::Off, frames_id.into()), JsValue::FALSE);
    ctl("/control/broadcast?channel=wasm-direct&n=1").await;
    TimeoutFuture::new(200).await;
    assert_eq!(frames.borrow().len(), 4);

    call(&client, Op::Close, U);
    call(&client, Op::Close, U); // idempotent
    let err = promise(call(&client, Op::Send, JsValue::from_str("x"))).await.unwrap_err();
    assert_eq!(get(&err, "message").as_string().as_deref(), Some("tabmux: bad message to the worker: this client is closed"));
    assert!(support::channel_closed("wasm-direct").await, "the direct socket was not closed");
}

#[wasm_bindgen_test]
async fn invalid_options_reject_with_a_coded_error_that_names_the_problem() {
    let cases = [
        ("{}", "tabmux: invalid options: missing field `url`"),
        (r#"{"url":"http://127.0.0.1/ws"}"#, "tabmux: invalid options: url must start with ws:// or wss://, got \"http://127.0.0.1/ws\""),
        (r#"{"url":"ws://127.0.0.1/ws","mode":"bogus"}"#, "tabmux: invalid options: mode: unknown variant `bogus`, expected one of `auto`, `shared`, `direct`"),
        (r#"{"url":"ws://127.0.0.1/ws","backoff":{"jitter":1.5}}"#, "tabmux: invalid options: backoff.jitter: jitter ratio must be between 0 and 1, got 1.5"),
        (r#"{"url":"ws://127.0.0.1/ws","backoff":{"factor":"two"}}"#, "tabmux: invalid options: backoff.factor: expected a number, got \"two\""),
    ];
    for (json, want) in cases {
        let err = match connect(options(json)).await {
            Ok(_) => panic!("{json} was accepted"),
            Err(e) => e,
        };
        assert_eq!(get(&err, "code").as_string().as_deref(), Some("invalid-options"), "{json}");
        assert_eq!(get(&err, "message").as_string().unwrap(), want, "{json}");
    }
    let err = match connect(JsValue::from_str("ws://127.0.0.1/ws")).await {
        Ok(_) => panic!("a string was accepted as options"),
        Err(e) => e,
    };
    assert_eq!(get(&err, "message").as_string().unwrap(), "tabmux: invalid options: options must be an object with at least a url");
}
