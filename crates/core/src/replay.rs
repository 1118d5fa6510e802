//! Replay (`options.replay`, settings in [`crate::integrity`]): the most recent frames of an
//! endpoint, per topic, kept (as ids: the data stays in the shell) for tabs that attach later.

use crate::action::Action;
use crate::integrity::ReplayOptions;
use crate::sorted_map::SortedMap;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The kept frames of one endpoint: a ring of `(replay id, size)` per topic (`None`: frames
/// without one), and their total size.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    rings: SortedMap<Option<String>, VecDeque<(u64, usize)>>,
    bytes: usize,
}

impl Replay {
    /// How many frames are kept, over all topics.
    pub(crate) fn frames(&self) -> usize {
        self.rings.values().map(VecDeque::len).sum()
    }

    /// Their total size.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The ids kept for `topic`, oldest first.
    pub(crate) fn ids(&self, topic: Option<&str>) -> Vec<u64> {
        let key = topic.map(str::to_string);
        self.rings.get(&key).map_or_else(Vec::new, |r| r.iter().map(|(id, _)| *id).collect())
    }

    /// Every id kept (the endpoint is going away).
    pub(crate) fn all_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.rings.values().flat_map(|r| r.iter().map(|(id, _)| *id))
    }

    /// Keeps a frame of `len` bytes for `topic` under the next id from `next_id`, unless
    /// replay is off or the frame alone passes the byte cap. The oldest frames past the caps
    /// are evicted with an [`Action::Forget`] each.
    pub(crate) fn keep(
        &mut self,
        next_id: &mut u64,
        topic: Option<&str>,
        len: usize,
        caps: &ReplayOptions,
        actions: &mut VecDeque<Action>,
    ) -> Option<u64> {
        if caps.frames == 0 || len > caps.bytes {
            return None;
        }
        let id = *next_id;
        *next_id += 1;
        let ring = self.rings.get_or_insert_with(topic.map(str::to_string), VecDeque::new);
        ring.push_back((id, len));
        self.bytes += len;
        if ring.len() > caps.frames {
            if let Some((old, l)) = ring.pop_front() {
                self.bytes -= l;
                actions.push_back(Action::Forget { replay: old });
            }
        }
        while self.bytes > caps.bytes {
            // The oldest frame over all topics goes first.
            let Some(key) =
                self.rings.iter().filter_map(|(k, r)| r.front().map(|f| (f.0, k))).min().map(|(_, k)| k.clone())
            else {
                break;
            };
            let ring = self.rings.get_mut(&key).expect("ring exists");
            if let Some((old, l)) = ring.pop_front() {
                self.bytes -= l;
                actions.push_back(Action::Forget { replay: old });
            }
            if ring.is_empty() {
                self.rings.remove(&key);
            }
        }
        Some(id)
    }
}
