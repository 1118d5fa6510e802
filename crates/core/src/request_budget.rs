//! How many `history` and `stats` requests one client may make: each answer copies data (a
//! history answer up to the replay cap), so a page that floods them is refused past a rate,
//! and the other tabs never notice.

use crate::error::{EngineError, Error};
use crate::time::Ms;

/// The most `history` plus `stats` requests one client may make in one window.
pub const REQUESTS_PER_WINDOW: u32 = 20;

/// The window of [`REQUESTS_PER_WINDOW`], in ms. A window starts with the first request after
/// the last one ended (so a burst across a window's end gets at most twice the number).
pub const REQUEST_WINDOW_MS: Ms = 1000;

/// One client's count in its current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RequestBudget {
    window_start: Ms,
    used: u32,
}

impl RequestBudget {
    /// Takes one request at `now`, or refuses it with [`EngineError::TooManyRequests`].
    pub(crate) fn take(&mut self, now: Ms) -> Result<(), Error> {
        if self.used == 0 || now >= self.window_start.saturating_add(REQUEST_WINDOW_MS) {
            self.window_start = now;
            self.used = 0;
        }
        if self.used >= REQUESTS_PER_WINDOW {
            // The numbers are written out (tests/caps.rs checks them against the constants).
            return Err(Error::Engine(EngineError::TooManyRequests(
                "tabmux: too many history and stats requests from this client: at most 20 in 1000 ms; this one was refused".into(),
            )));
        }
        self.used += 1;
        Ok(())
    }
}
