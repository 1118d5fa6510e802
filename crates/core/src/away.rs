//! What an endpoint keeps for the next page while no page is attached (`idleCloseMs`): a
//! reload or a same-site navigation finds the socket still open, its topics still subscribed
//! at the server, and the frames that reached no page waiting for it.
//!
//! Invariants:
//! - An endpoint is *away* from its last client's detach until [`Away::until`]
//!   (`detach + idleCloseMs`), whether or not a new client attached meanwhile.
//! - The topics the last client held stay subscribed under [`HELD`], a client id the engine
//!   never hands out: a new subscriber of such a topic sends no subscribe frame, and the
//!   held claim is then dropped without an unsubscribe frame. Claims nobody took are released
//!   (unsubscribe frames) when the endpoint stops being away.
//! - Only frames kept for replay can be held (their data lives in the shell under the replay
//!   id); a held id the replay evicted meanwhile is skipped, never delivered twice.

use crate::ids::ClientId;
use crate::time::Ms;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The claim on a topic that the endpoint holds for the next page.
pub(crate) const HELD: ClientId = ClientId(0);

/// The most frame ids held for the next page (older ones go first).
pub const MAX_HELD_FRAMES: usize = 4096;

/// An endpoint between its last client leaving and [`Away::until`].
#[derive(Debug, Default)]
pub(crate) struct Away {
    /// When the held topics are released and the held frames forgotten.
    pub(crate) until: Ms,
    /// Replay ids of frames that reached no page, oldest first.
    frames: VecDeque<u64>,
}

impl Away {
    /// Away until `until`, holding first the frames the last page was posted but did not
    /// handle (`unhandled`, oldest first).
    pub(crate) fn new(until: Ms, unhandled: &[u64]) -> Self {
        let mut away = Away { until, frames: VecDeque::new() };
        for id in unhandled {
            away.hold(*id);
        }
        away
    }

    /// Holds a frame (a replay id) for the next page.
    pub(crate) fn hold(&mut self, id: u64) {
        if self.frames.back().is_some_and(|last| *last >= id) {
            // Ids only grow: an id at or below the last is one held already.
            return;
        }
        self.frames.push_back(id);
        if self.frames.len() > MAX_HELD_FRAMES {
            self.frames.pop_front();
        }
    }

    /// Takes the held frames that `wanted` picks, oldest first; the rest stay.
    pub(crate) fn take(&mut self, mut wanted: impl FnMut(u64) -> bool) -> Vec<u64> {
        let mut taken = Vec::new();
        self.frames.retain(|id| {
            let take = wanted(*id);
            if take {
                taken.push(*id);
            }
            !take
        });
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_in_order_skips_repeats_and_keeps_the_newest_past_the_cap() {
        let mut a = Away::new(10, &[3, 4]);
        a.hold(4);
        a.hold(2);
        a.hold(7);
        assert_eq!(a.take(|id| id % 2 == 1), [3, 7]);
        assert_eq!(a.take(|_| true), [4]);
        for id in 1..=(MAX_HELD_FRAMES as u64 + 5) {
            a.hold(id);
        }
        let all = a.take(|_| true);
        assert_eq!((all.len(), all.first()), (MAX_HELD_FRAMES, Some(&6)));
    }
}
