//! Sequence numbers (`options.sequence`, settings in [`crate::integrity`]): a repeated or
//! older number is a duplicate, a skipped one is a gap the tabs are told about, and the last
//! number seen resumes the stream on a reconnect.

/// What a frame's sequence number means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqCheck {
    /// The next number (or the first one seen).
    InOrder,
    /// Seen already, or older: drop the frame.
    Repeat,
    /// Numbers `from..=to` were skipped; the frame itself is delivered.
    Gap {
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
}

/// The last sequence number seen on an endpoint (kept across reconnects).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sequence {
    last: Option<u64>,
}

impl Sequence {
    /// The last number seen.
    pub(crate) fn last(&self) -> Option<u64> {
        self.last
    }

    /// Resume after `n`: a tab that had every number up to `n` says hello to a new worker.
    /// The lowest such number wins (a tab behind the others must not miss what they had).
    pub(crate) fn resume_after(&mut self, n: u64) {
        self.last = Some(self.last.map_or(n, |l| l.min(n)));
    }

    /// Goes back to `n` (a socket dialed again to resume after it): the numbers after it come
    /// again and count as new.
    pub(crate) fn rewind_to(&mut self, n: u64) {
        self.last = Some(n);
    }

    /// A frame with number `seq` arrived: what it means. Any but a repeat becomes the last.
    pub(crate) fn check(&mut self, seq: u64) -> SeqCheck {
        let verdict = match self.last {
            Some(last) if seq <= last => return SeqCheck::Repeat,
            Some(last) if seq > last + 1 => SeqCheck::Gap { from: last + 1, to: seq - 1 },
            _ => SeqCheck::InOrder,
        };
        self.last = Some(seq);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_repeats_and_gaps() {
        let mut s = Sequence::default();
        assert_eq!(s.last(), None);
        assert_eq!(s.check(5), SeqCheck::InOrder, "the first number seen is in order");
        assert_eq!(s.check(6), SeqCheck::InOrder);
        assert_eq!(s.check(6), SeqCheck::Repeat);
        assert_eq!(s.check(2), SeqCheck::Repeat);
        assert_eq!(s.last(), Some(6), "a repeat does not move the last number");
        assert_eq!(s.check(9), SeqCheck::Gap { from: 7, to: 8 });
        assert_eq!(s.last(), Some(9));
        assert_eq!(s.check(u64::MAX), SeqCheck::Gap { from: 10, to: u64::MAX - 1 });
        assert_eq!(s.check(u64::MAX), SeqCheck::Repeat, "no overflow at the top");
    }
}
