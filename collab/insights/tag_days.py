"""The tag roll-up of rising topics: live threads per (community, UTC day, tag, author).

`insight_tag_days` is a projection of threads and their tags, kept in the writing transaction by
session events (the collab/insights/rollup.py pattern) and rebuilt from the history by
`flask --app wsgi insights rebuild`. Besides each author's row, every (community, day, tag) has a
row for everyone (user_id = EVERYONE, the tag's threads that day), and the organisation
(community_id = ORGANIZATION) has the same rows summed over every community, so a window's counts
per tag read a few rows per day and tag, and a tag's distinct authors read its authors' rows.

- A new thread with tags (the common write) adds its rows: one INSERT ... SELECT upsert.
- Deleting, hiding, restoring, merging or moving a thread, changing its author or creation time,
  or editing its tags recomputes the touched (community, day) cells and the organisation's rows
  of those days from the same SQL source (`source`), as `rebuild` does for every day.
"""
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import (BindParameter, Index, Integer, String, bindparam, delete, event, func,
                        inspect, literal, select, true, union_all)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.util import identity_key

from collab.db import changed_columns, db
from collab.insights.models import ORGANIZATION
from collab.insights.rollup import THREAD_COLUMNS, history_values, midnight, utc_day
from collab.threads.models import Thread, ThreadTag

EVERYONE = 0  # user_id of a (community, day, tag)'s row summed over its authors
KEY = ["community_id", "user_id", "day", "tag"]


class InsightTagDay(db.Model):
    """Live threads with a tag started on a UTC day in a community (ORGANIZATION: every
    community) by a person (EVERYONE: anyone)."""

    __tablename__ = "insight_tag_days"
    # The key serves a window's counts (community, EVERYONE, day range); this index a tag's
    # distinct authors in a window (community, tag, day range), from the index alone.
    __table_args__ = (Index("ix_insight_tag_days_tag", "community_id", "tag", "day", "user_id"),)

    # ORGANIZATION (0) and EVERYONE (0) are not rows of communities and users: no foreign keys.
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(db.Date, primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    threads: Mapped[int] = mapped_column(Integer, default=0)


def _live():
    return [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]


def source(lower: datetime | None = None, upper: datetime | None = None,
           community_ids: list[int] | None = None, thread_ids=None, organization: bool = False):
    """(community_id, user_id, day, tag, threads) of live threads created in [lower, upper) (or
    of `thread_ids`: a list, an expanding or a plain bind parameter), each author's rows and
    EVERYONE's, and with `organization` the ORGANIZATION's rows of the same threads too."""
    conditions = _live()
    if community_ids is not None:
        conditions.append(Thread.community_id.in_(community_ids))
    if lower is not None:
        conditions.append(Thread.created_at >= lower)
    if upper is not None:
        conditions.append(Thread.created_at < upper)
    if thread_ids is not None:
        conditions.append(Thread.id == thread_ids
                          if isinstance(thread_ids, BindParameter) and not thread_ids.expanding
                          else Thread.id.in_(thread_ids))
    tagged = (select(Thread.community_id, Thread.author_id, func.date(Thread.created_at)
                     .label("day"), ThreadTag.tag)
              .join(ThreadTag, ThreadTag.thread_id == Thread.id).where(*conditions).subquery())
    t = tagged.c
    scopes = [t.community_id, literal(ORGANIZATION)] if organization else [t.community_id]
    parts = [select(scope.label("community_id"), person.label("user_id"), t.day, t.tag,
                    func.count().label("threads"))
             .group_by(*([t.community_id] if scope is t.community_id else []),
                       *([t.author_id] if person is t.author_id else []), t.day, t.tag)
             for scope in scopes for person in (t.author_id, literal(EVERYONE))]
    rows = union_all(*parts).subquery()
    return select(*[rows.c[name] for name in KEY], rows.c.threads).where(true())  # SQLite upsert


def _upsert(connection, statement, add: bool = False):
    """INSERT … SELECT that overwrites (or adds to) a row already there."""
    insert = (postgresql_insert if connection.dialect.name == "postgresql"
              else sqlite_insert)(InsightTagDay).from_select(KEY + ["threads"], statement)
    table = InsightTagDay.__table__
    return connection.execute(insert.on_conflict_do_update(
        index_elements=KEY, set_={"threads": (table.c.threads + insert.excluded.threads) if add
                                  else insert.excluded.threads}))


_built: dict[str, object] = {}


def add_new(connection, thread_ids: list[int]) -> None:
    """New threads' tags added to their days and the organisation's: one statement, built once
    per database (a lone thread binds its id alone, so it is not rendered again each time)."""
    one = len(thread_ids) == 1
    key = f"{connection.dialect.name}-{'one' if one else 'many'}"
    if key not in _built:
        ids = bindparam("thread_id", type_=Integer) if one else bindparam("ids", expanding=True)
        insert = (postgresql_insert if connection.dialect.name == "postgresql"
                  else sqlite_insert)(InsightTagDay).from_select(
            KEY + ["threads"], source(thread_ids=ids, organization=True))
        _built[key] = insert.on_conflict_do_update(
            index_elements=KEY,
            set_={"threads": InsightTagDay.__table__.c.threads + insert.excluded.threads})
    connection.execute(_built[key], {"thread_id": thread_ids[0]} if one else {"ids": thread_ids})


def _organization(days: list[date] | None):
    """The organisation's rows: each (person or EVERYONE, day, tag) summed over communities."""
    rows = InsightTagDay
    statement = (select(literal(ORGANIZATION), rows.user_id, rows.day, rows.tag,
                        func.sum(rows.threads))
                 .where(rows.community_id != ORGANIZATION)
                 .group_by(rows.user_id, rows.day, rows.tag))
    return statement if days is None else statement.where(rows.day.in_(days))


def refresh_days(connection, cells: set[tuple[int, date]]) -> None:
    """Recompute the (community, day) cells and the organisation's rows of their days."""
    for community_id, day in sorted(cells):
        connection.execute(delete(InsightTagDay).where(InsightTagDay.community_id == community_id,
                                                       InsightTagDay.day == day))
        _upsert(connection, source(midnight(day), midnight(day) + timedelta(days=1),
                                   [community_id]))
    days = sorted({day for _, day in cells})
    if days:
        connection.execute(delete(InsightTagDay).where(
            InsightTagDay.community_id == ORGANIZATION, InsightTagDay.day.in_(days)))
        _upsert(connection, _organization(days))


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Recompute the roll-up from every live thread's tags (a year of threads at a time);
    returns its rows. The caller commits."""
    connection = db.session.connection()
    connection.execute(delete(InsightTagDay))
    first, last = connection.execute(select(func.min(Thread.created_at),
                                            func.max(Thread.created_at))).one()
    if first is not None:
        day, end = utc_day(first), utc_day(last) + timedelta(days=1)
        while day < end:
            step = min(365, (end - day).days)
            _upsert(connection, source(midnight(day), midnight(day + timedelta(days=step))))
            day += timedelta(days=step)
            if progress:
                progress(step)
        _upsert(connection, _organization(None))
    return connection.scalar(select(func.count()).select_from(InsightTagDay))


# Session events: the threads and (community, day) cells a flush touches --------------------

@event.listens_for(Session, "after_flush")
def _touched(session: Session, flush_context) -> None:
    new_threads = {item.id for item in session.new if isinstance(item, Thread)}
    tagged_new, retagged, cells = set(), set(), set()
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, ThreadTag):
            for thread_id in history_values(item, "thread_id"):
                (tagged_new if thread_id in new_threads else retagged).add(thread_id)
        elif isinstance(item, Thread) and item.id not in new_threads:
            if item in session.dirty and inspect(item).attrs.tag_rows.history.has_changes():
                retagged.add(item.id)  # orphaned tag rows are deleted within the flush only
            if item in session.dirty and not changed_columns(item) & THREAD_COLUMNS:
                continue
            cells |= {(c, utc_day(d)) for c in history_values(item, "community_id")
                      for d in history_values(item, "created_at")}
    if not (tagged_new or retagged or cells):
        return  # most writes (replies, votes, reads): nothing to do, no statement
    connection = session.connection()
    if tagged_new:  # first: a day recomputed below then holds them as well
        add_new(connection, sorted(tagged_new))
    unknown = set()
    for thread_id in retagged:
        thread = session.identity_map.get(identity_key(Thread, thread_id))
        if thread is not None and {"community_id", "created_at"} <= thread.__dict__.keys():
            cells |= {(c, utc_day(d)) for c in history_values(thread, "community_id")
                      for d in history_values(thread, "created_at")}
        else:
            unknown.add(thread_id)
    if unknown:
        cells |= {(community_id, utc_day(created_at)) for community_id, created_at in
                  connection.execute(select(Thread.community_id, Thread.created_at)
                                     .where(Thread.id.in_(unknown)))}
    refresh_days(connection, cells)
