"""Bearer-token authentication: who is calling."""
import hashlib
import secrets
from dataclasses import make_dataclass

from flask import Flask, g, request
from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from collab import time
from collab.db import (
    close_read_connection,
    db,
    open_read_connection,
    read_without_transaction,
)
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


_USERS, _TOKENS = User.__table__, ApiToken.__table__
_USER_COLUMNS = tuple(column.key for column in _USERS.columns)

# The caller as the token lookup read it: every column of the user, no ORM instance. Hot reads
# take it as is (current_caller()); anything else gets a User of the session (current_user()).
Caller = make_dataclass("Caller", _USER_COLUMNS, frozen=True, slots=True)
Caller.__doc__ = "The authenticated user's columns, read with the token (read-only)."

# Built once: every request runs it, and SQLAlchemy then neither rebuilds nor re-keys it. Core
# rows, not an ORM load: the ORM's loading was about a third of a GET /me's CPU (issue 13).
_TOKEN_LOOKUP = (
    select(*_USERS.columns, _TOKENS.c.scopes, _TOKENS.c.expires_at)
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash", type_=String),
           _TOKENS.c.revoked_at.is_(None)))

# Hot reads that write nothing (GET /threads/{id} only at a thread's first read in an hour, and
# then through collab.db.begin_writes): no transaction, two round trips fewer (issue 13).
READS_WITHOUT_TRANSACTION = frozenset({
    "threads.get_thread", "threads.list_threads", "communities.list_communities", "people.me"})
# Of those, the reads whose statements are all Core on collab.db.read_connection(): they run on
# one connection of the engine, without an ORM session (collab.db.open_read_connection).
READS_WITHOUT_SESSION = frozenset({
    "communities.list_communities", "people.me", "threads.list_threads", "threads.get_thread"})


class _DriverLookup:
    """The token lookup as its driver runs it: the statement compiled once for the dialect and
    the result processors of its columns, for psycopg's cursor on the request's connection.

    SQLAlchemy's execution of a cached Core statement (execution context, result object) was
    about half of the lookup's app CPU, 0.11 ms of every request (issue 13). The statement and
    the values are what Core sends and returns (same SQL text, so the same prepared statement;
    same result processors); statement events still fire for whoever listens (statement
    counts). Other drivers (SQLite) run it through Core.
    """

    def __init__(self, dialect):
        compiled = _TOKEN_LOOKUP.compile(dialect=dialect)
        self.sql = compiled.string
        self.processors = tuple(
            column.type._cached_result_processor(dialect, None)
            for column in _TOKEN_LOOKUP.selected_columns)

    def first(self, connection, token_hash: str):
        sql, parameters = self.sql, {"token_hash": token_hash}
        events = connection._has_events or connection.engine._has_events
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        try:
            if events:  # as Core calls them: each listener may answer a changed statement
                for listener in connection.dispatch.before_cursor_execute:
                    sql, parameters = listener(connection, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            if events:
                connection.dispatch.after_cursor_execute(
                    connection, cursor, sql, parameters, None, False)
            row = cursor.fetchone()
        except Exception:
            if dbapi_connection.closed or dbapi_connection.broken:
                connection.invalidate()  # as Core does on a disconnect: not back to the pool
            raise
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(value if process is None or value is None else process(value)
                     for process, value in zip(self.processors, row))


_DRIVER_LOOKUPS: dict = {}


def _look_token_up(connection, token_hash: str):
    """The caller's columns, the token's scopes and expiry; None for an unknown or revoked
    token."""
    dialect = connection.dialect
    if dialect.driver != "psycopg":
        return connection.execute(_TOKEN_LOOKUP, {"token_hash": token_hash}).first()
    lookup = _DRIVER_LOOKUPS.get(dialect)
    if lookup is None:
        lookup = _DRIVER_LOOKUPS[dialect] = _DriverLookup(dialect)
    return lookup.first(connection, token_hash)


def current_user() -> User:
    """The authenticated caller of this request as a User of the session (authentication
    already enforced), made from the columns the token lookup read: no statement."""
    user = g.get("user")
    if user is None:
        user = g.user = _session_user(g.caller)
    return user


def current_caller() -> Caller:
    """The authenticated caller's columns, for reads that only look at them (the hot reads:
    who may see what, the caller's own payload); cheaper than current_user()."""
    return g.caller


def _session_user(caller: Caller) -> User:
    """The caller as a persistent User, as if loaded now (the session's own if it has one)."""
    session = db.session()
    user = session.identity_map.get(session.identity_key(User, (caller.id,)))
    if user is None:
        user = User(**{key: getattr(caller, key) for key in _USER_COLUMNS})
        make_transient_to_detached(user)  # what it holds is what the database holds
        session.add(user)
    return user


def current_scopes() -> frozenset[str]:
    """The scopes of the token this request came with."""
    return g.token_scopes


def _authenticate() -> None:
    # Requests may share an app context (a test client inside a CLI command): nobody's caller
    # outlives their request.
    context = g._get_current_object()
    context.pop("caller", None)
    context.pop("user", None)
    context.pop("token_hash", None)
    req = request._get_current_object()  # one context lookup, not one per attribute
    path = req.path
    if not path.startswith(API_PREFIX):
        return
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    endpoint = req.endpoint
    if req.method != "GET" or endpoint not in READS_WITHOUT_TRANSACTION:
        connection = db.session.connection()
    elif endpoint in READS_WITHOUT_SESSION:
        connection = open_read_connection()
    else:
        connection = read_without_transaction()
    token_hash = hash_token(token.strip())
    found = _look_token_up(connection, token_hash)
    if found is None:
        raise Unauthorized("The token is unknown or revoked.")
    *columns, token_scopes, expires_at = found
    caller = Caller(*columns)
    if expires_at is not None and expires_at <= time.now():
        raise Unauthorized("The token has expired.")
    if caller.deactivated_at is not None:
        raise Unauthorized("The account is deactivated.")
    token_scopes = scopes.parse(token_scopes)
    context.caller, context.token_scopes, context.token_hash = caller, token_scopes, token_hash
    needed = scopes.required_scope(endpoint, req.method)
    if endpoint is not None and needed not in token_scopes:
        raise Forbidden(f"This token lacks the '{needed}' scope.",
                        errors={"scope": [f"Requires '{needed}'."]})


def init_app(app: Flask) -> None:
    app.before_request(_authenticate)
    app.teardown_request(close_read_connection)
