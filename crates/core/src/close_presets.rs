//! Close-code conventions of known servers, as data (`closeCodePreset`): their rows come
//! after the page's own `closeCodes` and before the built-in table
//! ([`crate::close_policy`]).

use crate::close_policy::CloseAction::{Fatal, RefreshToken, Retry, RetryNow};
use crate::close_policy::CloseRule;
use crate::time::Ms;

/// Pusher's "back off" range waits at least this long (its protocol: "at least 1 second").
pub const PUSHER_BACKOFF_MS: Ms = 1000;

/// Pusher (Channels protocol, "Connection closure"): 4000–4099 must not reconnect unchanged,
/// 4100–4199 reconnect after backing off at least 1 s, 4200–4299 reconnect at once.
const PUSHER: &[CloseRule] = &[
    CloseRule::range(4000, 4099, Fatal),
    CloseRule::range(4100, 4199, Retry).wait(PUSHER_BACKOFF_MS),
    CloseRule::range(4200, 4299, RetryNow),
];

/// Centrifugo (its client SDKs: reconnect unless 3500–3999 or 4500–4999): 3005 ("expired")
/// reconnects with a fresh token; 4000–4499 reconnect (they are not tabmux's 4401/4403 there).
const CENTRIFUGO: &[CloseRule] = &[
    CloseRule::one(3005, RefreshToken),
    CloseRule::range(3500, 3999, Fatal),
    CloseRule::range(4000, 4499, Retry),
    CloseRule::range(4500, 4999, Fatal),
];

/// graphql-ws (graphql-transport-ws; the codes its own client does not retry): bad request
/// 4400, bad response 4004, internal client error 4005, subprotocol not acceptable 4406,
/// subscriber already exists 4409, too many initialisation requests 4429, internal server
/// error 4500. 4401 and 4403 keep the built-in `refresh-token`; the timeouts (4408, 4504) retry.
const GRAPHQL_WS: &[CloseRule] = &[
    CloseRule::one(4004, Fatal),
    CloseRule::one(4005, Fatal),
    CloseRule::one(4400, Fatal),
    CloseRule::one(4406, Fatal),
    CloseRule::one(4409, Fatal),
    CloseRule::one(4429, Fatal),
    CloseRule::one(4500, Fatal),
];

/// Every preset, by the name `closeCodePreset` takes.
pub const CLOSE_CODE_PRESETS: &[(&str, &[CloseRule])] = &[("pusher", PUSHER), ("centrifugo", CENTRIFUGO), ("graphql-ws", GRAPHQL_WS)];

/// The rows of the preset called `name`.
pub fn preset(name: &str) -> Option<&'static [CloseRule]> {
    CLOSE_CODE_PRESETS.iter().find(|(n, _)| *n == name).map(|(_, rows)| *rows)
}

/// The preset names, for messages.
pub fn preset_names() -> impl Iterator<Item = &'static str> {
    CLOSE_CODE_PRESETS.iter().map(|(n, _)| *n)
}
