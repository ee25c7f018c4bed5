"""`Idempotency-Key` on POST: the first response is stored and replayed for a day.

Per caller (user) and key: the same request again gets the stored response (with
`Idempotent-Replayed: true`); the same key with another request is a 422. The key is reserved
by inserting its row when the request starts, in the request's own transaction: of concurrent
duplicates exactly one inserts and runs (the others' inserts wait on the unique index, then
fail), and the others wait for its stored response and replay it.
A 5xx response is not kept, so the client may retry.
"""
import hashlib
import json
import time as clock
from datetime import UTC, timedelta

from flask import Flask, Response, current_app, g, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from collab import time
from collab.db import db
from collab.errors import Conflict, InvalidInput
from collab.integrations.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
TABLE = IdempotencyKey.__table__


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


def _reserve(user_id: int, key: str, request_hash: str) -> bool:
    """Insert the key's row in the request's own transaction; False when it already exists.

    The row commits with the change the request makes, so a key costs one extra commit (the
    stored response). A concurrent duplicate's insert waits on the unique index until then.
    """
    try:
        with db.session.begin_nested():
            db.session.execute(insert(TABLE).values(user_id=user_id, key=key,
                                                    request_hash=request_hash,
                                                    created_at=time.now()))
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def _expire(row) -> bool:
    """Delete the row if it outlived its day (then the key is free again)."""
    ttl = timedelta(seconds=float(current_app.config.get("IDEMPOTENCY_TTL_SECONDS", 86400)))
    created_at = row.created_at.replace(tzinfo=UTC) if row.created_at.tzinfo is None else row.created_at
    if created_at >= time.now() - ttl:
        return False
    with db.engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id == row.id))
    return True


def _existing(user_id: int, key: str):
    with db.engine.connect() as connection:
        return connection.execute(select(TABLE).where(
            TABLE.c.user_id == user_id, TABLE.c.key == key)).first()


def _before_request():
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or "user" not in g:
        return None
    if not 1 <= len(key) <= 255:
        raise InvalidInput({HEADER: ["1 to 255 characters."]})
    request_hash, user_id = _request_hash(), g.user.id
    wait = float(current_app.config.get("IDEMPOTENCY_WAIT_SECONDS", 10))
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
            raise Conflict("A request with this Idempotency-Key is still in progress.")
        clock.sleep(0.05)


def _after_request(response: Response) -> Response:
    reserved = g.pop("idempotency_key", None)
    if reserved is None:
        return response
    user_id, key = reserved
    where = (TABLE.c.user_id == user_id, TABLE.c.key == key)
    db.session.rollback()  # the request's transaction is over (committed, or failed)
    if response.status_code >= 500:
        with db.engine.begin() as connection:
            connection.execute(delete(TABLE).where(*where))
        return response
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    stored = {"status_code": response.status_code,
              "response_body": response.get_data(as_text=True),
              "response_headers": json.dumps(headers)}
    try:
        with db.engine.begin() as connection:
            if not connection.execute(update(TABLE).where(*where).values(**stored)).rowcount:
                # the request rolled its transaction back (an error): the reservation went too
                connection.execute(insert(TABLE).values(user_id=user_id, key=key,
                                                        request_hash=g.idempotency_hash,
                                                        created_at=time.now(), **stored))
    except IntegrityError:
        pass  # a duplicate reserved the key meanwhile; it will run and store its own answer
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
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown)
