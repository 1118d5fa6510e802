//! One storm scenario run on the simulated world, and what it measured: handshakes, those
//! wasted on a server that refused them (or closed them at once), the densest 100 ms, when the
//! browsers were back, and the breaker's opens. Also the table the storm test prints.

use super::server::Answer;
use super::World;
use tabmux_core::Options;

/// When the server drops everyone (virtual ms): after the first connections have lasted
/// `backoff.minUptimeMs`, so the drop is a fresh loss.
pub const DROP_AT: u64 = 10_000;

/// A storm: how the server drops its browsers and what it does afterwards.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name in the table.
    pub name: String,
    /// Every browser's options.
    pub options: Options,
    /// The close code and reason every socket gets at the drop.
    pub code: u16,
    /// See `code`.
    pub reason: String,
    /// After the drop, every handshake is refused for this long.
    pub down_ms: u64,
    /// Then, for this long, each accepted socket is closed again at once.
    pub flap_ms: u64,
    /// From the drop on, at most this many handshakes accepted per 100 ms.
    pub accept_per_100ms: Option<u32>,
}

impl Scenario {
    /// A drop with `code` and `reason`, nothing after it, default options.
    pub fn drop(name: &str, code: u16, reason: &str) -> Self {
        Scenario {
            name: name.into(),
            options: Options::new("wss://storm.example/ws"),
            code,
            reason: reason.into(),
            down_ms: 0,
            flap_ms: 0,
            accept_per_100ms: None,
        }
    }

    /// When the server takes browsers back for good, in ms after the drop.
    pub fn return_ms(&self) -> u64 {
        self.down_ms + self.flap_ms
    }
}

/// What a scenario measured. Times in ms.
#[derive(Debug, Clone)]
pub struct Report {
    /// The scenario's name.
    pub name: String,
    /// Browsers in the run.
    pub browsers: usize,
    /// Handshakes from the drop until every browser was back.
    pub attempts: usize,
    /// Of those, refused or closed at once by the server.
    pub wasted: usize,
    /// The most handshakes inside any 100 ms window from the server's return on.
    pub densest: usize,
    /// The first handshake after the drop, ms after the drop.
    pub first_attempt_ms: u64,
    /// The server's return (ms after the drop).
    pub return_ms: u64,
    /// Each browser's lasting connection: when it opened, ms after the drop.
    pub back_ms: Vec<u64>,
    /// Times a browser's breaker opened.
    pub breaker_opens: usize,
}

impl Report {
    /// The densest 100 ms as a share of the browsers.
    pub fn densest_share(&self) -> f64 {
        self.densest as f64 / self.browsers as f64
    }

    /// When the first browser was back, ms after the server's return.
    pub fn first_back_ms(&self) -> u64 {
        self.back_ms.iter().min().copied().unwrap_or(0).saturating_sub(self.return_ms)
    }

    /// When the last browser was back, ms after the server's return.
    pub fn all_back_ms(&self) -> u64 {
        self.back_ms.iter().max().copied().unwrap_or(0).saturating_sub(self.return_ms)
    }
}

/// Runs `s` with `n` browsers seeded `seed_base..seed_base + n`.
pub fn run(s: &Scenario, n: usize, seed_base: u64) -> Report {
    let mut w = World::new(n, seed_base, &s.options);
    w.run_until(|_| false, DROP_AT);
    w.now = DROP_AT;
    let ret = DROP_AT + s.return_ms();
    w.server.down_until = DROP_AT + s.down_ms;
    w.server.flap_until = ret;
    w.server.accept_per_100ms = s.accept_per_100ms;
    let first_attempt = w.attempts.len();
    w.drop_all(s.code, &s.reason);
    w.run_until(|w| w.now >= ret && w.all_open(), super::HORIZON_MS);
    assert!(w.all_open(), "{}: not every browser was back by {} ms", s.name, super::HORIZON_MS);
    let attempts = &w.attempts[first_attempt..];
    let mut from_return: Vec<u64> = attempts.iter().filter(|a| a.at >= ret).map(|a| a.at).collect();
    Report {
        name: s.name.clone(),
        browsers: n,
        attempts: attempts.len(),
        wasted: attempts.iter().filter(|a| a.answer != Answer::Accept).count(),
        densest: densest_100ms(&mut from_return),
        first_attempt_ms: attempts.first().map_or(0, |a| a.at - DROP_AT),
        return_ms: s.return_ms(),
        back_ms: w.opened_at().into_iter().map(|t| t.expect("back") - DROP_AT).collect(),
        breaker_opens: w.breaker_opens.iter().filter(|(t, _)| *t >= DROP_AT).count(),
    }
}

/// The most of `times` inside any 100 ms window `[t, t + 100)`.
pub fn densest_100ms(times: &mut [u64]) -> usize {
    times.sort_unstable();
    let mut most = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while j < times.len() && times[j] < times[i] + 100 {
            j += 1;
        }
        most = most.max(j - i);
    }
    most
}

/// The reports as a Markdown table (what the docs quote).
pub fn table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| scenario | handshakes | wasted | densest 100 ms after the return | first back | all back | breaker opens |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in reports {
        let secs = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
        out.push_str(&format!(
            "| {} | {} | {} | {} ({:.1}%) | {} | {} | {} |\n",
            r.name,
            r.attempts,
            r.wasted,
            r.densest,
            100.0 * r.densest_share(),
            secs(r.first_back_ms()),
            secs(r.all_back_ms()),
            r.breaker_opens
        ));
    }
    out
}
