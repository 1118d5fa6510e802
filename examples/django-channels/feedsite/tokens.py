"""Short-lived WebSocket tokens: signed with SECRET_KEY, carrying their own expiry."""

import time

from django.conf import settings
from django.core import signing

SALT = "feedsite.ws-token"


def issue(user):
    """A token for `user`, valid for TOKEN_MAX_AGE seconds."""
    return signing.dumps({"u": user, "exp": time.time() + settings.TOKEN_MAX_AGE}, salt=SALT)


def check(token):
    """The token's claims `{"u": user, "exp": unix seconds}`, or None when it is forged,
    malformed or expired."""
    try:
        claims = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), (int, float)):
        return None
    return claims if claims["exp"] > time.time() else None


def remaining(token):
    """Seconds the token is still valid (0 when it is not)."""
    claims = check(token) if token else None
    return claims["exp"] - time.time() if claims else 0.0
