import json
import re
from secrets import compare_digest

from django.conf import settings
from redis.exceptions import RedisError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from . import streams, tokens
from .consumers import TOPIC, node_stats

STREAM = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_FRAMES = 1000  # per publish request


@require_POST
def login(request):
    """A stand-in for the site's real sign-in (off unless TABMUX_DEMO_LOGIN=1): puts `user` in
    the session cookie. Your site's login sets the same session key."""
    if not settings.DEMO_LOGIN:
        return HttpResponse("demo login is off", status=404, content_type="text/plain")
    user = request.POST.get("user", "")
    if not user:
        return HttpResponse("user required", status=400, content_type="text/plain")
    request.session["user"] = user
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def token(request):
    """tabmux's `token.url`: the WebSocket token as plain text, for the session's user.
    The same token is returned until less than half its life is left, so tabmux's poll does
    not turn every fetch into a reconnect."""
    user = request.session.get("user")
    if not user:
        return HttpResponse("sign in first", status=401, content_type="text/plain")
    node_stats["token_fetches"] += 1
    current = request.session.get("ws_token")
    if tokens.remaining(current) < settings.TOKEN_MAX_AGE / 2:
        current = request.session["ws_token"] = tokens.issue(user)
    return HttpResponse(current, content_type="text/plain", headers={"Cache-Control": "no-store"})


async def publish(request, stream):
    """POST {"frames": [<JSON>, …], "topic"?: T} with `X-Publish-Key`. Without a topic the
    frames are numbered and stored (replayable); with one they go live to its subscribers."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    if not settings.PUBLISH_KEY or not compare_digest(request.headers.get("X-Publish-Key", ""), settings.PUBLISH_KEY):
        return JsonResponse({"error": "bad or missing X-Publish-Key"}, status=403)
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    frames = body.get("frames") if isinstance(body, dict) else None
    topic = body.get("topic") if isinstance(body, dict) else None
    valid = (
        STREAM.match(stream)
        and isinstance(frames, list)
        and 0 < len(frames) <= MAX_FRAMES
        and (topic is None or (isinstance(topic, str) and TOPIC.match(topic)))
    )
    if not valid:
        return JsonResponse({"error": f'expected {{"frames": [1..{MAX_FRAMES} JSON values], "topic"?: name}}'}, status=400)
    payloads = [json.dumps(f, separators=(",", ":")) for f in frames]
    try:
        if topic is not None:
            await streams.publish_topic(stream, topic, payloads)
            return JsonResponse({"sent": len(payloads)})
        first = await streams.publish(stream, payloads)
    except (RedisError, OSError) as e:  # Redis down or restarting
        return JsonResponse({"error": f"redis unavailable: {e.__class__.__name__}"}, status=503)
    return JsonResponse({"first": first, "last": first + len(payloads) - 1})


@require_GET
def stats(request):
    """This node's counters (the tests read each node directly)."""
    return JsonResponse({"node": settings.NODE_NAME, **node_stats})
