//! The engine's side of `leader.rs`: what tabs report (visible or hidden, lagging,
//! exclusive handlers), and the leader's changes told as [`Action::Leader`].

use super::Engine;
use crate::action::Action;
use crate::error::{EngineError, Error};
use crate::ids::ClientId;
use crate::time::Ms;

impl Engine {
    /// A client's page became visible (`true`) or hidden. Visible is also
    /// [`Engine::handle_client_visible`] (the token is asked of it first; an endpoint that is
    /// `down` tries again). The leader does not move on it: the
    /// rule uses it at the next choice (`leader.rs`).
    pub fn handle_visibility(&mut self, now: Ms, client: ClientId, visible: bool) -> Result<(), Error> {
        let now = self.tick(now);
        let idx = self.client_ep(client)?;
        self.endpoints[idx].lead.set_visible(now, client, visible);
        if visible {
            self.handle_client_visible(now, client);
        }
        Ok(())
    }

    /// The shell's backlog for a client started (`true`) or stopped lagging
    /// (`tabmux_core::backlog`): a lagging leader is replaced.
    pub fn handle_lagging(&mut self, now: Ms, client: ClientId, lagging: bool) {
        self.tick(now);
        if let Ok(idx) = self.client_ep(client) {
            self.endpoints[idx].lead.set_lagging(client, lagging);
            self.elect(idx);
        }
    }

    /// A client registered (`on`) or dropped its exclusive handlers for frames without a
    /// topic (`topic: None`) or for a topic it subscribed to.
    pub fn handle_exclusive(&mut self, now: Ms, client: ClientId, topic: Option<&str>, on: bool) -> Result<(), Error> {
        self.tick(now);
        let idx = self.client_ep(client)?;
        let ep = &mut self.endpoints[idx];
        if let Some(t) = topic.filter(|t| on && !ep.topics.holds(client, t)) {
            return Err(Error::Engine(EngineError::Topic(["an exclusive handler for ", t, " needs a subscription to it"].concat())));
        }
        ep.lead.set_exclusive(client, topic, on);
        Ok(())
    }

    /// The leader of the endpoint `client` is attached to.
    pub fn leader_of(&self, client: ClientId) -> Option<ClientId> {
        self.client_ep(client).ok().and_then(|i| self.endpoints[i].lead.leader())
    }

    /// Applies the rule to endpoint `idx`'s leader; a change is told to the former leader
    /// first, then to the new one.
    pub(super) fn elect(&mut self, idx: usize) {
        let Some(h) = self.endpoints[idx].lead.elect() else { return };
        if let Some(client) = h.from {
            self.actions.push_back(Action::Leader { client, leader: false });
        }
        if let Some(client) = h.to {
            self.actions.push_back(Action::Leader { client, leader: true });
        }
    }
}
