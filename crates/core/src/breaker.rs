//! The circuit breaker around connect attempts: one per endpoint, so one for the whole
//! browser when the engine runs in the SharedWorker.
//!
//! A failed attempt is one that did not open (refused, or past `connectTimeoutMs`) or whose
//! connection the server closed before `backoff.minUptimeMs` with a code that retries (not an
//! expired token's `refresh-token`, not a `fatal` one). After `failureThreshold` of them in a row
//! the breaker opens: no attempt for `resetTimeoutMs`, then one half-open probe; a probe that
//! opens closes the breaker, one that fails (or drops before `minUptimeMs`) opens it again.

use crate::time::Ms;

/// Breaker settings (`options.breaker`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BreakerOptions {
    /// Failed attempts in a row that open the breaker. Default 3.
    pub failure_threshold: u32,
    /// How long the breaker stays open before one half-open probe. Default 30000.
    pub reset_timeout_ms: u64,
}

impl Default for BreakerOptions {
    fn default() -> Self {
        BreakerOptions { failure_threshold: 3, reset_timeout_ms: 30_000 }
    }
}

impl BreakerOptions {
    /// Every key `breaker` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] = &["failureThreshold", "resetTimeoutMs"];
}

/// The breaker's position, as tabs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakerState {
    /// Attempts flow.
    Closed,
    /// No attempt until the reset timeout has passed.
    Open,
    /// One probe is allowed; its outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// A consecutive-failure breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Breaker {
    failures: u32,
    state: BreakerState,
    open_until: Ms,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { failures: 0, state: BreakerState::Closed, open_until: 0 }
    }
}

impl Breaker {
    /// The current position.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// While open: when the half-open probe may start.
    pub fn retry_at(&self) -> Option<Ms> {
        (self.state == BreakerState::Open).then_some(self.open_until)
    }

    /// The failed attempts counted in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// An attempt reached `open`: the breaker closes (a half-open probe succeeded). The
    /// failures stay counted until the connection has lasted `backoff.minUptimeMs`
    /// ([`Breaker::forgive`]): one the server closes before that counts as one more
    /// ([`Breaker::on_failure`]), so a server that accepts and drops at once (flapping) opens
    /// the breaker as one that refuses does.
    pub fn on_open(&mut self) {
        self.state = BreakerState::Closed;
    }

    /// The connection lasted `backoff.minUptimeMs`: the failures before it are forgiven.
    pub fn forgive(&mut self) {
        self.failures = 0;
    }

    /// An attempt failed at `now`. A failed probe reopens at once; otherwise the breaker
    /// opens when the failures reach the threshold.
    pub fn on_failure(&mut self, now: Ms, o: &BreakerOptions) {
        self.failures = self.failures.saturating_add(1);
        if self.state == BreakerState::HalfOpen || self.failures >= o.failure_threshold {
            self.state = BreakerState::Open;
            self.open_until = now.saturating_add(o.reset_timeout_ms);
        }
    }

    /// The earliest time an attempt planned for `at` may really start.
    pub fn gate(&self, at: Ms) -> Ms {
        match self.state {
            BreakerState::Open => at.max(self.open_until),
            _ => at,
        }
    }

    /// An attempt starts at `now`: if the breaker was open (and its time has come, or a
    /// tab asked explicitly), this attempt is the half-open probe.
    pub fn on_attempt(&mut self) {
        if self.state == BreakerState::Open {
            self.state = BreakerState::HalfOpen;
        }
    }
}
