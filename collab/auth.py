"""Bearer-token authentication: who is calling."""
import hashlib
import secrets

from flask import Flask, g, request
from sqlalchemy import String, bindparam, select

from collab import time
from collab.db import db, read_without_transaction
from collab.errors import Forbidden, Unauthorized
from collab.integrations import scopes
from collab.people.models import ApiToken, User

API_PREFIX = "/api/v1"
PUBLIC_PATHS = {f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/oauth/token"}
PUBLIC_PREFIXES = (f"{API_PREFIX}/docs",)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A random token; prefixed so it is recognisable in logs and secret scanners."""
    return "collab_" + secrets.token_urlsafe(32)


# Built once: every request runs it, and SQLAlchemy then neither rebuilds nor re-keys it.
_TOKEN_LOOKUP = (
    select(User, ApiToken.scopes, ApiToken.expires_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash", type_=String),
           ApiToken.revoked_at.is_(None)))

# Hot reads that write nothing (GET /threads/{id} only at a thread's first read in an hour, and
# then through collab.db.begin_writes): no transaction, two round trips fewer (issue 13).
READS_WITHOUT_TRANSACTION = frozenset({
    "threads.get_thread", "threads.list_threads", "communities.list_communities", "people.me"})


def current_user() -> User:
    """The authenticated caller of this request (authentication already enforced)."""
    return g.user


def current_scopes() -> frozenset[str]:
    """The scopes of the token this request came with."""
    return g.token_scopes


def _authenticate() -> None:
    if not request.path.startswith(API_PREFIX):
        return
    if request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    if request.method == "GET" and request.endpoint in READS_WITHOUT_TRANSACTION:
        read_without_transaction()
    found = db.session.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token.strip())}).first()
    if found is None:
        raise Unauthorized("The token is unknown or revoked.")
    user, token_scopes, expires_at = found
    if expires_at is not None and expires_at <= time.now():
        raise Unauthorized("The token has expired.")
    if user.deactivated_at is not None:
        raise Unauthorized("The account is deactivated.")
    g.user, g.token_scopes = user, scopes.parse(token_scopes)
    needed = scopes.required_scope(request.endpoint, request.method)
    if request.endpoint is not None and needed not in g.token_scopes:
        raise Forbidden(f"This token lacks the '{needed}' scope.",
                        errors={"scope": [f"Requires '{needed}'."]})


def init_app(app: Flask) -> None:
    app.before_request(_authenticate)
