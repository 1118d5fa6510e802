//! What a close code means for the next step: the close-code table. The page's
//! `closeCodes` come first, then a preset's rows (`closeCodePreset`,
//! [`crate::close_presets`]), then the built-in rows; a code none of them lists retries with
//! backoff.

use crate::time::Ms;

/// What to do after the socket closed with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseAction {
    /// Reconnect after the backoff delay.
    Retry,
    /// Reconnect at once (the attempt still counts).
    RetryNow,
    /// The server refused the credentials: get a new token, then retry once.
    RefreshToken,
    /// Stop: no retry until a tab asks for one.
    Fatal,
}

/// How long 1013 ("Try Again Later") waits before its retry when its reason carries no retry
/// hint: the retry comes this long after the close, then the backoff delay (10 s, the wait
/// Courier's servers ask for).
pub const TRY_AGAIN_LATER_MS: Ms = 10_000;

/// One row of a close-code table: the codes `from..=to`, their action and, for a retry, the
/// code's own wait when the close carries no hint (the retry is not before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseRule {
    /// The first code of the row.
    pub from: u16,
    /// The last code of the row (equal to `from` for one code).
    pub to: u16,
    /// What those codes make the engine do.
    pub action: CloseAction,
    /// For `retry`: a wait before the backoff delay when the reason has no hint (0: none).
    pub wait_ms: Ms,
}

impl CloseRule {
    /// A row for one code.
    pub const fn one(code: u16, action: CloseAction) -> Self {
        CloseRule { from: code, to: code, action, wait_ms: 0 }
    }

    /// A row for the codes `from..=to`.
    pub const fn range(from: u16, to: u16, action: CloseAction) -> Self {
        CloseRule { from, to, action, wait_ms: 0 }
    }

    /// This row with a wait of its own.
    pub const fn wait(self, wait_ms: Ms) -> Self {
        CloseRule { wait_ms, ..self }
    }

    /// Whether the row covers `code`.
    pub fn covers(&self, code: u16) -> bool {
        (self.from..=self.to).contains(&code)
    }
}

/// The built-in rows.
pub const DEFAULT_CLOSE_CODES: &[CloseRule] = &[
    CloseRule::one(1000, CloseAction::Retry),
    CloseRule::one(1001, CloseAction::Retry),
    CloseRule::one(1002, CloseAction::Fatal),
    CloseRule::one(1003, CloseAction::Fatal),
    CloseRule::one(1005, CloseAction::Retry),
    CloseRule::one(1006, CloseAction::Retry),
    CloseRule::one(1007, CloseAction::Fatal),
    CloseRule::one(1008, CloseAction::Fatal),
    CloseRule::one(1009, CloseAction::Fatal),
    CloseRule::one(1010, CloseAction::Fatal),
    CloseRule::one(1011, CloseAction::Retry),
    CloseRule::one(1012, CloseAction::Retry),
    CloseRule::one(1013, CloseAction::Retry).wait(TRY_AGAIN_LATER_MS),
    CloseRule::one(1014, CloseAction::Retry),
    CloseRule::one(4401, CloseAction::RefreshToken),
    CloseRule::one(4403, CloseAction::RefreshToken),
];

/// What an unlisted code does.
const UNLISTED: CloseRule = CloseRule::range(1000, 4999, CloseAction::Retry);

/// An endpoint's table: the page's `closeCodes` over a preset's rows over the built-in ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CloseTable {
    /// `closeCodes`, one code each (they carry no wait: a page that names a code says
    /// exactly what it does).
    pub overrides: alloc::vec::Vec<(u16, CloseAction)>,
    /// The rows of `closeCodePreset`, if one is chosen.
    pub preset: &'static [CloseRule],
}

impl CloseTable {
    /// The row that decides `code`.
    pub fn rule_for(&self, code: u16) -> CloseRule {
        if let Some((_, action)) = self.overrides.iter().find(|(c, _)| *c == code) {
            return CloseRule::one(code, *action);
        }
        self.preset.iter().chain(DEFAULT_CLOSE_CODES).find(|r| r.covers(code)).copied().unwrap_or(UNLISTED)
    }

    /// The action for `code`.
    pub fn action_for(&self, code: u16) -> CloseAction {
        self.rule_for(code).action
    }
}
