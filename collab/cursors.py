"""Signed opaque cursors: a client hands back only what the server wrote.

A cursor is `base64url(json) "." base64url(hmac)`, keyed by SECRET_KEY and a purpose (list or
search), so a forged or edited cursor is refused before its JSON is even parsed. Callers still
type- and range-check what they get: a leaked key must not turn into a crash.
"""
import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from flask import current_app

MAX_CURSOR_LENGTH = 1000


class BadCursor(ValueError):
    """The cursor was not written by this server for this purpose (or is malformed)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _signature(purpose: str, payload: str) -> str:
    key = hashlib.sha256(f"collab-cursor:{purpose}:{current_app.config['SECRET_KEY']}".encode())
    return _b64(hmac.new(key.digest(), payload.encode(), hashlib.sha256).digest()[:16])


def sign(purpose: str, value: Any) -> str:
    payload = _b64(json.dumps(value, separators=(",", ":")).encode())
    return f"{payload}.{_signature(purpose, payload)}"


def unsign(purpose: str, cursor: str) -> Any:
    """The value inside `cursor`, or BadCursor; the JSON is parsed only once the signature holds."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor("too long")
    payload, dot, signature = cursor.partition(".")
    if not dot or not hmac.compare_digest(signature.encode(), _signature(purpose, payload).encode()):
        raise BadCursor("bad signature")
    try:
        return json.loads(_unb64(payload))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise BadCursor("malformed") from None
