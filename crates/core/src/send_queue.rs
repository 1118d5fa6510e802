//! The send queue (`options.queue`, settings in [`crate::integrity`]): sends made while the
//! socket is not open wait here, within a count, a byte cap and a time to live, and are
//! written in order when it opens. Only sizes and ids are held; the data stays in the shell.

use crate::error::{decimal, EngineError, Error};
use crate::ids::ClientId;
use crate::integrity::QueueOptions;
use crate::time::Ms;
use alloc::collections::VecDeque;

/// One waiting send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Queued {
    /// Who sent it.
    pub(crate) client: ClientId,
    /// The shell's id for the send.
    pub(crate) send: u64,
    /// Its size.
    pub(crate) len: usize,
    /// When it is rejected if still waiting.
    pub(crate) expires: Ms,
}

/// The waiting sends of one endpoint, oldest first, and their total size.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    items: VecDeque<Queued>,
    bytes: usize,
}

impl SendQueue {
    /// How many sends wait.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Their total size.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Queues a send at `now`, or refuses it (with why) past `maxMessages` or `maxBytes`.
    pub(crate) fn push(&mut self, now: Ms, client: ClientId, send: u64, len: usize, o: &QueueOptions) -> Result<(), Error> {
        if self.items.len() >= o.max_messages {
            return Err(Error::Engine(EngineError::QueueFull(
                [&decimal(self.items.len() as u64), " frames waiting, queue.maxMessages is ", &decimal(o.max_messages as u64)].concat(),
            )));
        }
        if self.bytes + len > o.max_bytes {
            let (queued, len, max) = (decimal(self.bytes as u64), decimal(len as u64), decimal(o.max_bytes as u64));
            return Err(Error::Engine(EngineError::QueueFull([&queued, " + ", &len, " bytes would pass queue.maxBytes ", &max].concat())));
        }
        self.items.push_back(Queued { client, send, len, expires: now.saturating_add(o.ttl_ms) });
        self.bytes += len;
        Ok(())
    }

    /// When the oldest send expires.
    pub(crate) fn next_expiry(&self) -> Option<Ms> {
        self.items.front().map(|q| q.expires)
    }

    /// Takes the oldest send if it has expired at `now`.
    pub(crate) fn pop_expired(&mut self, now: Ms) -> Option<Queued> {
        if self.items.front().is_some_and(|q| q.expires <= now) {
            let q = self.items.pop_front()?;
            self.bytes -= q.len;
            return Some(q);
        }
        None
    }

    /// Takes every send, oldest first (the socket opened, or the endpoint is gone).
    pub(crate) fn take_all(&mut self) -> VecDeque<Queued> {
        self.bytes = 0;
        core::mem::take(&mut self.items)
    }

    /// Takes the sends of `client` (it left), keeping the others in order.
    pub(crate) fn take_client(&mut self, client: ClientId) -> VecDeque<Queued> {
        let (gone, kept): (VecDeque<Queued>, VecDeque<Queued>) = self.items.drain(..).partition(|q| q.client == client);
        self.items = kept;
        for q in &gone {
            self.bytes -= q.len;
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o() -> QueueOptions {
        QueueOptions { max_messages: 3, max_bytes: 10, ttl_ms: 100 }
    }

    #[test]
    fn caps_expiry_and_taking_by_client_keep_count_and_bytes_right() {
        let (a, b) = (ClientId(1), ClientId(2));
        let mut q = SendQueue::default();
        q.push(0, a, 1, 4, &o()).unwrap();
        q.push(10, b, 2, 3, &o()).unwrap();
        assert_eq!(
            q.push(20, a, 3, 4, &o()),
            Err(Error::Engine(EngineError::QueueFull("7 + 4 bytes would pass queue.maxBytes 10".into())))
        );
        q.push(20, a, 3, 3, &o()).unwrap();
        assert_eq!((q.len(), q.bytes()), (3, 10));
        assert_eq!(q.push(20, a, 4, 0, &o()), Err(Error::Engine(EngineError::QueueFull("3 frames waiting, queue.maxMessages is 3".into()))));
        assert_eq!(q.next_expiry(), Some(100));
        assert_eq!(q.pop_expired(99), None);
        assert_eq!(q.pop_expired(100).map(|x| x.send), Some(1));
        assert_eq!(q.pop_expired(100), None, "the next expires at 110");
        assert_eq!((q.len(), q.bytes(), q.next_expiry()), (2, 6, Some(110)));
        let gone: Vec<u64> = q.take_client(a).into_iter().map(|x| x.send).collect();
        assert_eq!(gone, [3]);
        assert_eq!((q.len(), q.bytes()), (1, 3));
        let all: Vec<u64> = q.take_all().into_iter().map(|x| x.send).collect();
        assert_eq!(all, [2]);
        assert_eq!((q.len(), q.bytes(), q.next_expiry()), (0, 0, None));
    }
}
