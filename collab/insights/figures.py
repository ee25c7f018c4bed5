"""PostgreSQL statements of the insights' question and idea figures, one statement per figure group.

Each answers what the general statements of collab/insights/service.py answer (SQLite keeps
those), with fewer passes over the rows at 1M posts:

- question_figures: the counts, the distinct people and every response-time percentile in one
  statement over the window's questions (before: one statement for the counts, a second one that
  joined the questions to their first replies again and sorted each measure three times). Distinct
  people come from a grouping per author (a hash, no sort for count(DISTINCT)); each measure is
  sorted once, percentile_disc with an array of fractions: 0.5 is rank ceil(n / 2) = (n + 1) // 2,
  0.5 + 1e-9 is rank n // 2 + 1 (exact for n below 5e8), (r - 0.5) / n is rank r.
- middle_stays: organisation-wide, each status's two middle stays of live ideas from one ordered
  read of `ix_idea_status_changes_medians` (migration 0031), the removed ideas' stays (a handful,
  by the partial index of removed threads) left out by a hashed NOT IN, each status sorted once.
"""
from datetime import datetime

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import array

from collab.db import db
from collab.ideas.models import IdeaStatusChange
from collab.threads.models import Thread

# percentile_disc fractions of the lower and upper middle ranks: see the module's docstring.
LOWER, UPPER = 0.5, 0.5 + 1e-9


def _p90_rank_sql(count):
    """SQL of service._p90_rank: min(n - 1, round(0.9 (n - 1))) + 1, with float8's round (rint:
    half to even, as Python's round)."""
    return func.least(count - 1, func.round(cast(literal(0.9), Float) * (count - 1))) + 1


def question_figures(questions, end: datetime):
    """(total, authors, answered, replies, reply_people, accepts, accept_people, reply_hours,
    accept_hours): each *_hours is None (no such question) or [lower middle, upper middle, p90]
    in hours."""
    q = questions.c
    replied = and_(q.first_reply_at.is_not(None), q.first_reply_at < end)
    accepted = and_(q.accepted_post_id.is_not(None), q.answer_accepted_at.is_not(None),
                    q.answer_accepted_at < end)
    lengths = select(q.author_id, q.accepted_post_id,
                     case((replied, q.first_reply_at - q.created_at)).label("reply"),
                     case((accepted, q.answer_accepted_at - q.created_at)).label("accept")
                     ).cte("question_lengths")
    l = lengths.c
    per_author = (select(l.author_id, func.count().label("questions"),
                         func.count(l.accepted_post_id).label("answered"),
                         func.count(l.reply).label("replies"), func.count(l.accept).label("accepts"))
                  .group_by(l.author_id).subquery("question_authors"))
    a = per_author.c
    totals = select(
        func.coalesce(func.sum(a.questions), 0).label("total"), func.count().label("authors"),
        func.coalesce(func.sum(a.answered), 0).label("answered"),
        func.coalesce(func.sum(a.replies), 0).label("replies"),
        func.count(case((a.replies > 0, 1))).label("reply_people"),
        func.coalesce(func.sum(a.accepts), 0).label("accepts"),
        func.count(case((a.accepts > 0, 1))).label("accept_people")).cte("question_totals")
    t = totals.c

    def percentiles(length, count):
        fractions = array([literal(LOWER), literal(UPPER), (_p90_rank_sql(count) - 0.5) / cast(count, Float)])
        ranked = (select(func.percentile_disc(fractions).within_group(length))
                  .select_from(lengths).scalar_subquery())
        return case((count > 0, ranked))  # no fraction / 0: the subquery runs only then
    row = db.session.execute(select(
        t.total, t.authors, t.answered, t.replies, t.reply_people, t.accepts, t.accept_people,
        percentiles(l.reply, t.replies), percentiles(l.accept, t.accepts))).one()
    hours = [None if values is None else [value.total_seconds() / 3600 for value in values]
             for values in row[7:]]
    return (*[int(value) for value in row[:7]], *hours)


def middle_stays(end: datetime) -> dict:
    """Organisation-wide: {status: [lower, upper middle stay]} of the stays left before `to` by
    live ideas (status changes exist only for ideas, each made after its idea's creation); stays
    not stored yet (NULL) are left out, as by percentile_disc."""
    changes = IdeaStatusChange
    removed = select(Thread.id).where(or_(Thread.deleted_at.is_not(None),
                                          Thread.merged_into_id.is_not(None)))
    return {status: list(hours or ()) for status, hours in db.session.execute(  # None: no stay
        select(changes.from_status, func.percentile_disc(array([literal(LOWER), literal(UPPER)]))
               .within_group(changes.hours_in_status))
        .where(changes.hours_in_status.is_not(None), changes.created_at < end,
               changes.thread_id.not_in(removed))
        .group_by(changes.from_status))}
