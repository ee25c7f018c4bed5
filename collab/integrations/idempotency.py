"""`Idempotency-Key` on POST: the first response is stored and replayed for a day.

Per caller (user) and key: the same request again gets the stored response (with
`Idempotent-Replayed: true`); the same key with another request is a 422. A 5xx response is
not kept, so the client may retry.

What a key costs a write (the issue's budget is 10% at p95):
- The key is reserved by one `INSERT .. ON CONFLICT DO NOTHING` in the request's own
  transaction (no savepoint: on SQLite a savepoint outside a transaction is a commit of its own),
  so it commits with the change. Of concurrent duplicates exactly one inserts and runs; the
  others' inserts wait on the unique index until it commits, then find the row and wait for
  its stored response to replay it.
- The response is stored by one UPDATE after the view, in a small transaction whose commit does
  not wait for the disk (`synchronous_commit` off on PostgreSQL, set by the UPDATE itself;
  `synchronous=NORMAL` on SQLite in WAL mode, in-process pragmas). The change and its key are
  durable with the request's own commit; an operating system crash in the next fraction of a
  second can lose only the stored response, which leaves the key answering 409 (as a process
  dying between the commit and the store always could).
- Expired keys are purged by `flask --app wsgi integrations purge-idempotency-keys`, and
  opportunistically, a bounded batch at most every `IDEMPOTENCY_PURGE_INTERVAL_SECONDS`, inside
  a response's store transaction (no commit of its own).
"""
import hashlib
import json
import threading
import time as clock
from datetime import UTC, timedelta

from flask import Flask, Response, current_app, g, request
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from collab import time
from collab.db import db
from collab.errors import Conflict, InvalidInput
from collab.integrations.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
TABLE = IdempotencyKey.__table__
# Set while the reservation is in the session's open transaction (with the request's changes).
UNCOMMITTED = "idempotency_reservation_uncommitted"
PURGE_BATCH = 1000
DEFAULTS = {
    "IDEMPOTENCY_TTL_SECONDS": 86400,
    "IDEMPOTENCY_WAIT_SECONDS": 10,
    "IDEMPOTENCY_PURGE_INTERVAL_SECONDS": 3600,
}

_last_purge = {"at": float("-inf")}  # the first keyed write of a process purges
_purge_lock = threading.Lock()


def _request_hash() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode()):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(row) -> Response:
    response = Response(row.response_body, status=row.status_code)
    for name, value in json.loads(row.response_headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _insert_if_absent(dialect: str, **values):
    """One statement that inserts the key's row unless the key exists (then nothing)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(TABLE).values(**values).on_conflict_do_nothing(
        index_elements=["user_id", "key"]).returning(TABLE.c.id)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _reserve(user_id: int, key: str, request_hash: str) -> bool:
    """Insert the key's row in the request's own transaction; False when it already exists."""
    inserted = db.session.execute(_insert_if_absent(
        _dialect(), user_id=user_id, key=key, request_hash=request_hash,
        created_at=time.now())).first()
    if inserted is None:
        db.session.rollback()  # hold no lock (SQLite: the write lock) while waiting for the first
        return False
    db.session.info[UNCOMMITTED] = True
    return True


def _transaction_ended(session) -> None:
    session.info.pop(UNCOMMITTED, None)


def _ttl() -> timedelta:
    return timedelta(seconds=float(current_app.config["IDEMPOTENCY_TTL_SECONDS"]))


def _expire(row) -> bool:
    """Delete the row if it outlived its day (then the key is free again)."""
    created_at = row.created_at.replace(tzinfo=UTC) if row.created_at.tzinfo is None else row.created_at
    if created_at >= time.now() - _ttl():
        return False
    with db.engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id == row.id))
    return True


def _existing(user_id: int, key: str):
    with db.engine.connect() as connection:
        return connection.execute(select(TABLE).where(
            TABLE.c.user_id == user_id, TABLE.c.key == key)).first()


def _purge_statement(cutoff, limit: int | None):
    """Rows older than `cutoff` (in batches of `limit`: one short write each)."""
    if limit is None:
        return delete(TABLE).where(TABLE.c.created_at < cutoff)
    batch = select(TABLE.c.id).where(TABLE.c.created_at < cutoff).order_by(
        TABLE.c.created_at).limit(limit)
    return delete(TABLE).where(TABLE.c.id.in_(batch.scalar_subquery()))


def purge_expired(batch: int = PURGE_BATCH, progress=None) -> int:
    """Delete every expired key, a batch per transaction; returns how many went."""
    cutoff, total = time.now() - _ttl(), 0
    while True:
        with db.engine.begin() as connection:
            deleted = connection.execute(_purge_statement(cutoff, batch)).rowcount
        total += deleted
        if progress is not None and deleted:
            progress(deleted)
        if deleted < batch:
            return total


def _purge_due() -> bool:
    """At most once per interval per process, opportunistically."""
    interval = float(current_app.config["IDEMPOTENCY_PURGE_INTERVAL_SECONDS"])
    if interval <= 0:
        return False
    now = clock.monotonic()
    with _purge_lock:
        if now - _last_purge["at"] < interval:
            return False
        _last_purge["at"] = now
        return True


def _before_request():
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or "caller" not in g:
        return None
    if not 1 <= len(key) <= 255:
        raise InvalidInput({HEADER: ["1 to 255 characters."]})
    request_hash, user_id = _request_hash(), g.caller.id
    wait = float(current_app.config["IDEMPOTENCY_WAIT_SECONDS"])
    deadline = clock.monotonic() + wait
    while True:
        if _reserve(user_id, key, request_hash):
            g.idempotency_key, g.idempotency_hash = (user_id, key), request_hash
            return None
        row = _existing(user_id, key)
        if row is None or _expire(row):
            continue  # released, or expired: the key is free again
        if row.request_hash != request_hash:
            raise InvalidInput({HEADER: ["Already used with a different request."]},
                               "This Idempotency-Key was used with a different request.")
        if row.status_code is not None:
            return _replay(row)
        if clock.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still in progress "
                           "(or its response was not kept).")
        clock.sleep(0.05)


def _store(user_id: int, key: str, response: Response) -> None:
    """One UPDATE (an INSERT when the request rolled its reservation back), one lazy commit."""
    session, dialect = db.session, _dialect()
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    stored = {"status_code": response.status_code,
              "response_body": response.get_data(as_text=True),
              "response_headers": json.dumps(headers)}
    connection = session.connection()
    # Only when the request's own changes are already committed (durably): this commit then
    # holds nothing but the stored response.
    lazy, relaxed = UNCOMMITTED not in session.info, None
    # PostgreSQL: `SET LOCAL synchronous_commit TO OFF`, said by the UPDATE itself (no round trip
    # of its own); set_config(.., true) lasts until this transaction's commit.
    marker = (func.set_config("synchronous_commit", "off", True)
              if lazy and dialect == "postgresql" else TABLE.c.id)
    if lazy and dialect == "sqlite":
        raw = connection.connection.driver_connection
        # Outside a transaction, and only in WAL mode, where NORMAL never corrupts: it only
        # may lose the last commits on a power loss.
        if not raw.in_transaction and raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            relaxed = raw.execute("PRAGMA synchronous").fetchone()[0]
            raw.execute("PRAGMA synchronous=NORMAL")
    try:
        where = (TABLE.c.user_id == user_id, TABLE.c.key == key)
        updated = session.execute(update(TABLE).where(*where).values(**stored).returning(marker))
        if updated.first() is None:
            # the request rolled its transaction back (an error): the reservation went too;
            # if a duplicate reserved the key meanwhile, it runs and stores its own answer
            session.execute(_insert_if_absent(dialect, user_id=user_id, key=key,
                                              request_hash=g.idempotency_hash,
                                              created_at=time.now(), **stored))
        if _purge_due():
            session.execute(_purge_statement(time.now() - _ttl(), PURGE_BATCH))
        session.commit()
    finally:
        if relaxed is not None:
            try:
                raw.execute(f"PRAGMA synchronous={int(relaxed)}")
            except Exception:  # never leave a pooled connection with lazy commits
                connection.invalidate()
                raise


def _after_request(response: Response) -> Response:
    reserved = g.pop("idempotency_key", None)
    if reserved is None:
        return response
    user_id, key = reserved
    if response.status_code >= 400:
        db.session.rollback()  # whatever the failed request left is not the caller's to keep
    if response.status_code >= 500:
        db.session.execute(delete(TABLE).where(TABLE.c.user_id == user_id, TABLE.c.key == key))
        db.session.commit()
        return response
    _store(user_id, key, response)
    return response


def _teardown(error) -> None:
    """A request that died without a response releases its key."""
    reserved = g.pop("idempotency_key", None)
    if reserved is not None:
        db.session.rollback()
        with db.engine.begin() as connection:
            connection.execute(delete(TABLE).where(TABLE.c.user_id == reserved[0],
                                                   TABLE.c.key == reserved[1]))


def init_app(app: Flask) -> None:
    from flask_sqlalchemy.session import Session as FlaskSession

    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    for name in ("after_commit", "after_rollback"):
        if not event.contains(FlaskSession, name, _transaction_ended):
            event.listen(FlaskSession, name, _transaction_ended)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown)
