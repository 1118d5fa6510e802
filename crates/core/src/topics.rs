//! Topics (`options.topics`, settings in [`crate::integrity`]): which clients subscribed to
//! which topic. The first subscriber in the whole browser makes the engine send the
//! subscribe frame, the last one out the unsubscribe frame; a topic frame goes to its
//! subscribers only.

use crate::error::{decimal, EngineError, Error};
use crate::ids::ClientId;
use crate::integrity::{MAX_TOPICS, MAX_TOPIC_BYTES};
use crate::sorted_map::SortedMap;
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
                    return Err(Error::Engine(EngineError::Topic(["this endpoint already tracks ", &decimal(MAX_TOPICS as u64), " topics"].concat())));
                }
                self.subs.insert(topic.to_string(), alloc::vec![client]);
                Ok(true)
            }
        }
    }

    /// Every topic of `from` becomes `to`'s (where `to` holds it already, `from` just goes).
    pub(crate) fn hand_over(&mut self, from: ClientId, to: ClientId) {
        self.subs.retain(|_, subs| {
            if let Some(i) = subs.iter().position(|c| *c == from) {
                if subs.contains(&to) {
                    subs.remove(i);
                } else {
                    subs[i] = to;
                }
            }
            true
        });
    }

    /// Whether `client` holds `topic`.
    pub(crate) fn holds(&self, client: ClientId, topic: &str) -> bool {
        self.subscribers(topic).contains(&client)
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
        return Err(Error::Engine(EngineError::Topic(["a topic must be 1 to ", &decimal(MAX_TOPIC_BYTES as u64), " bytes"].concat())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_in_and_the_last_out_are_told() {
        let (a, b) = (ClientId(1), ClientId(2));
        let mut t = Topics::default();
        assert_eq!(t.subscribe(a, "x"), Ok(true));
        assert_eq!(t.subscribe(a, "x"), Ok(false), "twice counts once");
        assert_eq!(t.subscribe(b, "x"), Ok(false));
        assert_eq!(t.subscribers("x"), [a, b]);
        assert_eq!(t.of_client(b), ["x"]);
        assert!(!t.release(a, "x"));
        assert!(!t.release(a, "nope"));
        assert!(t.release(b, "x"), "the last one out");
        assert_eq!((t.len(), t.subscribers("x")), (0, &[][..]));
        for i in 0..MAX_TOPICS {
            assert_eq!(t.subscribe(a, &alloc::format!("{i}")), Ok(true));
        }
        assert!(matches!(t.subscribe(a, "one more"), Err(Error::Engine(EngineError::Topic(_)))));
        assert_eq!(t.subscribe(b, "0"), Ok(false), "joining a known topic is fine at the cap");
        assert_eq!(t.names().count(), MAX_TOPICS);
    }

    #[test]
    fn topics_are_one_to_max_bytes() {
        assert!(check_topic("").is_err());
        assert!(check_topic("a").is_ok());
        assert!(check_topic(&"a".repeat(MAX_TOPIC_BYTES)).is_ok());
        assert!(check_topic(&"a".repeat(MAX_TOPIC_BYTES + 1)).is_err());
    }
}
