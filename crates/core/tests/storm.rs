//! A 1,000-browser storm on the virtual clock: one engine per browser (seeds 1 to 1,000, three
//! tabs each, default options) against a simulated server (`sim/`) that drops everyone, then
//! refuses for a while, flaps, sends hints or limits its handshakes. Prints a table (always:
//! written to stderr, past the test harness's capture) and asserts the goals of issue 27.
//!
//! About the densest 100 ms: each browser draws its retry alone (it shares nothing with the
//! others), so the count in a 100 ms window is a binomial draw, and the densest of a storm's
//! windows holds about twice the mean. With every browser back within 8 s the mean is at
//! least 1.25% per 100 ms, and the densest window of 1,000 independent draws over 8 s holds
//! 2.2-2.9% in 90% of storms; 2% would need a 12 s spread. The plan's own density (the spread
//! of at least 5 s the issue derives 2% from) is asserted as such, the observed densest
//! against [`DENSEST_MAX_SHARE`].
mod sim;

use sim::measure::{run, table, Report, Scenario};
use std::io::Write;
use tabmux_core::{Jitter, Options, DEFAULT_INITIAL_MS};

/// Browsers per storm.
const BROWSERS: usize = 1000;
/// Browser `i` is seeded with `SEED_BASE + i`.
const SEED_BASE: u64 = 1;
/// After a drop, or after an outage of 2 s or 10 s: every browser back this soon after the
/// server accepts again.
const ALL_BACK_MS: u64 = 8000;
/// The first retries spread over at least this long (1,000 browsers, 2% per 100 ms planned).
const MIN_SPREAD_MS: u64 = 5000;
/// The most handshakes in any 100 ms window, as a share of the browsers (see the module docs
/// for why not 2%).
const DENSEST_MAX_SHARE: f64 = 0.03;
/// A drain window's arrivals in each 3 s bucket: within this share of the uniform count.
const DRAIN_BUCKET_TOLERANCE: f64 = 0.20;
/// Browsers in the drain run whose buckets are checked against the tolerance.
const DRAIN_BROWSERS: usize = 10_000;

/// Handshakes of a drain per 3 s bucket of its 30 s window (the time a handshake is sent).
fn drain_buckets(r: &Report) -> [usize; 10] {
    let mut buckets = [0usize; 10];
    for t in &r.back_ms {
        buckets[((t - sim::HANDSHAKE_MS) / 3000).min(9) as usize] += 1;
    }
    buckets
}

fn scenarios() -> Vec<Scenario> {
    let mut out = vec![Scenario::drop("drop, 1012", 1012, "restart")];
    for down in [2000, 10_000, 60_000] {
        let mut s = Scenario::drop(&format!("drop + {} s outage", down / 1000), 1012, "restart");
        s.down_ms = down;
        out.push(s);
    }
    out.push(Scenario::drop("drain, 1012 `reconnect-within=30000`", 1012, "drain reconnect-within=30000"));
    let mut s = Scenario::drop("1013 `retry-after=5000`, down 5 s", 1013, "retry-after=5000");
    s.down_ms = 5000;
    out.push(s);
    let mut s = Scenario::drop("flapping 30 s (accepts, closes at once)", 1012, "restart");
    s.flap_ms = 30_000;
    out.push(s);
    let mut s = Scenario::drop("2 s outage, ≤ 15 handshakes per 100 ms", 1012, "restart");
    s.down_ms = 2000;
    s.accept_per_100ms = Some(15);
    out.push(s);
    // The defaults before issue 27, for comparison: full jitter over 4 s, doubling to 30 s.
    for down in [0, 2000, 10_000] {
        let name = if down == 0 { "previous defaults: drop, 1012".to_string() } else { format!("previous defaults: + {} s outage", down / 1000) };
        let mut s = Scenario::drop(&name, 1012, "restart");
        s.options = previous_defaults();
        s.down_ms = down;
        out.push(s);
    }
    out
}

fn previous_defaults() -> Options {
    let mut o = Options::new("wss://storm.example/ws");
    o.backoff.initial_ms = 4000;
    o.backoff.factor = 2.0;
    o.backoff.jitter = Jitter::Full;
    o
}

#[test]
fn a_thousand_browsers_come_back_spread_and_soon_after_every_kind_of_drop() {
    let reports: Vec<Report> = scenarios().iter().map(|s| run(s, BROWSERS, SEED_BASE)).collect();
    let mut err = std::io::stderr();
    writeln!(err, "\nstorm: {BROWSERS} browsers (seeds {SEED_BASE}..={}), 3 tabs each; times after the server takes them back\n{}", SEED_BASE + BROWSERS as u64 - 1, table(&reports)).unwrap();
    let by = |name: &str| reports.iter().find(|r| r.name.starts_with(name)).unwrap_or_else(|| panic!("no scenario {name}"));

    // Drop with 1012, and outages of 2 s and 10 s: spread and soon back.
    for name in ["drop, 1012", "drop + 2 s outage", "drop + 10 s outage"] {
        let r = by(name);
        assert!(r.all_back_ms() <= ALL_BACK_MS, "{name}: all back {} ms after the return", r.all_back_ms());
        assert!(r.densest_share() <= DENSEST_MAX_SHARE, "{name}: {} in the densest 100 ms", r.densest);
        assert_eq!(r.breaker_opens, 0, "{name}");
    }
    let drop = by("drop, 1012");
    let spread = drop.back_ms.iter().max().unwrap() - drop.back_ms.iter().min().unwrap();
    assert!(spread >= MIN_SPREAD_MS, "the first retries spread over {spread} ms");
    assert_eq!((drop.attempts, drop.wasted, drop.densest), (1000, 0, 24));
    // A refused browser keeps its place in the spread: the outages do not make it denser.
    assert_eq!(by("drop + 2 s outage").densest, drop.densest);
    assert_eq!(by("drop + 10 s outage").densest, drop.densest);
    // Fewer than three refusals each (no breaker): a 2 s outage wastes about a quarter of a
    // handshake per browser, 10 s about 1.3.
    assert_eq!(by("drop + 2 s outage").wasted, 271);
    assert_eq!(by("drop + 10 s outage").wasted, 1334);

    // 60 s: three refusals open each breaker; its 30 s reset spaces the probes.
    let long = by("drop + 60 s outage");
    assert_eq!((long.wasted, long.breaker_opens), (4000, 2000), "4 refusals and 2 opens per browser");
    assert!(long.all_back_ms() <= 30_000, "{}", long.all_back_ms());

    // A drain window: uniform over the 30 s the server asked for, none before, none after.
    let drain = by("drain");
    assert_eq!(drain.wasted, 0);
    assert!(drain.back_ms.iter().all(|t| *t <= 30_000 + sim::HANDSHAKE_MS), "none after the window");
    let thousand = drain_buckets(drain);
    // Each 3 s bucket of 1,000 independent draws holds 100 ± 9.5 (one σ), so ±20% holds in all
    // ten buckets of a storm only about 70% of the time: one of these ten is 25% under. The
    // uniformity itself is checked on 10,000 browsers, where ±20% is 6.7 σ.
    writeln!(err, "drain: arrivals per 3 s bucket, 1,000 browsers {thousand:?}").unwrap();
    assert_eq!(thousand, [99, 104, 95, 97, 111, 75, 109, 105, 94, 111]);
    let big = run(&scenarios().into_iter().find(|s| s.name.starts_with("drain")).unwrap(), DRAIN_BROWSERS, SEED_BASE);
    let buckets = drain_buckets(&big);
    writeln!(err, "drain: arrivals per 3 s bucket, {DRAIN_BROWSERS} browsers {buckets:?}").unwrap();
    let uniform = DRAIN_BROWSERS as f64 / 10.0;
    for (i, n) in buckets.iter().enumerate() {
        assert!((*n as f64 - uniform).abs() <= uniform * DRAIN_BUCKET_TOLERANCE, "bucket {i}: {n} of {DRAIN_BROWSERS}: {buckets:?}");
    }
    assert!(big.back_ms.iter().all(|t| *t <= 30_000 + sim::HANDSHAKE_MS) && big.wasted == 0);

    // retry-after=5000 from a server that is down for exactly those 5 s: nobody earlier, nothing wasted.
    let later = by("1013");
    assert!(later.first_attempt_ms >= 5000, "first handshake {} ms after the close", later.first_attempt_ms);
    assert_eq!(later.wasted, 0);
    assert!(later.all_back_ms() <= DEFAULT_INITIAL_MS + sim::HANDSHAKE_MS);

    // Flapping: three drops before minUptimeMs open each breaker once; after the flapping
    // ends, the probes bring everyone back within one reset timeout.
    let flap = by("flapping");
    assert_eq!((flap.attempts, flap.breaker_opens), (4000, 1000));
    assert!(flap.all_back_ms() <= 30_000, "{}", flap.all_back_ms());

    // A server that accepts at most 15 per 100 ms: the refused ones come back one base delay
    // later, when there is room.
    let limited = by("2 s outage, ≤ 15");
    assert!(limited.all_back_ms() <= 2 * DEFAULT_INITIAL_MS + 1000, "{}", limited.all_back_ms());

    // The previous defaults, as the issue found them: a 2 s outage took far longer than 8 s.
    assert!(by("previous defaults: + 2 s").all_back_ms() > 2 * ALL_BACK_MS);
    assert!(by("previous defaults: drop").densest_share() > DENSEST_MAX_SHARE);
}
