"""Reputation rules: events derived from the history, daily caps, leaderboards, recomputation.

The events are read from the tables that record them (accepted answers, votes, idea status
changes, resolved concerns), so the ledger is a projection: session events recompute the
(community, person) pairs a flush touches, and `flask reputation recompute` rebuilds every pair
from the same history, with the same totals.
"""
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    event,
    func,
    inspect,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from collab import time
from collab.communities.models import Community
from collab.concerns.models import Concern, ConcernState
from collab.db import changed_columns, db
from collab.ideas.models import IdeaStatusChange, Vote
from collab.people import service as people
from collab.people.models import User
from collab.permissions import find_visible_community, visible_community_ids
from collab.reputation import rules
from collab.reputation.models import ReputationDay
from collab.threads import written
from collab.threads.models import Post, Thread, ThreadStatus

PERIODS = {"week": 7, "month": 30, "year": 365, "all": None}


def _events(community_id: int | None, user_id: int | None, day: date | None = None):
    """(community_id, user_id, kind, at) of every event, optionally for one pair (and one day)."""
    live = (Thread.deleted_at.is_(None),)
    if day is not None:
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=1)

    def scoped(statement, community_column, user_column, at_column):
        if community_id is not None:
            statement = statement.where(community_column == community_id)
        if user_id is not None:
            statement = statement.where(user_column == user_id)
        if day is not None:
            statement = statement.where(at_column >= start, at_column < end)
        return statement
    accepted = scoped(select(Thread.community_id, Post.author_id.label("user_id"),
                             literal("accepted_answer", String).label("kind"),
                             Post.created_at.label("at"))
                      .join(Post, Post.id == Thread.accepted_post_id)
                      .where(*live, Post.deleted_at.is_(None)),
                      Thread.community_id, Post.author_id, Post.created_at)
    upvotes = scoped(select(Thread.community_id, Thread.author_id.label("user_id"),
                            literal("upvote_received", String).label("kind"),
                            Vote.created_at.label("at"))
                     .join(Vote, Vote.thread_id == Thread.id)
                     .where(*live, Vote.value == 1, Vote.user_id != Thread.author_id),
                     Thread.community_id, Thread.author_id, Vote.created_at)
    done = scoped(select(Thread.community_id, Thread.author_id.label("user_id"),
                         literal("idea_done", String).label("kind"),
                         IdeaStatusChange.created_at.label("at"))
                  .join(IdeaStatusChange, IdeaStatusChange.thread_id == Thread.id)
                  .where(*live, IdeaStatusChange.to_status == ThreadStatus.DONE),
                  Thread.community_id, Thread.author_id, IdeaStatusChange.created_at)
    resolved = scoped(select(Concern.community_id, Concern.assignee_id.label("user_id"),
                             literal("concern_resolved", String).label("kind"),
                             Concern.resolved_at.label("at"))
                      .where(Concern.state == ConcernState.RESOLVED,
                             Concern.assignee_id.is_not(None)),
                      Concern.community_id, Concern.assignee_id, Concern.resolved_at)
    return union_all(accepted, upvotes, done, resolved)


def _days(rows) -> dict[tuple[int, int, date], int]:
    raw: dict[tuple[int, int, date], int] = defaultdict(int)
    for community_id, user_id, kind, at in rows:
        raw[(community_id, user_id, at.date())] += rules.POINTS[kind]
    return raw


def _write(connection, raw: dict, pairs: set[tuple[int, int]] | None) -> None:
    if pairs is None:
        connection.execute(delete(ReputationDay))
    else:
        for community_id, user_id in pairs:
            connection.execute(delete(ReputationDay).where(
                ReputationDay.community_id == community_id, ReputationDay.user_id == user_id))
    _insert(connection, raw)


def _insert(connection, raw: dict) -> None:
    rows = [{"community_id": c, "user_id": u, "day": d, "raw_points": points,
             "points": min(points, rules.DAILY_CAP)} for (c, u, d), points in raw.items()]
    if not rows:
        return
    # Two transactions touching one person at once (votes on two of their threads) both insert:
    # the later one waits, then overwrites instead of failing. Its snapshot may miss the other's
    # event until the person's next event or `flask reputation recompute`.
    dialect = connection.dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(ReputationDay)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["community_id", "user_id", "day"],
        set_={"points": statement.excluded.points, "raw_points": statement.excluded.raw_points}),
        rows)


def _recompute_days(connection, pair_days: set[tuple[int, int, date]]) -> None:
    """Recompute single days of single pairs (a vote moves points on the day it was cast only)."""
    for community_id, user_id, day in pair_days:
        raw = _days(connection.execute(_events(community_id, user_id, day)))
        connection.execute(delete(ReputationDay).where(
            ReputationDay.community_id == community_id, ReputationDay.user_id == user_id,
            ReputationDay.day == day))
        _insert(connection, raw)


def _recompute_pairs(connection, pairs: set[tuple[int, int]]) -> None:
    raw = {}
    for community_id, user_id in pairs:
        raw.update(_days(connection.execute(_events(community_id, user_id))))
    _write(connection, raw, pairs)


def event_days(connection) -> dict[tuple[int, int, date], int]:
    """Every (community, person, day)'s raw points from the event history: what the ledger
    holds when it is up to date (capped at rules.DAILY_CAP)."""
    return _days(connection.execute(_events(None, None)))


def recompute() -> tuple[int, int]:
    """Rebuilds every daily total from the event history; returns (rows, points)."""
    connection = db.session.connection()
    raw = event_days(connection)
    _write(connection, raw, None)
    db.session.commit()
    return len(raw), sum(min(p, rules.DAILY_CAP) for p in raw.values())


# Session events: the pairs a flush touches ------------------------------------------------

def _history_values(item, name: str) -> set:
    history = inspect(item).attrs[name].history
    return {v for v in (*history.added, *history.deleted, *history.unchanged) if v is not None}


# Thread and vote columns an event depends on; a reply's counters (reply_count, trending score,
# last activity) or a vote's timestamps change no one's points.
THREAD_EVENT_COLUMNS = {"deleted_at", "accepted_post_id", "community_id", "author_id"}
VOTE_EVENT_COLUMNS = {"value", "thread_id", "user_id", "created_at"}
POST_EVENT_COLUMNS = {"deleted_at", "created_at", "author_id", "thread_id"}


def _pair_of_loaded_thread(session: Session, thread_id: int) -> tuple[int, int, bool] | None:
    """(community, author, live) of a thread the session holds loaded, without a statement."""
    thread = written.loaded_thread(session, thread_id)
    loaded = thread.__dict__ if thread is not None else {}
    if "community_id" in loaded and "author_id" in loaded and "deleted_at" in loaded:
        return loaded["community_id"], loaded["author_id"], loaded["deleted_at"] is None
    return None


def _upvote_points(value, voter_id: int, author_id: int, live: bool) -> int:
    """What one vote earns its thread's author: the `upvote_received` rule of _events."""
    return rules.POINTS["upvote_received"] if (
        value == 1 and live and voter_id != author_id) else 0


UNKNOWN = object()  # a vote's stored value the session never loaded


def _vote_change(item, new: bool, deleted: bool) -> tuple[object, object]:
    """(value stored before the flush, value after it) of a vote (None: no vote; UNKNOWN)."""
    history = inspect(item).attrs["value"].history
    if history.deleted:
        stored = history.deleted[0]
    else:  # unchanged, or set without its old value loaded
        stored = UNKNOWN if history.added and not new else item.value
    return (None if new else stored), (None if deleted else item.value)


@event.listens_for(Session, "after_flush")
def _touched(session: Session, flush_context) -> None:
    threads, posts, accepted_posts, assignees = set(), set(), set(), set()
    # An up-vote is an event on the day it was cast: a vote whose value alone changed (or that
    # was cast or withdrawn) moves that day's points by a difference, (thread, voter, day,
    # before, after); anything else about a vote recomputes its pair.
    vote_changes: list[tuple[int, int, date, object, object]] = []
    for item in (*session.new, *session.dirty, *session.deleted):
        dirty = item in session.dirty
        if isinstance(item, Thread):
            if not dirty or changed_columns(item) & THREAD_EVENT_COLUMNS:
                threads.add(item.id)
                accepted_posts |= _history_values(item, "accepted_post_id")
        elif isinstance(item, Vote):
            changed = changed_columns(item) if dirty else set()
            cast_at = inspect(item).dict.get("created_at")
            if changed & {"thread_id", "user_id", "created_at"} or cast_at is None:
                threads.add(item.thread_id)  # moved by a merge: every day of both pairs
            elif not dirty or changed & VOTE_EVENT_COLUMNS:
                before, after = _vote_change(item, item in session.new,
                                             item in session.deleted)
                vote_changes.append((item.thread_id, item.user_id,
                                     cast_at.astimezone(UTC).date(), before, after))
        elif isinstance(item, IdeaStatusChange):
            threads.add(item.thread_id)
        elif isinstance(item, Post) and dirty:
            if changed_columns(item) & POST_EVENT_COLUMNS:
                posts.add(item.id)
        elif isinstance(item, Concern):
            assignees |= {(item.community_id, a) for a in _history_values(item, "assignee_id")}
    if not (threads or posts or accepted_posts or assignees or vote_changes):
        return
    connection = session.connection()
    pairs = set(assignees)
    pair_of = {}
    unknown = set()
    for thread_id in threads | {change[0] for change in vote_changes}:
        pair = _pair_of_loaded_thread(session, thread_id)
        if pair is None:
            unknown.add(thread_id)
        else:
            pair_of[thread_id] = pair
    if unknown:
        pair_of.update((row.id, (row.community_id, row.author_id, row.deleted_at is None))
                       for row in connection.execute(
            select(Thread.id, Thread.community_id, Thread.author_id, Thread.deleted_at)
            .where(Thread.id.in_(unknown))))
    pairs |= {pair_of[thread_id][:2] for thread_id in threads if thread_id in pair_of}
    if posts or accepted_posts:
        pairs |= {tuple(row) for row in connection.execute(
            select(Thread.community_id, Post.author_id).join(Thread, Thread.id == Post.thread_id)
            .where(Post.id.in_(posts | accepted_posts)))}
    _recompute_pairs(connection, pairs)
    moved: dict[tuple[int, int, date], int] = defaultdict(int)
    recount = set()
    for thread_id, voter_id, day, before, after in vote_changes:
        if thread_id not in pair_of or pair_of[thread_id][:2] in pairs:
            continue  # gone, or recomputed whole above
        community_id, author_id, live = pair_of[thread_id]
        if before is UNKNOWN:
            recount.add((community_id, author_id, day))
            continue
        moved[(community_id, author_id, day)] += (_upvote_points(after, voter_id, author_id, live)
                                                  - _upvote_points(before, voter_id, author_id,
                                                                   live))
    _recompute_days(connection, recount)
    _add_points(connection, {key: points for key, points in moved.items()
                             if points and key not in recount})


def _add_statements(dialect: str) -> tuple:
    """(add, take) for `dialect`, built once: add upserts a day's row, take lowers it and
    answers its raw points (None: no row); on PostgreSQL take deletes a row it would leave at
    zero points."""
    statements = _ADD_STATEMENTS.get(dialect)
    if statements is None:
        days = ReputationDay.__table__
        key = (days.c.community_id == bindparam("c"), days.c.user_id == bindparam("u"),
               days.c.day == bindparam("d"))
        points = bindparam("points", type_=Integer)
        raw = days.c.raw_points + points
        least = func.least if dialect == "postgresql" else func.min  # SQLite's min of two
        capped = least(raw, rules.DAILY_CAP)
        insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(days).values(
            community_id=bindparam("c"), user_id=bindparam("u"), day=bindparam("d"),
            raw_points=points, points=least(points, rules.DAILY_CAP))
        add = insert.on_conflict_do_update(index_elements=["community_id", "user_id", "day"],
                                           set_={"raw_points": raw, "points": capped})
        take = update(days).where(*key).values(raw_points=raw, points=capped).returning(
            days.c.raw_points)
        if dialect == "postgresql":  # a day left with no points is deleted in the same statement
            # Exclusive conditions on the same row, so at most one of the two changes it; a row
            # changed meanwhile so that neither applies any more answers nothing (recomputed).
            dropped = (delete(days).where(*key, raw == 0)
                       .returning(literal_column("0").label("raw_points")).cte("dropped"))
            taken = (update(days).where(*key, raw != 0).values(raw_points=raw, points=capped)
                     .returning(days.c.raw_points).cte("taken"))
            take = select(func.coalesce(select(dropped.c.raw_points).scalar_subquery(),
                                        select(taken.c.raw_points).scalar_subquery()))
        statements = _ADD_STATEMENTS[dialect] = (add, take)
    return statements


_ADD_STATEMENTS: dict[str, tuple] = {}


def _add_points(connection, moved: dict[tuple[int, int, date], int]) -> None:
    """Add (or take) points on single days of single pairs, in the row itself: one statement a
    day, exact under concurrent writers (the row lock orders them). A day left with no points
    is deleted, as recompute would not write it; a day that cannot be taken from (missing, or
    short of the points) is recomputed from the events."""
    add, take = _add_statements(connection.dialect.name)
    days = ReputationDay.__table__
    recount = set()
    for (community_id, user_id, day), points in moved.items():
        values = {"c": community_id, "u": user_id, "d": day, "points": points}
        if points > 0:
            connection.execute(add, values)
            continue
        left = connection.execute(take, values).scalar()
        if left is None or left < 0:
            recount.add((community_id, user_id, day))
        elif left == 0 and connection.dialect.name != "postgresql":  # there: deleted by `take`
            connection.execute(delete(days).where(
                days.c.community_id == community_id, days.c.user_id == user_id,
                days.c.day == day))
    _recompute_days(connection, recount)


# Reading -------------------------------------------------------------------------------

def _since(period: str) -> date | None:
    days = PERIODS[period]
    return None if days is None else (time.now() - timedelta(days=days - 1)).date()


def leaderboard(viewer: User, slug: str, args: dict) -> dict:
    community = find_visible_community(viewer, slug)
    statement = (select(ReputationDay.user_id, func.sum(ReputationDay.points).label("points"))
                 .where(ReputationDay.community_id == community.id)
                 .group_by(ReputationDay.user_id))
    since = _since(args["period"])
    if since is not None:
        statement = statement.where(ReputationDay.day >= since)
    rows = db.session.execute(statement.order_by(func.sum(ReputationDay.points).desc(),
                                                 ReputationDay.user_id)
                              .limit(args["limit"])).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([r.user_id for r in rows])))} if rows else {}
    return {"community": community.slug, "period": args["period"], "since": since,
            "rules": {"points": rules.POINTS, "daily_cap": rules.DAILY_CAP},
            "items": [{"rank": i, "user": users[r.user_id], "points": int(r.points)}
                      for i, r in enumerate(rows, 1)]}


def of_user(viewer: User, user_id: int) -> dict:
    """A person's points in each community the viewer may see."""
    person = people.get_user(viewer, user_id)
    return {"user": person, **points_of(viewer, person)}


def points_of(viewer: User, person: User) -> dict:
    """Total and per-community points of `person` in the communities `viewer` may see (what
    their profile shows)."""
    rows = db.session.execute(
        select(Community.slug, func.sum(ReputationDay.points))
        .join(Community, Community.id == ReputationDay.community_id)
        .where(ReputationDay.user_id == person.id,
               ReputationDay.community_id.in_(visible_community_ids(viewer)))
        .group_by(Community.slug).order_by(func.sum(ReputationDay.points).desc(),
                                           Community.slug)).all()
    return {"total": sum(int(points) for _, points in rows),
            "communities": [{"community": slug, "points": int(points)} for slug, points in rows]}
