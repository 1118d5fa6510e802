"""Settings of the tabmux reference backend. Everything a deployment changes comes from the
environment; the defaults are for a local run (see README.md)."""

import os

from django.core.exceptions import ImproperlyConfigured

env = os.environ.get

DEBUG = env("DJANGO_DEBUG") == "1"
# Signs the session cookies (which hold the signed-in user) and the WebSocket tokens: whoever
# knows it can sign in as anyone. The fallback is public, so it is accepted only with DEBUG.
DEV_SECRET_KEY = "dev-only-not-secret"
SECRET_KEY = env("DJANGO_SECRET_KEY") or DEV_SECRET_KEY
if SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is unset or the public development key: set it to a long random secret, "
        "the same on every node (python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or DJANGO_DEBUG=1 for a local run"
    )
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = ["daphne", "django.contrib.sessions", "channels"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
ROOT_URLCONF = "feedsite.urls"
ASGI_APPLICATION = "feedsite.asgi.application"
DATABASES = {}  # no database: sessions live in signed cookies, streams in Redis
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
USE_TZ = True

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # capacity: messages waiting per consumer before the layer drops the oldest; a
        # dropped batch is recovered from the stream by the consumer (see consumers.py).
        "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},
    }
}

# This node's name, reported by /stats (the tests run two nodes).
NODE_NAME = env("TABMUX_NODE", "node")
# Lifetime of a WebSocket token in seconds. An open socket is closed with 4401 when its
# token expires; tabmux then fetches /token and reconnects with `since`.
TOKEN_MAX_AGE = float(env("TABMUX_TOKEN_MAX_AGE", "300"))
# Entries kept per Redis Stream (XADD MAXLEN ~): how far back `since` can replay.
STREAM_MAXLEN = int(env("TABMUX_STREAM_MAXLEN", "100000"))
# POST /login?user=… signs anyone in without a password: for demos and tests only, off unless "1".
DEMO_LOGIN = env("TABMUX_DEMO_LOGIN") == "1"
# On SIGTERM every open socket is closed with DRAIN_CLOSE_CODE and the reason
# "restart; reconnect-within=<DRAIN_WITHIN_MS>": tabmux brings this node's browsers back at
# moments drawn uniformly over that window (drain.py). Safari sees 1012 as 1006 without the
# reason and falls back to its backoff; 1001 or a 4000-4999 code reaches it (README.md).
DRAIN_WITHIN_MS = int(env("TABMUX_DRAIN_WITHIN_MS", "5000"))
DRAIN_CLOSE_CODE = int(env("TABMUX_DRAIN_CLOSE_CODE", "1012"))
# POST /publish/<stream> needs the header `X-Publish-Key: <this>`; unset, publishing is off.
PUBLISH_KEY = env("TABMUX_PUBLISH_KEY", "")

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "WARNING")},
}
