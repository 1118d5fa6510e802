//! The simulated server: what it answers a handshake at a given time. It can refuse every
//! handshake for a while (down), accept and close again at once (flapping), and accept at most
//! K handshakes per 100 ms (the rest are refused).

/// How the server answers one handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Answer {
    /// The upgrade is refused (the page sees a close 1006 without an open).
    Refuse,
    /// The socket opens and stays.
    Accept,
    /// The socket opens and the server closes it at once.
    AcceptThenClose,
}

/// The server's behaviour over time (absolute virtual ms).
#[derive(Debug, Clone)]
pub struct Server {
    /// Every handshake before this time is refused.
    pub down_until: u64,
    /// From `down_until` to this time, each accepted socket is closed at once.
    pub flap_until: u64,
    /// At most this many accepted handshakes per 100 ms window (aligned to multiples of
    /// 100 ms); the others are refused. `None`: no limit.
    pub accept_per_100ms: Option<u32>,
    window: u64,
    accepted_in_window: u32,
}

impl Server {
    /// A server that accepts everything.
    pub fn up() -> Self {
        Server { down_until: 0, flap_until: 0, accept_per_100ms: None, window: 0, accepted_in_window: 0 }
    }

    /// The answer to a handshake arriving at `t`.
    pub fn answer(&mut self, t: u64) -> Answer {
        if t < self.down_until {
            return Answer::Refuse;
        }
        if let Some(k) = self.accept_per_100ms {
            if t / 100 != self.window {
                self.window = t / 100;
                self.accepted_in_window = 0;
            }
            if self.accepted_in_window >= k {
                return Answer::Refuse;
            }
            self.accepted_in_window += 1;
        }
        if t < self.flap_until {
            Answer::AcceptThenClose
        } else {
            Answer::Accept
        }
    }
}
