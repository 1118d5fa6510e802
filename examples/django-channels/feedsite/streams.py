"""Streams: ordered feeds with a sequence number per frame, kept in a bounded Redis Stream so
that a reconnecting client (`?since=N`) gets N+1… before live frames.

Frames on the wire are `{"seq": N, "data": <the published JSON>}`. The Redis Stream's entry
ID is `N-0`, so "everything after N" is one XRANGE."""

import time

from channels.layers import get_channel_layer
from django.conf import settings
from redis import asyncio as aioredis

# Sequence numbers and stream entries are written together, atomically, so the stream never
# has a hole that a later number has already passed, whatever the number of publishers.
# KEYS: counter, stream. ARGV: maxlen, start, payload... Returns the first number used.
_PUBLISH = """
local n = #ARGV - 2
local last = redis.call('INCRBY', KEYS[1], n)
if last == n then
  -- A new counter: a new stream, or a Redis that lost its data. Start at the current time in
  -- microseconds, above any number a client may still hold, so tabmux reports a gap instead
  -- of dropping the new frames as already seen.
  last = tonumber(ARGV[2]) + n
  redis.call('SET', KEYS[1], string.format('%d', last))
end
local first = last - n + 1
for i = 1, n do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], string.format('%d-0', first + i - 1), 'd', ARGV[i + 2])
end
return first
"""

_redis = None
_publish = None


def redis():
    """This process's Redis client (redis-py reconnects by itself after a Redis restart)."""
    global _redis, _publish
    if _redis is None:
        _redis = aioredis.from_url(settings.REDIS_URL, decode_responses=True)
        _publish = _redis.register_script(_PUBLISH)  # EVALSHA, re-loaded after a Redis restart
    return _redis


# Who may read what: a stream named `user.<u>` is private to the user `u` (the "u" of the
# token: the session's user; in your site the user's id), every other stream is public to any
# signed-in user. Publishing is not a reader's business: it needs X-Publish-Key (views.py).
PRIVATE_PREFIX = "user."


def readable(stream, user):
    """Whether `user` may read `stream` (and its topics, and replay it with `since`)."""
    if stream.startswith(PRIVATE_PREFIX):
        return isinstance(user, str) and stream == PRIVATE_PREFIX + user
    return True


def group(stream):
    """The channel-layer group of a stream's sockets."""
    return f"feed.{stream}"


def topic_group(stream, topic):
    return f"topic.{stream}.{topic}"


def frame(seq, data):
    """The wire frame; `data` is already JSON text."""
    return f'{{"seq":{seq},"data":{data}}}'


async def store(stream, payloads):
    """Numbers `payloads` (JSON texts) and appends them to the stream. Returns `(seq, frame)`s."""
    redis()
    first = await _publish(keys=[f"seq:{stream}", f"stream:{stream}"], args=[settings.STREAM_MAXLEN, int(time.time() * 1e6), *payloads])
    return [(first + i, frame(first + i, p)) for i, p in enumerate(payloads)]


async def publish(stream, payloads):
    """Stores `payloads`, then fans them out to the stream's sockets on every node through the
    channel layer. Returns the first number."""
    frames = await store(stream, payloads)
    await get_channel_layer().group_send(group(stream), {"type": "feed.frames", "frames": frames})
    return frames[0][0]


async def publish_topic(stream, topic, payloads):
    """Topic frames are live only: no number, not stored, only to subscribed sockets."""
    frames = [f'{{"topic":"{topic}","data":{p}}}' for p in payloads]
    await get_channel_layer().group_send(topic_group(stream, topic), {"type": "topic.frames", "frames": frames})


async def current(stream):
    """The last number given out on `stream` (0 before the first)."""
    return int(await redis().get(f"seq:{stream}") or 0)


async def after(stream, since, before=None, batch=500):
    """Yields `(seq, frame)` for the stored frames numbered above `since` (and below `before`),
    oldest first, `batch` at a time. Frames trimmed by MAXLEN are simply not there: tabmux
    reports them as a gap."""
    start = f"({since}-0"
    end = f"({before}-0" if before is not None else "+"
    while True:
        entries = await redis().xrange(f"stream:{stream}", start, end, count=batch)
        for entry_id, fields in entries:
            seq = int(entry_id.split("-")[0])
            yield seq, frame(seq, fields["d"])
        if len(entries) < batch:
            return
        start = f"({entries[-1][0]}"
