"""Bearer-token authentication: who is calling."""
import hashlib
import secrets

from flask import Flask, g, request
from sqlalchemy import or_, select

from collab import time
from collab.db import db
from collab.errors import Unauthorized
from collab.people.models import ApiToken, User

API_PREFIX = "/api/v1"
PUBLIC_PATHS = {f"{API_PREFIX}/openapi.json"}
PUBLIC_PREFIXES = (f"{API_PREFIX}/docs",)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A random token; prefixed so it is recognisable in logs and secret scanners."""
    return "collab_" + secrets.token_urlsafe(32)


def current_user() -> User:
    """The authenticated caller of this request (authentication already enforced)."""
    return g.user


def _authenticate() -> None:
    if not request.path.startswith(API_PREFIX):
        return
    if request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    user = db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked_at.is_(None),
               or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > time.now()))
    )
    if user is None:
        raise Unauthorized("The token is unknown, revoked or expired.")
    g.user = user


def init_app(app: Flask) -> None:
    app.before_request(_authenticate)
