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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_capacity_keys_and_never_long_ones() {
        let mut d = Dedup::default();
        assert!(!d.is_repeat("a", 2));
        assert!(!d.is_repeat("b", 2));
        assert!(d.is_repeat("a", 2));
        assert_eq!(d.len(), 2);
        assert!(!d.is_repeat("c", 2), "c evicts a, the oldest");
        assert_eq!(d.len(), 2);
        assert!(!d.is_repeat("a", 2), "a was forgotten");
        assert!(d.is_repeat("c", 2));
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(!d.is_repeat(&long, 2));
        assert!(!d.is_repeat(&long, 2), "a key over the limit is never remembered");
        let edge = "k".repeat(MAX_KEY_BYTES);
        assert!(!d.is_repeat(&edge, 2));
        assert!(d.is_repeat(&edge, 2), "a key at the limit is");
    }
}
