//! A tab's backlog: the frames posted to it that it has not yet said it drained.
//!
//! A `postMessage` never blocks the worker: what a tab has not read waits in the browser, on
//! the tab's side. A tab that stops reading (a frozen background tab, a page stuck in a long
//! task) would make that queue grow for as long as frames come. So every tab says how many
//! frames it has handled after each [`DRAIN_EVERY`] of them, and the worker posts a tab at
//! most [`MAX_BEHIND_FRAMES`] frames (and [`MAX_BEHIND_BYTES`]) more than it has heard back.
//! Past that the tab *lags*: its frames are not posted (the other tabs are not affected) and
//! counted. Once it has caught up to half the bound it is told how many it missed
//! ([`Backlog::drained`] returns the count), then receives again.

use crate::error::{Error, ProtocolError};
use std::collections::VecDeque;

/// A tab reports after every this many frames (data frames and topic frames alike).
pub const DRAIN_EVERY: u64 = 256;
/// Frames posted to a tab and not yet reported drained, at most.
pub const MAX_BEHIND_FRAMES: u64 = 40 * DRAIN_EVERY;
/// Frame length (UTF-16 units of text, bytes of binary) posted and not yet drained, at most.
pub const MAX_BEHIND_BYTES: u64 = 32 << 20;

/// One tab's count of frames posted and drained.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Backlog {
    posted: u64,
    posted_len: u64,
    drained: u64,
    drained_len: u64,
    /// `posted_len` at each multiple of [`DRAIN_EVERY`] posted and not yet drained: what the
    /// next reports free.
    marks: VecDeque<u64>,
    lagging: bool,
    missed: u64,
}

impl Backlog {
    /// A frame of `len` for this tab: whether to post it. `false` while the tab lags (the
    /// frame is counted as missed).
    pub fn offer(&mut self, len: usize) -> bool {
        let len = len as u64;
        let behind = self.posted - self.drained;
        let behind_len = self.posted_len - self.drained_len;
        // A tab that has drained everything always gets the next frame, however long.
        let over = behind >= MAX_BEHIND_FRAMES || (behind > 0 && behind_len + len > MAX_BEHIND_BYTES);
        if self.lagging || over {
            self.lagging = true;
            self.missed += 1;
            return false;
        }
        self.posted += 1;
        self.posted_len += len;
        if self.posted % DRAIN_EVERY == 0 {
            self.marks.push_back(self.posted_len);
        }
        true
    }

    /// How many frames were posted to the tab so far.
    pub fn posted(&self) -> u64 {
        self.posted
    }

    /// The tab has handled `total` frames since it attached (a multiple of
    /// [`DRAIN_EVERY`], more than it reported before, at most what was posted). Returns how
    /// many frames it missed when this report ends a lag (tell the tab), else `None`. A
    /// report that cannot be true is refused ([`ProtocolError::BadMessage`]) and changes nothing.
    pub fn drained(&mut self, total: u64) -> Result<Option<u64>, Error> {
        if total % DRAIN_EVERY != 0 || total <= self.drained || total > self.posted {
            let n = crate::error::decimal;
            return Err(Error::Protocol(ProtocolError::BadMessage(
                ["drained must be a multiple of ", &n(DRAIN_EVERY), " above the last report (", &n(self.drained), ") and at most the frames posted (", &n(self.posted), "); got ", &n(total)]
                    .concat(),
            )));
        }
        while self.drained < total {
            self.drained += DRAIN_EVERY;
            // A mark exists for every multiple posted (checked above).
            self.drained_len = self.marks.pop_front().unwrap_or(self.posted_len);
        }
        let caught_up = self.posted - self.drained <= MAX_BEHIND_FRAMES / 2
            && self.posted_len - self.drained_len <= MAX_BEHIND_BYTES / 2;
        if self.lagging && caught_up {
            self.lagging = false;
            return Ok(Some(std::mem::take(&mut self.missed)));
        }
        Ok(None)
    }

    /// Frames posted and not yet reported drained.
    pub fn behind(&self) -> u64 {
        self.posted - self.drained
    }

    /// Whether the tab lags (its frames are not posted).
    pub fn lagging(&self) -> bool {
        self.lagging
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(b: &mut Backlog, n: u64, len: usize) -> u64 {
        (0..n).filter(|_| b.offer(len)).count() as u64
    }

    #[test]
    fn a_tab_that_keeps_up_gets_every_frame() {
        let mut b = Backlog::default();
        for round in 1..=100 {
            assert_eq!(post(&mut b, DRAIN_EVERY, 1000), DRAIN_EVERY);
            assert_eq!(b.drained(round * DRAIN_EVERY), Ok(None));
            assert_eq!(b.behind(), 0);
        }
        assert!(!b.lagging());
    }

    #[test]
    fn a_frozen_tab_gets_the_bound_then_nothing_then_is_told_what_it_missed() {
        let mut b = Backlog::default();
        assert_eq!(post(&mut b, MAX_BEHIND_FRAMES + 4_760, 100), MAX_BEHIND_FRAMES);
        assert!(b.lagging());
        assert_eq!(b.behind(), MAX_BEHIND_FRAMES);
        // It thaws and reads: still more than half the bound behind, still lagging.
        assert_eq!(b.drained(19 * DRAIN_EVERY), Ok(None));
        assert!(!b.offer(100));
        // Half the bound behind: told it missed 4,760 + 1 frames, and receives again.
        assert_eq!(b.drained(20 * DRAIN_EVERY), Ok(Some(4_761)));
        assert!(!b.lagging());
        assert!(b.offer(100));
        assert_eq!(b.behind(), MAX_BEHIND_FRAMES / 2 + 1);
        // A later lag counts from zero.
        assert_eq!(b.drained(MAX_BEHIND_FRAMES), Ok(None));
        assert_eq!(b.behind(), 1);
    }

    #[test]
    fn long_frames_are_bounded_by_length() {
        let mut b = Backlog::default();
        let len = 1 << 20; // 1 Mi each: 32 fit
        assert_eq!(post(&mut b, 40, len), 32);
        assert!(b.lagging());
        assert_eq!(b.behind(), 32);
        // A tab that drained everything gets a frame longer than the bound.
        let mut b = Backlog::default();
        assert!(b.offer(MAX_BEHIND_BYTES as usize + 1));
        assert!(!b.offer(1));
    }

    #[test]
    fn the_length_freed_is_the_length_drained() {
        let mut b = Backlog::default();
        // 256 short frames, then long ones: draining the first 256 frees only their length.
        assert_eq!(post(&mut b, DRAIN_EVERY, 10), DRAIN_EVERY);
        let long = (MAX_BEHIND_BYTES / 8) as usize;
        assert_eq!(post(&mut b, 10, long), 7, "the 8th would pass the bound by the short frames' 2,560");
        assert!(b.lagging());
        assert_eq!(b.drained(DRAIN_EVERY), Ok(None), "7 long frames (28 Mi) still behind");
        assert!(b.lagging());
    }

    #[test]
    fn impossible_reports_are_refused_and_change_nothing() {
        let mut b = Backlog::default();
        post(&mut b, 2 * DRAIN_EVERY, 1);
        let before = b.clone();
        for bad in [0, 1, DRAIN_EVERY + 1, 3 * DRAIN_EVERY] {
            assert!(b.drained(bad).is_err(), "{bad}");
            assert_eq!(b, before);
        }
        assert_eq!(b.drained(2 * DRAIN_EVERY), Ok(None));
        assert_eq!(
            b.drained(DRAIN_EVERY),
            Err(Error::Protocol(ProtocolError::BadMessage("drained must be a multiple of 256 above the last report (512) and at most the frames posted (512); got 256".into())))
        );
    }
}
