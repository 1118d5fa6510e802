//! Errors the engine reports to tabs, each with a stable code and a human message.

use alloc::string::String;
use core::fmt;

/// Everything that can go wrong from a tab's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `connect()` options are missing, of the wrong type, or out of range.
    InvalidOptions(String),
    /// A message to the worker that is not part of the protocol.
    BadMessage(String),
    /// The tab speaks another protocol version than the worker.
    VersionMismatch {
        /// The version the tab sent.
        got: u32,
        /// The version this worker speaks.
        want: u32,
    },
    /// A message arrived before the tab's hello.
    NotAttached,
    /// `send()` while the socket is not open: the frame was not sent.
    NotOpen(String),
    /// The socket could not be created (for example ws:// from an https page).
    OpenFailed(String),
    /// The shared worker could not be started or did not answer.
    WorkerFailed(String),
    /// The shared worker died (a panic, or the browser ended it); what was waiting on it is
    /// lost. The tab starts a replacement on its own.
    WorkerCrashed(String),
    /// Too many tabs for one worker.
    TooManyClients(usize),
    /// A hello for a new endpoint while the worker holds `MAX_ENDPOINTS` with clients. The
    /// message is built where it is raised (so a page's client, which never raises it, does
    /// not carry its text).
    TooManyEndpoints(String),
    /// Too many `history`/`stats` requests from one client (`request_budget.rs`); message as
    /// for [`Error::TooManyEndpoints`].
    TooManyRequests(String),
    /// A port connected while `MAX_PENDING_PORTS` ports had not said hello yet: it is closed.
    /// Message as for [`Error::TooManyEndpoints`].
    TooManyPorts(String),
    /// A send could not be queued: the queue is full.
    QueueFull(String),
    /// A queued send waited longer than `queue.ttlMs`.
    Expired(u64),
    /// A tab attached with options that differ from those the endpoint was opened with.
    OptionsDiffer,
    /// A subscribe or unsubscribe that cannot be done (no topics option, bad topic, too many).
    Topic(String),
    /// The tab stopped handling frames (frozen in the background, or blocked) and fell more
    /// than the backlog's bound behind: this many frames were not delivered to it.
    Lagged(u64),
}

/// Every error code a page can see, once: the engine's, the worker script's (`worker-failed`,
/// `worker-crashed`), the page client's (`bad-json`) and the entry module's (`wasm-blocked`, `load-failed`, given before any
/// wasm runs). The wire name of each is [`ErrorCode::as_str`]; `crates/core/tests/error_codes.rs`
/// checks that the d.ts's `ErrorCode` type and the JavaScript that writes codes use exactly
/// these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// [`Error::InvalidOptions`].
    InvalidOptions,
    /// [`Error::BadMessage`].
    BadMessage,
    /// [`Error::VersionMismatch`].
    VersionMismatch,
    /// [`Error::NotAttached`].
    NotAttached,
    /// [`Error::NotOpen`].
    NotOpen,
    /// [`Error::OpenFailed`].
    OpenFailed,
    /// [`Error::WorkerFailed`].
    WorkerFailed,
    /// [`Error::WorkerCrashed`].
    WorkerCrashed,
    /// [`Error::TooManyClients`].
    TooManyClients,
    /// [`Error::TooManyEndpoints`].
    TooManyEndpoints,
    /// [`Error::TooManyRequests`].
    TooManyRequests,
    /// [`Error::TooManyPorts`].
    TooManyPorts,
    /// [`Error::QueueFull`].
    QueueFull,
    /// [`Error::Expired`].
    Expired,
    /// [`Error::OptionsDiffer`].
    OptionsDiffer,
    /// [`Error::Topic`].
    Topic,
    /// [`Error::Lagged`].
    Lagged,
    /// With `json` on, a frame that is not JSON text (raised by the page's client).
    BadJson,
    /// The page's Content-Security-Policy does not allow WebAssembly (raised by js/index.js).
    WasmBlocked,
    /// The client's wasm could not be fetched (raised by js/index.js).
    LoadFailed,
}

impl ErrorCode {
    /// Every code, in the order above.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::InvalidOptions,
        ErrorCode::BadMessage,
        ErrorCode::VersionMismatch,
        ErrorCode::NotAttached,
        ErrorCode::NotOpen,
        ErrorCode::OpenFailed,
        ErrorCode::WorkerFailed,
        ErrorCode::WorkerCrashed,
        ErrorCode::TooManyClients,
        ErrorCode::TooManyEndpoints,
        ErrorCode::TooManyRequests,
        ErrorCode::TooManyPorts,
        ErrorCode::QueueFull,
        ErrorCode::Expired,
        ErrorCode::OptionsDiffer,
        ErrorCode::Topic,
        ErrorCode::Lagged,
        ErrorCode::BadJson,
        ErrorCode::WasmBlocked,
        ErrorCode::LoadFailed,
    ];

    /// The wire name (`"invalid-options"`, …): what `error.code` says.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidOptions => "invalid-options",
            ErrorCode::BadMessage => "bad-message",
            ErrorCode::VersionMismatch => "version-mismatch",
            ErrorCode::NotAttached => "not-attached",
            ErrorCode::NotOpen => "not-open",
            ErrorCode::OpenFailed => "open-failed",
            ErrorCode::WorkerFailed => "worker-failed",
            ErrorCode::WorkerCrashed => "worker-crashed",
            ErrorCode::TooManyClients => "too-many-clients",
            ErrorCode::TooManyEndpoints => "too-many-endpoints",
            ErrorCode::TooManyRequests => "too-many-requests",
            ErrorCode::TooManyPorts => "too-many-ports",
            ErrorCode::QueueFull => "queue-full",
            ErrorCode::Expired => "expired",
            ErrorCode::OptionsDiffer => "options-differ",
            ErrorCode::Topic => "topic",
            ErrorCode::Lagged => "lagged",
            ErrorCode::BadJson => "bad-json",
            ErrorCode::WasmBlocked => "wasm-blocked",
            ErrorCode::LoadFailed => "load-failed",
        }
    }

    /// The code with this wire name.
    pub fn from_wire(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl Error {
    /// Which error this is, by code.
    pub fn kind(&self) -> ErrorCode {
        match self {
            Error::InvalidOptions(_) => ErrorCode::InvalidOptions,
            Error::BadMessage(_) => ErrorCode::BadMessage,
            Error::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            Error::NotAttached => ErrorCode::NotAttached,
            Error::NotOpen(_) => ErrorCode::NotOpen,
            Error::OpenFailed(_) => ErrorCode::OpenFailed,
            Error::WorkerFailed(_) => ErrorCode::WorkerFailed,
            Error::WorkerCrashed(_) => ErrorCode::WorkerCrashed,
            Error::TooManyClients(_) => ErrorCode::TooManyClients,
            Error::TooManyEndpoints(_) => ErrorCode::TooManyEndpoints,
            Error::TooManyRequests(_) => ErrorCode::TooManyRequests,
            Error::TooManyPorts(_) => ErrorCode::TooManyPorts,
            Error::QueueFull(_) => ErrorCode::QueueFull,
            Error::Expired(_) => ErrorCode::Expired,
            Error::Topic(_) => ErrorCode::Topic,
            Error::OptionsDiffer => ErrorCode::OptionsDiffer,
            Error::Lagged(_) => ErrorCode::Lagged,
        }
    }

    /// A short stable identifier for programs (`"invalid-options"`, …): [`ErrorCode::as_str`].
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }
}

impl Error {
    /// The human message. Built by concatenation, not `format!`: the wasm modules that show
    /// it then carry no formatting machinery for it.
    pub fn message(&self) -> String {
        let cat = |parts: &[&str]| parts.concat();
        match self {
            Error::InvalidOptions(m) => cat(&["tabmux: invalid options: ", m]),
            Error::BadMessage(m) => cat(&["tabmux: bad message to the worker: ", m]),
            Error::VersionMismatch { got, want } => cat(&[
                "tabmux: protocol version ",
                &decimal(u64::from(*got)),
                " is not spoken by this worker (it speaks ",
                &decimal(u64::from(*want)),
                ")",
            ]),
            Error::NotAttached => "tabmux: the first message on a port must be a hello".into(),
            Error::NotOpen(state) => cat(&["tabmux: the socket is not open (state ", state, "); the frame was not sent"]),
            Error::OpenFailed(m) => cat(&["tabmux: the WebSocket could not be created: ", m]),
            Error::WorkerFailed(m) | Error::Topic(m) => cat(&["tabmux: ", m]),
            Error::WorkerCrashed(m) => cat(&["tabmux: the worker crashed: ", m]),
            Error::TooManyClients(n) => cat(&["tabmux: this worker already serves ", &decimal(*n as u64), " clients"]),
            Error::TooManyEndpoints(m) | Error::TooManyRequests(m) | Error::TooManyPorts(m) => m.clone(),
            Error::QueueFull(why) => cat(&["tabmux: the send queue is full (", why, "); the frame was not sent"]),
            Error::Expired(ms) => {
                cat(&["tabmux: the frame waited ", &decimal(*ms), " ms for the socket to open and was not sent"])
            }
            Error::OptionsDiffer => {
                "tabmux: another tab opened this URL with other options; the first tab's options apply".into()
            }
            Error::Lagged(n) => cat(&[
                "tabmux: this tab stopped handling frames (frozen in the background, or busy) and fell too far behind: ",
                &decimal(*n),
                " frames were not delivered to it; it receives again from here",
            ]),
        }
    }
}

/// `n` in decimal, without `core::fmt`.
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[i..].iter().map(|&d| d as char).collect()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_worker_has_its_own_code_and_says_why() {
        let e = Error::WorkerCrashed("the browser ended it".into());
        assert_eq!((e.code(), e.message().as_str()), ("worker-crashed", "tabmux: the worker crashed: the browser ended it"));
    }

    #[test]
    fn numbers_in_messages_are_plain_decimals() {
        for n in [0, 7, 10, 1024, 4_294_967_295, u64::MAX] {
            assert_eq!(decimal(n), alloc::format!("{n}"));
        }
        let m = Error::VersionMismatch { got: 2, want: 1 }.message();
        assert_eq!(m, "tabmux: protocol version 2 is not spoken by this worker (it speaks 1)");
        assert_eq!(Error::Expired(60_000).to_string(), "tabmux: the frame waited 60000 ms for the socket to open and was not sent");
        assert_eq!(Error::TooManyClients(1024).to_string(), "tabmux: this worker already serves 1024 clients");
        let e = Error::Lagged(4_760);
        assert_eq!((e.code(), e.message().as_str()), ("lagged", "tabmux: this tab stopped handling frames (frozen in the background, or busy) and fell too far behind: 4760 frames were not delivered to it; it receives again from here"));
    }
}
