//! Whether the engine treats the browser as online: its own context's view (the worker's
//! `navigator.onLine` and `online`/`offline` events, or the page's in direct mode) combined
//! with what attached tabs reported, so that no single tab decides for the others.
//!
//! The rule: **offline only while the engine's own view says offline and every attached
//! client that reported says offline too.** A client that never reported does not count; a
//! client's report is forgotten when it detaches. So a tab that lies, or reported offline and
//! closed, cannot keep the others offline: at worst a tab that says online while the network
//! is gone keeps the engine trying (with its backoff), as an engine that knew nothing would.
//!
//! Measured (tests/engines/online-probe.mjs, docs/guide/network.md): Chromium 156 delivers no
//! `online`/`offline` event to a SharedWorker, but its `navigator.onLine` follows the network;
//! Firefox 153 and WebKitGTK 2.50 deliver both. The shells re-read their own
//! `navigator.onLine` whenever a tab reports, so in Chromium a tab's report is the prompt.

/// The rule: online when the own view says so or any attached client's latest report does
/// (`reports`: each attached client's, `None` for one that never reported).
pub(crate) fn online(own: bool, mut reports: impl Iterator<Item = Option<bool>>) -> bool {
    own || reports.any(|r| r == Some(true))
}
