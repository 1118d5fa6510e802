//! Bounded sample windows for stats: the last N values, with percentiles.

use alloc::collections::VecDeque;

/// The last `cap` samples, oldest dropped first.
#[derive(Debug, Clone, PartialEq)]
pub struct Window<T> {
    cap: usize,
    items: VecDeque<T>,
}

impl<T: Copy + Ord> Window<T> {
    /// An empty window that keeps at most `cap` samples.
    pub fn new(cap: usize) -> Self {
        Window { cap, items: VecDeque::with_capacity(cap) }
    }

    /// Adds a sample, dropping the oldest when full.
    pub fn push(&mut self, v: T) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(v);
    }

    /// How many samples are held (never more than the cap).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The samples, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// The nearest-rank percentile `p` (0–100) of the samples, or `None` when empty.
    pub fn percentile(&self, p: u32) -> Option<T> {
        if self.items.is_empty() {
            return None;
        }
        // An insertion sort: windows hold at most a hundred samples, and std's sort would
        // add a quicksort to the wasm for each sample type.
        let mut v: alloc::vec::Vec<T> = alloc::vec::Vec::with_capacity(self.items.len());
        for &x in &self.items {
            let at = v.partition_point(|&y| y <= x);
            v.insert(at, x);
        }
        let rank = ((p.min(100) as usize * v.len()).div_ceil(100)).max(1);
        Some(v[rank - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_cap_samples_and_ranks_them() {
        let mut w = Window::new(3);
        assert_eq!((w.percentile(50), w.is_empty(), w.len()), (None, true, 0));
        for v in [5u64, 1, 9, 7] {
            w.push(v);
        }
        assert_eq!(w.iter().copied().collect::<alloc::vec::Vec<_>>(), [1, 9, 7]);
        assert_eq!((w.is_empty(), w.len()), (false, 3));
        assert_eq!((w.percentile(50), w.percentile(95), w.percentile(0)), (Some(7), Some(9), Some(1)));
        let mut big = Window::new(100);
        (1..=100u64).for_each(|v| big.push(v));
        assert_eq!((big.percentile(50), big.percentile(95)), (Some(50), Some(95)));
    }

    #[test]
    fn percentiles_match_a_sorted_copy_for_any_order() {
        let mut rng = crate::Rng::new(7);
        for n in [1usize, 2, 3, 10, 50, 100] {
            let mut w = Window::new(n);
            let mut all = alloc::vec::Vec::new();
            for _ in 0..n {
                let v = rng.next_u64() % 20; // duplicates on purpose
                w.push(v);
                all.push(v);
            }
            all.sort();
            for p in [0u32, 1, 50, 95, 99, 100] {
                let rank = ((p as usize * n).div_ceil(100)).max(1);
                assert_eq!(w.percentile(p), Some(all[rank - 1]), "n {n} p {p}");
            }
        }
    }
}
