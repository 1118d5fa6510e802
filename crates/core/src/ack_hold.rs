//! When a tab hears that its send was written.
//!
//! A send's acknowledgement is a message to the tab, and a message posted on its own wakes
//! the tab's renderer once more for every send: in the benchmark's paced case at 50 frames/s
//! (a probe answered every 40 ms), a third more wakes than the frames and probes alone. So an
//! acknowledgement waits for the next message to its tab (a frame, usually) and goes in the
//! same post, for at most [`ACK_HOLD_MS`]; `send()` resolves that much later at most.
//!
//! A tab that acts on its acknowledgements at once (a loop of `await send()`) is not slowed.
//! The tab tells those sends apart ([`Heard`]) and says so in the send (`prompt`): a send
//! made right after it read a post that acknowledged sends — the rest of an `await send()`
//! runs in that task, as microtasks after the post was read — and before the next post
//! reached it. Its acknowledgement goes with the messages of the moment (one task later), as
//! do the acknowledgements of a tab whose post is due anyway. A send made while the tab
//! reads a post (a frame's listener), after another post came, or later (a timer, a click)
//! waits. (So would the rest of an `await send()` that worked for over [`PROMPT_MS`] first.)

/// The longest an acknowledgement waits for a message to go with (ms).
pub const ACK_HOLD_MS: u32 = 20;

/// How long after reading a post that acknowledged sends (ms) a send still answers them. The
/// rest of an `await send()` comes within microseconds, in the same task; a timer's or an
/// event's send comes in a later task, most often later than this. Read with `<=`: with a
/// clock that steps by 1 ms (Firefox) two readings in one task can differ by one step.
pub const PROMPT_MS: f64 = 1.0;

/// A tab's view of its last post: whether a send made now answers acknowledgements.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Heard {
    /// When the last post read acknowledged sends; `None` while a post is read and after
    /// one that did not.
    acked_at: Option<f64>,
}

impl Heard {
    /// While a post is read: a send made now (from a listener) answers the post.
    pub const READING: Heard = Heard { acked_at: None };

    /// After a post was read; `acked_at` is when, if it acknowledged sends.
    pub fn read(acked_at: Option<f64>) -> Heard {
        Heard { acked_at }
    }

    /// Whether a send made at `now` (read only when it matters) answers acknowledgements.
    pub fn prompt(&self, now: impl FnOnce() -> f64) -> bool {
        self.acked_at.is_some_and(|t| now() - t <= PROMPT_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_heard_is_not_prompt() {
        assert!(!Heard::default().prompt(|| 0.0));
    }

    #[test]
    fn a_send_right_after_a_post_that_acknowledged_is_prompt_and_a_later_one_is_not() {
        let h = Heard::read(Some(100.0));
        assert!(h.prompt(|| 100.0));
        assert!(h.prompt(|| 101.0));
        assert!(!h.prompt(|| 101.1));
        assert!(!h.prompt(|| 104.0));
    }

    #[test]
    fn a_send_while_a_post_is_read_or_after_one_without_acknowledgements_is_not_prompt() {
        assert!(!Heard::READING.prompt(|| 100.0));
        assert!(!Heard::read(None).prompt(|| 100.0));
    }

    #[test]
    fn the_clock_is_read_only_when_it_matters() {
        assert!(!Heard::default().prompt(|| unreachable!("no acknowledgement heard")));
        assert!(!Heard::READING.prompt(|| unreachable!("no acknowledgement heard")));
        assert!(!Heard::read(None).prompt(|| unreachable!("no acknowledgement heard")));
    }
}
