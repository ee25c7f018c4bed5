"""Insight rules: what owners and moderators (and admins, organisation-wide) learn from the data.

Privacy, k-anonymity: every figure says how many distinct people it describes, and any figure or
breakdown cell describing fewer than K_ANONYMITY people is suppressed (null, `suppressed: true`),
rising topics used by fewer than K people are left out, and no text is returned except tags and
single words of content the caller may see (moderators see their community; admins see all).
"""
import logging
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import (Date, Integer, and_, bindparam, case, cast, func, literal, or_,
                        select, true)
from sqlalchemy.dialects.postgresql import array

from collab import time
from collab.communities.models import Membership, MembershipStatus
from collab.concerns.models import Concern
from collab.db import db
from collab.errors import Forbidden, InvalidInput
from collab.ideas.models import IdeaStatusChange
from collab.insights import figures, periods, rising, rollup
from collab.insights.models import ThreadFact
from collab.people.models import Audience, User
from collab.permissions import find_visible_community, require_moderator
from collab.search import service as search_service
from collab.threads.models import Post, Thread, ThreadKind

log = logging.getLogger(__name__)

K_ANONYMITY = 5
MAX_DAYS = 366
UNANSWERED_AGES = (("under_1_day", 1), ("1_to_7_days", 7), ("7_to_30_days", 30),
                   ("over_30_days", None))
IDEA_STATUSES = ("new", "under_review", "planned", "in_progress", "done", "declined")


def _k(value, people: set | int) -> dict:
    """A figure with the number of people behind it, suppressed below K_ANONYMITY."""
    count = people if isinstance(people, int) else len(people)
    if count < K_ANONYMITY:
        return {"value": None, "people": None, "suppressed": True}
    return {"value": value, "people": count, "suppressed": False}


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _window(args: dict) -> tuple[datetime, datetime, str]:
    end = args.get("to") or time.now()
    start = args.get("from_") or end - timedelta(days=30)
    # Buckets start at UTC midnight, as the database's dates of UTC timestamps.
    end, start = (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
                  for value in (end, start))
    if start >= end:
        raise InvalidInput({"to": ["`from` must be before `to`."]})
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput({"from": [f"At most {MAX_DAYS} days."]})
    return start, end, args["interval"]


def rollup_days() -> int:
    return rollup.history_days(db.session.connection())


def rebuild(progress=None) -> tuple[int, int]:
    """Rebuilds the roll-ups from the history (`flask insights rebuild`), the tag roll-up too."""
    built = rollup.rebuild(progress)
    rising.rebuild()
    return built


def community_insights(viewer: User, slug: str, args: dict) -> dict:
    community = find_visible_community(viewer, slug)
    require_moderator(viewer, community)
    return {"community": community.slug, **_insights([community.id], *_window(args))}


def organization_insights(viewer: User, args: dict) -> dict:
    if not viewer.is_admin:
        raise Forbidden("Organisation-wide insights are for admins.")
    return {"community": None, **_insights(None, *_window(args))}


def _bucket_starts(start: datetime, end: datetime, interval: str) -> list[datetime]:
    step = timedelta(days=1 if interval == "day" else 7)
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        first -= timedelta(days=first.weekday())
    starts = []
    while first < end:
        starts.append(first)
        first += step
    return starts


def _insights(community_ids: list[int] | None, start: datetime, end: datetime,
              interval: str) -> dict:
    """Activity and the audience flow are summed from the daily roll-up (a row per person and
    day), response times read each question's stored first reply, the rest is grouped SQL: the
    cost follows the window's people-days, not its posts. None: every community."""
    live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
    if community_ids is not None:
        live.append(Thread.community_id.in_(community_ids))
    # The window's questions (an index range; the kind inline, so PostgreSQL's plans use the
    # partial index of live questions) joined to the facts of questions started in the window (a
    # range of the partial index of question facts, migrations 0027 and 0031): hashing every
    # thread's fact for a few thousand questions cost most of the response times at 1M posts.
    in_window = and_(ThreadFact.thread_id == Thread.id, ThreadFact.question,
                     ThreadFact.thread_created_at >= start, ThreadFact.thread_created_at < end)
    questions = (select(Thread.id, Thread.author_id, Thread.created_at, Thread.accepted_post_id,
                        Thread.answer_accepted_at, ThreadFact.first_reply_at)
                 .outerjoin(ThreadFact, in_window)
                 .where(*live, Thread.kind == bindparam("question", ThreadKind.QUESTION.value,
                                                         literal_execute=True),
                        Thread.created_at >= start, Thread.created_at < end)
                 .subquery("questions"))
    stored, partial = _split(community_ids, start, end)
    return {
        "from_": start, "to": end, "interval": interval, "k_anonymity": K_ANONYMITY,
        "activity": _activity(stored, partial, community_ids, start, end, interval),
        **_questions(questions, end),
        "unanswered_by_age": _unanswered(live, end),
        "idea_funnel": _idea_funnel(live, end),
        "concerns": _concerns(live, start, end),
        "audience_flow": _audience_flow(stored, partial),
        "rising_topics": _rising(live, community_ids, start, end),
    }


def _day(value) -> date:
    """SQL date() answers a date (PostgreSQL) or an ISO string (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _split(community_ids, start, end) -> tuple[SimpleNamespace | None, list]:
    """The window as the roll-up's whole UTC days (`stored`: its scope, first and last whole day,
    the whole ISO weeks among them and the days around those weeks; or None) and InsightDay-shaped
    rows of its partial first and last days (_partial_days)."""
    first_whole = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if first_whole < start:
        first_whole += timedelta(days=1)
    last_whole = end.replace(hour=0, minute=0, second=0, microsecond=0)
    if first_whole < last_whole < end and _day_complete_at(end, last_whole + timedelta(days=1)):
        last_whole += timedelta(days=1)  # `to` is now (or later than the day's last row)
    if first_whole >= last_whole:
        return None, _partial_days(community_ids, [(start, end)])
    return (periods.Plan(community_ids, first_whole.date(), last_whole.date()),
            _partial_days(community_ids, [(lower, upper) for lower, upper in (
                (start, first_whole), (last_whole, end)) if lower < upper]))


def _day_complete_at(end: datetime, midnight: datetime) -> bool:
    """No thread or post was created from `end` to `midnight`: the roll-up's row of the day that
    `end` falls in holds exactly that day's figures up to `end`, so the window's last partial day
    (up to `to` = now, the usual case) is read from the roll-up instead of the posts."""
    later = [select(Thread.id).where(Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None),
                                     Thread.created_at >= end, Thread.created_at < midnight),
             select(Post.id).where(Post.created_at >= end, Post.created_at < midnight)]
    return not any(db.session.scalar(query.limit(1)) for query in later)


def _partial_days(community_ids, ranges) -> list[SimpleNamespace]:
    """InsightDay-shaped rows of a few hours (the same rules as rollup.source), per day and
    person. Each range is cut at midnights; a piece longer than half its day is read as the
    roll-up's row of the day less the posts and threads of the rest of the day (the shorter
    read: both are exact), a shorter one straight from its threads and posts
    (periods.direct_rows)."""
    rows: dict = defaultdict(Counter)
    for lower, upper in ranges:
        while lower < upper:
            midnight = lower.replace(hour=0, minute=0, second=0, microsecond=0)
            next_midnight = midnight + timedelta(days=1)
            piece = (lower, min(upper, next_midnight))
            if piece[1] - piece[0] > timedelta(hours=12):
                rest = [(a, b) for a, b in ((midnight, piece[0]), (piece[1], next_midnight))
                        if a < b]
                for key, counts in periods.day_rows(community_ids, midnight.date()).items():
                    rows[key].update(counts)
                for key, counts in periods.direct_rows(community_ids, rest).items():
                    rows[key].subtract(counts)
            else:
                for key, counts in periods.direct_rows(community_ids, [piece]).items():
                    rows[key].update(counts)
            lower = piece[1]
    return [SimpleNamespace(day=day, user_id=user_id,
                            **{name: counts[name] for name in rollup.COUNTS})
            for (day, user_id), counts in rows.items() if any(counts.values())]


def _activity(stored, partial, community_ids, start, end, interval) -> list[dict]:
    """Per bucket: threads, posts, distinct active people. Day buckets: one stored totals row per
    whole day (periods.InsightDayTotal). Week buckets: whole ISO weeks from the person-week rows
    (periods.InsightWeek, counted in SQL); the weeks cut by the window's ends unite the people of
    their whole days' rows (read per bucket and person) and of the partial days."""
    starts = _bucket_starts(start, end, interval)
    step = 1 if interval == "day" else 7
    first = starts[0].date()

    def bucket(day) -> int:
        return min(len(starts) - 1, (_day(day) - first).days // step)
    thread_counts, post_counts, people_counts = Counter(), Counter(), Counter()
    joiners, mixed_people = defaultdict(set), defaultdict(set)
    for row in partial:
        if row.threads or row.posts:
            index = bucket(row.day)
            thread_counts[index] += row.threads
            post_counts[index] += row.posts
            mixed_people[index].add(row.user_id)
    if stored is not None:
        if interval == "day":
            totals = stored.day_totals()
        else:
            totals = stored.week_totals()
            for day, user_id, threads, posts in stored.edge_people():
                index = bucket(day)
                thread_counts[index] += threads
                post_counts[index] += posts
                mixed_people[index].add(user_id)
        for day, threads, posts, people in totals:
            index = bucket(day)
            thread_counts[index] += threads
            post_counts[index] += posts
            people_counts[index] += people
    for index, people in mixed_people.items():
        people_counts[index] = len(people)
    member_day = func.date(Membership.created_at)
    joined = (select(member_day, Membership.user_id).distinct()
              .where(Membership.status == MembershipStatus.ACTIVE,
                     Membership.created_at >= start, Membership.created_at < end))
    if community_ids is not None:
        joined = joined.where(Membership.community_id.in_(community_ids))
    for day, user_id in db.session.execute(joined):
        joiners[bucket(day)].add(user_id)
    result = []
    for index, bucket_start in enumerate(starts):
        suppressed = people_counts[index] < K_ANONYMITY
        result.append({
            "start": bucket_start,
            "threads": None if suppressed else thread_counts[index],
            "posts": None if suppressed else post_counts[index],
            "active_people": None if suppressed else people_counts[index],
            "new_members": None if len(joiners[index]) < K_ANONYMITY else len(joiners[index]),
            "suppressed": suppressed})
    return result


def _bucket_index(day_column, first: date, step: int):
    """Whole days from `first` to the row's day, divided by the bucket's length (integer
    division on both engines: PostgreSQL's date - date is an integer, SQLite's julianday)."""
    if db.session.get_bind().dialect.name == "sqlite":
        days = cast(func.julianday(day_column) - func.julianday(first.isoformat()), Integer)
    else:
        days = cast(day_column - bindparam("first_day", first, type_=Date), Integer)
    return days if step == 1 else days.op("/")(step)


def _questions(questions, end) -> dict:
    """Response times and answer rate of the questions started in the window, in SQL: on
    PostgreSQL one statement (collab/insights/figures.py: counts, distinct people per measure
    and every percentile, each measure sorted once); on SQLite counts in one aggregate, then only
    the rows at the ranks the percentiles need (the middle one or two and the 90th) come back."""
    q = questions.c
    replied = and_(q.first_reply_at.is_not(None), q.first_reply_at < end)
    accepted = and_(q.accepted_post_id.is_not(None), q.answer_accepted_at.is_not(None),
                    q.answer_accepted_at < end)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        (total, authors, answered, replies, reply_people, accepts, accept_people,
         *percentiles) = figures.question_figures(questions, end)
    else:
        (total, authors, answered, replies, reply_people, accepts,
         accept_people) = db.session.execute(select(
            func.count(), func.count(q.author_id.distinct()), func.count(q.accepted_post_id),
            func.count(case((replied, 1))), func.count(case((replied, q.author_id)).distinct()),
            func.count(case((accepted, 1))), func.count(case((accepted, q.author_id)).distinct()),
        )).one()
    rate = round(answered / total, 3) if total else None
    measures = {"first_reply_hours": (q.first_reply_at, replied, replies, reply_people),
                "accepted_answer_hours": (q.answer_accepted_at, accepted, accepts,
                                          accept_people)}
    shown = {name: measure for name, measure in measures.items()
             if measure[3] >= K_ANONYMITY and measure[2]}
    if postgres:
        hours = dict(zip(measures, percentiles))
    else:
        hours = {name: _ranked_hours(questions, reached, condition, count)
                 for name, (reached, condition, count, _) in shown.items()}
    return {
        "response_times": {
            name: ({"p50": round(statistics.median(hours[name][:2]), 2),
                    "p90": round(hours[name][2], 2), "count": measure[2], "suppressed": False}
                   if name in shown else
                   {"p50": None, "p90": None, "count": None, "suppressed": True})
            for name, measure in measures.items()},
        "answer_rate": {"questions": _k(total, authors), "rate": _k(rate, authors)},
    }


def _p90_rank(count: int) -> int:
    """The 1-based rank of p90 (statistics of _percentiles): the nearest rank to 0.9 (n - 1)."""
    return min(count - 1, int(round(0.9 * (count - 1)))) + 1


def _ranked_hours(questions, reached, condition, count: int) -> list[float]:
    """SQLite: the hours from each question's start to `reached` at the two middle ranks and at
    p90's, reading only the rows at those ranks."""
    middle = [(count + 1) // 2, count // 2 + 1]
    p90 = _p90_rank(count)
    q = questions.c
    length = func.julianday(reached) - func.julianday(q.created_at)
    ranked = select(q.created_at, reached.label("reached"), func.row_number().over(
        order_by=(length, q.id)).label("rank")).where(condition).subquery()
    hours = {rank: _hours(created, at) for created, at, rank in db.session.execute(
        select(ranked.c.created_at, ranked.c.reached, ranked.c.rank)
        .where(ranked.c.rank.in_(sorted({*middle, p90}))))}
    return [hours[middle[0]], hours[middle[1]], hours[p90]]


def _unanswered(live, end) -> list[dict]:
    """Questions started before `to` without an accepted answer, by age at `to`."""
    age = case(*[(Thread.created_at > end - timedelta(days=days), key)
                 for key, days in UNANSWERED_AGES if days is not None],
               else_=UNANSWERED_AGES[-1][0])
    per_person = (select(age.label("age"), Thread.author_id, func.count().label("questions"))
                  .where(*live, Thread.kind == ThreadKind.QUESTION,
                         Thread.accepted_post_id.is_(None), Thread.created_at < end)
                  .group_by(age, Thread.author_id).subquery())
    rows = {key: (int(count), people) for key, count, people in db.session.execute(
        select(per_person.c.age, func.sum(per_person.c.questions), func.count())
        .group_by(per_person.c.age))}
    return [{"age": key, **_k(rows.get(key, (0, 0))[0], rows.get(key, (0, 0))[1])}
            for key, _ in UNANSWERED_AGES]


def _idea_funnel(live, end) -> list[dict]:
    """Count per status, and the median time ideas spent in each status they left, from each
    change's stored stay (idea_status_changes.hours_in_status). Organisation-wide on PostgreSQL
    both in one statement read in index order (_organisation_funnel); otherwise the counts
    grouped per status and author, then PostgreSQL returns each status's lower and upper middle
    stays (percentile_disc with two fractions, one sort), SQLite ranks the stays (window
    functions); either way only the middle one or two come back."""
    # The kind inline (not a parameter), so PostgreSQL's plans may use the partial indexes of
    # live ideas (ix_threads_live_ideas, ix_threads_live_idea_authors) even when prepared.
    ideas = (*live, Thread.kind == bindparam("idea", ThreadKind.IDEA.value, literal_execute=True),
             Thread.created_at < end)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    durations = defaultdict(list)
    if postgres and len(live) == 2:  # organisation-wide
        counts, middles = _organisation_funnel(ideas, end)
        durations.update(middles)
    else:
        counts = _funnel_counts(ideas)
        stays = (IdeaStatusChange.from_status, IdeaStatusChange.hours_in_status)
        if postgres:
            # Each idea's changes probed by its index (ix_idea_status_changes_thread): OFFSET 0
            # keeps the lateral subquery a probe per idea, where a join hashed all 30,000
            # changes of every community for the 500 ideas of one (1M posts).
            left_by = (select(*stays).where(IdeaStatusChange.thread_id == Thread.id,
                                            IdeaStatusChange.created_at < end)
                       .offset(0).lateral("left_by"))
            middle = func.percentile_disc(array([literal(figures.LOWER),
                                                 literal(figures.UPPER)]))
            for status, hours in db.session.execute(
                    select(left_by.c.from_status, middle.within_group(left_by.c.hours_in_status))
                    .select_from(Thread).join(left_by, true()).where(*ideas)
                    .group_by(left_by.c.from_status)):
                durations[status] = list(hours or ())  # None: no stay stored
        else:
            left = (Thread.id == IdeaStatusChange.thread_id, *ideas,
                    IdeaStatusChange.created_at < end)
            ranked = select(*stays, func.row_number().over(
                partition_by=stays[0], order_by=(stays[1], IdeaStatusChange.id)).label("rank"),
                func.count().over(partition_by=stays[0]).label("stays")).join(
                Thread, left[0]).where(*left[1:]).subquery()
            for status, hours in db.session.execute(
                    select(ranked.c.from_status, ranked.c.hours_in_status)
                    .where(ranked.c.rank >= (ranked.c.stays + 1) // 2,
                           ranked.c.rank <= ranked.c.stays // 2 + 1)):
                durations[status].append(hours)
    result = []
    for status in IDEA_STATUSES:
        count, people = counts.get(status, (0, 0))
        result.append({"status": status, **_k(count, people),
                       "median_hours_in_status": (round(statistics.median(durations[status]), 2)
                                                  if durations[status] and people >= K_ANONYMITY
                                                  else None)})
    return result


def _funnel_counts(ideas) -> dict:
    """{status: (ideas, distinct authors)}: per status and author, then per status (two
    aggregations, no sort for DISTINCT)."""
    per_person = (select(Thread.status, Thread.author_id, func.count().label("ideas"))
                  .where(*ideas).group_by(Thread.status, Thread.author_id).subquery())
    return {status: (int(count), people) for status, count, people in db.session.execute(
        select(per_person.c.status, func.sum(per_person.c.ideas), func.count())
        .group_by(per_person.c.status))}


def _organisation_funnel(ideas, end) -> tuple[dict, dict]:
    """PostgreSQL, every community, any `to`: the counts grouped in the order of a partial index
    of live ideas (status, author_id, created_at), and each status's middle stays of live ideas
    from one ordered read of the index of stored stays (migration 0031; collab/insights/
    figures.py). Before: six statements, one hashing 25,000 ideas, one counting 30,000 stays,
    then reads at their ranks with OFFSET, and only when `to` was now."""
    return _funnel_counts(ideas), figures.middle_stays(end)


def _concerns(live, start, end) -> dict:
    """Concerns opened and resolved in the window, and open at `to`, with their thread authors.
    Only the concerns that one of the three figures counts are read (opened or resolved in the
    window, or still open: ~1,500 of 2,000 at 1M posts), each one's thread author by its key
    (None: the thread is not live or in scope), once per concern (a MATERIALIZED CTE), rather
    than a join that hashed every live thread."""
    author = (select(Thread.author_id).where(Thread.id == Concern.thread_id, *live,
                                             Thread.created_at < end)
              .scalar_subquery().label("author_id"))
    counted = or_(Concern.opened_at >= start,
                  and_(Concern.resolved_at >= start, Concern.resolved_at < end),
                  Concern.state.in_(("open", "acknowledged")))
    concerns = (select(Concern.opened_at, Concern.resolved_at, Concern.state, author)
                .where(Concern.opened_at < end, counted)
                .cte("window_concerns").prefix_with("MATERIALIZED"))
    c = concerns.c
    opened = and_(c.opened_at >= start, c.opened_at < end)
    resolved = and_(c.resolved_at.is_not(None), c.resolved_at >= start, c.resolved_at < end)
    still_open = c.state.in_(("open", "acknowledged"))
    row = db.session.execute(
        select(*[figure for condition in (opened, resolved, still_open)
                 for figure in (func.count(case((condition, 1))),
                                func.count(case((condition, c.author_id)).distinct()))])
        .where(c.author_id.is_not(None))).one()
    return {"opened": _k(row[0], row[1]), "resolved": _k(row[2], row[3]),
            "open_now": _k(row[4], row[5])}


def _audience_flow(stored, partial) -> dict:
    """Who replies to whom: replier audience → audience of the replied-to author; each cell's
    people are the fewer of its distinct repliers and distinct people replied to. Each person's
    sums over the window's whole ISO weeks (person-week rows) and its other whole days (day
    rows) come with their audience in one statement (periods.Plan.person_sums), then the partial
    days are added."""
    names = rollup.TO + rollup.FROM
    per_person = defaultdict(Counter)
    audience_of = {}
    if stored is not None:
        for user_id, audience, *sums in stored.person_sums(names):
            per_person[user_id].update(dict(zip(names, sums)))
            audience_of[user_id] = audience
    for row in partial:
        per_person[row.user_id].update({name: getattr(row, name) for name in names})
    missing = sorted(set(per_person) - set(audience_of))  # people of the partial days only
    if missing:
        audience_of.update(db.session.execute(
            select(User.id, User.audience).where(User.id.in_(missing))).all())
    audiences = [a.value for a in Audience]
    cells, gave, got = Counter(), Counter(), Counter()
    for user_id, sums in per_person.items():
        mine = audience_of[user_id]
        for other, to_name, from_name in zip(audiences, rollup.TO, rollup.FROM):
            if sums[to_name]:
                cells[(mine, other)] += sums[to_name]
                gave[(mine, other)] += 1
            if sums[from_name]:
                got[(other, mine)] += 1
    matrix = {}
    for source in audiences:
        matrix[source] = {}
        for target in audiences:
            key = (source, target)
            matrix[source][target] = (_k(cells[key], min(gave[key], got[key]))
                                      if cells[key] else
                                      {"value": 0, "people": 0, "suppressed": False})
    return {"rows": "replier audience", "columns": "audience of the author replied to",
            "matrix": matrix}


def _rising(live, community_ids, start, end) -> dict:
    """Tags and words significantly more frequent in the window than before it, on both engines
    from the database (`engine` says so): the tags from the tag roll-up (collab/insights/
    rising.py; Elasticsearch's significant_terms over 1.1M documents with a background filter
    cost ~0.1 s of its CPU per request), the words from bounded samples of titles."""
    return {"engine": search_service.DATABASE, **_database_rising(live, community_ids, start, end)}


def _database_rising(live, community_ids, start, end) -> dict:
    """Tags: threads in the window against the window of equal length before (plus-one
    smoothed), summed from the roll-up's days; words: _rising_words."""
    return {"tags": rising.tags(community_ids, start, end),
            "terms": _rising_words(community_ids, start, end)}


def _rising_words(community_ids, start, end) -> list[dict]:
    """Words of titles: the JLH heuristic of significant_words, the window's latest RISING_SAMPLE
    titles against the latest RISING_BACKGROUND up to `to` (Elasticsearch's background set,
    sampled as its `sampler` does), each used by at least K_ANONYMITY authors."""
    return rising.words(community_ids, start, end)
