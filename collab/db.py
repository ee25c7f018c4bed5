"""Database handle, declarative base and column types shared by every feature."""
from datetime import UTC, datetime

from flask import current_app, g, has_app_context
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# psycopg turns a statement's %(name)s placeholders into $1, $2... by parsing its text, and keeps
# the result (an LRU of 128) only for statements up to 4,096 characters. A thread list page and a
# reply's insight roll-up upsert are longer: without this they were parsed again at every
# execution (about a tenth of a reply's CPU by profile). Their number is fixed (built once), so
# the cache stays small.
PSYCOPG_CACHED_STATEMENT_LENGTH = 16_384


def _psycopg_caches_long_statements() -> None:
    try:
        from psycopg import _queries
    except ImportError:  # another driver, or a psycopg without this cache
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", None) is not None:
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH,
                                                   PSYCOPG_CACHED_STATEMENT_LENGTH)


_psycopg_caches_long_statements()


DESCRIPTIONS_KEPT = 1024  # distinct result shapes a connection keeps descriptions of


def described_cursor_class():
    """psycopg's cursor, keeping the column descriptions of results it has seen (per connection).

    psycopg builds `cursor.description` afresh (a Column per column, each looking its type up)
    every time SQLAlchemy asks, i.e. at every execution: about a twentieth of a hot read's CPU.
    The same columns (name, type, modifier, size) describe the same way, so the list is kept,
    keyed by what psycopg builds it from. None without psycopg.
    """
    try:
        import psycopg
        from psycopg import pq
    except ImportError:
        return None
    tuples_ok = pq.ExecStatus.TUPLES_OK

    class DescribedCursor(psycopg.Cursor):
        @property
        def description(self):
            result = self.pgresult
            if result is None or result.status != tuples_ok:
                return super().description
            key = tuple((result.fname(i), result.ftype(i), result.fmod(i), result.fsize(i))
                        for i in range(result.nfields))
            kept = self._conn.__dict__.setdefault("_collab_descriptions", {})
            description = kept.get(key)
            if description is None:
                description = super().description
                if len(kept) < DESCRIPTIONS_KEPT:
                    kept[key] = description
            return description

    return DescribedCursor


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use collab.time.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def result_processor(self, dialect, coltype):
        """process_result_value in one call per value where the driver returns datetimes
        (psycopg; SQLite's text is parsed first): a page of 20 threads reads about 190."""
        if self.impl_instance.result_processor(dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)

        def process(value: datetime | None) -> datetime | None:
            return None if value is None else value.replace(tzinfo=UTC)
        return process


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys and waits for locks only when asked to."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def keep_for_transaction(session: Session, key: str, value) -> None:
    """Keep `value` in the session under `key` for its current transaction only: what a statement
    of this transaction read, reused later in it and never after it ends."""
    session.info[key] = (session.get_transaction(), value)


def kept_for_transaction(session: Session, key: str):
    """What keep_for_transaction kept under `key` in the current transaction, or None (also when
    it was kept in a transaction that has ended: then it is dropped)."""
    held = session.info.get(key)
    if held is None:
        return None
    if held[0] is not session.get_transaction():
        session.info.pop(key, None)
        return None
    return held[1]


def changed_columns(obj) -> set[str]:
    """The columns of `obj` with a pending change (their attribute history), for flush listeners.

    Only attributes set since the row was loaded (the state's committed_state) can have one, so
    only those are looked at, not every column of the mapper (writes run this per listener).
    Between a flush's writes and its end (after_flush listeners: the histories stay as they were
    until after_flush_postexec) the answer is kept per object, as half a dozen listeners ask.
    """
    state = instance_state(obj)
    committed = state.committed_state
    if not committed:
        return set()
    session = state.session
    memo = session.info.get(CHANGED_COLUMNS_KEY) if session is not None else None
    if memo is not None:
        found = memo.get(state)
        if found is not None:
            return set(found)
    columns = state.mapper.column_attrs
    manager, dict_ = state.manager, state.dict
    found = {key for key in committed if key in columns and manager[key].impl.get_history(
        state, dict_, PASSIVE_NO_INITIALIZE).has_changes()}
    if memo is not None:
        memo[state] = frozenset(found)
    return found


CHANGED_COLUMNS_KEY = "collab_changed_columns"


@event.listens_for(Session, "after_flush")
def _keep_changed_columns(session, flush_context) -> None:
    """Registered before every feature's after_flush listener (they import this module)."""
    session.info[CHANGED_COLUMNS_KEY] = {}


@event.listens_for(Session, "after_flush_postexec")
@event.listens_for(Session, "before_flush")
@event.listens_for(Session, "after_soft_rollback")
def _forget_changed_columns(session, *args) -> None:
    session.info.pop(CHANGED_COLUMNS_KEY, None)


def listen_as_outbox(session_class, collect, write, pending_key: str, wake_extension: str,
                     prepare=None) -> None:
    """Session listeners of a transactional outbox, attached once per session class.

    After each flush `collect(session, changes)` adds what the flush touched to the
    transaction's `changes` (None before the first), returning them; before the commit
    `prepare(session)` may fold work into the last flush, which runs then, and
    `write(session, changes)` writes the rows once per entity and answers whether it wrote any.
    After the commit the worker registered as `app.extensions[wake_extension]` (in-process
    draining) is woken; a rollback forgets the mark. Used by the search outbox and the webhook
    deliveries alike.
    """
    changes_key = f"{pending_key}_changes"
    listeners = _OUTBOX_LISTENERS.get(pending_key)
    if listeners is None:
        def current(session):
            """This transaction's changes; those of a transaction that ended are forgotten."""
            held = session.info.get(changes_key)
            root = session.get_transaction()
            return held[1] if held is not None and held[0] is root else None

        def after_flush(session, flush_context) -> None:
            changes = collect(session, current(session))
            if changes is not None:
                session.info[changes_key] = (session.get_transaction(), changes)

        def before_commit(session) -> None:
            context = prepare(session) if prepare is not None else None
            session.flush()  # the commit's own flush, now, so its changes are collected
            changes = current(session)
            session.info.pop(changes_key, None)
            if changes is not None and write(session, changes, context):
                session.info[pending_key] = True

        def after_commit(session) -> None:
            if not session.info.pop(pending_key, False) or not has_app_context():
                return
            wake = current_app.extensions.get(wake_extension)
            if wake is not None:
                wake()

        def after_rollback(session) -> None:
            session.info.pop(pending_key, None)

        listeners = _OUTBOX_LISTENERS[pending_key] = (
            ("after_flush", after_flush), ("before_commit", before_commit),
            ("after_commit", after_commit), ("after_rollback", after_rollback))
    for name, listener in listeners:
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


# One set of listener functions per outbox, so attaching again is recognised as a no-op.
_OUTBOX_LISTENERS: dict[str, tuple] = {}


def collect_outside_flush(session: Session, pending_key: str, collect) -> None:
    """What a Core write outside the unit of work (collab.threads.written) adds to an outbox's
    changes (listen_as_outbox): `collect(changes)` (None before the first) returns them, as the
    outbox's after_flush does, and its before_commit writes them with the rest."""
    changes_key = f"{pending_key}_changes"
    held = session.info.get(changes_key)
    root = session.get_transaction()
    changes = collect(held[1] if held is not None and held[0] is root else None)
    if changes is not None:
        session.info[changes_key] = (root, changes)


def commit_keeping(*kept) -> None:
    """Commit, leaving `kept` loaded as this transaction wrote them; everything else expires as usual.

    A write answers with what it wrote: reloading those rows after the commit would cost a
    statement each (and their eager loads). Their `version`, bumped by the outbox in SQL, expires.
    """
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    keep = {id(obj) for obj in kept}
    for obj in list(session.identity_map.values()):
        if id(obj) not in keep:
            session.expire(obj)
        elif "version" in obj.__mapper__.column_attrs:
            session.expire(obj, ["version"])


def read_without_transaction():
    """This request's statements run outside a transaction (PostgreSQL autocommit).

    For reads that write nothing, a transaction costs two round trips of its own (BEGIN, and the
    ROLLBACK when the session ends), about half a millisecond of the database's CPU per request,
    as much as the read itself. Only when the session holds no connection yet (the request's
    start). The driver's own autocommit switch, not SQLAlchemy's isolation-level option: that
    one set and reset the connection's characteristics at checkout and checkin (about a tenth of
    a GET /me's CPU); the pool switches autocommit off again when the connection returns
    (_autocommit_off). A read that turns out to write calls `begin_writes()` first. SQLite
    begins lazily anyway: no change there.

    Returns the session's connection, which the caller's first statement then uses (asking the
    session again, and its get_bind(), was a twentieth of a GET /me's CPU).
    """
    session = db.session()
    if session.in_transaction():
        return session.connection()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return connection
    dbapi_connection = connection.connection.dbapi_connection
    # psycopg has sent nothing yet (its BEGIN goes with the first statement): the switch is free
    dbapi_connection.autocommit = True
    connection.connection.info[AUTOCOMMIT_KEY] = True
    return connection


AUTOCOMMIT_KEY = "collab_autocommit"


def open_read_connection():
    """A Core connection of the engine for this request's reads, outside a transaction like
    read_without_transaction(), and no ORM session at all.

    For hot reads whose statements are all Core (collab.auth.READS_WITHOUT_SESSION): the
    session's own life around one connection (made, begun, asked for its connection, closed and
    removed at teardown) was about a fifth of a GET /me's CPU. Their statements take it from
    read_connection(); close_read_connection() gives it back at the request's end. Anything that
    still asks for db.session gets a session of its own, as usual.
    """
    connection = db.engine.connect()
    if connection.dialect.name == "postgresql":
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.autocommit = True  # the pool switches it back (_autocommit_off)
        connection.connection.info[AUTOCOMMIT_KEY] = True
    g.read_connection = connection
    return connection


def read_connection():
    """The connection for a read's Core statements: the request's read connection if it has
    one (open_read_connection), else the session's."""
    connection = g.get("read_connection")
    return db.session.connection() if connection is None else connection


def close_read_connection(error=None) -> None:
    """The request's read connection back to the pool (a request teardown)."""
    connection = g.pop("read_connection", None)
    if connection is not None:
        connection.close()


@event.listens_for(Pool, "checkin")
def _autocommit_off(dbapi_connection, connection_record) -> None:
    """A connection read_without_transaction() switched goes back to the pool transactional."""
    if connection_record is None or not connection_record.info.pop(AUTOCOMMIT_KEY, False):
        return
    if dbapi_connection is not None and getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.autocommit = False  # idle after the pool's reset: no round trip


def begin_writes() -> None:
    """Statements from here to the session's commit share one transaction again, even on a
    connection `read_without_transaction()` switched to autocommit (the switch is undone by the
    pool when the connection returns, whatever state it is in then)."""
    session = db.session()
    if not session.in_transaction():
        return
    dbapi_connection = session.connection().connection.dbapi_connection
    if getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.autocommit = False  # psycopg begins before the next statement
