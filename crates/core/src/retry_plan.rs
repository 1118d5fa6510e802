//! How the next retry is planned after a close: the close-code row and the reason's retry hint
//! ([`crate::retry_hint`]) decide a wait and a spread, the backoff fills in what they leave
//! open, and the breaker may hold the result later ([`crate::engine`] applies it).

use crate::close_policy::{CloseAction, CloseRule};
use crate::retry_hint::{self, RetryHint};
use crate::status::RetryReason;
use crate::time::Ms;
use alloc::string::String;

/// What a retry waits for, before the backoff (or the breaker) has its say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetryPlan {
    /// Start without the backoff's delay (`retry-now`).
    pub at_once: bool,
    /// Not before this long after now.
    pub wait_ms: Ms,
    /// After the wait, a moment drawn uniformly over this window instead of the backoff's
    /// delay (`reconnect-within`).
    pub within_ms: Option<Ms>,
    /// Why the retry is when it is (before the breaker).
    pub reason: RetryReason,
    /// The hint as the debug log shows it: the one followed, or why one was ignored.
    pub hint: Option<String>,
    /// Whether a hint from the server was followed (counted in `stats.serverHints`).
    pub followed_hint: bool,
}

impl RetryPlan {
    /// A retry after the backoff's delay.
    pub fn backoff() -> Self {
        RetryPlan { at_once: false, wait_ms: 0, within_ms: None, reason: RetryReason::Backoff, hint: None, followed_hint: false }
    }

    /// The plan after a close whose row is `rule` (a `retry` or `retry-now` row) and whose
    /// reason is `reason`: a hint in the reason first, else the row's own wait, else the
    /// backoff (nothing, for `retry-now`). A hint that cannot be read is ignored and said so.
    pub fn after_close(rule: CloseRule, reason: &str) -> Self {
        let at_once = rule.action == CloseAction::RetryNow;
        let mut plan = RetryPlan { at_once, ..RetryPlan::backoff() };
        match retry_hint::parse(reason) {
            Ok(Some(h)) => plan.follow(h),
            Ok(None) => plan.own_wait(rule),
            Err(e) => {
                plan.own_wait(rule);
                plan.hint = Some(["ignored: ", &e.message()].concat());
            }
        }
        plan
    }

    fn follow(&mut self, h: RetryHint) {
        self.wait_ms = h.after_ms;
        self.within_ms = h.within_ms;
        self.reason = RetryReason::ServerHint;
        self.hint = Some(h.describe());
        self.followed_hint = true;
    }

    fn own_wait(&mut self, rule: CloseRule) {
        if rule.wait_ms > 0 {
            self.wait_ms = rule.wait_ms;
            self.reason = RetryReason::CloseCode;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::close_policy::CloseAction::{Retry, RetryNow};

    #[test]
    fn a_hint_wins_over_the_rows_own_wait_and_a_bad_one_falls_back_to_it() {
        let row = CloseRule::one(1013, Retry).wait(10_000);
        let p = RetryPlan::after_close(row, "retry-after=3000");
        assert_eq!((p.wait_ms, p.within_ms, p.reason, p.hint.as_deref(), p.followed_hint), (3000, None, RetryReason::ServerHint, Some("retry-after=3000"), true));
        let p = RetryPlan::after_close(row, "busy");
        assert_eq!((p.wait_ms, p.reason, p.hint, p.followed_hint), (10_000, RetryReason::CloseCode, None, false));
        let p = RetryPlan::after_close(row, "retry-after=3s");
        assert_eq!((p.wait_ms, p.reason, p.followed_hint), (10_000, RetryReason::CloseCode, false));
        assert_eq!(p.hint.as_deref(), Some("ignored: retry-after: expected a whole number ≥ 0, got \"3s\""));
        let p = RetryPlan::after_close(CloseRule::one(1012, Retry), "bye");
        assert_eq!(p, RetryPlan::backoff());
    }

    #[test]
    fn retry_now_keeps_at_once_and_takes_a_window() {
        let p = RetryPlan::after_close(CloseRule::one(4200, RetryNow), "reconnect-within=2000");
        assert_eq!((p.at_once, p.wait_ms, p.within_ms, p.reason), (true, 0, Some(2000), RetryReason::ServerHint));
    }
}
