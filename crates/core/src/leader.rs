//! One tab for side effects: the endpoint's *leader*, and the one tab that runs the
//! *exclusive* handlers of each frame.
//!
//! The rule, for the leader and for each exclusive choice alike:
//! - **Stable.** The chosen tab stays chosen while it is attached and keeps up. A tab that
//!   becomes visible does not take over: a burst of frames is handled by one tab, in order.
//! - **A new choice** (the chosen tab left, or fell past the backlog bound): a visible tab
//!   first; then the one most recently visible; then the one that attached first. A tab that
//!   lags (frozen, or blocked past `backlog::MAX_BEHIND_FRAMES`) is chosen only when every
//!   candidate lags.
//! - **Exclusive handlers** are chosen among the tabs that registered one for that frame
//!   (for a topic: registered and subscribed). The leader is taken first when it is one of
//!   them, so an app that registers in every tab has its side effects in one place.
//!
//! A tab that leaves (closes, crashes, goes into the back/forward cache) is forgotten by the
//! engine at once; the next choice is made in the same call. A frame already posted to a tab
//! that then died is not handed to another one: at most once.

use crate::ids::ClientId;
use crate::time::Ms;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One attached tab, as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seat {
    client: ClientId,
    visible: bool,
    /// When it was last visible (while visible: when it became so); `None` if never.
    seen: Option<Ms>,
    /// Past the backlog bound: its frames are not posted to it.
    lagging: bool,
}

/// The tabs that registered an exclusive handler for frames without a topic (`topic: None`)
/// or for one topic, and the one chosen among them.
#[derive(Debug, Default)]
struct Exclusive {
    topic: Option<String>,
    clients: Vec<ClientId>,
    chosen: Option<ClientId>,
}

/// The leader and the exclusive choices of one endpoint.
#[derive(Debug, Default)]
pub struct Lead {
    /// In attach order.
    seats: Vec<Seat>,
    leader: Option<ClientId>,
    exclusive: Vec<Exclusive>,
}

/// A change of leader: who lost it (if still attached) and who has it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    /// The former leader, when it is still attached (it is told it no longer leads).
    pub from: Option<ClientId>,
    /// The new leader (`None` once no tab is attached).
    pub to: Option<ClientId>,
}

impl Lead {
    /// A tab attached (hidden until it says otherwise).
    pub fn join(&mut self, client: ClientId) {
        if self.seat(client).is_none() {
            self.seats.push(Seat { client, visible: false, seen: None, lagging: false });
        }
    }

    /// A tab left: its seat and its exclusive registrations go.
    pub fn leave(&mut self, client: ClientId) {
        if let Some(i) = self.seats.iter().position(|s| s.client == client) {
            self.seats.remove(i);
        }
        for i in (0..self.exclusive.len()).rev() {
            self.unregister(i, client);
        }
    }

    /// `client` is no longer among the registered tabs of `exclusive[i]`, which goes when
    /// none is left.
    fn unregister(&mut self, i: usize, client: ClientId) {
        let clients = &mut self.exclusive[i].clients;
        if let Some(at) = clients.iter().position(|c| *c == client) {
            clients.remove(at);
        }
        if clients.is_empty() {
            self.exclusive.remove(i);
        }
    }

    /// A tab is visible or hidden at `now` (a report that changes nothing changes nothing: a
    /// tab that says it is hidden at its hello was never visible).
    pub fn set_visible(&mut self, now: Ms, client: ClientId, visible: bool) {
        if let Some(s) = self.seats.iter_mut().find(|s| s.client == client && s.visible != visible) {
            s.visible = visible;
            s.seen = Some(now);
        }
    }

    /// A tab fell past the backlog bound (`true`) or caught up again (`false`).
    pub fn set_lagging(&mut self, client: ClientId, lagging: bool) {
        if let Some(s) = self.seats.iter_mut().find(|s| s.client == client) {
            s.lagging = lagging;
        }
    }

    /// A tab registered (`on`) or dropped its exclusive handlers for frames without a topic
    /// (`topic: None`) or for `topic`. Repeats change nothing.
    pub fn set_exclusive(&mut self, client: ClientId, topic: Option<&str>, on: bool) {
        let i = match self.exclusive.iter().position(|x| x.topic.as_deref() == topic) {
            Some(i) => i,
            None if on => {
                self.exclusive.push(Exclusive { topic: topic.map(ToString::to_string), ..Exclusive::default() });
                self.exclusive.len() - 1
            }
            None => return,
        };
        if on {
            let clients = &mut self.exclusive[i].clients;
            if !clients.contains(&client) {
                clients.push(client);
            }
        } else {
            self.unregister(i, client);
        }
    }

    /// The leader, if a tab is attached.
    pub fn leader(&self) -> Option<ClientId> {
        self.leader
    }

    /// Applies the rule to the leader; `Some` when it changed.
    pub fn elect(&mut self) -> Option<Handover> {
        let next = self.pick(self.leader, None, &|_| true);
        if next == self.leader {
            return None;
        }
        let from = self.leader.filter(|c| self.seat(*c).is_some());
        self.leader = next;
        Some(Handover { from, to: next })
    }

    /// The tab whose exclusive handlers get a frame without a topic (`topic: None`) or of
    /// `topic`, among the registered tabs for which `subscribed` holds. Called once per frame;
    /// the choice is remembered (see the module docs).
    pub fn one(&mut self, topic: Option<&str>, subscribed: impl Fn(ClientId) -> bool) -> Option<ClientId> {
        let i = self.exclusive.iter().position(|x| x.topic.as_deref() == topic)?;
        let registered = &self.exclusive[i].clients;
        let chosen = self.pick(self.exclusive[i].chosen, self.leader, &|c| registered.contains(&c) && subscribed(c));
        self.exclusive[i].chosen = chosen;
        chosen
    }

    /// Whether any tab registered an exclusive handler (frames need no choice otherwise).
    pub fn any_exclusive(&self) -> bool {
        !self.exclusive.is_empty()
    }

    fn seat(&self, client: ClientId) -> Option<&Seat> {
        self.seats.iter().find(|s| s.client == client)
    }

    /// The rule: keep `current` while it is a candidate that keeps up (or every candidate
    /// lags); else `preferred` if it is a candidate that keeps up; else the best by
    /// visibility, then most recent visibility, then attach order.
    fn pick(&self, current: Option<ClientId>, preferred: Option<ClientId>, candidate: &dyn Fn(ClientId) -> bool) -> Option<ClientId> {
        let any_keeps_up = self.seats.iter().any(|s| candidate(s.client) && !s.lagging);
        let usable = |s: &Seat| candidate(s.client) && (!s.lagging || !any_keeps_up);
        for c in [current, preferred].into_iter().flatten() {
            if self.seat(c).is_some_and(usable) {
                return Some(c);
            }
        }
        // Seats are in attach order; a later one wins only when strictly better.
        let mut best: Option<&Seat> = None;
        for s in self.seats.iter().filter(|s| usable(s)) {
            if best.is_none_or(|b| (s.visible, s.seen) > (b.visible, b.seen)) {
                best = Some(s);
            }
        }
        best.map(|s| s.client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ClientId = ClientId(1);
    const B: ClientId = ClientId(2);
    const C: ClientId = ClientId(3);

    fn lead(clients: &[ClientId]) -> Lead {
        let mut l = Lead::default();
        clients.iter().for_each(|c| l.join(*c));
        l
    }

    #[test]
    fn the_first_tab_leads_and_a_newcomer_does_not_take_over() {
        let mut l = lead(&[A]);
        assert_eq!(l.elect(), Some(Handover { from: None, to: Some(A) }));
        l.join(B);
        l.set_visible(10, B, true);
        assert_eq!(l.elect(), None, "stable while A lives, even with B visible");
        assert_eq!(l.leader(), Some(A));
    }

    #[test]
    fn a_new_choice_takes_the_visible_tab_then_the_most_recently_visible_then_the_first() {
        let mut l = lead(&[A, B, C]);
        l.elect();
        assert_eq!(l.leader(), Some(A), "none visible yet: the first attached");
        l.set_visible(5, C, true);
        l.leave(A);
        assert_eq!(l.elect(), Some(Handover { from: None, to: Some(C) }), "the visible one");
        // C goes to the background at 20, B was visible 10 to 15: C is the most recent.
        l.set_visible(10, B, true);
        l.set_visible(15, B, false);
        l.set_visible(20, C, false);
        l.join(A);
        l.set_visible(25, A, false);
        l.leave(C);
        assert_eq!(l.elect(), Some(Handover { from: None, to: Some(B) }), "B was visible, A never (it said hidden at 25)");
    }

    #[test]
    fn a_lagging_leader_is_replaced_and_told_and_takes_it_back_only_when_alone() {
        let mut l = lead(&[A, B]);
        l.elect();
        l.set_lagging(A, true);
        assert_eq!(l.elect(), Some(Handover { from: Some(A), to: Some(B) }));
        l.set_lagging(A, false);
        assert_eq!(l.elect(), None, "B keeps it");
        l.set_lagging(B, true);
        l.set_lagging(A, true);
        assert_eq!(l.elect(), None, "every tab lags: B keeps it");
        l.leave(B);
        assert_eq!(l.elect(), Some(Handover { from: None, to: Some(A) }), "a lagging tab alone leads");
        l.leave(A);
        assert_eq!(l.elect(), Some(Handover { from: None, to: None }));
    }

    #[test]
    fn exclusive_frames_go_to_the_leader_when_it_registered_else_by_the_rule() {
        let mut l = lead(&[A, B, C]);
        l.elect();
        assert_eq!(l.one(None, |_| true), None, "nobody registered");
        l.set_exclusive(C, None, true);
        l.set_exclusive(B, None, true);
        l.set_visible(3, C, true);
        assert_eq!(l.one(None, |_| true), Some(C), "the visible one of B and C");
        l.set_exclusive(A, None, true);
        assert_eq!(l.one(None, |_| true), Some(C), "stable: A registering later does not take over");
        l.set_exclusive(C, None, false);
        assert_eq!(l.one(None, |_| true), Some(A), "the leader, now that it is a candidate");
        l.set_exclusive(A, None, true);
        l.set_exclusive(A, None, false);
        l.set_exclusive(B, None, false);
        assert!(!l.any_exclusive());
        assert_eq!(l.one(None, |_| true), None);
    }

    #[test]
    fn a_topic_chooses_only_among_its_registered_subscribers() {
        let mut l = lead(&[A, B, C]);
        l.elect();
        l.set_exclusive(A, Some("news"), true);
        l.set_exclusive(B, Some("news"), true);
        l.set_exclusive(C, Some("other"), true);
        assert_eq!(l.one(Some("news"), |c| c != A), Some(B), "A registered but is not subscribed");
        assert_eq!(l.one(Some("other"), |_| true), Some(C));
        assert_eq!(l.one(Some("none"), |_| true), None);
        assert_eq!(l.one(None, |_| true), None, "topic registrations are not message registrations");
        l.leave(B);
        assert_eq!(l.one(Some("news"), |c| c != A), None);
        assert_eq!(l.one(Some("news"), |_| true), Some(A));
    }

    #[test]
    fn a_lagging_exclusive_tab_is_passed_over_then_stays_passed_over() {
        let mut l = lead(&[A, B]);
        l.elect();
        l.set_exclusive(A, None, true);
        l.set_exclusive(B, None, true);
        assert_eq!(l.one(None, |_| true), Some(A));
        l.set_lagging(A, true);
        assert_eq!(l.one(None, |_| true), Some(B));
        l.set_lagging(A, false);
        assert_eq!(l.one(None, |_| true), Some(B), "stable on B");
    }

    #[test]
    fn never_two_leaders_whatever_the_order_of_events() {
        // Every sequence of 6 events over 3 tabs (6^6 = 46,656 runs): after each elect() the
        // leader is exactly one attached tab when any is attached, and every handover names
        // the previous leader (so the shell tells it before telling the next one).
        let clients = [A, B, C];
        for mut code in 0..6u32.pow(6) {
            let mut l = Lead::default();
            let mut attached: Vec<ClientId> = Vec::new();
            let mut leader = None;
            for step in 0..6 {
                let (ev, who) = (code % 2, clients[((code / 2) % 3) as usize]);
                code /= 6;
                match ev {
                    0 if attached.contains(&who) => {
                        l.leave(who);
                        attached.retain(|c| *c != who);
                    }
                    0 => {
                        l.join(who);
                        attached.push(who);
                    }
                    _ => {
                        l.set_visible(step, who, step % 2 == 0);
                        l.set_lagging(who, step % 3 == 0);
                    }
                }
                if let Some(h) = l.elect() {
                    assert_eq!(h.from, leader.filter(|c| attached.contains(c)));
                    leader = h.to;
                }
                assert_eq!(leader, l.leader());
                assert_eq!(leader.is_some(), !attached.is_empty());
                assert!(leader.is_none_or(|c| attached.contains(&c)));
            }
        }
    }
}
