//! Time, as the engine sees it: milliseconds from the shell's clock, never going back.

/// Milliseconds: the engine's only unit of time.
pub type Ms = u64;

/// The engine's clock: the latest time any input brought. An input with a smaller `now`
/// (a shell clock that stepped back) is treated as arriving at the latest time seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    now: Ms,
}

impl Clock {
    /// The latest time seen.
    pub fn now(&self) -> Ms {
        self.now
    }

    /// An input arrives at `now`: the clock moves forward to it (never back), and the
    /// time to act on is returned.
    pub fn advance(&mut self, now: Ms) -> Ms {
        self.now = self.now.max(now);
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_never_goes_back() {
        let mut c = Clock::default();
        assert_eq!(c.now(), 0);
        assert_eq!(c.advance(50), 50);
        assert_eq!(c.advance(20), 50);
        assert_eq!(c.now(), 50);
        assert_eq!(c.advance(51), 51);
    }
}
