//! Tokens from the page's own function (`token.get`): the function cannot cross to the
//! worker, so when the endpoint needs a token (before a connect, on a refresh-token close,
//! every `pollMs`) the engine asks one attached tab that has one, and uses the answer for
//! the whole browser.
//!
//! Which tab: the one that most recently attached or became visible (the tab the user is
//! looking at, as far as the worker can tell). One question at a time per endpoint; a tab
//! that does not answer within [`ASK_TIMEOUT_MS`], or that leaves while asked, is passed
//! over and the next one is asked at once. When every tab with a function was asked, the
//! attempt fails like a token URL that failed.

use crate::ids::ClientId;
use crate::time::Ms;
use alloc::vec::Vec;

/// How long a tab has to answer before the next one is asked.
pub const ASK_TIMEOUT_MS: Ms = 5_000;

/// A question out to one tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenAsk {
    /// The tab asked now.
    pub(crate) client: ClientId,
    /// The question's number: an answer to an older one is ignored.
    pub(crate) req: u64,
    /// When the next tab is asked.
    pub(crate) deadline: Ms,
    /// The tabs asked so far for this token (none is asked twice).
    pub(crate) asked: Vec<ClientId>,
}

/// The tab to ask: of `candidates` (a tab with a function, and when it last attached or
/// became visible), the most recent one not in `asked`; the earlier-listed one on a tie.
pub(crate) fn choose(candidates: impl Iterator<Item = (ClientId, Ms)>, asked: &[ClientId]) -> Option<ClientId> {
    let mut best: Option<(ClientId, Ms)> = None;
    for (client, seen) in candidates.filter(|(c, _)| !asked.contains(c)) {
        if best.is_none_or(|(_, b)| seen > b) {
            best = Some((client, seen));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_recently_seen_tab_not_asked_yet_is_chosen() {
        let tabs = [(ClientId(1), 100), (ClientId(2), 300), (ClientId(3), 200), (ClientId(4), 300)];
        assert_eq!(choose(tabs.into_iter(), &[]), Some(ClientId(2)), "latest; the first of a tie");
        assert_eq!(choose(tabs.into_iter(), &[ClientId(2)]), Some(ClientId(4)));
        assert_eq!(choose(tabs.into_iter(), &[ClientId(2), ClientId(4)]), Some(ClientId(3)));
        assert_eq!(choose(tabs.into_iter(), &[ClientId(1), ClientId(2), ClientId(3), ClientId(4)]), None);
        assert_eq!(choose(core::iter::empty(), &[]), None);
    }
}
