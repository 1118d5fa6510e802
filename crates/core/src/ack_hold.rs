//! When a tab hears that its send was written.
//!
//! A send's acknowledgement is a message to the tab, and a message posted on its own wakes
//! the tab's renderer once more for every send: in the benchmark's paced case at 50 frames/s
//! (a probe answered every 40 ms), a third more wakes than the frames and probes alone. So an
//! acknowledgement waits for the next message to its tab (a frame, usually) and goes in the
//! same post, for at most [`ACK_HOLD_MS`]; `send()` resolves that much later at most.
//!
//! A tab that acts on its acknowledgements at once (a loop of `await send()`) is not slowed:
//! a send that reaches the worker within [`PROMPT_MS`] of the last acknowledgement posted to
//! its tab was made after hearing of it, and its acknowledgement goes with the messages of the
//! moment (one task later), as do the acknowledgements of a tab whose post is due anyway. On
//! a loaded machine a page can take longer than that to answer, and that send waits.

/// The longest an acknowledgement waits for a message to go with (ms).
pub const ACK_HOLD_MS: u32 = 20;

/// A send that comes this soon after the last acknowledgement posted to its tab (ms) is
/// acknowledged without waiting.
pub const PROMPT_MS: f64 = 5.0;

/// One tab's acknowledgements: when one last went out.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct AckHold {
    last_posted: Option<f64>,
}

impl AckHold {
    /// Whether the acknowledgement of a send written at `now` (ms, any monotonic origin) may
    /// wait for the tab's next message.
    pub fn may_wait(&self, now: f64) -> bool {
        self.last_posted.is_none_or(|t| now - t >= PROMPT_MS)
    }

    /// Acknowledgements went to the tab at `now`.
    pub fn posted(&mut self, now: f64) {
        self.last_posted = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_send_waits() {
        assert!(AckHold::default().may_wait(0.0));
        assert!(AckHold::default().may_wait(1e9));
    }

    #[test]
    fn a_send_right_after_an_acknowledgement_does_not_wait() {
        let mut h = AckHold::default();
        h.posted(100.0);
        assert!(!h.may_wait(100.0));
        assert!(!h.may_wait(104.9));
        assert!(h.may_wait(105.0));
        assert!(h.may_wait(130.0));
    }

    #[test]
    fn a_loop_stays_prompt_as_long_as_it_answers_within_the_window() {
        let mut h = AckHold::default();
        // The first send of the loop waits (nothing told it apart), then each next one comes
        // 0.4 ms after the last acknowledgement went.
        assert!(h.may_wait(0.0));
        let mut t = f64::from(ACK_HOLD_MS);
        for _ in 0..100 {
            h.posted(t);
            t += 0.4;
            assert!(!h.may_wait(t));
            t += 0.1;
        }
        // It stops; a send 30 ms later waits again.
        assert!(h.may_wait(t + 30.0));
    }
}
