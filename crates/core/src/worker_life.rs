//! A page's view of its SharedWorker, as one state machine: joining the first worker, attached,
//! lost (a replacement planned), a crashed worker still dying, replacing, in the back/forward
//! cache, rejoining after it, closed. Sans-IO like the engine: the page feeds it what it saw
//! (a welcome, a worker gone, a deadline reached) with the time, and carries out what it says;
//! tests drive it on a virtual clock (`tests/worker_life.rs`).
//!
//! Invariants:
//! - Every state but `Attached`, `Suspended` and `Closed` has exactly one deadline
//!   ([`WorkerLife::poll_timeout`]); the page arms one timer for it.
//! - News of a worker is for the generation it was watched in: each loss, and each trip into
//!   the back/forward cache, starts a new generation, and news of an older one is ignored.
//! - The delays between replacements come from the engine's own backoff
//!   ([`replacement_backoff`]: 100 ms doubling to 5 s, no jitter: every tab of the browser
//!   replaces at the same moment, so the new worker's first socket serves them all and a
//!   stream resumes after the lowest number any of them had), reset by a welcome.

use crate::backoff::{BackoffOptions, Jitter};
use crate::rng::Rng;
use crate::time::Ms;
use alloc::string::String;

/// How long a page waits for a worker that said it crashed to be really gone (its life lock
/// granted) before it starts a replacement anyway: until then a new SharedWorker of the same
/// name would join the dying one.
pub const DYING_MS: Ms = 3_000;

/// How much later than a tab with a token a tab without one starts a replacement: the tab
/// with the token says hello first, so the new worker's first socket carries it.
pub const TOKENLESS_EXTRA_MS: Ms = 100;

/// The delays between replacements of a lost worker: 100 ms, doubling to 5 s, no jitter.
pub fn replacement_backoff() -> BackoffOptions {
    let mut b = BackoffOptions::default();
    (b.initial_ms, b.factor, b.max_ms, b.jitter) = (100, 2.0, 5_000, Jitter::Ratio(0.0));
    b
}

/// Where the page is with its worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Life {
    /// `connect()` said hello to the first worker; its welcome is due by `deadline`.
    Joining {
        /// When the worker counts as failed (`workerTimeoutMs`).
        deadline: Ms,
    },
    /// Welcomed by the current worker.
    Attached,
    /// The worker is gone; a replacement starts at `at`.
    Lost {
        /// When the replacement starts.
        at: Ms,
    },
    /// The worker said it crashed and is still ending: the replacement waits for its life
    /// lock `lock` to be granted (then `delay` more), or until `until` at most.
    Dying {
        /// The dying worker's life lock, as its `alive` named it.
        lock: String,
        /// The replacement starts then at the latest.
        until: Ms,
        /// The delay after the lock's grant.
        delay: Ms,
    },
    /// A replacement was asked for; its welcome is due by `deadline`.
    Replacing {
        /// When the replacement counts as lost too.
        deadline: Ms,
    },
    /// In the back/forward cache: detached, every wait stopped.
    Suspended,
    /// Back from the back/forward cache, hello sent; the welcome is due by `deadline`.
    Rejoining {
        /// When the worker counts as lost.
        deadline: Ms,
    },
    /// Closed for good.
    Closed,
}

/// What a welcome meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Welcome {
    /// The first: `connect()` resolves.
    First,
    /// A replacement's: topics are subscribed again.
    Replaced,
    /// After the back/forward cache: topics are subscribed again.
    Restored,
    /// Nothing waited for it (a repeated welcome): ignore it.
    Ignored,
}

/// What a reached deadline calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Start a replacement worker (open it, say hello); it is now [`Life::Replacing`].
    Replace,
    /// The first worker never welcomed: `connect()` fails (or falls back to direct mode); the
    /// life is [`Life::Closed`].
    JoinFailed,
    /// A replacement (or the worker after the back/forward cache) never welcomed: it is lost
    /// too, with the next, longer delay ([`WorkerLife::lost`] was applied).
    Unanswered {
        /// The delay before the next replacement.
        delay: Ms,
        /// It was the worker after the back/forward cache, not a replacement.
        returning: bool,
    },
}

/// The page's worker life. See the module docs.
#[derive(Debug, Clone)]
pub struct WorkerLife {
    state: Life,
    generation: u32,
    /// Replacements started in a row without a welcome.
    replacements: u32,
    /// `workerTimeoutMs`: how long a replacement has to welcome.
    timeout_ms: Ms,
    /// Whether the page set a token ([`TOKENLESS_EXTRA_MS`]).
    has_token: bool,
    backoff: BackoffOptions,
    rng: Rng,
}

impl WorkerLife {
    /// A page that said hello at `now`; the worker has `timeout_ms` to welcome it.
    pub fn joining(now: Ms, timeout_ms: Ms) -> Self {
        WorkerLife {
            state: Life::Joining { deadline: now.saturating_add(timeout_ms) },
            generation: 0,
            replacements: 0,
            timeout_ms,
            has_token: false,
            backoff: replacement_backoff(),
            rng: Rng::new(0),
        }
    }

    /// Where the page is.
    pub fn state(&self) -> &Life {
        &self.state
    }

    /// The generation news of the current worker carries.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether news of `generation`'s worker still matters.
    pub fn is_current(&self, generation: u32) -> bool {
        generation == self.generation && self.state != Life::Closed && self.state != Life::Suspended
    }

    /// The state's deadline, if it has one: arm a timer for it.
    pub fn poll_timeout(&self) -> Option<Ms> {
        match self.state {
            Life::Joining { deadline } | Life::Replacing { deadline } | Life::Rejoining { deadline } => Some(deadline),
            Life::Lost { at } => Some(at),
            Life::Dying { until, .. } => Some(until),
            Life::Attached | Life::Suspended | Life::Closed => None,
        }
    }

    /// A welcome arrived.
    pub fn welcomed(&mut self) -> Welcome {
        let welcome = match self.state {
            Life::Joining { .. } => Welcome::First,
            Life::Replacing { .. } => Welcome::Replaced,
            Life::Rejoining { .. } => Welcome::Restored,
            _ => return Welcome::Ignored,
        };
        self.state = Life::Attached;
        self.replacements = 0;
        welcome
    }

    /// The page set a token: its replacements start [`TOKENLESS_EXTRA_MS`] earlier than those
    /// of pages without one.
    pub fn set_has_token(&mut self, has: bool) {
        self.has_token = has;
    }

    /// The worker of `generation` is gone at `now` (its life lock granted, its crash
    /// reported, its script failing). `dying`: the life lock of a worker that reported its
    /// crash and may still be ending. Returns the delay before the replacement, or `None`
    /// when the news is stale or nothing is attached (joining: that is a failed `connect()`,
    /// not a lost worker).
    pub fn lost(&mut self, now: Ms, generation: u32, dying: Option<String>) -> Option<Ms> {
        if !self.is_current(generation) || matches!(self.state, Life::Joining { .. } | Life::Lost { .. } | Life::Dying { .. }) {
            return None;
        }
        self.generation = self.generation.wrapping_add(1);
        self.replacements = self.replacements.saturating_add(1);
        let delay = self.backoff.delay(self.replacements, None, &mut self.rng)
            + if self.has_token { 0 } else { TOKENLESS_EXTRA_MS };
        self.state = match dying {
            Some(lock) => Life::Dying { lock, until: now.saturating_add(DYING_MS), delay },
            None => Life::Lost { at: now.saturating_add(delay) },
        };
        Some(delay)
    }

    /// The life lock `lock` was granted at `now`: a dying worker is gone, its replacement
    /// starts after the delay planned. Any other lock means nothing here.
    pub fn lock_granted(&mut self, now: Ms, lock: &str) -> bool {
        match &self.state {
            Life::Dying { lock: dying, delay, .. } if dying == lock => {
                self.state = Life::Lost { at: now.saturating_add(*delay) };
                true
            }
            _ => false,
        }
    }

    /// The state's deadline was reached at `now` (a spurious or early call does nothing).
    pub fn handle_timeout(&mut self, now: Ms) -> Option<Due> {
        if self.poll_timeout().is_none_or(|d| d > now) {
            return None;
        }
        match self.state {
            Life::Lost { .. } | Life::Dying { .. } => {
                self.state = Life::Replacing { deadline: now.saturating_add(self.timeout_ms) };
                Some(Due::Replace)
            }
            Life::Joining { .. } => {
                self.state = Life::Closed;
                Some(Due::JoinFailed)
            }
            Life::Replacing { .. } | Life::Rejoining { .. } => {
                let returning = matches!(self.state, Life::Rejoining { .. });
                let generation = self.generation;
                self.lost(now, generation, None).map(|delay| Due::Unanswered { delay, returning })
            }
            Life::Attached | Life::Suspended | Life::Closed => None,
        }
    }

    /// A replacement could not even be started (the SharedWorker constructor threw): it is
    /// lost like an unanswered one.
    pub fn replacement_failed(&mut self, now: Ms) -> Option<Ms> {
        let generation = self.generation;
        self.lost(now, generation, None)
    }

    /// The page went into the back/forward cache: news of the worker is ignored from now on
    /// and every wait stops.
    pub fn suspend(&mut self) {
        if self.state == Life::Closed {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        self.replacements = 0;
        self.state = Life::Suspended;
    }

    /// The page came back from the back/forward cache and said hello again at `now`.
    pub fn resume(&mut self, now: Ms, timeout_ms: Ms) -> bool {
        if self.state != Life::Suspended {
            return false;
        }
        self.state = Life::Rejoining { deadline: now.saturating_add(timeout_ms) };
        true
    }

    /// The client closed: nothing more happens.
    pub fn close(&mut self) {
        self.state = Life::Closed;
    }
}
