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

    /// The topic a kept frame came with (`Some(None)`: none), or `None` when the id is not
    /// kept (any more).
    pub(crate) fn topic_of(&self, id: u64) -> Option<Option<&str>> {
        self.rings.iter().find(|(_, r)| r.iter().any(|(i, _)| *i == id)).map(|(k, _)| k.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn forgotten(actions: &mut VecDeque<Action>) -> Vec<u64> {
        actions
            .drain(..)
            .map(|a| match a {
                Action::Forget { replay } => replay,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn keeps_per_topic_within_the_frame_and_byte_caps_oldest_out_first() {
        let caps = ReplayOptions { frames: 2, bytes: 10 };
        let (mut r, mut next, mut actions) = (Replay::default(), 1u64, VecDeque::new());
        assert_eq!(r.keep(&mut next, None, 11, &caps, &mut actions), None, "alone over the byte cap");
        assert_eq!(next, 1, "no id used");
        assert_eq!(r.keep(&mut next, None, 2, &caps, &mut actions), Some(1));
        assert_eq!(r.keep(&mut next, Some("t"), 3, &caps, &mut actions), Some(2));
        assert_eq!(r.keep(&mut next, None, 2, &caps, &mut actions), Some(3));
        assert_eq!(r.keep(&mut next, None, 2, &caps, &mut actions), Some(4));
        assert_eq!(forgotten(&mut actions), [1], "two frames per topic");
        assert_eq!((r.frames(), r.bytes()), (3, 7));
        assert_eq!(r.ids(None), [3, 4]);
        assert_eq!(r.ids(Some("t")), [2]);
        // 7 + 5 > 10: the oldest over all topics (2, in "t") goes, and its ring with it.
        assert_eq!(r.keep(&mut next, Some("u"), 5, &caps, &mut actions), Some(5));
        assert_eq!(forgotten(&mut actions), [2]);
        assert_eq!(r.ids(Some("t")), Vec::<u64>::new());
        assert_eq!((r.frames(), r.bytes()), (3, 9));
        assert_eq!(r.all_ids().collect::<Vec<_>>(), [3, 4, 5]);
        let off = ReplayOptions { frames: 0, bytes: 10 };
        assert_eq!(r.keep(&mut next, None, 1, &off, &mut actions), None, "frames 0: off");
    }
}
