"""Stored periods of the day roll-up: per (community or ORGANIZATION, ISO week, person) sums and
per (community or ORGANIZATION, day) totals with the day's active people (migration 0030).

Triggers on `insight_days` keep both exact, whatever writes the day rows (the session events of
collab/insights/rollup.py, cascades, bulk SQL): a week row is the sum of its person's day rows of
that week (Monday to Sunday, UTC), a totals row the day's threads, posts and the number of day
rows with a thread or a post. A 90-day window reads ~13 weeks of person rows (instead of ~90
days) and, for day buckets, one totals row per day (instead of every person-day).
"""
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import (Date, Integer, and_, bindparam, case, cast, delete, func, literal, or_,
                        select, text, union_all)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from collab.db import UTCDateTime, db
from collab.insights.models import ORGANIZATION, InsightDay
from collab.people.models import Audience, User
from collab.threads.models import Post, Thread

AUDIENCES = [a.value for a in Audience]
COUNTS = ["threads", "posts", *[f"replies_to_{a}" for a in AUDIENCES],
          *[f"replies_from_{a}" for a in AUDIENCES]]  # rollup.COUNTS


class InsightWeek(db.Model):
    """A person's day rows of an ISO week (`week`: its Monday) summed, per community or the
    organisation (ORGANIZATION); no foreign key: the day rows' triggers remove it with them."""

    __tablename__ = "insight_weeks"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    threads: Mapped[int] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer)
    replies_to_employee: Mapped[int] = mapped_column(Integer)
    replies_to_partner: Mapped[int] = mapped_column(Integer)
    replies_to_customer: Mapped[int] = mapped_column(Integer)
    replies_from_employee: Mapped[int] = mapped_column(Integer)
    replies_from_partner: Mapped[int] = mapped_column(Integer)
    replies_from_customer: Mapped[int] = mapped_column(Integer)


class InsightDayTotal(db.Model):
    """A community's (or the organisation's) day: threads, posts and active people (day rows
    with a thread or a post)."""

    __tablename__ = "insight_day_totals"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    threads: Mapped[int] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_of(connection, column):
    if connection.dialect.name == "sqlite":
        return func.date(column, "weekday 0", "-6 days")
    return cast(func.date_trunc("week", column), Date)


def skip_triggers(connection) -> None:
    """For a bulk rewrite of the day rows (rebuild): the triggers do nothing until the end of the
    transaction (PostgreSQL; SQLite's fire), and `recompute` then writes both tables."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL collab.insights_bulk = 'on'"))


def recompute(connection) -> None:
    """Both tables from the day rows (what the triggers keep), then the triggers act again."""
    connection.execute(delete(InsightWeek))
    connection.execute(delete(InsightDayTotal))
    week = _week_of(connection, InsightDay.day)
    connection.execute(InsightWeek.__table__.insert().from_select(
        ["community_id", "week", "user_id", *COUNTS],
        select(InsightDay.community_id, week, InsightDay.user_id,
               *[func.sum(getattr(InsightDay, name)) for name in COUNTS])
        .group_by(InsightDay.community_id, week, InsightDay.user_id)))
    active = func.sum(case(((InsightDay.threads > 0) | (InsightDay.posts > 0), 1), else_=0))
    connection.execute(InsightDayTotal.__table__.insert().from_select(
        ["community_id", "day", "threads", "posts", "people"],
        select(InsightDay.community_id, InsightDay.day, func.sum(InsightDay.threads),
               func.sum(InsightDay.posts), active)
        .group_by(InsightDay.community_id, InsightDay.day)))
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL collab.insights_bulk = 'off'"))


class Plan:
    """A window's whole UTC days [first, last) in one scope (a community, or the organisation
    when `community_ids` is None): the whole ISO weeks among them, read from the person-week
    rows, and the days before and after those weeks ("edges"), read from the day rows."""

    def __init__(self, community_ids: list[int] | None, first: date, last: date):
        if community_ids is not None and len(community_ids) != 1:
            raise ValueError("insights read one community or the organisation")
        self.scope = ORGANIZATION if community_ids is None else community_ids[0]
        self.first, self.last = first, last
        week_low = monday(first) if first.weekday() == 0 else monday(first) + timedelta(days=7)
        week_high = monday(last)
        if week_low < week_high:
            self.weeks = (week_low, week_high)
            self.edges = [(a, b) for a, b in ((first, week_low), (week_high, last)) if a < b]
        else:
            self.weeks, self.edges = None, [(first, last)]

    def _edge_days(self):
        return or_(*[and_(InsightDay.day >= a, InsightDay.day < b) for a, b in self.edges])

    def day_totals(self):
        """(day, threads, posts, people) of each whole day with activity."""
        return db.session.execute(
            select(InsightDayTotal.day, InsightDayTotal.threads, InsightDayTotal.posts,
                   InsightDayTotal.people)
            .where(InsightDayTotal.community_id == self.scope, InsightDayTotal.day >= self.first,
                   InsightDayTotal.day < self.last)).all()

    def week_totals(self):
        """(Monday, threads, posts, people) of each whole ISO week with activity."""
        if self.weeks is None:
            return []
        active = or_(InsightWeek.threads > 0, InsightWeek.posts > 0)
        return [(week, int(threads), int(posts), people) for week, threads, posts, people in
                db.session.execute(
                    select(InsightWeek.week, func.sum(InsightWeek.threads),
                           func.sum(InsightWeek.posts), func.count())
                    .where(InsightWeek.community_id == self.scope,
                           InsightWeek.week >= self.weeks[0], InsightWeek.week < self.weeks[1],
                           active)
                    .group_by(InsightWeek.week))]

    def edge_people(self):
        """(Monday, person, threads, posts) of the edge days' active people, per ISO week."""
        connection = db.session.connection()
        week = _week_of(connection, InsightDay.day)
        active = or_(InsightDay.threads > 0, InsightDay.posts > 0)
        return [(_date(monday_), user_id, int(threads), int(posts))
                for monday_, user_id, threads, posts in db.session.execute(
                    select(week, InsightDay.user_id, func.sum(InsightDay.threads),
                           func.sum(InsightDay.posts))
                    .where(InsightDay.community_id == self.scope, self._edge_days(), active)
                    .group_by(week, InsightDay.user_id))]

    def person_sums(self, names: list[str]):
        """(person, audience, *sums of `names`) over the whole days: whole weeks' person-week
        rows and the edge days' rows, in one statement."""
        parts = [select(InsightDay.user_id, *[getattr(InsightDay, n).label(n) for n in names])
                 .where(InsightDay.community_id == self.scope, self._edge_days())]
        if self.weeks is not None:
            parts.append(select(InsightWeek.user_id, *[getattr(InsightWeek, n).label(n)
                                                       for n in names])
                         .where(InsightWeek.community_id == self.scope,
                                InsightWeek.week >= self.weeks[0],
                                InsightWeek.week < self.weeks[1]))
        rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        return [(user_id, audience, *[int(value) for value in sums])
                for user_id, audience, *sums in db.session.execute(
                    select(rows.c.user_id, User.audience, *[func.sum(rows.c[n]) for n in names])
                    .join(User, User.id == rows.c.user_id)
                    .group_by(rows.c.user_id, User.audience))]


def _date(value) -> date:
    """SQL date() answers a date (PostgreSQL) or an ISO string (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _scope_days(community_ids):
    return (InsightDay.community_id == ORGANIZATION if community_ids is None
            else InsightDay.community_id.in_(community_ids))


def day_rows(community_ids, day: date) -> dict:
    """{(day, person): Counter of COUNTS} of the roll-up's rows of one day."""
    rows = defaultdict(Counter)
    for user_id, *counts in db.session.execute(
            select(InsightDay.user_id, *[getattr(InsightDay, name) for name in COUNTS])
            .where(_scope_days(community_ids), InsightDay.day == day)):
        rows[(day, user_id)].update(dict(zip(COUNTS, counts)))
    return rows


_built: dict = {}


def _direct_statements(dialect: str, scoped: bool):
    """Built once per database and scope shape (a community bound as `community`, or every
    community), with the range bound as `lower` and `upper`: building them cost more of this
    process's CPU than PostgreSQL spent running them."""
    key = (dialect, scoped)
    if key in _built:
        return _built[key]
    lower, upper = bindparam("lower", type_=UTCDateTime), bindparam("upper", type_=UTCDateTime)
    live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
    if scoped:
        live.append(Thread.community_id == bindparam("community", type_=Integer))
    started_on = func.date(Thread.created_at)
    threads = (select(started_on, Thread.author_id, func.count())
               .where(*live, Thread.created_at >= lower, Thread.created_at < upper)
               .group_by(started_on, Thread.author_id))
    # The range's posts from the creation index alone (it covers them, migration 0030), then
    # each distinct thread probed once by key (live, in scope: its author; a join made
    # PostgreSQL hash every live thread), each parent's author by key.
    posts = (select(func.date(Post.created_at).label("day"), Post.author_id, Post.thread_id,
                    Post.parent_id)
             .where(Post.deleted_at.is_(None), Post.created_at >= lower, Post.created_at < upper)
             .cte("partial_posts").prefix_with("MATERIALIZED"))
    ids = select(posts.c.thread_id).distinct().subquery("partial_thread_ids")
    owners = (select(ids.c.thread_id, select(Thread.author_id)
                     .where(Thread.id == ids.c.thread_id, *live).scalar_subquery()
                     .label("author_id"))
              .cte("partial_threads").prefix_with("MATERIALIZED"))
    parent = aliased(Post)
    parent_author = (select(parent.author_id).where(parent.id == posts.c.parent_id)
                     .scalar_subquery())
    # The replied-to person: the parent post's author, or the thread's.
    to_id = case((posts.c.parent_id.is_not(None), parent_author), else_=owners.c.author_id)
    p = (select(posts.c.day, posts.c.author_id, to_id.label("to_id"))
         .join(owners, owners.c.thread_id == posts.c.thread_id)
         .where(owners.c.author_id.is_not(None))
         .cte("partial_replies").prefix_with("MATERIALIZED")).c
    other = p.to_id != p.author_id
    recipient, replier = aliased(User), aliased(User)
    zero = literal(0)
    given = (select(p.day, p.author_id.label("user_id"), func.count().label("posts"),
                    *[func.sum(case((and_(other, recipient.audience == a), 1), else_=0))
                      for a in AUDIENCES], *[zero for _ in AUDIENCES])
             .join(recipient, recipient.id == p.to_id).group_by(p.day, p.author_id))
    received = (select(p.day, p.to_id.label("user_id"), zero, *[zero for _ in AUDIENCES],
                       *[func.sum(case((replier.audience == a, 1), else_=0)) for a in AUDIENCES])
                .join(replier, replier.id == p.author_id).where(other)
                .group_by(p.day, p.to_id))
    _built[key] = (threads, union_all(given, received))
    return _built[key]


def direct_rows(community_ids, ranges: list[tuple[datetime, datetime]]) -> dict:
    """{(day, person): Counter of COUNTS} of the live threads and posts created in the ranges (the
    rules of rollup.source), grouped per day and person in SQL: each post counts for its author
    (posts, replies to the audience of the person replied to) and for that person (replies from
    the author's audience)."""
    rows = defaultdict(Counter)
    if community_ids is not None and len(community_ids) != 1:
        raise ValueError("insights read one community or the organisation")
    threads, posts = _direct_statements(db.session.get_bind().dialect.name,
                                        community_ids is not None)
    for lower, upper in ranges:
        bound = {"lower": lower, "upper": upper}
        if community_ids is not None:
            bound["community"] = community_ids[0]
        for started, author_id, count in db.session.execute(threads, bound):
            rows[(_date(started), author_id)]["threads"] += count
        for day, user_id, *counts in db.session.execute(posts, bound):
            rows[(_date(day), user_id)].update(dict(zip(COUNTS[1:], (int(c) for c in counts))))
    return rows
