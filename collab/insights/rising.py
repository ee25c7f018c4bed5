"""Rising topics (collab/insights/service.py `_rising`), on both engines.

Tags: threads per tag in the window [from, to) against the window of equal length before it
(plus-one smoothed ratio), summed from the tag roll-up's whole UTC days (collab/insights/
tag_days.py, EVERYONE's rows) plus the few partial days at the windows' edges read from threads;
each tag's distinct authors in the window (k-anonymity) are counted only for the best candidates,
from the roll-up's author rows and the partial days' threads: all in one statement, built once per
process (README, "Rising topics at 1M posts, round 2").

Words of titles: the JLH heuristic of significant_words, the window's latest RISING_SAMPLE titles
against the latest RISING_BACKGROUND up to `to`: one backward read of a covering index (the
window's latest titles are the first of the latest up to `to`), as the driver's plain tuples. The
words are a pure function of those rows: memoised by the rows themselves (exact: the key is what
was read, nothing to invalidate), and each title's words by the title's text.
"""
import functools
import sys
from collections import Counter, defaultdict
from contextlib import contextmanager
from itertools import chain
from datetime import date, datetime, timedelta

from sqlalchemy import (Date, Float, Integer, and_, bindparam, case, cast, func,
                        literal, or_, select, text, union_all)

from collab.db import db
from collab.expertise.service import jlh, text_words
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

_title_words: dict[str, tuple] = {}
_built: dict[tuple, object] = {}  # the tags' statement per (dialect, organisation-wide)


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
    """Tags rising in the window (README, "Rising topics at 1M posts"): one statement built once
    per process (counts, the CANDIDATES best candidates and their people); only when fewer than
    RISING of those are used by K_ANONYMITY people and there are more candidates, the chunked
    reads of `_tags` go on down the ranking."""
    organization = community_ids is None
    connection = db.session.connection()
    key = (connection.dialect.name, organization)
    if key not in _built:
        _built[key] = _tags_statement(connection.dialect.name, organization)
    now_days, now_ranges = _edges(start, end)
    then_days, then_ranges = _edges(start - (end - start), start)
    params = {"start": start, "now_first": now_days[0], "now_last": now_days[1],
              "then_first": then_days[0], "then_last": then_days[1],
              "candidates": CANDIDATES, "k": K_ANONYMITY}
    for number, (a, b) in enumerate(now_ranges + then_ranges):
        params[f"a{number}"], params[f"b{number}"] = a, b
    if not organization:
        params["community_ids"] = list(community_ids)
    with _serial(organization):
        rows = connection.execute(_built[key], params).all()
    result = [{"tag": tag, "count": now, "background": then,
               "score": round((now + 1) / (then + 1), 4), "people": people}
              for tag, now, then, people in rows if people >= K_ANONYMITY][:RISING]
    if len(result) < RISING and len(rows) >= CANDIDATES:
        with _serial(organization):
            return _tags(community_ids, start, end)
    return result


def _edges(lower: datetime, upper: datetime) -> tuple[tuple[date, date], list[tuple]]:
    """[lower, upper) as a range of whole UTC days (empty when there is none) and the two
    partial ranges at its edges (either may be empty): always the same shape, so one statement
    serves every window."""
    first = _midnight(lower)
    if first < lower:
        first += timedelta(days=1)
    last = _midnight(upper)
    if first >= last:
        return (first.date(), first.date()), [(lower, upper), (upper, upper)]
    return (first.date(), last.date()), [(lower, first), (last, upper)]


def _tags_statement(dialect: str, organization: bool):
    """(tag, threads in the window, threads in the window before, distinct authors in the
    window) of the CANDIDATES best candidates (more threads than before and at least K), best
    first: counts from the roll-up's whole days (EVERYONE's rows) and the live threads of the four
    partial day ranges (window and window before, first and last day; each a range scan of the
    index of live threads by time); authors from the roll-up's author rows of the window's whole
    days and the window's partial threads. Parameters: start, now_first/now_last and
    then_first/then_last (days), a0/b0 … a3/b3 (the partial ranges), candidates, k and, for a
    community's view, community_ids."""
    days = InsightTagDay
    live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
    scope = days.community_id == ORGANIZATION
    if not organization:
        ids = bindparam("community_ids", expanding=True)
        live.append(Thread.community_id.in_(ids))
        scope = days.community_id.in_(ids)
    moment = Thread.created_at.type  # the column's type: naive UTC on both engines
    start = bindparam("start", type_=moment)
    ranges = [select(Thread.id, Thread.author_id,
                     case((Thread.created_at >= start, 1), else_=0).label("now"))
              .where(*live, Thread.created_at >= bindparam(f"a{n}", type_=moment),
                     Thread.created_at < bindparam(f"b{n}", type_=moment)) for n in range(4)]
    partial = union_all(*ranges).subquery("partial")
    partial_tags = (select(ThreadTag.tag, partial.c.author_id, partial.c.now)
                    .join(partial, partial.c.id == ThreadTag.thread_id).cte("partial_tags"))
    now_first, now_last = bindparam("now_first", type_=Date), bindparam("now_last", type_=Date)
    then_first = bindparam("then_first", type_=Date)
    then_last = bindparam("then_last", type_=Date)
    in_now = and_(days.day >= now_first, days.day < now_last)
    stored = (select(days.tag, case((in_now, days.threads), else_=0).label("now"),
                     case((in_now, 0), else_=days.threads).label("then"))
              .where(scope, days.user_id == EVERYONE,
                     or_(in_now, and_(days.day >= then_first, days.day < then_last))))
    edges = select(partial_tags.c.tag, partial_tags.c.now, (1 - partial_tags.c.now))
    both = union_all(stored, edges).subquery("counted")
    now, then = func.sum(both.c.now).label("now"), func.sum(both.c.then).label("then")
    counts = select(both.c.tag, now, then).group_by(both.c.tag).subquery("counts")
    score = (cast(counts.c.now + 1, Float) / cast(counts.c.then + 1, Float)).label("score")
    # Python's (score, tag) order, reversed: ties by the tag's code points (bytes), not a locale.
    tag_order = counts.c.tag.collate("C") if dialect == "postgresql" else counts.c.tag
    candidates = (select(counts.c.tag, counts.c.now, counts.c.then, score)
                  .where(counts.c.now >= bindparam("k", type_=Integer),
                         counts.c.now > counts.c.then)
                  .order_by(score.desc(), tag_order.desc())
                  .limit(bindparam("candidates", type_=Integer)).cte("candidates"))
    authors = union_all(
        select(days.tag, days.user_id)
        .join(candidates, candidates.c.tag == days.tag)
        .where(scope, days.user_id != EVERYONE, in_now),
        select(partial_tags.c.tag, partial_tags.c.author_id)
        .join(candidates, candidates.c.tag == partial_tags.c.tag)
        .where(partial_tags.c.now == 1)).subquery("authors")
    people = (select(authors.c.tag, func.count(authors.c.user_id.distinct()).label("people"))
              .group_by(authors.c.tag).subquery("people"))
    return (select(candidates.c.tag, candidates.c.now, candidates.c.then,
                   func.coalesce(people.c.people, 0))
            .outerjoin(people, people.c.tag == candidates.c.tag)
            .order_by(candidates.c.score.desc(), candidates.c.tag.collate("C").desc()
                      if dialect == "postgresql" else candidates.c.tag.desc()))


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


def _words_of(title: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A title's distinct words (queries.words: whose authors are counted) and the distinct words
    significant_words counts it once for (expertise.text_words): a pure function of the text,
    memoised by it. Tuples of interned words: ~0.3 KB a title, so the memo stays under ~20 MB."""
    words = _title_words.get(title)
    if words is None:
        if len(_title_words) >= TITLE_WORDS_KEPT:
            _title_words.clear()
        words = _title_words[title] = (tuple(set(map(sys.intern, queries.words(title)))),
                                       tuple(map(sys.intern, text_words(title))))
    return words


def words(community_ids: list[int] | None, start: datetime, end: datetime) -> list[dict]:
    """Words of titles used by at least K_ANONYMITY authors of the window's sample."""
    connection = db.session.connection()
    key = ("words", community_ids is None)
    if key not in _built:
        _built[key] = _words_statement(community_ids is None)
    params = {"start": start, "end": end, "background": RISING_BACKGROUND}
    if community_ids is not None:
        params["community_ids"] = list(community_ids)
    # The driver's plain tuples (author, title, whether it is the window's), newest first, not
    # SQLAlchemy rows: comparing these is C (comparing rows, or reading their attributes, cost
    # more than the words did), and the collector untracks them at its first pass instead of
    # promoting 5,000 rows a request towards full collections (~0.1-0.2 s pauses, README).
    result = connection.execute(_built[key], params)
    try:
        latest = tuple(result.cursor.fetchall())
    finally:
        result.close()
    # The words are a pure function of these rows (and the sample's size): memoised by them, so
    # a request whose samples are the ones of an earlier request in this process (no thread
    # written, edited, moved or removed in between, the usual case) only compares them.
    return [dict(word) for word in _significant(latest, RISING_SAMPLE)]


def _words_statement(organization: bool):
    """The latest RISING_BACKGROUND live titles up to `end` (in scope), newest first, with their
    author and whether they start at `start` or later: one backward read of the covering index
    ix_threads_live_titles organisation-wide."""
    live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
    if not organization:
        live.append(Thread.community_id.in_(bindparam("community_ids", expanding=True)))
    moment = Thread.created_at.type
    return (select(Thread.author_id, Thread.title,
                   case((Thread.created_at >= bindparam("start", type_=moment), True),
                        else_=False))
            .where(*live, Thread.created_at < bindparam("end", type_=moment))
            .order_by(Thread.created_at.desc(), Thread.id.desc())
            .limit(bindparam("background", type_=Integer)))


@functools.lru_cache(maxsize=8)
def _significant(latest: tuple, sample: int) -> tuple[dict, ...]:
    """The significant words of the rows (author, title, in the window) newest first: the
    window's latest `sample` titles against all of them. Callers copy the dicts."""
    # Newest first: the window's latest titles are the first of these that start at `from`.
    current = [row for row in latest[:sample] if row[2]]
    if not current:
        return ()
    authors_by_word = defaultdict(set)
    for author_id, title, _ in current:
        for word in _words_of(title)[0]:
            authors_by_word[word].add(author_id)
    mine = Counter(chain.from_iterable(_words_of(row[1])[1] for row in current))
    everyone = Counter(chain.from_iterable(_words_of(row[1])[1] for row in latest))
    # significant_words of the two samples' titles, their words counted from the memo above.
    found = [w for w in jlh(mine, everyone, len(current), len(latest), RISING * 3)
             if len(authors_by_word[w["term"]]) >= K_ANONYMITY][:RISING]
    return tuple({**w, "background": None, "people": len(authors_by_word[w["term"]])}
                 for w in found)
