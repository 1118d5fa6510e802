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

use crate::ids::ClientId;
use crate::sorted_map::SortedMap;

/// The engine's own view and the attached clients' reports.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    own: bool,
    reports: SortedMap<ClientId, bool>,
}

impl Default for Network {
    fn default() -> Self {
        Network { own: true, reports: SortedMap::new() }
    }
}

impl Network {
    /// Online unless the own view and every report say offline.
    pub(crate) fn online(&self) -> bool {
        self.own || self.reports.values().any(|r| *r)
    }

    /// The engine's own context saw `online`.
    pub(crate) fn set_own(&mut self, online: bool) {
        self.own = online;
    }

    /// An attached client reported `online` (its latest report replaces the one before).
    pub(crate) fn report(&mut self, client: ClientId, online: bool) {
        self.reports.insert(client, online);
    }

    /// A client detached: its report no longer counts.
    pub(crate) fn forget(&mut self, client: ClientId) {
        self.reports.remove(&client);
    }

    /// How many reports are held (at most one per attached client).
    pub(crate) fn reports(&self) -> usize {
        self.reports.len()
    }
}
