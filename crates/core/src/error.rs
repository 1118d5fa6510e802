//! Errors the engine reports to tabs, each with a stable code and a human message.

use alloc::string::String;
use core::fmt;

/// Everything that can go wrong from a tab's point of view, by layer: the options, the
/// page ⇄ worker protocol, the engine, the worker itself. Each layer's error is its own type
/// (with its own `Display` and [`core::error::Error`]), and [`Error::source`](core::error::Error::source)
/// gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `connect()` options are missing, of the wrong type, or out of range.
    InvalidOptions(String),
    /// A message on a port that the protocol refuses.
    Protocol(ProtocolError),
    /// What the engine refused or could not do.
    Engine(EngineError),
    /// The shared worker could not serve.
    Worker(WorkerError),
}

/// A message on a port that the protocol refuses (`crates/web/src/protocol.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A message that is not part of the protocol: what is wrong with it.
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
}

/// What the engine refused or could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineError {
    /// `send()` while the socket is not open (its state): the frame was not sent.
    NotOpen(String),
    /// The socket could not be created (for example ws:// from an https page).
    OpenFailed(String),
    /// Too many tabs for one worker.
    TooManyClients(usize),
    /// A hello for a new endpoint while the worker holds `MAX_ENDPOINTS` with clients. The
    /// message is built where it is raised (so a page's client, which never raises it, does
    /// not carry its text).
    TooManyEndpoints(String),
    /// Too many `history`/`stats` requests from one client (`request_budget.rs`); message as
    /// for [`EngineError::TooManyEndpoints`].
    TooManyRequests(String),
    /// A send could not be queued: the queue is full (which cap).
    QueueFull(String),
    /// A queued send waited longer than `queue.ttlMs` (this many ms).
    Expired(u64),
    /// A tab attached with options that differ from those the endpoint was opened with.
    OptionsDiffer,
    /// A subscribe or unsubscribe that cannot be done (no topics option, bad topic, too many).
    Topic(String),
    /// The tab stopped handling frames (frozen in the background, or blocked) and fell more
    /// than the backlog's bound behind: this many frames were not delivered to it.
    Lagged(u64),
}

/// The shared worker could not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerError {
    /// The shared worker could not be started or did not answer (why).
    Failed(String),
    /// The shared worker died (a panic, or the browser ended it); what was waiting on it is
    /// lost. The tab starts a replacement on its own.
    Crashed(String),
    /// A port connected while `MAX_PENDING_PORTS` ports had not said hello yet: it is closed.
    /// Message as for [`EngineError::TooManyEndpoints`].
    TooManyPorts(String),
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Error {
        Error::Protocol(e)
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Error {
        Error::Engine(e)
    }
}

impl From<WorkerError> for Error {
    fn from(e: WorkerError) -> Error {
        Error::Worker(e)
    }
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
    /// [`ProtocolError::BadMessage`].
    BadMessage,
    /// [`ProtocolError::VersionMismatch`].
    VersionMismatch,
    /// [`ProtocolError::NotAttached`].
    NotAttached,
    /// [`EngineError::NotOpen`].
    NotOpen,
    /// [`EngineError::OpenFailed`].
    OpenFailed,
    /// [`WorkerError::Failed`].
    WorkerFailed,
    /// [`WorkerError::Crashed`].
    WorkerCrashed,
    /// [`EngineError::TooManyClients`].
    TooManyClients,
    /// [`EngineError::TooManyEndpoints`].
    TooManyEndpoints,
    /// [`EngineError::TooManyRequests`].
    TooManyRequests,
    /// [`WorkerError::TooManyPorts`].
    TooManyPorts,
    /// [`EngineError::QueueFull`].
    QueueFull,
    /// [`EngineError::Expired`].
    Expired,
    /// [`EngineError::OptionsDiffer`].
    OptionsDiffer,
    /// [`EngineError::Topic`].
    Topic,
    /// [`EngineError::Lagged`].
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
            Error::Protocol(e) => e.kind(),
            Error::Engine(e) => e.kind(),
            Error::Worker(e) => e.kind(),
        }
    }

    /// A short stable identifier for programs (`"invalid-options"`, …): [`ErrorCode::as_str`].
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The human message. Built by concatenation, not `format!`: the wasm modules that show
    /// it then carry no formatting machinery for it.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidOptions(m) => ["tabmux: invalid options: ", m].concat(),
            Error::Protocol(e) => e.message(),
            Error::Engine(e) => e.message(),
            Error::Worker(e) => e.message(),
        }
    }

    /// Why, alone, where there is a why apart from the message: what the browser said of a
    /// crashed or failed worker, or of a socket that could not be created.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Error::Worker(WorkerError::Crashed(why) | WorkerError::Failed(why)) | Error::Engine(EngineError::OpenFailed(why)) => Some(why),
            _ => None,
        }
    }
}

impl ProtocolError {
    /// Which error this is, by code.
    pub fn kind(&self) -> ErrorCode {
        match self {
            ProtocolError::BadMessage(_) => ErrorCode::BadMessage,
            ProtocolError::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            ProtocolError::NotAttached => ErrorCode::NotAttached,
        }
    }

    /// The human message.
    pub fn message(&self) -> String {
        match self {
            ProtocolError::BadMessage(m) => ["tabmux: bad message to the worker: ", m].concat(),
            ProtocolError::VersionMismatch { got, want } => [
                "tabmux: protocol version ",
                &decimal(u64::from(*got)),
                " is not spoken by this worker (it speaks ",
                &decimal(u64::from(*want)),
                ")",
            ]
            .concat(),
            ProtocolError::NotAttached => "tabmux: the first message on a port must be a hello".into(),
        }
    }
}

impl EngineError {
    /// Which error this is, by code.
    pub fn kind(&self) -> ErrorCode {
        match self {
            EngineError::NotOpen(_) => ErrorCode::NotOpen,
            EngineError::OpenFailed(_) => ErrorCode::OpenFailed,
            EngineError::TooManyClients(_) => ErrorCode::TooManyClients,
            EngineError::TooManyEndpoints(_) => ErrorCode::TooManyEndpoints,
            EngineError::TooManyRequests(_) => ErrorCode::TooManyRequests,
            EngineError::QueueFull(_) => ErrorCode::QueueFull,
            EngineError::Expired(_) => ErrorCode::Expired,
            EngineError::OptionsDiffer => ErrorCode::OptionsDiffer,
            EngineError::Topic(_) => ErrorCode::Topic,
            EngineError::Lagged(_) => ErrorCode::Lagged,
        }
    }

    /// The human message.
    pub fn message(&self) -> String {
        let cat = |parts: &[&str]| parts.concat();
        match self {
            EngineError::NotOpen(state) => cat(&["tabmux: the socket is not open (state ", state, "); the frame was not sent"]),
            EngineError::OpenFailed(m) => cat(&["tabmux: the WebSocket could not be created: ", m]),
            EngineError::Topic(m) => cat(&["tabmux: ", m]),
            EngineError::TooManyClients(n) => cat(&["tabmux: this worker already serves ", &decimal(*n as u64), " clients"]),
            EngineError::TooManyEndpoints(m) | EngineError::TooManyRequests(m) => m.clone(),
            EngineError::QueueFull(why) => cat(&["tabmux: the send queue is full (", why, "); the frame was not sent"]),
            EngineError::Expired(ms) => {
                cat(&["tabmux: the frame waited ", &decimal(*ms), " ms for the socket to open and was not sent"])
            }
            EngineError::OptionsDiffer => {
                "tabmux: another tab opened this URL with other options; the first tab's options apply".into()
            }
            EngineError::Lagged(n) => cat(&[
                "tabmux: this tab stopped handling frames (frozen in the background, or busy) and fell too far behind: ",
                &decimal(*n),
                " frames were not delivered to it; it receives again from here",
            ]),
        }
    }
}

impl WorkerError {
    /// Which error this is, by code.
    pub fn kind(&self) -> ErrorCode {
        match self {
            WorkerError::Failed(_) => ErrorCode::WorkerFailed,
            WorkerError::Crashed(_) => ErrorCode::WorkerCrashed,
            WorkerError::TooManyPorts(_) => ErrorCode::TooManyPorts,
        }
    }

    /// The human message.
    pub fn message(&self) -> String {
        match self {
            WorkerError::Failed(m) => ["tabmux: ", m].concat(),
            WorkerError::Crashed(m) => ["tabmux: the worker crashed: ", m].concat(),
            WorkerError::TooManyPorts(m) => m.clone(),
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

/// `Display` (the human message) and [`core::error::Error`] for each layer's error.
macro_rules! std_error {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.message())
            }
        }
        impl core::error::Error for $t {}
    )*};
}

std_error!(ProtocolError, EngineError, WorkerError);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {
    /// The layer's own error (none for invalid options, whose message is all there is).
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::InvalidOptions(_) => None,
            Error::Protocol(e) => Some(e),
            Error::Engine(e) => Some(e),
            Error::Worker(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use core::error::Error as _;

    #[test]
    fn a_lost_worker_has_its_own_code_and_says_why() {
        let e = Error::from(WorkerError::Crashed("the browser ended it".into()));
        assert_eq!((e.code(), e.message().as_str()), ("worker-crashed", "tabmux: the worker crashed: the browser ended it"));
        assert_eq!(e.reason(), Some("the browser ended it"));
    }

    #[test]
    fn each_layer_is_its_own_error_and_the_source_of_the_whole() {
        let e = Error::from(ProtocolError::NotAttached);
        assert_eq!(e.source().map(|s| s.to_string()), Some(ProtocolError::NotAttached.to_string()));
        assert_eq!(e.to_string(), "tabmux: the first message on a port must be a hello");
        assert_eq!(Error::from(EngineError::OptionsDiffer).source().map(|s| s.to_string()), Some(EngineError::OptionsDiffer.message()));
        assert!(Error::InvalidOptions("url: missing".into()).source().is_none());
        assert_eq!(Error::InvalidOptions("url: missing".into()).reason(), None);
    }

    #[test]
    fn numbers_in_messages_are_plain_decimals() {
        for n in [0, 7, 10, 1024, 4_294_967_295, u64::MAX] {
            assert_eq!(decimal(n), alloc::format!("{n}"));
        }
        let m = ProtocolError::VersionMismatch { got: 2, want: 1 }.message();
        assert_eq!(m, "tabmux: protocol version 2 is not spoken by this worker (it speaks 1)");
        assert_eq!(EngineError::Expired(60_000).to_string(), "tabmux: the frame waited 60000 ms for the socket to open and was not sent");
        assert_eq!(EngineError::TooManyClients(1024).to_string(), "tabmux: this worker already serves 1024 clients");
        let e = Error::from(EngineError::Lagged(4_760));
        assert_eq!((e.code(), e.message().as_str()), ("lagged", "tabmux: this tab stopped handling frames (frozen in the background, or busy) and fell too far behind: 4760 frames were not delivered to it; it receives again from here"));
    }
}
