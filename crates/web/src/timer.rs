//! Every timer of the worker (and of direct mode) through this module: [`after`] for a one-off
//! (gloo's `Timeout`), [`Rearmable`] for a timer armed and cancelled again and again.

use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Calls `f` once after `ms` (a delay `setTimeout` takes: below 2^31), unless the returned
/// guard is dropped first. gloo's `Timeout::new` is generic over its callback, and each
/// callback type brings its own copy of the closure glue; a boxed callback has one type, so
/// there is one copy.
#[inline(never)]
pub fn after(ms: u32, f: Box<dyn FnOnce()>) -> Timeout {
    Timeout::new(ms, f)
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &js_sys::Function, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A timer whose callback is made once, however often it is armed: a timer set at a
/// message's rate (the acknowledgement hold, armed for every answered send at a low rate)
/// does not make and free a JS closure each time, as a gloo `Timeout` does.
pub struct Rearmable {
    /// `setTimeout`'s handle while armed; taken before the callback runs.
    armed: Rc<RefCell<Option<JsValue>>>,
    callback: Closure<dyn FnMut()>,
}

impl Rearmable {
    /// A timer that calls `f` each time it fires; not armed.
    pub fn new(mut f: Box<dyn FnMut()>) -> Rearmable {
        let armed: Rc<RefCell<Option<JsValue>>> = Rc::default();
        let fired = armed.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            fired.borrow_mut().take();
            f();
        });
        Rearmable { armed, callback }
    }

    /// Fires in `ms` (below 2^31), in place of any time it was armed for.
    pub fn arm(&self, ms: u32) {
        self.cancel();
        let handle = set_timeout(self.callback.as_ref().unchecked_ref(), ms);
        *self.armed.borrow_mut() = Some(handle);
    }

    /// Does not fire (until armed again).
    pub fn cancel(&self) {
        if let Some(handle) = self.armed.borrow_mut().take() {
            clear_timeout(&handle);
        }
    }

    /// Whether it is armed and has not fired yet.
    pub fn armed(&self) -> bool {
        self.armed.borrow().is_some()
    }
}

impl Drop for Rearmable {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl std::fmt::Debug for Rearmable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rearmable").field("armed", &self.armed()).finish()
    }
}
