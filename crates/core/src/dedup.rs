//! Dedup (`options.dedup`, settings in [`crate::integrity`]): the keys of the most recent
//! frames; a frame whose key is among them is dropped before any tab sees it.

use crate::integrity::MAX_KEY_BYTES;
use alloc::collections::{BTreeSet, VecDeque};
use alloc::string::{String, ToString};

/// The last `capacity` keys seen on an endpoint, oldest first, with a set to look them up.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    order: VecDeque<String>,
    seen: BTreeSet<String>,
}

impl Dedup {
    /// How many keys are remembered.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether `key` is a repeat of a remembered one. A new key is remembered, evicting the
    /// oldest past `capacity`; a key over [`MAX_KEY_BYTES`] is never remembered (such frames
    /// are not deduplicated).
    pub(crate) fn is_repeat(&mut self, key: &str, capacity: usize) -> bool {
        if key.len() > MAX_KEY_BYTES {
            return false;
        }
        if self.seen.contains(key) {
            return true;
        }
        if self.order.len() >= capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.order.push_back(key.to_string());
        self.seen.insert(key.to_string());
        false
    }
}
