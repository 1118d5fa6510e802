//! What goes in and out of the engine besides plain values: the [`Action`]s the shell carries
//! out, and what the engine answers about a send ([`SendOutcome`]) and a frame
//! ([`FrameMeta`] in, [`Delivery`] out).

use crate::error::Error;
use crate::ids::{ClientId, EndpointId, SocketId};
use crate::log::LogEvent;
use crate::status::Status;
use alloc::string::String;

/// What the shell must do, drained with [`crate::Engine::poll_action`]. Not `#[non_exhaustive]`:
/// the shells match every variant (no `_` arm), so a new action fails their build instead of
/// being dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create a WebSocket to `url`; report its events with `socket`. The URL may carry the
    /// token: never log it.
    OpenSocket {
        /// The id to report events with.
        socket: SocketId,
        /// The URL to open.
        url: String,
    },
    /// Close this socket (and forget it: its later events are ignored anyway).
    CloseSocket {
        /// The socket.
        socket: SocketId,
        /// The close code to send.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
    /// Send this text frame on the socket (the heartbeat's ping, a subscribe, a server ping's reply).
    SendText {
        /// The socket.
        socket: SocketId,
        /// The frame.
        data: String,
    },
    /// Fetch the token from `url` (with credentials) and report it with
    /// [`crate::Engine::handle_token_fetched`].
    FetchToken {
        /// The endpoint the token is for.
        endpoint: EndpointId,
        /// Where to fetch it.
        url: String,
    },
    /// Ask this client's page for a token (it has `token.get`); it answers with
    /// [`crate::Engine::handle_token_answer`] and `req`.
    AskToken {
        /// The tab asked.
        client: ClientId,
        /// The question's number, to answer with.
        req: u64,
    },
    /// The endpoint's token changed (or was dropped by a sign-out): tell these clients, which
    /// carry it (with `gen`) to a replacement worker, whose newest wins.
    Token {
        /// Who is told.
        clients: alloc::vec::Vec<ClientId>,
        /// The token; `None` after a sign-out.
        token: Option<String>,
        /// The change's number.
        gen: u64,
    },
    /// The endpoint's status changed: send `status` to its clients.
    Status {
        /// The endpoint.
        endpoint: EndpointId,
        /// Its status now.
        status: Status,
    },
    /// Write the queued send `send` of `client` on `socket` (in this order), then tell the
    /// client it was written.
    WriteQueued {
        /// The socket.
        socket: SocketId,
        /// Who sent it.
        client: ClientId,
        /// The shell's id for the send.
        send: u64,
    },
    /// The WebSocket for this endpoint could not be created (see
    /// [`crate::Engine::handle_open_failed`]): tell its clients, with this message (the
    /// token is redacted from it).
    OpenFailed {
        /// The endpoint.
        endpoint: EndpointId,
        /// What the constructor said.
        message: String,
    },
    /// A queued send will never be written: tell the client why and forget its data.
    SendFailed {
        /// Who sent it.
        client: ClientId,
        /// The shell's id for the send.
        send: u64,
        /// Why.
        error: Error,
    },
    /// Sequence numbers `from..=to` were skipped: tell every client of the endpoint.
    Gap {
        /// The endpoint.
        endpoint: EndpointId,
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
    /// A frame kept for replay was evicted: forget its data.
    Forget {
        /// The id [`Delivery::To`] gave it.
        replay: u64,
    },
    /// Post these kept frames (replay ids, oldest first) to `client`, as frames that just
    /// arrived (tagged with `topic` when it is set): frames that reached no page while the
    /// endpoint was away ([`crate::away`]), handed to the page that came next.
    Redeliver {
        /// Who gets them.
        client: ClientId,
        /// Their topic, or none.
        topic: Option<String>,
        /// The replay ids of the frames, in order.
        replay: alloc::vec::Vec<u64>,
    },
    /// Tell `client` whether it is now its endpoint's leader ([`crate::leader`]). A change is
    /// told to the former leader (when still attached) before the new one.
    Leader {
        /// The tab told.
        client: ClientId,
        /// Whether it leads from now on.
        leader: bool,
    },
    /// A debug-log event for the endpoint's clients that asked for it. Made only while there
    /// is one.
    Log {
        /// The endpoint.
        endpoint: EndpointId,
        /// Who gets it: the endpoint's clients with `debug` (or a `logger`).
        clients: alloc::vec::Vec<ClientId>,
        /// The event.
        event: LogEvent,
    },
}

/// Where a send went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Write it on this socket now.
    Write(SocketId),
    /// Queued until the socket opens ([`Action::WriteQueued`] or [`Action::SendFailed`] follows).
    Queued,
}

/// What the shell knows about a frame without copying it into wasm: its size, and the
/// values the enabled options point at (extracted only when those options are on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameMeta<'a> {
    /// Its size (UTF-16 code units of text, bytes of binary).
    pub len: usize,
    /// Whether it matched the heartbeat's pong pattern.
    pub pong: bool,
    /// Whether it matched `serverPing` ([`crate::ServerPingOptions::matches`]).
    pub server_ping: bool,
    /// The dedup key, when `dedup` is on and the frame has one.
    pub key: Option<&'a str>,
    /// The sequence number, when `sequence` is on and the frame has one.
    pub seq: Option<u64>,
    /// The topic, when `topics` is on and the frame has one.
    pub topic: Option<&'a str>,
}

/// Who gets a frame that just arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// Pass the frame, unchanged, to these clients, in this order.
    To {
        /// The clients (possibly none: a topic nobody subscribed to).
        clients: &'a [ClientId],
        /// Whether it is a topic frame (deliver it tagged with its topic).
        topic: bool,
        /// Keep the frame's data under this id for replay, until [`Action::Forget`].
        retain: Option<u64>,
        /// The one of `clients` whose exclusive handlers run for this frame
        /// ([`crate::leader`]): it gets the frame marked as its own.
        one: Option<ClientId>,
    },
    /// Deliver to no one: a stale socket, a pong, or a duplicate.
    Drop,
}
