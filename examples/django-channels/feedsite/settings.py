"""Settings of the tabmux reference backend. Everything a deployment changes comes from the
environment; the defaults are for a local run (see README.md)."""

import os

env = os.environ.get

SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-not-secret")  # signs session cookies and tokens
DEBUG = env("DJANGO_DEBUG") == "1"
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
# POST /publish/<stream> needs the header `X-Publish-Key: <this>`; unset, publishing is off.
PUBLISH_KEY = env("TABMUX_PUBLISH_KEY", "")

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "WARNING")},
}
