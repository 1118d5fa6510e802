//! The page's worker life (`tabmux_core::worker_life`) on a virtual clock: joining, losing and
//! replacing a worker with the replacement backoff, a crashed worker that is still dying, the
//! back/forward cache, and stale news.
use tabmux_core::worker_life::{Due, Life, Welcome, WorkerLife, DYING_MS, TOKENLESS_EXTRA_MS};

const T0: u64 = 1_000_000;
const TIMEOUT: u64 = 10_000;

/// Attached, for a page that set a token (no extra delay).
fn attached() -> WorkerLife {
    let mut l = WorkerLife::joining(T0, TIMEOUT);
    l.set_has_token(true);
    assert_eq!(l.poll_timeout(), Some(T0 + TIMEOUT));
    assert_eq!(l.welcomed(), Welcome::First);
    assert_eq!((l.state(), l.poll_timeout()), (&Life::Attached, None));
    l
}

#[test]
fn a_first_worker_that_never_welcomes_fails_the_connect_at_its_deadline() {
    let mut l = WorkerLife::joining(T0, TIMEOUT);
    assert_eq!(l.handle_timeout(T0 + TIMEOUT - 1), None, "early: nothing");
    assert_eq!(l.handle_timeout(T0 + TIMEOUT), Some(Due::JoinFailed));
    assert_eq!(l.state(), &Life::Closed);
    assert_eq!(l.lost(T0 + TIMEOUT, 0, None), None, "closed: news means nothing");
}

#[test]
fn a_lost_worker_is_replaced_after_100_ms_doubling_to_5_s_while_replacements_go_unanswered() {
    let mut l = attached();
    let mut now = T0;
    let mut delays = Vec::new();
    for _ in 0..8 {
        let g = l.generation();
        let delay = if delays.is_empty() { l.lost(now, g, None).unwrap() } else {
            // The replacement did not welcome in time: lost again, with a longer delay.
            now += TIMEOUT;
            match l.handle_timeout(now) {
                Some(Due::Unanswered { delay, returning: false }) => delay,
                other => panic!("{other:?}"),
            }
        };
        delays.push(delay);
        assert_eq!(l.poll_timeout(), Some(now + delay));
        now += delay;
        assert_eq!(l.handle_timeout(now), Some(Due::Replace));
        assert_eq!(l.state(), &Life::Replacing { deadline: now + TIMEOUT });
    }
    assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    // A welcome resets the backoff.
    assert_eq!(l.welcomed(), Welcome::Replaced);
    let g = l.generation();
    assert_eq!(l.lost(now, g, None), Some(100));
}

#[test]
fn a_tab_without_a_token_replaces_100_ms_later() {
    let mut l = attached();
    l.set_has_token(false);
    assert_eq!(l.lost(T0, 0, None), Some(100 + TOKENLESS_EXTRA_MS));
    let mut l = attached();
    l.lost(T0, 0, None);
    assert_eq!(l.handle_timeout(T0 + 100), Some(Due::Replace));
    l.set_has_token(false);
    assert_eq!(l.handle_timeout(T0 + 100 + TIMEOUT), Some(Due::Unanswered { delay: 200 + TOKENLESS_EXTRA_MS, returning: false }));
}

#[test]
fn news_of_an_older_worker_and_a_second_loss_are_ignored() {
    let mut l = attached();
    assert_eq!(l.lost(T0, 0, None), Some(100));
    assert_eq!(l.generation(), 1);
    assert_eq!(l.lost(T0 + 5, 0, None), None, "the same worker's other news (its lock after its crash report)");
    assert_eq!(l.lost(T0 + 5, 1, None), None, "lost already: one replacement planned");
    assert_eq!(l.poll_timeout(), Some(T0 + 100));
}

#[test]
fn a_crashed_worker_is_replaced_once_its_life_lock_is_granted_or_after_3_s() {
    let mut l = attached();
    assert_eq!(l.lost(T0, 0, Some("life-1".into())), Some(100));
    assert_eq!(l.poll_timeout(), Some(T0 + DYING_MS));
    assert!(!l.lock_granted(T0 + 50, "life-0"), "another lock means nothing");
    assert!(l.lock_granted(T0 + 700, "life-1"));
    assert_eq!(l.state(), &Life::Lost { at: T0 + 800 });
    assert_eq!(l.handle_timeout(T0 + 800), Some(Due::Replace));
    // Never granted: replaced after DYING_MS anyway.
    let mut l = attached();
    l.lost(T0, 0, Some("life-1".into()));
    assert_eq!(l.handle_timeout(T0 + DYING_MS), Some(Due::Replace));
}

#[test]
fn the_back_forward_cache_stops_every_wait_and_a_return_rejoins_with_its_own_deadline() {
    let mut l = attached();
    l.lost(T0, 0, None);
    l.suspend();
    assert_eq!((l.state(), l.poll_timeout()), (&Life::Suspended, None));
    let g = l.generation();
    assert!(!l.is_current(g), "no news matters while in the cache");
    assert_eq!(l.lost(T0 + 10, g, None), None);
    assert!(l.resume(T0 + 60_000, TIMEOUT));
    assert_eq!(l.poll_timeout(), Some(T0 + 60_000 + TIMEOUT));
    assert_eq!(l.welcomed(), Welcome::Restored);
    // Suspended again, and back, with no welcome this time: lost, replaced from 100 ms.
    l.suspend();
    l.resume(T0 + 70_000, TIMEOUT);
    assert_eq!(l.handle_timeout(T0 + 80_000), Some(Due::Unanswered { delay: 100, returning: true }));
    assert!(!l.resume(T0 + 80_000, TIMEOUT), "only from the cache");
}

#[test]
fn a_replacement_that_cannot_start_is_lost_again_with_the_next_delay() {
    let mut l = attached();
    l.lost(T0, 0, None);
    assert_eq!(l.handle_timeout(T0 + 100), Some(Due::Replace));
    assert_eq!(l.replacement_failed(T0 + 100), Some(200));
    assert_eq!(l.state(), &Life::Lost { at: T0 + 300 });
    assert_eq!(l.welcomed(), Welcome::Ignored, "nothing waits for a welcome while lost");
    l.close();
    assert_eq!((l.state(), l.poll_timeout()), (&Life::Closed, None));
}
