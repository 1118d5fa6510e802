"""Draining a node on SIGTERM, so that its browsers come back spread over a window the node
chooses instead of all at once within the client's backoff.

Without this, Daphne stops on SIGTERM without sending a close frame: every browser sees 1006
and reconnects after its own backoff. With it, on SIGTERM (a rolling deploy, `kill`, an
orchestrator stopping the container):

1. the node stops listening, so the proxy (nginx: `proxy_next_upstream error`) sends new
   handshakes to the other nodes;
2. every open socket is closed with DRAIN_CLOSE_CODE (1012, "Service Restart") and the reason
   "restart; reconnect-within=<DRAIN_WITHIN_MS>": tabmux reads the hint and each browser
   reconnects at a moment drawn uniformly over that window (docs/guide/reconnect-policy.md);
3. it waits until those sockets are closed (the browsers answered the close frame, so the
   frame went out), at most DRAIN_WAIT_S, then stops the reactor as Daphne's own SIGTERM
   handler does: the process exits as before (code 0).

Daphne only (it runs on Twisted's asyncio reactor); under another ASGI server install() does
nothing, and consumer.close(code, reason) works there as it is.
"""

import asyncio
import logging
import signal
import sys

from django.conf import settings

DRAIN_WAIT_S = 1.0  # the longest wait for the close frames before the process exits

log = logging.getLogger(__name__)
_task = None  # the running drain (a reference, so the task is not garbage-collected)


def close_frame():
    """The code and reason every socket gets on a drain."""
    return {"code": settings.DRAIN_CLOSE_CODE, "reason": f"restart; reconnect-within={settings.DRAIN_WITHIN_MS}"}


def install(open_consumers):
    """Makes SIGTERM drain `open_consumers` (the set consumers.py keeps) before Daphne stops."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return  # not under Daphne (manage.py shell, another server): nothing to hook
    _send_any_close_frame()

    def on_sigterm(signum, frame):
        # A signal handler runs between two bytecodes: hand the work to the event loop.
        reactor.callFromThread(start, reactor, open_consumers)

    # Twisted installs its own SIGTERM handler (stop the reactor at once) when the reactor
    # starts, after this module is imported: replace it right after that.
    reactor.addSystemEventTrigger("after", "startup", signal.signal, signal.SIGTERM, on_sigterm)


def start(reactor, open_consumers):
    global _task
    if _task is None:  # a second SIGTERM does not start a second drain
        _task = asyncio.get_running_loop().create_task(drain(reactor, open_consumers))


async def drain(reactor, open_consumers):
    from twisted.internet.tcp import Port

    for listener in reactor.getReaders():
        if isinstance(listener, Port):
            listener.stopListening()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_WAIT_S
    told = set()
    count = len(open_consumers)
    while open_consumers and loop.time() < deadline:
        # Every socket still open and not told yet: at first all of them, then any accepted
        # while the listener was closing. Each leaves the set when the browser's answer to
        # the close frame ends its consumer.
        new = open_consumers - told
        told |= new
        for error in await asyncio.gather(*(c.close(**close_frame()) for c in new), return_exceptions=True):
            if error:
                log.warning("SIGTERM: a close failed: %r", error)
        await asyncio.sleep(0.01)
    log.warning("SIGTERM: closed %d sockets with %s, %d still open; stopping", count, close_frame(), len(open_consumers))
    if reactor.running:
        reactor.stop()  # what Daphne's own SIGTERM handler does


def _send_any_close_frame():
    """Daphne 4.2 drops the reason of a "websocket.close" (django/daphne#374), and autobahn's
    sendClose() raises for every code but 1000 and 3000-4999, 1012 included
    (crossbario/autobahn-python#1642): without this, close(code=1012, reason=…) raises and the
    browsers see 1006 when the process exits. This sends the close frame an open socket's
    consumer asks for as it is; everything else goes to Daphne unchanged."""
    from autobahn.util import encode_truncate
    from daphne.ws_protocol import WebSocketProtocol

    daphne_handle_reply = WebSocketProtocol.handle_reply

    def handle_reply(self, message):
        if message.get("type") == "websocket.close" and self.state == self.STATE_OPEN:
            reason = message.get("reason") or ""
            self.sendCloseFrame(code=message.get("code") or 1000, reasonUtf8=encode_truncate(reason, 123) if reason else None)
        else:
            daphne_handle_reply(self, message)

    WebSocketProtocol.handle_reply = handle_reply
