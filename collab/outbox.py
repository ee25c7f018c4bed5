"""The search outbox: every change that alters a search document writes a row in the same transaction.

Services never call this module. SQLAlchemy session events watch threads, posts, votes, tags and
communities (with their audiences and allow-lists). Every search document is a thread (its posts
nested inside), so each change maps to threads: a post to its thread (a post moved by a merge to
both), a vote or tag to its thread, a community to all its threads. After each flush they note
what it touched; before the commit they bump `threads.version` (and a changed post's own
`version`) once per transaction, in the row's own UPDATE when the commit's flush writes it anyway,
and insert one outbox row per thread or community, on the transaction's connection, so the change
and its outbox row commit or roll back together. The indexer (search/indexer.py) drains it.

In database-only mode (no ELASTICSEARCH_URL) nothing would ever drain the rows, so none are
written (versions are still bumped); turning Elasticsearch on later starts with `search reindex`,
which builds every document from the database. `SEARCH_OUTBOX` on/off overrides the choice.
"""
from datetime import datetime
from enum import StrEnum

from flask import Flask, current_app, has_app_context
from sqlalchemy import BigInteger, Index, Integer, String, Text, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from collab import time
from collab.communities.models import Community, CommunityAudience, CommunityOrganization
from collab.db import UTCDateTime, changed_columns, collect_outside_flush, db, listen_as_outbox
from collab.ideas.models import Vote
from collab.people.models import User
from collab.threads import written
from collab.threads.models import Post, Thread, ThreadTag

PENDING_KEY = "search_outbox_pending"
# A post's vote counts (collab/answers) are not in its thread's search document: no outbox row.
POST_VOTE_COUNTS = {"upvotes", "downvotes", "score"}


class OutboxEntity(StrEnum):
    """What a row asks the indexer to rebuild: thread documents (posts live inside them)."""

    THREAD = "thread"        # the thread's document, with its posts
    COMMUNITY = "community"  # every thread document of the community


class OutboxRow(db.Model):
    __tablename__ = "search_outbox"
    __table_args__ = (
        Index("ix_search_outbox_pending", "processed_at", "next_attempt_at", "id"),
        Index("ix_search_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    # A worker's lease: rows claimed longer ago than the lease are claimable again (crashed worker).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # Kept for a while after success so a reindex can replay what happened during its scan.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class _Changes:
    """Entity ids touched by a transaction: threads whose document changes, posts, communities."""

    def __init__(self):
        self.threads: set[int] = set()
        self.posts: set[int] = set()  # their versions are bumped; their threads are rebuilt
        self.communities: set[int] = set()
        self.authors: set[int] = set()  # users whose name or audience documents carry
        # Threads whose version a service's own UPDATE bumped already (thread_versioned)
        self.versioned: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.threads or self.posts or self.communities or self.authors)

    def update(self, other: "_Changes") -> None:
        for name in ("threads", "posts", "communities", "authors", "versioned"):
            getattr(self, name).update(getattr(other, name))


def _note(changes: _Changes, obj, columns: set[str] | None) -> None:
    """Record the documents `obj`'s change touches; `columns` None: the row was added or removed."""
    if isinstance(obj, Thread):
        if columns is None or columns - {"version"}:
            changes.threads.add(obj.id)
    elif isinstance(obj, (Post, Vote, ThreadTag)):
        ignored = POST_VOTE_COUNTS if isinstance(obj, Post) else set()
        columns = None if columns is None else columns - {"version"} - ignored
        if columns and "thread_id" in columns:  # moved by a merge: it leaves the old thread's document
            changes.threads.update(db.inspect(obj).attrs["thread_id"].history.deleted)
        if columns is None or columns:
            changes.threads.add(obj.thread_id)
            if isinstance(obj, Post):
                changes.posts.add(obj.id)
    elif isinstance(obj, Community):
        if columns is None or columns - {"updated_at"}:
            changes.communities.add(obj.id)
    elif isinstance(obj, (CommunityAudience, CommunityOrganization)):
        if columns is None or columns:
            changes.communities.add(obj.community_id)
    elif isinstance(obj, User):
        if columns and columns & AUTHOR_COLUMNS:  # a renamed or erased author
            changes.authors.add(obj.id)


AUTHOR_COLUMNS = {"handle", "display_name", "audience", "organization"}


def _collect(session: Session) -> _Changes:
    changes = _Changes()
    for obj in session.new:
        if not isinstance(obj, Community):  # a new community has no documents yet
            _note(changes, obj, None)
    for obj in session.dirty:
        _note(changes, obj, changed_columns(obj))
    for obj in session.deleted:
        _note(changes, obj, None)
    for ids in (changes.threads, changes.posts, changes.communities):
        ids.discard(None)
    return changes


def writes_rows(app: Flask) -> bool:
    """Whether document changes are queued: configured explicitly, else only when a cluster is set."""
    configured = app.config.get("SEARCH_OUTBOX")
    return bool(app.config.get("ELASTICSEARCH_URL")) if configured is None else bool(configured)


def _collect_flush(session: Session, changes: _Changes | None) -> _Changes | None:
    """After each flush: add what it touched to the transaction's changes."""
    flushed = _collect(session)
    if not flushed:
        return changes
    if changes is None:
        return flushed
    changes.update(flushed)
    return changes


CHANGES_KEY = f"{PENDING_KEY}_changes"  # where listen_as_outbox keeps a transaction's changes


def thread_versioned(session: Session, thread_id: int) -> bool:
    """A service writes the thread's row itself, in a Core UPDATE (threads.service.write_counters):
    the thread's document is queued as for an ORM change, and its version is bumped by that
    UPDATE, once per transaction, instead of by the outbox. Returns whether this is the
    transaction's first (the caller's UPDATE then adds 1 to the version)."""
    held = session.info.get(CHANGES_KEY)
    root = session.get_transaction()
    changes = held[1] if held is not None and held[0] is root else None
    if changes is None:
        changes = _Changes()
        session.info[CHANGES_KEY] = (root, changes)
    first = thread_id not in changes.versioned
    changes.threads.add(thread_id)
    changes.versioned.add(thread_id)
    return first


@written.listen
def _post_written(session: Session, post) -> None:
    """A reply inserted by a Core statement (threads.service.create_post): its thread's document
    is queued, as for a new Post in a flush. The INSERT wrote the post's version already bumped
    (NEW_POST_VERSION, as _fold_versions bumps a new one), so the post is not noted for a bump."""
    def collect(changes: _Changes | None) -> _Changes:
        changes = _Changes() if changes is None else changes
        changes.threads.add(post.thread_id)
        return changes
    collect_outside_flush(session, PENDING_KEY, collect)


# A new post's version as the commit writes it: the column's default, bumped (_fold_versions).
NEW_POST_VERSION = 2


def _versioned(session: Session) -> set[int]:
    held = session.info.get(CHANGES_KEY)
    return held[1].versioned if held is not None and held[0] is session.get_transaction() else set()


def _fold_versions(session: Session) -> list:
    """Before the commit's flush: bump the version of threads and posts it writes anyway.

    Their own INSERT or UPDATE carries the new version, so the outbox bumps them no further.
    Returns the objects bumped (a new one has its id only after the flush).
    """
    folded = []
    versioned = _versioned(session)
    for obj in session.new:
        if isinstance(obj, (Thread, Post)):
            obj.version = (obj.version or 1) + 1  # the column's default, bumped (NEW_POST_VERSION)
            folded.append(obj)
    for obj in session.dirty:
        if isinstance(obj, (Thread, Post)):
            if isinstance(obj, Thread) and obj.id in versioned:
                continue  # bumped by the service's own UPDATE
            columns = changed_columns(obj)
            if "version" in columns:
                continue
            ignored = POST_VOTE_COUNTS if isinstance(obj, Post) else set()
            if columns - ignored:
                obj.version = type(obj).version + 1
                folded.append(obj)
    return folded


_INSERT_ROWS = insert(OutboxRow.__table__)  # built once


def _write(session: Session, changes: _Changes, folded: list | None) -> bool:
    """Once per transaction: bump versions and write one outbox row per thread or community."""
    if not changes:
        return False
    connection = session.connection()
    threads, posts = Thread.__table__, Post.__table__
    if changes.authors:
        changes.threads.update(connection.scalars(
            select(threads.c.id).where(threads.c.author_id.in_(changes.authors))
            .union(select(posts.c.thread_id).where(posts.c.author_id.in_(changes.authors)))))
    bumped_threads = {obj.id for obj in folded or () if isinstance(obj, Thread)} | changes.versioned
    bumped_posts = {obj.id for obj in folded or () if isinstance(obj, Post)}
    if changes.threads - bumped_threads:
        connection.execute(update(threads).where(threads.c.id.in_(changes.threads - bumped_threads))
                           .values(version=threads.c.version + 1))
    if changes.posts - bumped_posts:
        connection.execute(update(posts).where(posts.c.id.in_(changes.posts - bumped_posts))
                           .values(version=posts.c.version + 1))
    if changes.communities:
        connection.execute(update(threads).where(threads.c.community_id.in_(changes.communities))
                           .values(version=threads.c.version + 1))
    stamp = time.now()
    rows = [{"entity": entity, "entity_id": entity_id, "created_at": stamp,
             "next_attempt_at": stamp, "attempts": 0}
            for entity, ids in ((OutboxEntity.THREAD, changes.threads),
                                (OutboxEntity.COMMUNITY, changes.communities))
            for entity_id in sorted(ids)]
    if rows and (not has_app_context() or writes_rows(current_app)):
        connection.execute(_INSERT_ROWS, rows)
        return True
    return False


def listen(session_class: type[Session]) -> None:
    """Attach the listeners once per session class (idempotent)."""
    listen_as_outbox(session_class, _collect_flush, _write, PENDING_KEY, "search_outbox_wake",
                     prepare=_fold_versions)


# Full-text structures of the database search engine, unknown to the ORM (name prefixes): the
# FTS5 tables (migration 0002), the stored vectors and their GIN indexes (migration 0032).
FULL_TEXT_STRUCTURES = ("threads_fts", "posts_fts", "ix_threads_search", "ix_posts_search",
                        "search_vector")


def _include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    return not (reflected and name and name.startswith(FULL_TEXT_STRUCTURES))


def init_app(app: Flask) -> None:
    """Outbox rows for every document change; in-process draining when configured."""
    from flask_sqlalchemy.session import Session as FlaskSession

    listen(FlaskSession)
    migrate_config = app.extensions.get("migrate")
    if migrate_config is not None:  # keep `flask db migrate` from dropping them
        migrate_config.configure_args.setdefault("include_object", _include_in_autogenerate)
    from search.indexer import install_in_process_sync  # the projection layer drains

    install_in_process_sync(app)
