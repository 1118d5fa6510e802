//! Topics (`options.topics`, settings in [`crate::integrity`]): which clients subscribed to
//! which topic. The first subscriber in the whole browser makes the engine send the
//! subscribe frame, the last one out the unsubscribe frame; a topic frame goes to its
//! subscribers only.

use crate::error::Error;
use crate::ids::ClientId;
use crate::integrity::{MAX_TOPICS, MAX_TOPIC_BYTES};
use crate::sorted_map::SortedMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The subscribers of each topic of one endpoint, in subscribe order.
#[derive(Debug, Default)]
pub(crate) struct Topics {
    subs: SortedMap<String, Vec<ClientId>>,
}

impl Topics {
    /// How many topics have subscribers.
    pub(crate) fn len(&self) -> usize {
        self.subs.len()
    }

    /// The topics with subscribers, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &String> {
        self.subs.keys()
    }

    /// The subscribers of `topic` (none for an unknown one).
    pub(crate) fn subscribers(&self, topic: &str) -> &[ClientId] {
        self.subs.get(topic).map_or(&[], Vec::as_slice)
    }

    /// The topics `client` subscribed to.
    pub(crate) fn of_client(&self, client: ClientId) -> Vec<String> {
        self.subs.iter().filter(|(_, subs)| subs.contains(&client)).map(|(t, _)| t.clone()).collect()
    }

    /// Subscribes `client`; `Ok(true)` when it is the topic's first subscriber (the
    /// subscribe frame is due). A client subscribing twice counts once.
    pub(crate) fn subscribe(&mut self, client: ClientId, topic: &str) -> Result<bool, Error> {
        match self.subs.get_mut(topic) {
            Some(subs) if subs.contains(&client) => Ok(false),
            Some(subs) => {
                subs.push(client);
                Ok(false)
            }
            None => {
                if self.subs.len() >= MAX_TOPICS {
                    return Err(Error::Topic(format!("this endpoint already tracks {MAX_TOPICS} topics")));
                }
                self.subs.insert(topic.to_string(), alloc::vec![client]);
                Ok(true)
            }
        }
    }

    /// Unsubscribes `client`; `true` when it was the topic's last subscriber (the
    /// unsubscribe frame is due).
    pub(crate) fn release(&mut self, client: ClientId, topic: &str) -> bool {
        let Some(subs) = self.subs.get_mut(topic) else { return false };
        subs.retain(|c| *c != client);
        if !subs.is_empty() {
            return false;
        }
        self.subs.remove(topic);
        true
    }
}

/// Checks a topic a tab asked for: 1 to [`MAX_TOPIC_BYTES`] bytes.
pub(crate) fn check_topic(topic: &str) -> Result<(), Error> {
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
        return Err(Error::Topic(format!("a topic must be 1 to {MAX_TOPIC_BYTES} bytes")));
    }
    Ok(())
}
