//! A small ordered map: entries in a `VecDeque` sorted by key, found by binary search.
//!
//! It replaces `BTreeMap` for the engine's and the shells' tables, which are small (clients,
//! topics, sockets: at most about a thousand) or filled in key order and emptied from the
//! front (send ids, replay ids: appending and popping the oldest are O(1)). In wasm each
//! `BTreeMap<K, V>` instantiation costs several KB of node code; this costs a binary search
//! and the deque's own insert and remove. Iteration is in key order, as with `BTreeMap`.

use alloc::collections::VecDeque;
use core::borrow::Borrow;

/// An ordered map over a sorted deque. See the module docs for when it fits.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedMap<K, V> {
    entries: VecDeque<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap { entries: VecDeque::new() }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        // Keys usually arrive in order: check the back first (O(1) for append-only use).
        match self.entries.back() {
            Some((last, _)) if last.borrow() < key => Err(self.entries.len()),
            _ => self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key)),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value for `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value for `key`, mutable.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(move |i| &mut self.entries[i].1)
    }

    /// Whether `key` is there.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The value for `key`, inserted with `make` when absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        // The oldest entry is the usual one to go: O(1) at the front.
        if self.entries.front().is_some_and(|(k, _)| k.borrow() == key) {
            return self.entries.pop_front().map(|(_, v)| v);
        }
        let i = self.find(key).ok()?;
        self.entries.remove(i).map(|(_, v)| v)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Keeps the entries for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    /// The same operations on a BTreeMap and a SortedMap give the same contents, in order.
    #[test]
    fn behaves_as_a_btree_map_under_mixed_operations() {
        let mut a = SortedMap::new();
        let mut b = BTreeMap::new();
        let mut x: u64 = 12345;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = (x % 97) as u32;
            match x % 5 {
                0 | 1 => assert_eq!(a.insert(key, step), b.insert(key, step)),
                2 => assert_eq!(a.remove(&key), b.remove(&key)),
                3 => assert_eq!(a.get(&key), b.get(&key)),
                _ => {
                    *a.get_or_insert_with(key, || 0) += 1;
                    *b.entry(key).or_insert(0) += 1;
                }
            }
            assert_eq!(a.len(), b.len());
            assert_eq!(a.contains_key(&key), b.contains_key(&key));
        }
        let got: Vec<_> = a.iter().map(|(k, v)| (*k, *v)).collect();
        let want: Vec<_> = b.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(got, want);
        a.retain(|k, _| k % 2 == 0);
        b.retain(|k, _| k % 2 == 0);
        assert_eq!(a.keys().copied().collect::<Vec<_>>(), b.keys().copied().collect::<Vec<_>>());
    }

    #[test]
    fn keys_in_order_append_and_pop_at_the_ends() {
        let mut m = SortedMap::new();
        assert!(m.is_empty());
        for i in 0..1000u64 {
            m.insert(i, i * 2);
        }
        assert!(!m.is_empty());
        for i in 0..1000u64 {
            assert_eq!(m.remove(&i), Some(i * 2));
        }
        assert!(m.is_empty());
    }
}
