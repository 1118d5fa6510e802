//! What a close code means for the next step: the close-code table.

use serde::{Deserialize, Serialize};

/// What to do after the socket closed with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
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

/// The built-in table. Codes not listed here (and not in `options.closeCodes`) retry with backoff.
pub const DEFAULT_CLOSE_CODES: &[(u16, CloseAction)] = &[
    (1000, CloseAction::Retry),
    (1001, CloseAction::Retry),
    (1002, CloseAction::Fatal),
    (1003, CloseAction::Fatal),
    (1005, CloseAction::Retry),
    (1006, CloseAction::Retry),
    (1007, CloseAction::Fatal),
    (1008, CloseAction::Fatal),
    (1009, CloseAction::Fatal),
    (1010, CloseAction::Fatal),
    (1011, CloseAction::Retry),
    (1012, CloseAction::Retry),
    (1013, CloseAction::Retry),
    (1014, CloseAction::Retry),
    (4401, CloseAction::RefreshToken),
    (4403, CloseAction::RefreshToken),
];

/// The action for `code`: the user's table first, then the built-in one, then `Retry`.
pub fn action_for(code: u16, overrides: &[(u16, CloseAction)]) -> CloseAction {
    overrides
        .iter()
        .chain(DEFAULT_CLOSE_CODES)
        .find(|(c, _)| *c == code)
        .map_or(CloseAction::Retry, |(_, a)| *a)
}
