//! Web Locks, the two ways tabmux uses them: a lock held for as long as something lives
//! ([`hold`]; let go by dropping its [`Held`] guard, or by the browser when the context ends),
//! and a wait for someone else's such lock ([`wait`]; granted once its holder let go or ended).
//! The worker and the page client both use this module and nothing else.
//!
//! Every request made here is granted sooner or later (names are unique, and each is held
//! only while its holder lives), so each callback runs once and is freed then. No request is
//! ever aborted: Firefox keeps no page with an aborted lock request in its back/forward cache.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use crate::wire::get;

/// A held Web Lock: dropping the guard lets the lock go.
pub struct Held(js_sys::Function);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::NULL);
    }
}

/// `navigator.locks` and its `request`, where this context has Web Locks.
fn manager() -> Option<(JsValue, js_sys::Function)> {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    let request = get(&locks, "request").dyn_into::<js_sys::Function>().ok()?;
    Some((locks, request))
}

/// Whether this context has Web Locks (Firefox before 96 has SharedWorker without them).
pub fn available() -> bool {
    manager().is_some()
}

/// Asks for the lock `name` and hands `granted` its guard once it is held; the lock is held
/// for as long as the guard lives (dropping it at once lets it go at once). `false` when the
/// request could not be made (no Web Locks here).
pub fn hold(name: &str, granted: impl FnOnce(Held) + 'static) -> bool {
    let Some((locks, request)) = manager() else { return false };
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let mut release = None;
        let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
        if let Some(release) = release {
            granted(Held(release));
        }
        held.into()
    });
    request.call2(&locks, &name.into(), &callback).is_ok()
}

/// Waits for the lock `name` and calls `granted` once it is granted (its holder let it go or
/// ended), letting it go at once. `false` when the request could not be made.
pub fn wait(name: &str, granted: impl FnOnce() + 'static) -> bool {
    let Some((locks, request)) = manager() else { return false };
    let callback = Closure::once_into_js(granted);
    request.call2(&locks, &name.into(), &callback).is_ok()
}
