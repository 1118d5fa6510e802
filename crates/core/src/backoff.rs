//! Reconnect delays: exponential growth with a cap, and jitter drawn per attempt.

use crate::rng::Rng;

/// How a delay is spread around its exponential base, drawn anew for every attempt
/// so that many browsers that lost the same server do not come back in step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Jitter {
    /// `base × (1 ± r)`: uniform within ±r of the base (r in `[0, 1]`; `0.2` is ±20%).
    Ratio(f64),
    /// Uniform in `[0, base]` ("full jitter").
    Full,
    /// `base/2 + uniform[0, base/2]` ("equal jitter").
    Equal,
    /// `min(maxMs, uniform[initialMs, 3 × previous delay])` ("decorrelated jitter").
    Decorrelated,
    /// Full jitter on the first retry after a loss (uniform in `[0, base]`), none after it:
    /// each later retry waits its base delay exactly, so a browser keeps the place in the
    /// spread it drew once ("full-once"). Many browsers refused together then come back no
    /// denser than their first spread, and none waits longer than its base delay after the
    /// server returns.
    FullOnce,
}

/// The default jitter: full jitter once ([`Jitter::FullOnce`]; see [`BackoffOptions`]'s
/// defaults for why).
impl Default for Jitter {
    fn default() -> Self {
        Jitter::FullOnce
    }
}

/// The default `backoff.initialMs`: the window a storm's first retries are spread over, and
/// the wait between retries after it. 7.5 s: 1,000 browsers that lose one server plan at most
/// 1.3% of their first retries per 100 ms on average (the densest 100 ms of one storm holds
/// about twice the mean: 2.4% in the storm test), and after an outage of any length under
/// three retries (22.5 s) the last browser is back 7.5 s after the server (`tests/storm.rs`).
pub const DEFAULT_INITIAL_MS: u64 = 7500;

/// What `backoff.jitter` accepts, for messages.
pub const JITTER_EXPECTED: &str = "a ratio between 0 and 1, or \"full\", \"full-once\", \"equal\" or \"decorrelated\"";

/// Backoff settings (`options.backoff`). All times in milliseconds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BackoffOptions {
    /// Delay before the first retry, before jitter. Default [`DEFAULT_INITIAL_MS`] (7500; with
    /// the default jitter the first retry comes 0–7.5 s after a loss, each later one 7.5 s
    /// after the one before).
    pub initial_ms: u64,
    /// Growth per attempt. Default 1: no growth; after `breaker.failureThreshold` failures the
    /// breaker spaces the attempts instead (one per `breaker.resetTimeoutMs`).
    pub factor: f64,
    /// Cap on the delay before jitter. Default 30000.
    pub max_ms: u64,
    /// Spread of each delay. Default `"full-once"` (uniform from 0 to the delay on the first
    /// retry after a loss, none after it).
    pub jitter: Jitter,
    /// Failed attempts in a row before the state becomes `down`; `None` retries for ever.
    pub max_attempts: Option<u32>,
    /// How long a connection must stay open before the attempt counter resets. Default 5000.
    pub min_uptime_ms: u64,
}

impl Default for BackoffOptions {
    fn default() -> Self {
        BackoffOptions {
            initial_ms: DEFAULT_INITIAL_MS,
            factor: 1.0,
            max_ms: 30_000,
            jitter: Jitter::FullOnce,
            max_attempts: None,
            min_uptime_ms: 5000,
        }
    }
}

impl BackoffOptions {
    /// Every key `backoff` accepts (tests/options.rs, `the_key_lists_match_the_fields`, checks it against the fields).
    pub const KEYS: &'static [&'static str] =
        &["initialMs", "factor", "maxMs", "jitter", "maxAttempts", "minUptimeMs"];

    /// The delay before retry number `attempt` (1 for the first retry), without jitter.
    pub fn base_delay(&self, attempt: u32) -> f64 {
        let exp = attempt.saturating_sub(1).min(1024) as i32;
        let raw = self.initial_ms as f64 * self.factor.powi(exp);
        raw.min(self.max_ms as f64)
    }

    /// The delay before retry number `attempt`, with jitter drawn from `rng`.
    /// `previous` is the delay used before the last attempt (for decorrelated jitter).
    pub fn delay(&self, attempt: u32, previous: Option<u64>, rng: &mut Rng) -> u64 {
        let base = self.base_delay(attempt);
        let d = match self.jitter {
            Jitter::Ratio(r) => base * (1.0 + rng.range_f64(-r, r)),
            Jitter::Full => rng.range_f64(0.0, base),
            Jitter::Equal => base / 2.0 + rng.range_f64(0.0, base / 2.0),
            Jitter::Decorrelated => {
                let lo = self.initial_ms as f64;
                let prev = previous.map_or(lo, |p| p as f64);
                rng.range_f64(lo, (prev * 3.0).max(lo)).min(self.max_ms as f64)
            }
            Jitter::FullOnce if attempt <= 1 => rng.range_f64(0.0, base),
            Jitter::FullOnce => base,
        };
        d.max(0.0).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_delay_grows_by_the_factor_to_the_cap() {
        let b = BackoffOptions { initial_ms: 4000, factor: 2.0, ..BackoffOptions::default() };
        let got: Vec<f64> = (1..=5).map(|a| b.base_delay(a)).collect();
        assert_eq!(got, [4000.0, 8000.0, 16000.0, 30000.0, 30000.0]);
        assert_eq!(b.base_delay(u32::MAX), 30000.0);
        // The default: no growth (the breaker spaces the attempts after three failures).
        let d = BackoffOptions::default();
        assert_eq!((1..=5).map(|a| d.base_delay(a)).collect::<Vec<f64>>(), [7500.0; 5]);
    }
}
