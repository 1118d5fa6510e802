//! The page's own events, watched once a client is connected: `pagehide`/`pageshow` (a
//! goodbye, or a suspend and rejoin around the back/forward cache), `beforeunload`,
//! online/offline and visibility.

use crate::client::Inner;
use crate::js::{get, listen};
use std::rc::Rc;
use tabmux_web::ToWorker;
use wasm_bindgen::JsCast;

/// Says goodbye on `pagehide` (and comes back on `pageshow` when the page was kept in the
/// back/forward cache), and forwards online/offline and visibility to the engine, which acts
/// on them once for the whole browser (and chooses its leader by them).
fn watch_page(inner: &Rc<Inner>) {
    let global: web_sys::EventTarget = js_sys::global().unchecked_into();
    let mut listeners = Vec::new();
    let weak = Rc::downgrade(inner);
    listeners.push(listen(&global, "pagehide", move |ev| {
        if let Some(i) = weak.upgrade() {
            if persisted(ev) {
                i.suspend();
            } else {
                i.shutdown(true);
            }
        }
    }));
    let weak = Rc::downgrade(inner);
    listeners.push(listen(&global, "pageshow", move |ev| {
        if let Some(i) = weak.upgrade() {
            if persisted(ev) {
                i.resume();
            }
        }
    }));
    if inner.shared {
        // Firefox keeps no page that holds or waits for a Web Lock in its back/forward
        // cache, and decides before `pagehide`.
        let weak = Rc::downgrade(inner);
        listeners.push(listen(&global, "beforeunload", move |_| {
            if let Some(i) = weak.upgrade() {
                i.unlock_for_unload();
            }
        }));
    }
    for (event, online) in [("online", true), ("offline", false)] {
        let weak = Rc::downgrade(inner);
        listeners.push(listen(&global, event, move |_| {
            if let Some(i) = weak.upgrade() {
                i.post(ToWorker::Online { online });
            }
        }));
    }
    let document = get(&js_sys::global(), "document");
    if document.is_object() {
        let weak = Rc::downgrade(inner);
        let doc: web_sys::EventTarget = document.clone().unchecked_into();
        listeners.push(listen(&doc, "visibilitychange", move |_| {
            if let Some(i) = weak.upgrade() {
                i.post_visibility();
            }
        }));
    }
    *inner.page_listeners.borrow_mut() = listeners;
}

/// Whether a `pagehide`/`pageshow` event says the page is (or was) in the back/forward cache.
fn persisted(ev: &web_sys::Event) -> bool {
    get(ev, "persisted").as_bool() == Some(true)
}

impl Inner {
    /// See [`watch_page`].
    pub(crate) fn watch_page(self: &Rc<Self>) {
        watch_page(self)
    }
}
