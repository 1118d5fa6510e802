import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedsite.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_http = get_asgi_application()  # before importing anything that uses models or settings

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from . import drain  # noqa: E402
from .consumers import FeedConsumer, open_consumers  # noqa: E402

# SIGTERM closes every open socket with 1012 and a reconnect-within hint, then exits (drain.py).
drain.install(open_consumers)

application = ProtocolTypeRouter(
    {
        "http": django_http,
        # The token travels in the query string (browsers cannot set headers on a WebSocket);
        # the consumer checks it. The Origin must be one of ALLOWED_HOSTS.
        "websocket": AllowedHostsOriginValidator(
            URLRouter([re_path(r"^ws/(?P<stream>[A-Za-z0-9_.-]{1,40})$", FeedConsumer.as_asgi())])
        ),
    }
)
