//! The lives of the page and its worker, each watched through the other's Web Lock: the
//! page's liveness lock (held while it lives), the worker's life lock (granted to the page
//! when the worker is gone), replacing a lost worker, and letting the locks go around an
//! unload so that the back/forward cache may keep the page.

use crate::client::Inner;
use crate::js::{get, js_error, timer_later};
use crate::client::WELCOME_TIMEOUT_MS;
use std::cell::Cell;
use std::rc::Rc;
use tabmux_core::error::decimal;
use tabmux_core::Error;
use tabmux_web::{locks, ToWorker};
use wasm_bindgen::prelude::*;

/// How long after `beforeunload` a page that is still here takes its locks again (the
/// navigation was cancelled, or was a download).
const RELOCK_MS: u32 = 2_000;

/// How long a client waits for a worker that said it crashed to be really gone (its life lock
/// granted) before it starts a replacement anyway.
const DYING_MS: u32 = 3_000;

/// How much later than a tab with a token a tab without one starts a replacement worker.
const TOKENLESS_EXTRA_MS: u32 = 100;

thread_local! {
    /// Numbers this page's liveness locks (one per client and per relock).
    static LOCK_COUNTER: Cell<u32> = const { Cell::new(0) };
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
fn watch_worker(inner: &Inner, name: &str) {
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
fn worker_lost(inner: &Inner, generation: u32, why: &str) {
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
    let link = match inner.open_worker(&url) {
        Ok(l) => l,
        Err(e) => return worker_lost(inner, generation, &get(&e, "message").as_string().unwrap_or_default()),
    };
    // The token this client set before goes in the hello: the new socket opens with it.
    let build = Some(inner.watch.borrow().build.clone());
    // With `sequence` on, the last number delivered: the new worker resumes after it.
    inner.check_gap.set(true);
    let seq = inner.last_seq.get();
    link.post(ToWorker::Hello { build, tab_id: inner.tab_id.clone(), options, lock, token, seq });
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
fn replaced(inner: &Inner) {
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
fn stop_watching(inner: &Inner) {
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
fn unlock_for_unload(inner: &Inner) {
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
fn let_go(inner: &Inner) {
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
fn rejoin(inner: &Rc<Inner>) {
    let (generation, hello) = {
        let mut w = inner.watch.borrow_mut();
        w.restoring = true;
        (w.generation, w.hello.clone())
    };
    let Some((options, url)) = hello else { return };
    if let Err(e) = inner.open_worker(&url) {
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
                i.check_gap.set(true);
                let seq = i.last_seq.get();
                i.post(ToWorker::Hello { build, tab_id: i.tab_id.clone(), options, lock, token, seq });
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

// The page client reaches this module through these methods (no module imports another
// but the client's own state, so no import circle however the calls go round).
impl Inner {
    /// See [`hold_lock`].
    pub(crate) fn hold_lock(self: &Rc<Self>, then: impl FnOnce(Option<String>) + 'static) {
        hold_lock(self, then)
    }
    /// See [`watch_worker`].
    pub(crate) fn watch_worker(&self, name: &str) {
        watch_worker(self, name)
    }
    /// See [`worker_lost`].
    pub(crate) fn worker_lost(&self, generation: u32, why: &str) {
        worker_lost(self, generation, why)
    }
    /// See [`replaced`].
    pub(crate) fn replaced(&self) {
        replaced(self)
    }
    /// See [`stop_watching`].
    pub(crate) fn stop_watching(&self) {
        stop_watching(self)
    }
    /// See [`unlock_for_unload`].
    pub(crate) fn unlock_for_unload(&self) {
        unlock_for_unload(self)
    }
    /// See [`let_go`].
    pub(crate) fn let_go(&self) {
        let_go(self)
    }
    /// See [`rejoin`].
    pub(crate) fn rejoin(self: &Rc<Self>) {
        rejoin(self)
    }
}
