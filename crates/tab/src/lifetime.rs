//! The lives of the page and its worker, each watched through the other's Web Lock: the
//! page's liveness lock (held while it lives), the worker's life lock (granted to the page
//! when the worker is gone), replacing a lost worker, and letting the locks go around an
//! unload so that the back/forward cache may keep the page.
//!
//! Where the page is with its worker (joining, attached, lost, dying, replacing, in the
//! back/forward cache, rejoining, closed) is one state machine in the core,
//! `tabmux_core::worker_life::WorkerLife`, tested there on a virtual clock: this module feeds
//! it what the browser says (a welcome, a lock granted, a crash report, a deadline) and does
//! what it answers, with one timer for its deadline. The locks around an unload are this
//! module's own.

use crate::client::Inner;
use crate::js::{get, js_error, timer_later};
use crate::client::WELCOME_TIMEOUT_MS;
use std::cell::Cell;
use std::rc::Rc;
use tabmux_core::error::decimal;
use tabmux_core::worker_life::{Due, Welcome, WorkerLife};
use tabmux_core::{Error, WorkerError};
use tabmux_web::{locks, now_ms, ToWorker};
use wasm_bindgen::prelude::*;

/// How long after `beforeunload` a page that is still here takes its locks again (the
/// navigation was cancelled, or was a download).
const RELOCK_MS: u32 = 2_000;

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
        inner.fail_connect(&Error::Worker(WorkerError::Failed("could not take a Web Lock".into())));
    }
}

/// Waits on the life lock the worker holds for this client: granted means the worker is
/// gone, however it ended, unless the worker let it go on purpose (this client left, or let
/// its own lock go before an unload). The wait is never aborted: Firefox keeps no page with
/// an aborted lock request in its back/forward cache.
fn watch_worker(inner: &Inner, name: &str) {
    let weak = inner.this.clone();
    let generation = inner.generation();
    let watched = name.to_string();
    let asked = locks::wait(name, move || {
        let Some(i) = weak.upgrade() else { return };
        let (current, release) = {
            let mut w = i.watch.borrow_mut();
            let release = match w.letting_go.take() {
                Some((name, release)) if name == watched => Some(release),
                other => {
                    w.letting_go = other;
                    None
                }
            };
            let current = w.worker_lock.as_deref() == Some(watched.as_str());
            if current {
                // Gone already: nothing more to wait for.
                w.worker_lock = None;
            }
            (current, release)
        };
        // The worker has read that this client lets its lock go: it goes now.
        drop(release);
        if current {
            worker_lost(&i, generation, "the worker stopped (ended by the browser or crashed)");
        } else {
            // A worker that said it crashed is gone now: its replacement may start.
            let granted = i.watch.borrow_mut().life.as_mut().is_some_and(|l| l.lock_granted(now_ms(), &watched));
            if granted {
                arm(&i);
            }
        }
    });
    if asked {
        inner.watch.borrow_mut().worker_lock = Some(name.to_string());
    }
}

/// The worker of `generation` is gone: everything waiting on it is rejected, the status
/// says so, the `error` listeners are told (`worker-crashed`), and a replacement starts after
/// the replacement backoff (`tabmux_core::worker_life`). A worker that reported its crash is
/// still ending: the replacement waits for its life lock. Later news of the same worker is
/// ignored.
fn worker_lost(inner: &Inner, generation: u32, why: &str) {
    if inner.closed.get() || !inner.shared {
        return;
    }
    let delay = {
        let mut w = inner.watch.borrow_mut();
        let has_token = w.token.is_some();
        // Its life lock still watched: the news is its own crash report, and it may still be
        // ending (a lock granted first has cleared it).
        let dying = w.worker_lock.clone();
        let Some(life) = w.life.as_mut() else { return };
        life.set_has_token(has_token);
        let Some(delay) = life.lost(now_ms(), generation, dying) else { return };
        w.worker_lock = None;
        delay
    };
    announce_lost(inner, why, delay);
    arm(inner);
}

/// What a lost worker means for the page: its link ends, what waited on it is rejected, the
/// status says `reconnecting` with the reason, and the `error` listeners are told once.
fn announce_lost(inner: &Inner, why: &str, delay: u64) {
    // The next worker chooses again; until then no tab of it leads.
    inner.set_leader(false);
    let old = inner.link.borrow_mut().take();
    if let Some(link) = old {
        link.end(false);
    }
    if inner.logs() {
        inner.log(&log_event(&[("event", "worker-lost".into()), ("reason", why.into()), ("replaceInMs", (delay as f64).into())]));
    }
    let lost = Error::Worker(WorkerError::Crashed(why.to_string()));
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
}

/// Arms the one timer for the life's deadline (none when it has none).
fn arm(inner: &Inner) {
    let deadline = inner.watch.borrow().life.as_ref().and_then(WorkerLife::poll_timeout);
    let Some(deadline) = deadline else {
        inner.watch.borrow_mut().life_timer = None;
        return;
    };
    let delay = deadline.saturating_sub(now_ms()).min(i32::MAX as u64) as u32;
    let weak = inner.this.clone();
    // Out of the timer's own callback first: what it starts may replace this timer.
    let timer = timer_later(delay, move || {
        if let Some(i) = weak.upgrade() {
            on_deadline(&i);
        }
    });
    inner.watch.borrow_mut().life_timer = Some(timer);
}

/// The life's deadline came: replace the worker, fail the first connect, or count an
/// unanswered replacement as lost.
fn on_deadline(inner: &Rc<Inner>) {
    let due = {
        let mut w = inner.watch.borrow_mut();
        w.life_timer = None;
        let has_token = w.token.is_some();
        w.life.as_mut().and_then(|l| {
            l.set_has_token(has_token);
            l.handle_timeout(now_ms())
        })
    };
    match due {
        Some(Due::Replace) => replace_worker(inner),
        Some(Due::JoinFailed) => {
            let (url, ms) = {
                let w = inner.watch.borrow();
                (w.hello.as_ref().map(|(_, u)| u.clone()).unwrap_or_default(), decimal(u64::from(w.timeout_ms)))
            };
            let why = ["the shared worker at ", &url, " did not answer within ", &ms, " ms"].concat();
            inner.fail_connect(&Error::Worker(WorkerError::Failed(why)));
        }
        Some(Due::Unanswered { delay, returning }) => {
            let why = if returning {
                "the worker did not answer within 10 s"
            } else {
                "the replacement worker did not answer within workerTimeoutMs"
            };
            announce_lost(inner, why, delay);
        }
        None => {}
    }
    arm(inner);
}

/// Starts a replacement worker with the same hello (its welcome is due by the life's deadline).
fn replace_worker(inner: &Rc<Inner>) {
    if inner.closed.get() {
        return;
    }
    let (hello, lock, token, token_gen) = {
        let w = inner.watch.borrow();
        (w.hello.clone(), w.lock.as_ref().map(|(name, _)| name.clone()), w.token.clone(), w.token_gen)
    };
    let Some((options, url)) = hello else { return };
    let link = match inner.open_worker(&url) {
        Ok(l) => l,
        Err(e) => {
            let delay = inner.watch.borrow_mut().life.as_mut().and_then(|l| l.replacement_failed(now_ms()));
            if let Some(delay) = delay {
                announce_lost(inner, &get(&e, "message").as_string().unwrap_or_default(), delay);
            }
            return;
        }
    };
    // The last token this client knows of goes in the hello, with its number: the new socket
    // opens with the newest any tab brings. With
    // `sequence` on, the last number delivered: the new worker resumes after it.
    let build = Some(inner.watch.borrow().build.clone());
    inner.check_gap.set(true);
    let seq = inner.last_seq.get();
    link.post(ToWorker::Hello { build, tab_id: inner.tab_id.clone(), options, lock, token, token_gen, seq });
}

/// A welcome arrived: what it meant (`None` in direct mode).
fn welcomed(inner: &Inner) -> Option<Welcome> {
    let welcome = inner.watch.borrow_mut().life.as_mut().map(WorkerLife::welcomed);
    arm(inner);
    welcome
}

/// A replacement worker (or the worker after the back/forward cache) welcomed this client:
/// its topics are subscribed again.
fn replaced(inner: &Inner, restored: bool) {
    if inner.logs() {
        let event = if restored { "restored" } else { "worker-replaced" };
        inner.log(&log_event(&[("event", event.into()), ("generation", inner.generation().into())]));
    }
    inner.resubscribe();
}

/// Stops every timer and watch, and lets go of the liveness lock (last: the worker may act
/// on it at once).
fn stop_watching(inner: &Inner) {
    let locks = {
        let mut w = inner.watch.borrow_mut();
        w.token.take();
        if let Some(l) = w.life.as_mut() {
            l.close();
        }
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
    let generation = inner.generation();
    let unread = {
        let mut w = inner.watch.borrow_mut();
        w.relock_timer.take();
        w.letting_go.take()
    };
    // The worker never answered: the old lock goes now (its grant to the worker names a lock
    // the worker no longer watches once it reads the new one).
    drop(unread);
    let weak = Rc::downgrade(inner);
    hold_lock(inner, move |lock| {
        if let Some(i) = weak.upgrade() {
            // A replacement worker started meanwhile got this lock in its hello's place.
            if i.generation() == generation {
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
        if let Some(l) = w.life.as_mut() {
            l.suspend();
        }
        w.stop()
    };
    // Last: the worker may act on it at once.
    drop(locks);
}

/// The page came back from the back/forward cache: the same hello as the first, with a new
/// liveness lock and the last token, to whatever worker runs now (the old one, or a new one
/// if it ended meanwhile). Its welcome subscribes the topics again; with none within 10 s the
/// worker counts as lost.
fn rejoin(inner: &Rc<Inner>) {
    let hello = {
        let mut w = inner.watch.borrow_mut();
        let resumed = w.life.as_mut().is_some_and(|l| l.resume(now_ms(), u64::from(WELCOME_TIMEOUT_MS)));
        if !resumed {
            return;
        }
        w.hello.clone()
    };
    arm(inner);
    let generation = inner.generation();
    let Some((options, url)) = hello else { return };
    if let Err(e) = inner.open_worker(&url) {
        return worker_lost(inner, generation, &get(&e, "message").as_string().unwrap_or_default());
    }
    let weak = Rc::downgrade(inner);
    hold_lock(inner, move |lock| {
        if let Some(i) = weak.upgrade() {
            if i.generation() == generation {
                let (token, token_gen, build) = {
                    let w = i.watch.borrow();
                    (w.token.clone(), w.token_gen, Some(w.build.clone()))
                };
                i.check_gap.set(true);
                let seq = i.last_seq.get();
                i.post(ToWorker::Hello { build, tab_id: i.tab_id.clone(), options, lock, token, token_gen, seq });
            }
        }
    });
}

// The page client reaches this module through these methods (no module imports another
// but the client's own state, so no import circle however the calls go round).
impl Inner {
    /// The first worker has `timeout_ms` to welcome this client (shared mode's `connect()`).
    pub(crate) fn start_life(&self, timeout_ms: u64) {
        self.watch.borrow_mut().life = Some(WorkerLife::joining(now_ms(), timeout_ms));
        arm(self);
    }
    /// The generation news of the current worker carries (0 in direct mode).
    pub(crate) fn generation(&self) -> u32 {
        self.watch.borrow().life.as_ref().map_or(0, WorkerLife::generation)
    }
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
    /// See [`welcomed`].
    pub(crate) fn welcomed(&self) -> Option<Welcome> {
        welcomed(self)
    }
    /// See [`replaced`].
    pub(crate) fn replaced(&self, restored: bool) {
        replaced(self, restored)
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
