"""The insight roll-ups: one SQL source for events, rebuilds and a window's partial days.

`source()` groups live threads and posts into InsightDay rows. Session events recompute the
(community, UTC day) cells a flush touches, and the organisation's row of each touched day as
the sum of its communities' rows, with that same source; `rebuild()` runs it over the whole
history, so both produce the same rows. Thread facts (first reply by someone else, and the
thread's start, which a window's response times select them by) likewise.
"""
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (BindParameter, Integer, String, and_, bindparam, case, delete, event,
                        false, func, inspect, literal, literal_column, or_, select, true,
                        union_all)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from collab.db import changed_columns, db
from collab.ideas.models import IdeaStatusChange
from collab.insights import periods
from collab.insights.models import ORGANIZATION, InsightDay, ThreadFact
from collab.people.models import Audience, User
from collab.threads import written
from collab.threads.models import Post, Thread

AUDIENCES = [a.value for a in Audience]
TO = [f"replies_to_{a}" for a in AUDIENCES]
FROM = [f"replies_from_{a}" for a in AUDIENCES]
COUNTS = ["threads", "posts", *TO, *FROM]
KEY = ["community_id", "day", "user_id"]


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def _text(value: str):
    """A constant string in the SQL (an audience: letters only)."""
    assert value.isalpha()
    return literal_column(f"'{value}'", String)


def source(lower: datetime | None, upper: datetime | None,
           community_ids: list[int] | None = None, added: tuple[list, list] | None = None):
    """(community_id, day, user_id, *COUNTS) of live threads and posts created in [lower, upper)
    (or of the `added` (thread ids, post ids) only)."""
    live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
    if community_ids is not None:
        live.append(Thread.community_id.in_(community_ids))

    def within(column):
        if added is not None:  # lists of ids, expanding bind parameters, or one id (add_new)
            target, ids = ((Thread.id, added[0]) if column is Thread.created_at
                           else (Post.id, added[1]))
            if ids is None:
                return [false()]
            if isinstance(ids, BindParameter) and not ids.expanding:
                return [target == ids]
            return [target.in_(ids)]
        return [c for c in (column >= lower if lower else None,
                            column < upper if upper else None) if c is not None]
    # Constants written into the SQL, not bound: a reply's roll-up statement bound 22 of them
    # at every execution (SQLAlchemy's parameters and psycopg's dumping of each).
    zero, one = literal_column("0", Integer), literal_column("1", Integer)
    started = (select(Thread.community_id, func.date(Thread.created_at).label("day"),
                      Thread.author_id.label("user_id"), one.label("threads"),
                      *[zero.label(name) for name in COUNTS[1:]])
               .where(*live, *within(Thread.created_at)))
    parent, recipient, replier = aliased(Post), aliased(User), aliased(User)
    to_id = func.coalesce(parent.author_id, Thread.author_id)
    other = Post.author_id != to_id
    replies = (select(Thread.community_id, func.date(Post.created_at).label("day"),
                      Post.author_id.label("user_id"), zero.label("threads"),
                      one.label("posts"),
                      *[case((and_(other, recipient.audience == _text(a)), one), else_=zero)
                        .label(name)
                        for a, name in zip(AUDIENCES, TO)],
                      *[zero.label(name) for name in FROM])
               .select_from(Post).join(Thread, Thread.id == Post.thread_id)
               .outerjoin(parent, parent.id == Post.parent_id)
               .join(recipient, recipient.id == to_id)
               .where(*live, Post.deleted_at.is_(None), *within(Post.created_at)))
    received = (select(Thread.community_id, func.date(Post.created_at).label("day"),
                       to_id.label("user_id"), *[zero.label(name) for name in COUNTS[:2] + TO],
                       *[case((replier.audience == _text(a), one), else_=zero).label(name)
                         for a, name in zip(AUDIENCES, FROM)])
                .select_from(Post).join(Thread, Thread.id == Post.thread_id)
                .outerjoin(parent, parent.id == Post.parent_id)
                .join(replier, replier.id == Post.author_id)
                .where(*live, Post.deleted_at.is_(None), other, *within(Post.created_at)))
    rows = union_all(started, replies, received).subquery()
    return (select(rows.c.community_id, rows.c.day, rows.c.user_id,
                   *[func.sum(rows.c[name]).label(name) for name in COUNTS])
            .where(true())  # SQLite needs a WHERE before an upsert's ON CONFLICT
            .group_by(rows.c.community_id, rows.c.day, rows.c.user_id))


def _upsert_statement(dialect: str, statement, add: bool = False):
    """INSERT … SELECT that overwrites (or adds to) a row already there."""
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(InsightDay)
    insert = insert.from_select(KEY + COUNTS, statement)
    table = InsightDay.__table__
    return insert.on_conflict_do_update(
        index_elements=KEY, set_={name: (table.c[name] + insert.excluded[name]) if add
                                  else insert.excluded[name] for name in COUNTS})


def _upsert(connection, statement, add: bool = False):
    connection.execute(_upsert_statement(connection.dialect.name, statement, add))


_built: dict[tuple[str, str], object] = {}


def _add_new_statement(dialect: str, one_post: bool = False):
    """Built once per database: a reply's write runs it, and building the source costs more
    Python time than the write itself. A lone new post (a reply) binds its id alone: expanding
    lists make SQLAlchemy render the statement again at every execution."""
    key = ("add_post" if one_post else "add_new", dialect)
    if key not in _built:
        added = ((None, bindparam("post_id", type_=Integer)) if one_post else
                 (bindparam("thread_ids", expanding=True), bindparam("post_ids", expanding=True)))
        rows = source(None, None, added=added)
        # Read twice (the communities' rows, and the organisation's summed from them): a CTE,
        # which PostgreSQL computes once, instead of a subquery it evaluated twice (a reply's
        # roll-up statement took about a fifth less time).
        rows = rows.cte("added") if dialect == "postgresql" else rows.subquery()
        organization = literal_column(str(int(ORGANIZATION)), Integer)
        both = union_all(select(rows), select(organization, rows.c.day, rows.c.user_id,
                                              *[func.sum(rows.c[name]) for name in COUNTS])
                         .group_by(rows.c.day, rows.c.user_id)).subquery()
        _built[key] = _upsert_statement(dialect, select(both).where(true()), add=True)
    return _built[key]


_rendered: dict[tuple, str] = {}


def _execute_rendered(connection, key: tuple, parameters: dict) -> None:
    """A built statement (`_built[key]`) run as its SQL, rendered once: executing the Core
    statement made SQLAlchemy walk its whole tree for the cache key at every reply (the roll-up
    statement's hundreds of elements: about a third of its Python time). The same SQL text and
    bind casts, so the same prepared statement; psycopg's named placeholders take the same
    parameters. Other drivers run the Core statement."""
    if connection.dialect.driver != "psycopg":
        connection.execute(_built[key], parameters)
        return
    if key not in _rendered:
        compiled = _built[key].compile(dialect=connection.dialect)
        assert set(compiled.params) == set(parameters)  # every value bound at execution
        _rendered[key] = compiled.string
    connection.exec_driver_sql(_rendered[key], parameters)


def add_new(connection, thread_ids: list[int], post_ids: list[int],
            fact_posts: list[int] | None = None) -> None:
    """New threads and posts: add their counts to their days and the organisation's in one
    statement, without recomputing the days (the common write). `fact_posts`: new posts that
    may set their thread's first reply (add_facts), written in the same statement on
    PostgreSQL when a reply is the flush's only new content (a data-modifying WITH)."""
    dialect = connection.dialect.name
    if not thread_ids and len(post_ids) == 1:
        if fact_posts == post_ids and dialect == "postgresql":
            key = ("add_post_and_fact", dialect)
            if key not in _built:
                _built[key] = _add_new_statement(dialect, one_post=True).add_cte(
                    _added_facts_statement(dialect, one_post=True).cte("first_reply"))
            _execute_rendered(connection, key, {"post_id": post_ids[0]})
            return
        connection.execute(_add_new_statement(dialect, one_post=True), {"post_id": post_ids[0]})
    else:
        connection.execute(_add_new_statement(dialect),
                           {"thread_ids": list(thread_ids), "post_ids": list(post_ids)})
    if fact_posts:
        add_facts(connection, fact_posts)


def _organization(days: list[date] | None):
    """The organisation's rows: each person's day summed over every community."""
    statement = (select(literal(ORGANIZATION).label("community_id"), InsightDay.day,
                        InsightDay.user_id,
                        *[func.sum(getattr(InsightDay, name)).label(name) for name in COUNTS])
                 .where(InsightDay.community_id != ORGANIZATION)
                 .group_by(InsightDay.day, InsightDay.user_id))
    return statement if days is None else statement.where(InsightDay.day.in_(days))


def refresh_days(connection, cells: set[tuple[int, date]]) -> None:
    """Recompute the (community, day) cells and the organisation's rows of their days."""
    for community_id, day in sorted(cells):
        _replace(connection, [InsightDay.community_id == community_id, InsightDay.day == day],
                 source(midnight(day), midnight(day) + timedelta(days=1), [community_id]))
    days = sorted({day for _, day in cells})
    if days:
        _replace(connection, [InsightDay.community_id == ORGANIZATION, InsightDay.day.in_(days)],
                 _organization(days))


def _replace(connection, scope: list, statement) -> None:
    """The rows in `scope` become `statement`'s: rows it no longer has are deleted, rows whose
    counts changed are overwritten, the others are left alone, so the stored periods' triggers
    (collab/insights/periods.py) fire only for what changed (a reply's deletion changes a few of
    the day's ~150 organisation rows). PostgreSQL: one statement (a data-modifying WITH)."""
    table = InsightDay.__table__
    dialect = connection.dialect.name
    fresh = statement.cte("fresh").prefix_with("MATERIALIZED") if dialect == "postgresql" \
        else statement.subquery("fresh")
    gone = delete(InsightDay).where(*scope, ~select(fresh.c.user_id).where(
        fresh.c.community_id == InsightDay.community_id, fresh.c.day == InsightDay.day,
        fresh.c.user_id == InsightDay.user_id).exists())
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(InsightDay)
    insert = insert.from_select(KEY + COUNTS, select(fresh).where(true()))
    upsert = insert.on_conflict_do_update(
        index_elements=KEY, set_={name: insert.excluded[name] for name in COUNTS},
        where=or_(*[table.c[name] != insert.excluded[name] for name in COUNTS]))
    if dialect == "postgresql":
        connection.execute(upsert.add_cte(gone.cte("gone")))
    else:
        connection.execute(gone)
        connection.execute(upsert)


def _facts(thread_ids):
    """Threads' first replies by someone else: every thread's (None), a list's, or one thread's
    (a plain bind parameter)."""
    statement = (select(Post.thread_id, func.min(Post.created_at), Thread.created_at)
                 .join(Thread, Thread.id == Post.thread_id)
                 .where(Post.author_id != Thread.author_id, Post.deleted_at.is_(None))
                 .group_by(Post.thread_id, Thread.created_at))
    if thread_ids is None:
        return statement
    if isinstance(thread_ids, BindParameter) and not thread_ids.expanding:
        return statement.where(Post.thread_id == thread_ids)
    return statement.where(Post.thread_id.in_(thread_ids))


def _facts_upsert(dialect: str, statement):
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(ThreadFact)
    insert = insert.from_select(["thread_id", "first_reply_at", "thread_created_at"], statement)
    return insert.on_conflict_do_update(
        index_elements=["thread_id"], set_={"first_reply_at": insert.excluded.first_reply_at,
                                            "thread_created_at": insert.excluded.thread_created_at})


def refresh_threads(connection, thread_ids: set[int] | None) -> None:
    """Recompute the threads' facts (None: every thread's)."""
    ids = None if thread_ids is None else sorted(thread_ids)
    connection.execute(delete(ThreadFact) if ids is None else
                       delete(ThreadFact).where(ThreadFact.thread_id.in_(ids)))
    connection.execute(_facts_upsert(connection.dialect.name, _facts(ids)))


def _added_facts_statement(dialect: str, one_post: bool = False):
    """New posts (by their ids) that may set their thread's first reply by someone else.

    New posts only ever set a thread's first reply or move it earlier, never remove one: the
    fact becomes the earlier of the stored one and the new posts' (each looked up by key),
    instead of aggregating every post of the thread again; the same as refresh_threads then.
    """
    key = ("added_fact" if one_post else "added_facts", dialect)
    if key not in _built:
        ids = bindparam("post_id", type_=Integer) if one_post else bindparam("post_ids",
                                                                              expanding=True)
        rows = (select(Post.thread_id, func.min(Post.created_at), Thread.created_at)
                .join(Thread, Thread.id == Post.thread_id)
                .where(Post.id == ids if one_post else Post.id.in_(ids),
                       Post.author_id != Thread.author_id, Post.deleted_at.is_(None))
                .group_by(Post.thread_id, Thread.created_at))
        insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(ThreadFact)
        insert = insert.from_select(["thread_id", "first_reply_at", "thread_created_at"], rows)
        stored = ThreadFact.__table__.c.first_reply_at
        _built[key] = insert.on_conflict_do_update(
            index_elements=["thread_id"], set_={"first_reply_at": insert.excluded.first_reply_at},
            where=insert.excluded.first_reply_at < stored)
    return _built[key]


def add_facts(connection, post_ids: list[int]) -> None:
    """The first replies that new posts set or move earlier (_added_facts_statement)."""
    dialect = connection.dialect.name
    if len(post_ids) == 1:
        connection.execute(_added_facts_statement(dialect, one_post=True),
                           {"post_id": post_ids[0]})
    else:
        connection.execute(_added_facts_statement(dialect), {"post_ids": list(post_ids)})


def _span(connection) -> tuple[date, date] | None:
    """The first and last UTC day of the history (threads and posts), if any."""
    moments = [m for column in (Thread.created_at, Post.created_at)
               for m in connection.execute(select(func.min(column), func.max(column))).one()
               if m is not None]
    return (min(moments).date(), max(moments).date()) if moments else None


def history_days(connection) -> int:
    """How many days `rebuild` walks (its progress bar's length)."""
    span = _span(connection)
    return (span[1] - span[0]).days + 1 if span else 0


def rebuild(progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Recompute both roll-ups from the whole history, a month of days at a time (progress in
    days); returns (day rows, thread facts)."""
    connection = db.session.connection()
    periods.skip_triggers(connection)  # their tables are recomputed from the day rows below
    connection.execute(delete(InsightDay))
    span = _span(connection)
    if span:
        day, end = span[0], span[1] + timedelta(days=1)
        while day < end:
            step = min(30, (end - day).days)
            _upsert(connection, source(midnight(day), midnight(day + timedelta(days=step))))
            day += timedelta(days=step)
            if progress:
                progress(step)
        _upsert(connection, _organization(None))
    periods.recompute(connection)
    refresh_threads(connection, None)
    fill_stay_hours(connection)
    rows = connection.scalar(select(func.count()).select_from(InsightDay))
    facts = connection.scalar(select(func.count()).select_from(ThreadFact))
    db.session.commit()
    return rows, facts


def fill_stay_hours(connection) -> int:
    """Each idea status change's hours in the status it left (ideas.service.stay_hours), from
    the history: for changes written by bulk SQL that bypassed the service. Returns the rows
    updated (those whose stored value was missing or different)."""
    updates, previous_thread, entered = [], None, None
    for change_id, thread_id, left, stored, thread_created in connection.execute(
            select(IdeaStatusChange.id, IdeaStatusChange.thread_id, IdeaStatusChange.created_at,
                   IdeaStatusChange.hours_in_status, Thread.created_at)
            .join(Thread, Thread.id == IdeaStatusChange.thread_id)
            .order_by(IdeaStatusChange.thread_id, IdeaStatusChange.id)):
        if thread_id != previous_thread:
            previous_thread, entered = thread_id, thread_created
        hours = (left - entered).total_seconds() / 3600
        if stored != hours:
            updates.append({"change_id": change_id, "hours": hours})
        entered = left
    if updates:
        table = IdeaStatusChange.__table__
        connection.execute(table.update().where(table.c.id == bindparam("change_id"))
                           .values(hours_in_status=bindparam("hours")), updates)
    return len(updates)


# Session events: the cells and threads a flush touches -------------------------------------

THREAD_COLUMNS = {"deleted_at", "merged_into_id", "community_id", "created_at", "author_id"}
POST_COLUMNS = {"deleted_at", "created_at", "author_id", "thread_id", "parent_id"}


def history_values(item, name: str) -> set:
    """An attribute's values before and after the flush (the cells both touch)."""
    history = inspect(item).attrs[name].history
    return {v for v in (*history.added, *history.deleted, *history.unchanged) if v is not None}


def utc_day(value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@event.listens_for(Session, "after_flush")
def _touched(session: Session, flush_context, new=None) -> None:
    """The flush's changes; `new`: a post written outside a flush (threads.written) instead."""
    cells: set[tuple[int, date]] = set()
    thread_days: dict[int, set[date]] = {}   # a post's thread: the days it touches there
    whole_threads: set[int] = set()          # every post of these threads (moved, hidden...)
    parents: set[int] = set()                # replies to these posts changed recipient
    facts: set[int] = set()
    new_threads, new_posts = [], []
    post_threads: dict[int, int] = {}  # new post -> its thread
    added = session.new if new is None else new
    for item in (*session.new, *session.dirty, *session.deleted) if new is None else new:
        dirty = new is None and item in session.dirty
        if item in added and isinstance(item, (Thread, Post)):
            (new_threads if isinstance(item, Thread) else new_posts).append(item.id)
            if isinstance(item, Post):
                post_threads[item.id] = item.thread_id
            continue
        if isinstance(item, Thread):
            changed = changed_columns(item) if dirty else THREAD_COLUMNS
            if not changed & THREAD_COLUMNS:
                continue
            cells |= {(c, utc_day(d)) for c in history_values(item, "community_id")
                      for d in history_values(item, "created_at")}
            if dirty:
                whole_threads.add(item.id)
                if changed & {"author_id", "created_at"}:  # facts store both
                    facts.add(item.id)
        elif isinstance(item, Post):
            changed = changed_columns(item) if dirty else POST_COLUMNS
            if not changed & POST_COLUMNS:
                continue
            for thread_id in history_values(item, "thread_id"):
                thread_days.setdefault(thread_id, set()).update(
                    utc_day(d) for d in history_values(item, "created_at"))
                facts.add(thread_id)
            if dirty and "author_id" in changed:
                parents.add(item.id)
    if not (cells or thread_days or whole_threads or parents or new_threads or new_posts):
        return
    connection = session.connection()
    # New posts of threads not recomputed whole below: their first replies are added.
    fact_posts = [post_id for post_id, thread_id in post_threads.items() if thread_id not in facts]
    if new_threads or new_posts:  # first: a day recomputed below then holds them as well
        add_new(connection, new_threads, new_posts, fact_posts)
    if parents:
        for thread_id, created_at in connection.execute(
                select(Post.thread_id, Post.created_at).where(Post.parent_id.in_(parents))):
            thread_days.setdefault(thread_id, set()).add(utc_day(created_at))
    if whole_threads:
        for thread_id, day in connection.execute(
                select(Post.thread_id, func.date(Post.created_at)).distinct()
                .where(Post.thread_id.in_(whole_threads))):
            thread_days.setdefault(thread_id, set()).add(utc_day(day))
    communities = _communities(session, connection, set(thread_days))
    for thread_id, days in thread_days.items():
        cells |= {(c, day) for c in communities.get(thread_id, ()) for day in days}
    refresh_days(connection, cells)
    if facts:
        refresh_threads(connection, facts)


written.listen(lambda session, post: _touched(session, None, new=(post,)))


def _communities(session: Session, connection, thread_ids: set[int]) -> dict[int, set[int]]:
    """Each thread's community, and its former one if this flush moved it."""
    found, unknown = {}, set()
    for thread_id in thread_ids:
        thread = session.identity_map.get(identity_key(Thread, thread_id))
        if thread is not None and "community_id" in thread.__dict__:
            found[thread_id] = history_values(thread, "community_id")
        else:
            unknown.add(thread_id)
    if unknown:
        found.update((row.id, {row.community_id}) for row in connection.execute(
            select(Thread.id, Thread.community_id).where(Thread.id.in_(unknown))))
    return found
