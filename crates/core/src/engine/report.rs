//! What the engine tells: the status of an endpoint (sent to its tabs when it changes),
//! its stats, and the debug log (made only while a client asked for it).

use super::Engine;
use crate::action::Action;
use crate::endpoint::{Conn, Endpoint};
use crate::error::Error;
use crate::heartbeat::Quality;
use crate::ids::{ClientId, EndpointId};
use crate::log::{DropCounts, LogEvent, DROPS_EVERY_MS};
use crate::status::{Health, Percentiles, Stats, Status};
use crate::sorted_map::SortedMap;
use crate::error::decimal;
use alloc::vec::Vec;

impl Engine {
    /// The current status of an endpoint.
    pub fn status(&self, endpoint: EndpointId) -> Option<Status> {
        self.ep_index(endpoint).map(|i| self.compute_status(i))
    }


    /// Status and counters of the endpoint a client is attached to.
    pub fn stats(&self, client: ClientId) -> Result<Stats, Error> {
        let idx = self.client_ep(client)?;
        let ep = &self.endpoints[idx];
        let status = self.compute_status(idx);
        let mut close_codes = SortedMap::new();
        for c in ep.closes.iter() {
            *close_codes.get_or_insert_with(decimal(u64::from(*c)), || 0u32) += 1;
        }
        Ok(Stats {
            queue_messages: ep.queue.len() as u32,
            queue_bytes: ep.queue.bytes() as u64,
            replay_frames: ep.replay.frames() as u32,
            replay_bytes: ep.replay.bytes() as u64,
            topics: ep.topics.len() as u32,
            dedup_keys: ep.dedup.len() as u32,
            last_seq: ep.sequence.last(),
            status,
            counters: ep.counters.clone(),
            endpoints: self.endpoints.len() as u32,
            reconnects: ep.counters.attempts.saturating_sub(1),
            close_codes,
            durations_ms: Percentiles::of(&ep.durations),
            rtt_ms_p: Percentiles::of(&ep.rtts),
        })
    }


    pub(super) fn compute_status(&self, idx: usize) -> Status {
        let ep = &self.endpoints[idx];
        // The distinct tabs, kept sorted as they are inserted (no sort: std's would add a
        // quicksort to the wasm for this one use; at most MAX_CLIENTS ids).
        let mut tabs: Vec<&str> = Vec::new();
        for id in ep.clients.iter().filter_map(|c| self.clients.get(c)).map(|c| c.tab_id.as_str()) {
            let at = tabs.partition_point(|t| *t < id);
            if tabs.get(at) != Some(&id) {
                tabs.insert(at, id);
            }
        }
        let mut status = Status {
            state: ep.state(),
            attempt: ep.attempt,
            next_retry_at: match ep.conn {
                Conn::Waiting { retry_at, .. } => Some(retry_at),
                _ => None,
            },
            retry_reason: match ep.conn {
                Conn::Waiting { reason, .. } => Some(reason),
                _ => None,
            },
            last_close: ep.last_close.clone(),
            last_error: ep.last_error.clone(),
            breaker: ep.breaker.state(),
            breaker_retry_at: ep.breaker.retry_at(),
            rtt_ms: ep.rtt,
            quality: if matches!(ep.conn, Conn::Open { .. }) { Quality::from_rtt(ep.rtt) } else { Quality::Unknown },
            last_heartbeat_at: ep.last_pong_at,
            protocol: ep.protocol.clone(),
            health: Health::Healthy,
            online: self.online,
            tabs: tabs.len() as u32,
            clients: ep.clients.len() as u32,
        };
        status.health = Health::judge(&status);
        status
    }

    /// Queues a status action when the endpoint's status differs from the last one sent
    /// (and logs a breaker transition).
    pub(super) fn touch(&mut self, idx: usize) {
        let status = self.compute_status(idx);
        let ep = &mut self.endpoints[idx];
        if ep.last_status.as_ref() != Some(&status) {
            let from = ep.last_status.as_ref().map(|s| s.breaker);
            let to = status.breaker;
            ep.last_status = Some(status.clone());
            self.actions.push_back(Action::Status { endpoint: ep.id, status });
            if let Some(from) = from.filter(|f| *f != to) {
                self.log(idx, |_| LogEvent::Breaker { from, to });
            }
        }
    }

    /// Queues a log event for the endpoint's debug clients; `make` runs only if it has some.
    pub(super) fn log(&mut self, idx: usize, make: impl FnOnce(&Endpoint) -> LogEvent) {
        let ep = &self.endpoints[idx];
        if ep.loggers > 0 {
            let event = make(ep);
            self.push_log(idx, event);
        }
    }

    /// Counts a dropped frame for the log (only while someone logs) and reports the counts
    /// at most once every [`DROPS_EVERY_MS`].
    pub(super) fn note_drop(&mut self, idx: usize, gap: bool) {
        let now = self.now();
        let ep = &mut self.endpoints[idx];
        if ep.loggers == 0 {
            return;
        }
        if gap {
            ep.drops.gaps += 1;
        } else {
            ep.drops.duplicates += 1;
        }
        if ep.drops.last_report.is_some_and(|t| now < t.saturating_add(DROPS_EVERY_MS)) {
            return;
        }
        let d = core::mem::replace(&mut ep.drops, DropCounts { last_report: Some(now), ..DropCounts::default() });
        self.log(idx, |_| LogEvent::Drops { duplicates: d.duplicates, gaps: d.gaps });
    }

    /// Queues `event` for the debug clients of endpoint `idx` (one copy of this code, not
    /// one per caller of the generic [`Engine::log`]).
    #[inline(never)]
    fn push_log(&mut self, idx: usize, event: LogEvent) {
        let endpoint = self.endpoints[idx].id;
        let clients = self.loggers_of(endpoint);
        self.actions.push_back(Action::Log { endpoint, clients, event });
    }

    /// The clients of an endpoint that get its debug log.
    fn loggers_of(&self, endpoint: EndpointId) -> Vec<ClientId> {
        self.ep_index(endpoint).map_or_else(Vec::new, |i| {
            let ep = &self.endpoints[i];
            ep.clients.iter().copied().filter(|c| self.clients.get(c).is_some_and(|e| e.debug)).collect()
        })
    }
}
