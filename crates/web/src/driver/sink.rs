//! Where a client's messages go: a tab's port (with its backlog and its batch of frames)
//! or, in direct mode, a function in the page.

use crate::protocol::{post_of, ToTab};
use gloo_events::EventListener;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::collections::VecDeque;
use tabmux_core::ack_hold::ACK_HOLD_MS;
use tabmux_core::backlog::DRAIN_EVERY;
use tabmux_core::{Backlog, Error};
use wasm_bindgen::prelude::*;
use web_sys::MessagePort;
use crate::timer::Rearmable;
use crate::wire::performance_now;

/// Where a client's messages go.
#[derive(Clone, Debug)]
pub enum Sink {
    /// A tab's port (in the SharedWorker).
    Port(Rc<PortSink>),
    /// A function in this page (the direct fallback): called at once, nothing waits.
    Local(js_sys::Function),
}

/// A tab's port, the frames the tab has not yet said it drained (`tabmux_core::backlog`),
/// and the frames waiting to be posted to it together.
///
/// When a frame goes: a frame for a port with nothing waiting goes at once when the worker
/// was idle before it (no post to any port for [`IDLE_GAP_MS`], see [`idle`]): at a low rate
/// each frame is one post, as in a bare worker, with no wake and no task in between.
/// Otherwise frames are coming back to back (socket messages queued behind one another),
/// and the frame starts a batch: it asks for a flush in a task of its own (a
/// `MessageChannel` message, one for all ports), and the frames that arrive before that runs
/// (from socket messages already queued behind it) join the same post, as one array; so
/// does every frame for a port that already has a post due. A worker that falls behind posts
/// fewer, larger messages (each `postMessage` has a fixed cost: half of the worker's time
/// under the benchmark's load, `npm run bench:profile`). Any other message to the tab
/// flushes its waiting frames first, and a frame goes at once only when none is waiting, so
/// the order is kept.
///
/// A send's acknowledgement waits for the next post to the tab and goes first in it, for at
/// most [`ACK_HOLD_MS`] (`tabmux_core::ack_hold`): at a low rate it does not cost the tab a
/// message of its own, nor the worker a wake (the hold's timer goes with the last held one).
#[derive(Debug)]
pub struct PortSink {
    port: MessagePort,
    backlog: RefCell<Backlog>,
    batch: RefCell<Vec<JsValue>>,
    /// The last frames posted that are kept for replay: (their number among the frames
    /// posted, their replay id). A goodbye says how many the tab handled; the ones past that
    /// go to the next page. At most [`RECENT_KEPT`].
    recent: RefCell<VecDeque<(u64, u64)>>,
    /// Acknowledgements waiting for the next post to the tab.
    acks: RefCell<Vec<JsValue>>,
    /// `performance.now()` when the first of `acks` began to wait.
    held_since: Cell<f64>,
}

/// How many recently posted frames a port remembers for its goodbye: what a page can have
/// on its way when it unloads is far less (a few tasks' worth).
const RECENT_KEPT: usize = DRAIN_EVERY as usize;

/// How long the worker must have posted nothing (ms of `performance.now()`) for a frame to go
/// to a port at once (see [`PortSink`]). Under load the worker takes the next socket message
/// right after its last post (a gap of microseconds); at 1,000 frames/s it waits most of a
/// millisecond. A quarter of a millisecond is between the two and above the coarsened clock's
/// step (Chromium: 0.1 ms); with a 1 ms clock (Firefox) it reads "not in the same
/// millisecond".
const IDLE_GAP_MS: f64 = 0.25;

impl PortSink {
    fn flush(&self) {
        let batch = std::mem::take(&mut *self.batch.borrow_mut());
        self.send_with_acks(batch);
    }

    /// Posts the waiting acknowledgements and then `msgs`, in one post (none when both are
    /// empty).
    fn send_with_acks(&self, msgs: Vec<JsValue>) {
        let mut acks = std::mem::take(&mut *self.acks.borrow_mut());
        if !acks.is_empty() {
            FLUSHER.with(|f| f.as_ref().map_or((), |f| f.released(self)));
        }
        acks.extend(msgs);
        if let Some(post) = post_of(acks) {
            self.send(&post);
        }
    }

    /// Posts `msg` to the tab now, and notes when the worker last posted (see [`idle`]; within
    /// [`posting`], once after the last post).
    fn send(&self, msg: &JsValue) {
        // A closed port drops messages silently; nothing to report.
        drop(self.port.post_message(msg));
        FLUSHER.with(|f| {
            if let Some(f) = f {
                match f.posting.get() {
                    Posting::No => f.last_post.set(performance_now()),
                    Posting::Yes { .. } => f.posting.set(Posting::Yes { posted: true }),
                }
            }
        });
    }
}

/// The ports with frames waiting, the channel whose message flushes them, and when the
/// worker last posted to a port.
struct Flusher {
    dirty: RefCell<Vec<Rc<PortSink>>>,
    wake: MessagePort,
    /// `performance.now()` after the worker's last post to any port.
    last_post: Cell<f64>,
    /// Whether posts are being made for one frame (see [`posting`]).
    posting: Cell<Posting>,
    /// The ports holding acknowledgements, each listed from its first held one (`hold`) until
    /// they go (`released`); and the timer that posts them when nothing else went to their
    /// tabs for [`ACK_HOLD_MS`].
    holding: RefCell<Vec<Rc<PortSink>>>,
    ack_timer: Rearmable,
    _listener: EventListener,
}

/// Whether posts are being made for one frame, and whether one was.
#[derive(Debug, Clone, Copy)]
enum Posting {
    No,
    Yes { posted: bool },
}

/// Whether the worker is idle at `now` (`performance.now()`): it posted nothing to any port
/// for [`IDLE_GAP_MS`]. Read once for a frame, before it goes to its ports, so that every
/// port decides alike (the frame's own posts to the first ports do not make the others
/// wait). With no wake channel every post goes at once anyway.
pub(super) fn idle(now: f64) -> bool {
    FLUSHER.with(|f| f.as_ref().is_none_or(|f| now - f.last_post.get() >= IDLE_GAP_MS))
}

/// Runs `post` (one frame's posts to its ports, or one flush of the batches) with the time of
/// the worker's last post read once, after the last of them, rather than after each: with 8
/// tabs, one clock read for a frame instead of eight.
pub(super) fn posting(post: impl FnOnce()) {
    FLUSHER.with(|f| f.as_ref().map_or((), |f| f.posting.set(Posting::Yes { posted: false })));
    post();
    FLUSHER.with(|f| {
        if let Some(f) = f {
            if let Posting::Yes { posted: true } = f.posting.replace(Posting::No) {
                f.last_post.set(performance_now());
            }
        }
    });
}

thread_local! {
    static FLUSHER: Option<Flusher> = Flusher::new();
}

impl Flusher {
    fn new() -> Option<Flusher> {
        let channel = web_sys::MessageChannel::new().ok()?;
        let listener = EventListener::new(&channel.port1(), "message", |_| {
            FLUSHER.with(|f| {
                if let Some(f) = f {
                    let dirty = std::mem::take(&mut *f.dirty.borrow_mut());
                    posting(|| dirty.iter().for_each(|p| p.flush()));
                }
            });
        });
        channel.port1().start();
        Some(Flusher {
            dirty: RefCell::new(Vec::new()),
            wake: channel.port2(),
            last_post: Cell::new(f64::NEG_INFINITY),
            posting: Cell::new(Posting::No),
            holding: RefCell::new(Vec::new()),
            ack_timer: Rearmable::new(Box::new(|| FLUSHER.with(|f| f.as_ref().map_or((), Flusher::post_held)))),
            _listener: listener,
        })
    }

    /// `port` holds an acknowledgement since its `held_since`: it goes within
    /// [`ACK_HOLD_MS`] of that (sooner when another post to the tab takes it). One timer for
    /// all ports, armed for the one that has waited longest.
    fn hold(&self, port: Rc<PortSink>) {
        self.holding.borrow_mut().push(port);
        if !self.ack_timer.armed() {
            self.ack_timer.arm(ACK_HOLD_MS);
        }
    }

    /// `port`'s acknowledgements went (with a frame, or alone): it holds none. With no port
    /// holding any, the timer is cancelled: at a low rate the acknowledgements ride the next
    /// frame, and a timer left to fire for nothing was a wake of the worker for every send.
    fn released(&self, port: &PortSink) {
        let mut holding = self.holding.borrow_mut();
        holding.retain(|h| !std::ptr::eq(&**h, port));
        if holding.is_empty() {
            drop(holding);
            self.ack_timer.cancel();
        }
    }

    /// The timer: posts alone the acknowledgements that have waited [`ACK_HOLD_MS`] (within
    /// a millisecond: timers are not that exact); those held since wait on, and the timer is
    /// armed again for the first of them.
    fn post_held(&self) {
        let now = performance_now();
        let mut next: Option<f64> = None;
        let holding = std::mem::take(&mut *self.holding.borrow_mut());
        // Every port here holds acknowledgements: one whose went with a post left the list.
        for p in holding {
            let due = p.held_since.get() + f64::from(ACK_HOLD_MS);
            if due <= now + 1.0 {
                p.send_with_acks(Vec::new());
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
                self.holding.borrow_mut().push(p);
            }
        }
        if let Some(due) = next {
            self.ack_timer.arm((due - now).ceil() as u32);
        }
    }
}

impl Sink {
    /// A tab's port, with nothing posted yet.
    pub fn port(port: MessagePort) -> Sink {
        Sink::Port(Rc::new(PortSink {
            port,
            backlog: RefCell::default(),
            batch: RefCell::default(),
            recent: RefCell::default(),
            acks: RefCell::default(),
            held_since: Cell::new(0.0),
        }))
    }

    /// Posts a frame (or a topic message) of length `len`, unless the tab lags too far
    /// behind to take it; to a port, at once or with the other frames of the moment (see
    /// [`PortSink`]). `idle`: [`idle`] read once for this frame before its first port.
    /// `kept`: its replay id, when it is kept for replay. Returns whether this frame made
    /// the tab start lagging (the engine is told: a lagging tab does not lead).
    pub(super) fn post_frame(&self, v: &JsValue, len: usize, kept: Option<u64>, idle: bool) -> bool {
        match self {
            Sink::Port(p) => {
                let mut backlog = p.backlog.borrow_mut();
                let was_lagging = backlog.lagging();
                if !backlog.offer(len) {
                    return !was_lagging;
                }
                if let Some(id) = kept {
                    let mut recent = p.recent.borrow_mut();
                    if recent.len() == RECENT_KEPT {
                        recent.pop_front();
                    }
                    recent.push_back((backlog.posted(), id));
                }
                drop(backlog);
                self.enqueue(v, idle);
            }
            Sink::Local(_) => self.post(v),
        }
        false
    }

    /// Whether both are the same destination.
    pub(super) fn same(&self, other: &Sink) -> bool {
        match (self, other) {
            (Sink::Port(a), Sink::Port(b)) => Rc::ptr_eq(a, b),
            (Sink::Local(a), Sink::Local(b)) => a == b,
            _ => false,
        }
    }

    /// The replay ids of the kept frames posted after the first `handled` (oldest first):
    /// what a tab that says goodbye having handled `handled` frames never saw.
    pub(super) fn unhandled(&self, handled: u64) -> Vec<u64> {
        let Sink::Port(p) = self else { return Vec::new() };
        let recent = p.recent.borrow();
        recent.iter().filter(|(n, _)| *n > handled).map(|(_, id)| *id).collect()
    }

    /// Posts the acknowledgement of a written send: with the next post to the tab, within
    /// [`ACK_HOLD_MS`] (see [`PortSink`]); with the frames of the moment, never at once, when a
    /// post to the tab is due anyway or the tab says it is waiting on it (`prompt`:
    /// `tabmux_core::ack_hold`). A burst of sends is answered in a few posts, not one each;
    /// and when several tabs' sends are queued (a server's probe answered by every tab), the
    /// worker writes them all to the socket before it posts any acknowledgement.
    pub(super) fn post_ack(&self, v: &JsValue, prompt: bool) {
        let Sink::Port(p) = self else { return self.post(v) };
        if prompt || !p.batch.borrow().is_empty() {
            return self.enqueue(v, false);
        }
        let first = {
            let mut acks = p.acks.borrow_mut();
            acks.push(v.clone());
            acks.len() == 1
        };
        if first {
            p.held_since.set(performance_now());
            let held = FLUSHER.with(|f| f.as_ref().map(|f| f.hold(p.clone())));
            if held.is_none() {
                p.flush();
            }
        }
    }

    /// See [`PortSink`]: `v` goes at once when nothing waits for the port and `idle`;
    /// otherwise it joins the port's batch, and the first of a batch asks for the flush.
    fn enqueue(&self, v: &JsValue, idle: bool) {
        let Sink::Port(p) = self else { return self.post(v) };
        let first = {
            let mut batch = p.batch.borrow_mut();
            if idle && batch.is_empty() {
                drop(batch);
                if p.acks.borrow().is_empty() {
                    p.send(v);
                } else {
                    p.send_with_acks(vec![v.clone()]);
                }
                return;
            }
            batch.push(v.clone());
            batch.len() == 1
        };
        if first {
            let queued = FLUSHER.with(|f| {
                f.as_ref().map(|f| {
                    let mut dirty = f.dirty.borrow_mut();
                    if dirty.is_empty() {
                        drop(f.wake.post_message(&JsValue::NULL));
                    }
                    dirty.push(p.clone());
                })
            });
            if queued.is_none() {
                p.flush();
            }
        }
    }

    /// The tab has handled `total` frames: after a lag, it is told how many it missed.
    /// Returns whether this ended a lag.
    pub(super) fn drained(&self, total: u64) -> Result<bool, Error> {
        let Sink::Port(p) = self else { return Ok(false) };
        let missed = p.backlog.borrow_mut().drained(total)?;
        if let Some(missed) = missed {
            self.post(&ToTab::Lagged { missed }.encode());
        }
        Ok(missed.is_some())
    }

    pub(super) fn post(&self, v: &JsValue) {
        match self {
            Sink::Port(p) => {
                // Frames waiting for this port go first: the order is kept. Acknowledgements
                // waiting go in the same post when no frame does.
                if p.batch.borrow().is_empty() {
                    return p.send_with_acks(vec![v.clone()]);
                }
                p.flush();
                p.send(v);
            }
            Sink::Local(f) => {
                if let Err(e) = f.call1(&JsValue::NULL, v) {
                    web_sys::console::error_2(&"tabmux: a listener threw:".into(), &e);
                }
            }
        }
    }
}
