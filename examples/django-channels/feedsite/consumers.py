"""The WebSocket consumer: what tabmux's worker talks to.

Contract (all of it configurable on the tabmux side, these are the values the README uses):
- `?token=…` on connect, checked here; a bad or expired one, or expiry while open → close 4401
  (tabmux fetches its `token.url` and reconnects once).
- A stream the token's user may not read (another user's `user.<u>`, streams.readable) → close
  1008 "not your stream", before anything is sent. 1008 (Policy Violation) is fatal for tabmux:
  state `closed`, no retry. Not 4403: tabmux answers that with a new token and another try,
  which cannot change the answer.
- `?since=N` on a reconnect → the stream's frames N+1… from Redis, then live frames, in order,
  without a hole (tabmux's `sequence: { key: "/seq" }` drops anything at or below what it saw).
  A frame the channel layer dropped reaches the socket from the stream within a second.
- `{"type":"ping"}` → `{"type":"pong"}` (tabmux's default heartbeat).
- `{"op":"sub","topic":T}` / `{"op":"unsub","topic":T}` → join/leave the topic's group.
- Anything else → `{"type":"error","error":…}` on this socket; never a crash.
- Redis lost (under an open socket, or while connecting): the channel layer's read fails and
  Channels ends the consumer with close 1011, which tabmux retries with backoff.
- SIGTERM: every open socket is closed with 1012 and "restart; reconnect-within=5000", so the
  node's browsers come back spread over 5 s (drain.py).
"""

import asyncio
import json
import re
import time
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from . import streams, tokens

TOPIC = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")  # a valid channel-layer group name part
MAX_TOPICS = 100  # per socket
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 1008
CATCH_UP_S = 1.0  # how often a socket checks the stream for frames the channel layer dropped

# This node's counters, served by /stats (in memory: they are per process on purpose).
node_stats = {"open": 0, "accepted": 0, "unauthorized": 0, "forbidden": 0, "token_fetches": 0, "errors": 0, "topics": 0}

# The accepted sockets' consumers, so that a SIGTERM can close each one with a retry hint
# (drain.py): in from accept(), out when the consumer ends.
open_consumers = set()


class FeedConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        # The consumer's whole life, also when it ends by an exception (then Channels calls no
        # disconnect handler): the place to keep the open-socket count and stop the timer.
        self.topics = set()
        self.expiry = None
        self.catch_up_task = None
        # One sender of stream frames at a time: the live handler and the catch-up task.
        self.sending = asyncio.Lock()
        node_stats["open"] += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            open_consumers.discard(self)
            node_stats["open"] -= 1
            node_stats["topics"] -= len(self.topics)
            if self.expiry:
                self.expiry.cancel()
            if self.catch_up_task:
                self.catch_up_task.cancel()

    async def connect(self):
        self.stream = self.scope["url_route"]["kwargs"]["stream"]
        self.last = 0  # the last sequence number sent on this socket
        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        # Accept first, then close: a refused handshake reaches the browser as 1006 with no
        # code, while a close after accept carries 4401, which tabmux maps to "refresh token".
        await self.accept()
        open_consumers.add(self)
        node_stats["accepted"] += 1
        claims = tokens.check(query.get("token", [""])[0])
        if claims is None:
            node_stats["unauthorized"] += 1
            return await self.close(code=CLOSE_UNAUTHORIZED)
        if not streams.readable(self.stream, claims.get("u")):
            node_stats["forbidden"] += 1
            return await self.close(code=CLOSE_FORBIDDEN, reason="not your stream")
        # Join the group before reading the stream: a frame published in between arrives
        # live and is dropped in feed_frames as already sent, never missed.
        await self.channel_layer.group_add(streams.group(self.stream), self.channel_name)
        since = query.get("since", [""])[0]
        if since.isdigit():
            self.last = int(since)
            await self.send_stored(before=None)
        else:
            self.last = await streams.current(self.stream)  # a first connect starts from now
        self.expiry = asyncio.create_task(self.close_when_expired(claims["exp"]))
        self.catch_up_task = asyncio.create_task(self.catch_up())

    async def disconnect(self, code):
        try:
            await self.channel_layer.group_discard(streams.group(self.stream), self.channel_name)
            for topic in self.topics:
                await self.channel_layer.group_discard(streams.topic_group(self.stream, topic), self.channel_name)
        except Exception:  # Redis is down: the layer's group expiry cleans up later
            pass

    async def close_when_expired(self, exp):
        await asyncio.sleep(max(0.0, exp - time.time()))
        node_stats["unauthorized"] += 1
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def send_stored(self, before):
        """Sends the stored frames after `self.last` (and before `before`)."""
        async for seq, frame in streams.after(self.stream, self.last, before):
            if seq <= self.last:
                continue
            await self.send(frame)
            self.last = seq

    async def catch_up(self):
        """Every second, sends what the stream holds past `self.last`. The channel layer may
        drop a batch; a hole is filled when the next batch comes (feed_frames), and this fills
        the last one, after which none comes."""
        while True:
            await asyncio.sleep(CATCH_UP_S)
            try:
                if await streams.current(self.stream) > self.last:
                    async with self.sending:
                        await self.send_stored(before=None)
            except Exception:  # Redis is down: the consumer's own read ends it (close 1011)
                pass

    # Channel-layer handlers: the message "type" "feed.frames" calls feed_frames.
    async def feed_frames(self, event):
        async with self.sending:
            await self.send_frames(event["frames"])

    async def send_frames(self, frames):
        for seq, frame in frames:
            if seq <= self.last:
                continue  # already sent (replayed from the stream)
            if seq > self.last + 1:
                # A hole: the layer dropped or reordered a batch (it drops the oldest past its
                # capacity). Every number up to `seq` is already in the stream: fill from there.
                await self.send_stored(before=seq)
            await self.send(frame)
            self.last = seq

    async def topic_frames(self, event):
        for frame in event["frames"]:
            await self.send(frame)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return await self.error("binary frames are not understood")
        try:
            msg = json.loads(text_data)
        except ValueError:
            return await self.error("not JSON")
        if not isinstance(msg, dict):
            return await self.error("expected a JSON object")
        if msg.get("type") == "ping":
            return await self.send('{"type":"pong"}')
        op, topic = msg.get("op"), msg.get("topic")
        if op not in ("sub", "unsub"):
            return await self.error('expected {"type":"ping"} or {"op":"sub"|"unsub","topic":…}')
        if not isinstance(topic, str) or not TOPIC.match(topic):
            return await self.error("a topic is 1-40 characters of A-Z a-z 0-9 _ . -")
        if op == "sub" and topic not in self.topics:
            if len(self.topics) >= MAX_TOPICS:
                return await self.error(f"at most {MAX_TOPICS} topics per socket")
            self.topics.add(topic)
            node_stats["topics"] += 1
            await self.channel_layer.group_add(streams.topic_group(self.stream, topic), self.channel_name)
        elif op == "unsub" and topic in self.topics:
            self.topics.discard(topic)
            node_stats["topics"] -= 1
            await self.channel_layer.group_discard(streams.topic_group(self.stream, topic), self.channel_name)

    async def error(self, message):
        node_stats["errors"] += 1
        await self.send(json.dumps({"type": "error", "error": message}))
