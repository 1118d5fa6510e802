//! The page ⇄ worker protocol: its version, the worker's name, and the messages.
//!
//! On a port, a string, an `ArrayBuffer` or a typed array is a data frame (tab → worker:
//! send it; worker → tab: it arrived), passed on untouched. Every other message is a plain
//! object with a `t` field, described here.

use crate::options::Options;
use alloc::string::String;

/// The protocol version. A tab and a worker of different versions never share a worker:
/// the SharedWorker's name carries it, and the hello repeats it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The name every tab gives the SharedWorker (`new SharedWorker(url, { name })`).
pub const WORKER_NAME: &str = "tabmux-v1";

/// The most clients (ports) one worker serves at once.
pub const MAX_CLIENTS: usize = 1024;

/// A control message from a tab, already parsed and checked by the shell.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientMsg {
    /// `{ t: "hello", v, tabId, options }`: attach to the endpoint in `options.url`.
    Hello {
        /// The page's id (several clients in one page share it).
        tab_id: String,
        /// The validated options.
        options: Options,
        /// A Web Lock the tab holds while it lives: when the worker is granted it, the tab
        /// is gone (closed or crashed without a goodbye).
        lock: Option<String>,
        /// The tab's last `setToken` token, when it says hello again to a replacement
        /// worker (never logged or echoed).
        token: Option<String>,
    },
    /// `{ t: "stats", id }`: answer with `{ t: "stats", id, stats }`.
    Stats {
        /// Echoed in the reply.
        id: u32,
    },
    /// `{ t: "reconnect" }`: try now if the socket is not open or opening.
    Reconnect,
    /// `{ t: "bye" }`: this client is going away.
    Bye,
    /// `{ t: "token", token }`: the page has this token (debounced across tabs).
    Token {
        /// The token (never logged or echoed).
        token: String,
    },
    /// `{ t: "online", online }`: the page saw the browser go online or offline.
    Online {
        /// Online or not.
        online: bool,
    },
    /// `{ t: "visible" }`: the page became visible.
    Visible,
    /// `{ t: "send", id, data }`: send `data`; answer `{ t: "sent", id }` once written, or an
    /// error with this id. (A bare string or buffer is a send without an answer.)
    Send {
        /// The tab's request id.
        id: u32,
    },
    /// `{ t: "subscribe", topic }`.
    Subscribe {
        /// The topic.
        topic: String,
    },
    /// `{ t: "unsubscribe", topic }`.
    Unsubscribe {
        /// The topic.
        topic: String,
    },
    /// `{ t: "history", id, topic? }`: answer `{ t: "history", id, frames }`.
    History {
        /// The tab's request id.
        id: u32,
        /// The topic, or none for frames without one.
        topic: Option<String>,
    },
}
