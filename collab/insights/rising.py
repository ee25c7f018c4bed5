"""Rising topics (collab/insights/service.py `_rising`), on both engines.

Tags: threads per tag in the window [from, to) against the window of equal length before it
(plus-one smoothed ratio), summed from the tag roll-up's whole UTC days (collab/insights/
tag_days.py, EVERYONE's rows) plus the few partial days at the windows' edges read from threads;
each tag's distinct authors in the window (k-anonymity) are counted only for the candidates, from
the roll-up's author rows and the partial days' threads, in one statement.

Words of titles: the JLH heuristic of significant_words, the window's latest RISING_SAMPLE titles
against the latest RISING_BACKGROUND up to `to`: one backward read of a covering index (the
window's latest titles are the first of the latest up to `to`); each title's words are memoised
by the title itself (exact: the key is the text), the samples' word frequencies by the samples.
"""
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, text, union_all

from collab.db import db
from collab.expertise.service import significant_words
from collab.insights.models import ORGANIZATION
from collab.insights import tag_days
from collab.insights.tag_days import EVERYONE, InsightTagDay
from collab.threads.models import Thread, ThreadTag
from search import queries

K_ANONYMITY = 5
RISING = 10
RISING_SAMPLE = 2000       # the window's latest titles the words are weighed in
RISING_BACKGROUND = 5000   # ... against the latest titles up to `to`
CANDIDATES = 50            # tags whose authors are counted per statement
TITLE_WORDS_KEPT = 50_000  # titles whose words are memoised (then the memo starts afresh)

_title_words: dict[str, frozenset[str]] = {}


def rebuild() -> int:
    """The tag roll-up from the history (with `flask --app wsgi insights rebuild`)."""
    rows = tag_days.rebuild()
    db.session.commit()
    return rows


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _days(lower: datetime, upper: datetime) -> tuple[tuple | None, list[tuple]]:
    """[lower, upper) as whole UTC days ((first day, day after the last) or None) and the
    partial ranges at its edges."""
    first = _midnight(lower)
    if first < lower:
        first += timedelta(days=1)
    last = _midnight(upper)
    if first >= last:
        return None, [(lower, upper)]
    return (first.date(), last.date()), [(a, b) for a, b in ((lower, first), (last, upper))
                                         if a < b]


@contextmanager
def _serial(organization: bool):
    """PostgreSQL plans the organisation's partial days' joins (a few hundred threads) in
    parallel, and starting the workers costs more than the work (~25 ms against ~4 ms at 1M
    posts): not for these. (A community's are planned serially, no statement needed.)"""
    postgresql = organization and db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    yield  # (after an error the transaction's rollback undoes SET LOCAL)
    if postgresql:
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))


def tags(community_ids: list[int] | None, start: datetime, end: datetime) -> list[dict]:
    """Tags rising in the window (README, "Rising topics at 1M posts")."""
    with _serial(community_ids is None):
        return _tags(community_ids, start, end)


def _tags(community_ids: list[int] | None, start: datetime, end: datetime) -> list[dict]:
    before = start - (end - start)
    scope = (InsightTagDay.community_id == ORGANIZATION if community_ids is None
             else InsightTagDay.community_id.in_(community_ids))
    now_days, now_partial = _days(start, end)
    then_days, then_partial = _days(before, start)
    now_counts, then_counts = Counter(), Counter()

    def within(days):
        return and_(InsightTagDay.day >= days[0], InsightTagDay.day < days[1])
    stored = [days for days in (now_days, then_days) if days is not None]
    if stored:
        in_now = within(now_days) if now_days is not None else literal(False)
        for tag, now, then in db.session.execute(
                select(InsightTagDay.tag,
                       func.sum(case((in_now, InsightTagDay.threads), else_=0)),
                       func.sum(case((in_now, 0), else_=InsightTagDay.threads)))
                .where(scope, InsightTagDay.user_id == EVERYONE, or_(*map(within, stored)))
                .group_by(InsightTagDay.tag)):
            now_counts[tag] += now
            then_counts[tag] += then
    live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
    if community_ids is not None:
        live.append(Thread.community_id.in_(community_ids))

    if now_partial or then_partial:
        threads = _threads(live, now_partial + then_partial)
        in_window = threads.c.created_at >= start
        for tag, now, then in db.session.execute(
                select(ThreadTag.tag, func.count(case((in_window, 1))),
                       func.count(case((in_window, None), else_=1)))
                .join(threads, threads.c.id == ThreadTag.thread_id).group_by(ThreadTag.tag)):
            now_counts[tag] += now
            then_counts[tag] += then
    # A tag used by K people has at least K threads: only those rising with as many are
    # candidates, and their people are counted best first until RISING qualify.
    candidates = sorted((((now_counts[tag] + 1) / (then_counts[tag] + 1), tag)
                         for tag, count in now_counts.items()
                         if count >= K_ANONYMITY and count > then_counts[tag]), reverse=True)
    result = []
    for offset in range(0, len(candidates), CANDIDATES):
        chunk = candidates[offset:offset + CANDIDATES]
        people = _people(scope, live, now_days, now_partial, [tag for _, tag in chunk])
        result += [{"tag": tag, "count": now_counts[tag], "background": then_counts[tag],
                    "score": round(score, 4), "people": people[tag]}
                   for score, tag in chunk if people.get(tag, 0) >= K_ANONYMITY]
        if len(result) >= RISING:
            break
    return result[:RISING]


def _threads(live, ranges: list[tuple]):
    """Live threads created in the (partial day) ranges: one range scan each, so PostgreSQL
    reads them from the index of live threads by time alone (no OR of ranges, no heap)."""
    parts = [select(Thread.id, Thread.author_id, Thread.created_at)
             .where(*live, Thread.created_at >= a, Thread.created_at < b) for a, b in ranges]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("partial")


def _people(scope, live, days, ranges, tags: list[str]) -> dict[str, int]:
    """Distinct authors per tag of the window: the roll-up's authors of its whole days and the
    authors of its partial days' threads, united and counted in SQL."""
    parts = []
    if days is not None:
        parts.append(select(InsightTagDay.tag, InsightTagDay.user_id)
                     .where(scope, InsightTagDay.tag.in_(tags), InsightTagDay.user_id != EVERYONE,
                            InsightTagDay.day >= days[0], InsightTagDay.day < days[1]))
    if ranges:
        threads = _threads(live, ranges)
        parts.append(select(ThreadTag.tag, threads.c.author_id)
                     .join(threads, threads.c.id == ThreadTag.thread_id)
                     .where(ThreadTag.tag.in_(tags)))
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    columns = list(rows.c)
    return dict(db.session.execute(select(columns[0], func.count(columns[1].distinct()))
                                   .group_by(columns[0])).all())


def _words_of(title: str) -> frozenset[str]:
    words = _title_words.get(title)
    if words is None:
        if len(_title_words) >= TITLE_WORDS_KEPT:
            _title_words.clear()
        words = _title_words[title] = frozenset(queries.words(title))
    return words


def words(live, start: datetime, end: datetime) -> list[dict]:
    """Words of titles used by at least K_ANONYMITY authors of the window's sample."""
    # Plain rows (no ORM loading, no datetimes): the author, the title, whether it is the window's.
    latest = db.session.connection().execute(
        select(Thread.author_id, Thread.title, (Thread.created_at >= start).label("current"))
        .where(*live, Thread.created_at < end)
        .order_by(Thread.created_at.desc(), Thread.id.desc()).limit(RISING_BACKGROUND)).all()
    # Newest first: the window's latest titles are the first of these that start at `from`.
    current = [row for row in latest[:RISING_SAMPLE] if row.current]
    if not current:
        return []
    authors_by_word = defaultdict(set)
    for author_id, title, _ in current:
        for word in _words_of(title):
            authors_by_word[word].add(author_id)
    found = [w for w in significant_words([row.title for row in current],
                                          [row.title for row in latest], RISING * 3)
             if len(authors_by_word[w["term"]]) >= K_ANONYMITY][:RISING]
    return [{**w, "background": None, "people": len(authors_by_word[w["term"]])} for w in found]
