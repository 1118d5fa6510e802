//! Dedup (`options.dedup`, settings in [`crate::integrity`]): the keys of the most recent
//! frames; a frame whose key is among them is dropped before any tab sees it.

use crate::integrity::MAX_KEY_BYTES;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// The last `capacity` keys seen on an endpoint, oldest first, with a hash index to look them
/// up. The index is a small open-addressing table of our own, so the worker's wasm holds no
/// `BTreeSet` node code.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    order: VecDeque<String>,
    /// The number of keys evicted so far: the sequence number of `order`'s front key.
    evicted: u64,
    /// Linear probing over a power-of-two table: 0 is an empty slot, else 1 + the key's
    /// sequence number (its place in `order` is that number minus `evicted`).
    slots: Vec<u64>,
}

/// FNV-1a: short keys, no attacker-chosen collisions to fear beyond a slower lookup.
fn hash(key: &str) -> usize {
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)) as usize
}

impl Dedup {
    /// How many keys are remembered.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// The key a slot holds.
    fn key(&self, slot: u64) -> &str {
        self.order.get((slot - 1 - self.evicted) as usize).map_or("", String::as_str)
    }

    /// The slot holding `key`, or the empty slot where it would go.
    fn probe(&self, key: &str) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut i = hash(key) & mask;
        loop {
            match self.slots.get(i).copied().unwrap_or(0) {
                0 => return (i, false),
                s if self.key(s) == key => return (i, true),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Empties slot `i` and moves later entries of its probe run back (no tombstones).
    fn clear_slot(&mut self, mut i: usize) {
        let mask = self.slots.len() - 1;
        let mut j = i;
        self.slots[i] = 0;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == 0 {
                return;
            }
            let home = hash(self.key(s)) & mask;
            // The entry at j may move to i unless its home lies cyclically in (i, j].
            let stays = if i <= j { i < home && home <= j } else { i < home || home <= j };
            if !stays {
                self.slots[i] = s;
                self.slots[j] = 0;
                i = j;
            }
        }
    }

    /// Room for one more key: the table at most half full.
    fn reserve(&mut self) {
        if (self.order.len() + 1) * 2 <= self.slots.len() {
            return;
        }
        self.slots = vec![0; ((self.order.len() + 1) * 2).next_power_of_two().max(16)];
        for n in 0..self.order.len() {
            let (i, _) = self.probe(&self.order[n]);
            self.slots[i] = self.evicted + n as u64 + 1;
        }
    }

    /// Whether `key` is a repeat of a remembered one. A new key is remembered, evicting the
    /// oldest past `capacity`; a key over [`MAX_KEY_BYTES`] is never remembered (such frames
    /// are not deduplicated).
    pub(crate) fn is_repeat(&mut self, key: &str, capacity: usize) -> bool {
        if key.len() > MAX_KEY_BYTES {
            return false;
        }
        self.reserve();
        if self.probe(key).1 {
            return true;
        }
        if self.order.len() >= capacity {
            if let Some(old) = self.order.front() {
                let (i, found) = self.probe(old);
                if found {
                    self.clear_slot(i);
                }
                self.order.pop_front();
                self.evicted += 1;
            }
        }
        let (i, _) = self.probe(key);
        self.slots[i] = self.evicted + self.order.len() as u64 + 1;
        self.order.push_back(key.to_string());
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

    /// The same answers as the set it replaced (a `BTreeSet` beside the same deque), under
    /// random keys with repeats, several capacities (1, tiny, growing the table many times)
    /// and long runs of evictions.
    #[test]
    fn answers_as_a_btree_set_would() {
        use alloc::collections::BTreeSet;
        use alloc::format;
        let mut rng = crate::Rng::new(11);
        for capacity in [1usize, 2, 3, 7, 64, 1000] {
            let mut d = Dedup::default();
            let (mut order, mut seen) = (VecDeque::new(), BTreeSet::new());
            for _ in 0..20_000 {
                let key = format!("k{}", rng.next_u64() % (capacity as u64 * 3 + 2));
                let want = if seen.contains(&key) {
                    true
                } else {
                    if order.len() >= capacity {
                        let old: String = order.pop_front().unwrap();
                        seen.remove(&old);
                    }
                    order.push_back(key.clone());
                    seen.insert(key.clone());
                    false
                };
                assert_eq!(d.is_repeat(&key, capacity), want, "capacity {capacity}, key {key}");
                assert_eq!(d.len(), order.len());
            }
            // Every remembered key is found, and the table holds exactly them.
            assert_eq!(d.slots.iter().filter(|&&s| s != 0).count(), order.len());
            assert!(order.iter().all(|k| d.probe(k).1));
        }
    }
}
