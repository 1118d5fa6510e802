//! `tabmux_web::timer::Rearmable` in a real page: armed again it fires once, at its last
//! time; cancelled or dropped it does not fire; its callback may arm it again.
#![allow(missing_docs)]

use gloo_timers::future::TimeoutFuture;
use std::cell::{Cell, OnceCell};
use std::rc::Rc;
use tabmux_web::timer::Rearmable;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A timer that counts its calls.
fn counting() -> (Rearmable, Rc<Cell<u32>>) {
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    (Rearmable::new(Box::new(move || f.set(f.get() + 1))), fired)
}

#[wasm_bindgen_test]
async fn armed_again_it_fires_once_at_its_last_time() {
    let (t, fired) = counting();
    t.arm(5);
    t.arm(40);
    assert!(t.armed());
    // The check runs before a timer due later, however late this one fires.
    TimeoutFuture::new(20).await;
    assert_eq!(fired.get(), 0, "the 5 ms arming was replaced");
    TimeoutFuture::new(60).await;
    assert_eq!(fired.get(), 1);
    assert!(!t.armed(), "not armed once it fired");
    t.arm(1);
    TimeoutFuture::new(20).await;
    assert_eq!(fired.get(), 2, "it fires again when armed again");
}

#[wasm_bindgen_test]
async fn cancelled_or_dropped_it_does_not_fire() {
    let (t, fired) = counting();
    t.arm(1);
    t.cancel();
    assert!(!t.armed());
    t.cancel();
    let (dropped, dropped_fired) = counting();
    dropped.arm(1);
    drop(dropped);
    TimeoutFuture::new(30).await;
    assert_eq!(fired.get(), 0);
    assert_eq!(dropped_fired.get(), 0);
}

#[wasm_bindgen_test]
async fn its_callback_may_arm_it_again() {
    let timer: Rc<OnceCell<Rearmable>> = Rc::default();
    let fired = Rc::new(Cell::new(0));
    let (weak, f) = (Rc::downgrade(&timer), fired.clone());
    let _ = timer.set(Rearmable::new(Box::new(move || {
        f.set(f.get() + 1);
        if f.get() < 3 {
            weak.upgrade().and_then(|t| t.get().map(|t| t.arm(1)));
        }
    })));
    timer.get().map(|t| t.arm(1));
    TimeoutFuture::new(100).await;
    assert_eq!(fired.get(), 3);
    assert!(timer.get().is_some_and(|t| !t.armed()));
}
