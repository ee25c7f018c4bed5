"""Insight rules: what owners and moderators (and admins, organisation-wide) learn from the data.

Privacy, k-anonymity: every figure says how many distinct people it describes, and any figure or
breakdown cell describing fewer than K_ANONYMITY people is suppressed (null, `suppressed: true`),
rising topics used by fewer than K people are left out, and no text is returned except tags and
single words of content the caller may see (moderators see their community; admins see all).
"""
import logging
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from collab import time
from collab.communities.models import Community, Membership, MembershipStatus
from collab.concerns.models import Concern
from collab.db import db
from collab.errors import Forbidden, InvalidInput
from collab.expertise.service import significant_words
from collab.ideas.models import IdeaStatusChange
from collab.people.models import Audience, User
from collab.permissions import find_visible_community, require_moderator
from collab.search import service as search_service
from collab.threads.models import Post, Thread, ThreadKind
from search import queries
from search.client import SearchUnavailable

log = logging.getLogger(__name__)

K_ANONYMITY = 5
MAX_DAYS = 366
UNANSWERED_AGES = (("under_1_day", 1), ("1_to_7_days", 7), ("7_to_30_days", 30),
                   ("over_30_days", None))
IDEA_STATUSES = ("new", "under_review", "planned", "in_progress", "done", "declined")
RISING = 10


def _k(value, people: set | int) -> dict:
    """A figure with the number of people behind it, suppressed below K_ANONYMITY."""
    count = people if isinstance(people, int) else len(people)
    if count < K_ANONYMITY:
        return {"value": None, "people": None, "suppressed": True}
    return {"value": value, "people": count, "suppressed": False}


def _percentiles(hours: list[float], people: set) -> dict:
    if len(people) < K_ANONYMITY or not hours:
        return {"p50": None, "p90": None, "count": None, "suppressed": True}
    ordered = sorted(hours)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"p50": round(statistics.median(ordered), 2), "p90": round(p90, 2),
            "count": len(ordered), "suppressed": False}


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _window(args: dict) -> tuple[datetime, datetime, str]:
    end = args.get("to") or time.now()
    start = args.get("from_") or end - timedelta(days=30)
    end, start = (value if value.tzinfo else value.replace(tzinfo=time.now().tzinfo)
                  for value in (end, start))
    if start >= end:
        raise InvalidInput({"to": ["`from` must be before `to`."]})
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput({"from": [f"At most {MAX_DAYS} days."]})
    return start, end, args["interval"]


def community_insights(viewer: User, slug: str, args: dict) -> dict:
    community = find_visible_community(viewer, slug)
    require_moderator(viewer, community)
    return {"community": community.slug, **_insights([community.id], *_window(args))}


def organization_insights(viewer: User, args: dict) -> dict:
    if not viewer.is_admin:
        raise Forbidden("Organisation-wide insights are for admins.")
    ids = list(db.session.scalars(select(Community.id)))
    return {"community": None, **_insights(ids, *_window(args))}


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


def _insights(community_ids: list[int], start: datetime, end: datetime, interval: str) -> dict:
    live = (Thread.community_id.in_(community_ids), Thread.deleted_at.is_(None),
            Thread.merged_into_id.is_(None))
    threads = db.session.execute(
        select(Thread.id, Thread.author_id, Thread.kind, Thread.status, Thread.created_at,
               Thread.accepted_post_id)
        .where(*live, Thread.created_at < end)).all()
    thread_by_id = {t.id: t for t in threads}
    replier, replied = aliased(User), aliased(User)
    parent = aliased(Post)
    posts = db.session.execute(
        select(Post.id, Post.thread_id, Post.author_id, Post.created_at, replier.audience,
               func.coalesce(parent.author_id, Thread.author_id).label("to_id"),
               replied.audience.label("to_audience"))
        .join(Thread, Thread.id == Post.thread_id)
        .join(replier, replier.id == Post.author_id)
        .outerjoin(parent, parent.id == Post.parent_id)
        .join(replied, replied.id == func.coalesce(parent.author_id, Thread.author_id))
        .where(*live, Post.deleted_at.is_(None), Post.created_at < end)).all()
    members = db.session.execute(
        select(Membership.user_id, Membership.created_at).where(
            Membership.community_id.in_(community_ids),
            Membership.status == MembershipStatus.ACTIVE,
            Membership.created_at >= start, Membership.created_at < end)).all()

    in_window = lambda moment: start <= moment < end  # noqa: E731
    return {
        "from_": start, "to": end, "interval": interval, "k_anonymity": K_ANONYMITY,
        "activity": _activity(threads, posts, members, start, end, interval),
        "response_times": _response_times(threads, posts, in_window),
        "answer_rate": _answer_rate(threads, in_window),
        "unanswered_by_age": _unanswered(threads, end),
        "idea_funnel": _idea_funnel(community_ids, threads, end),
        "concerns": _concerns(community_ids, thread_by_id, start, end),
        "audience_flow": _audience_flow(posts, in_window),
        "rising_topics": _rising(community_ids, threads, start, end),
    }


def _activity(threads, posts, members, start, end, interval) -> list[dict]:
    starts = _bucket_starts(start, end, interval)
    step = timedelta(days=1 if interval == "day" else 7)

    def bucket(moment):
        if not start <= moment < end:
            return None
        return min(len(starts) - 1, int((moment - starts[0]) / step))
    thread_counts, post_counts = Counter(), Counter()
    people, joiners = defaultdict(set), defaultdict(set)
    for t in threads:
        if (b := bucket(t.created_at)) is not None:
            thread_counts[b] += 1
            people[b].add(t.author_id)
    for p in posts:
        if (b := bucket(p.created_at)) is not None:
            post_counts[b] += 1
            people[b].add(p.author_id)
    for m in members:
        if (b := bucket(m.created_at)) is not None:
            joiners[b].add(m.user_id)
    result = []
    for index, bucket_start in enumerate(starts):
        active = people[index]
        suppressed = len(active) < K_ANONYMITY
        result.append({
            "start": bucket_start,
            "threads": None if suppressed else thread_counts[index],
            "posts": None if suppressed else post_counts[index],
            "active_people": None if suppressed else len(active),
            "new_members": None if len(joiners[index]) < K_ANONYMITY else len(joiners[index]),
            "suppressed": suppressed})
    return result


def _response_times(threads, posts, in_window) -> dict:
    first_reply: dict[int, datetime] = {}
    accepted_at: dict[int, datetime] = {}
    accepted_ids = {t.accepted_post_id: t.id for t in threads if t.accepted_post_id}
    by_id = {t.id: t for t in threads}
    for p in posts:
        thread = by_id.get(p.thread_id)
        if thread is None:
            continue
        if p.author_id != thread.author_id and (p.thread_id not in first_reply
                                                or p.created_at < first_reply[p.thread_id]):
            first_reply[p.thread_id] = p.created_at
        if accepted_ids.get(p.id) == p.thread_id:
            accepted_at[p.thread_id] = p.created_at
    questions = [t for t in threads if t.kind == ThreadKind.QUESTION and in_window(t.created_at)]
    reply_hours, reply_people, accept_hours, accept_people = [], set(), [], set()
    for t in questions:
        if t.id in first_reply:
            reply_hours.append(_hours(t.created_at, first_reply[t.id]))
            reply_people.add(t.author_id)
        if t.id in accepted_at:
            accept_hours.append(_hours(t.created_at, accepted_at[t.id]))
            accept_people.add(t.author_id)
    return {"first_reply_hours": _percentiles(reply_hours, reply_people),
            "accepted_answer_hours": _percentiles(accept_hours, accept_people)}


def _answer_rate(threads, in_window) -> dict:
    questions = [t for t in threads if t.kind == ThreadKind.QUESTION and in_window(t.created_at)]
    answered = sum(1 for t in questions if t.accepted_post_id)
    rate = round(answered / len(questions), 3) if questions else None
    return {"questions": _k(len(questions), {t.author_id for t in questions}),
            "rate": _k(rate, {t.author_id for t in questions})}


def _unanswered(threads, end) -> list[dict]:
    buckets = {key: set() for key, _ in UNANSWERED_AGES}
    counts = Counter()
    for t in threads:
        if t.kind != ThreadKind.QUESTION or t.accepted_post_id:
            continue
        age = (end - t.created_at).total_seconds() / 86400
        key = next(k for k, days in UNANSWERED_AGES if days is None or age < days)
        counts[key] += 1
        buckets[key].add(t.author_id)
    return [{"age": key, **_k(counts[key], buckets[key])} for key, _ in UNANSWERED_AGES]


def _idea_funnel(community_ids, threads, end) -> list[dict]:
    ideas = {t.id: t for t in threads if t.kind == ThreadKind.IDEA}
    authors, counts = defaultdict(set), Counter()
    for t in ideas.values():
        counts[t.status] += 1
        authors[t.status].add(t.author_id)
    durations = defaultdict(list)
    history = defaultdict(list)
    if ideas:
        for change in db.session.execute(
                select(IdeaStatusChange.thread_id, IdeaStatusChange.from_status,
                       IdeaStatusChange.created_at)
                .where(IdeaStatusChange.thread_id.in_(list(ideas)),
                       IdeaStatusChange.created_at < end)
                .order_by(IdeaStatusChange.thread_id, IdeaStatusChange.id)):
            history[change.thread_id].append(change)
    for thread_id, changes in history.items():
        entered = ideas[thread_id].created_at
        for change in changes:
            durations[change.from_status].append(_hours(entered, change.created_at))
            entered = change.created_at
    return [{"status": status, **_k(counts[status], authors[status]),
             "median_hours_in_status": (round(statistics.median(durations[status]), 2)
                                        if durations[status] and
                                        len(authors[status]) >= K_ANONYMITY else None)}
            for status in IDEA_STATUSES]


def _concerns(community_ids, thread_by_id, start, end) -> dict:
    rows = db.session.execute(select(Concern.thread_id, Concern.opened_at, Concern.resolved_at,
                                     Concern.state)
                              .where(Concern.community_id.in_(community_ids))).all()
    rows = [r for r in rows if r.thread_id in thread_by_id]
    opened = [r for r in rows if start <= r.opened_at < end]
    resolved = [r for r in rows if r.resolved_at and start <= r.resolved_at < end]
    still_open = [r for r in rows if r.state in ("open", "acknowledged") and r.opened_at < end]
    people = lambda items: {thread_by_id[r.thread_id].author_id for r in items}  # noqa: E731
    return {"opened": _k(len(opened), people(opened)),
            "resolved": _k(len(resolved), people(resolved)),
            "open_now": _k(len(still_open), people(still_open))}


def _audience_flow(posts, in_window) -> dict:
    """Who replies to whom: replier audience → audience of the replied-to author."""
    cells = Counter()
    repliers, recipients = defaultdict(set), defaultdict(set)
    for p in posts:
        if not in_window(p.created_at) or p.author_id == p.to_id:
            continue
        key = (p.audience, p.to_audience)
        cells[key] += 1
        repliers[key].add(p.author_id)
        recipients[key].add(p.to_id)
    audiences = [a.value for a in Audience]
    matrix = {}
    for source in audiences:
        matrix[source] = {}
        for target in audiences:
            key = (source, target)
            people = min(len(repliers[key]), len(recipients[key]))
            matrix[source][target] = _k(cells[key], people) if cells[key] else \
                {"value": 0, "people": 0, "suppressed": False}
    return {"rows": "replier audience", "columns": "audience of the author replied to",
            "matrix": matrix}


def _rising(community_ids, threads, start, end) -> dict:
    """Tags and words significantly more frequent in the window than before it."""
    if search_service._elasticsearch_ready():
        try:
            body = queries.rising_topics_body(community_ids, start, end, RISING)
            aggregations = search_service._es_call("search", body=body)["aggregations"]
            terms = aggregations["terms"]["buckets"]
            if terms:
                people = search_service._es_call("search", body=queries.rising_term_people(
                    community_ids, start, end, [b["key"] for b in terms]))["aggregations"]
                for bucket in terms:
                    bucket["people"] = people["terms"]["buckets"][bucket["key"]]["people"]
            return {"engine": search_service.ELASTICSEARCH,
                    "tags": _rising_buckets(aggregations["tags"]["buckets"], "tag"),
                    "terms": _rising_buckets(terms, "term")}
        except SearchUnavailable as error:
            log.warning("rising topics falling back to the database: %s", error)
    return {"engine": search_service.DATABASE, **_database_rising(threads, start, end)}


def _rising_buckets(buckets: list[dict], name: str) -> list[dict]:
    return [{name: b["key"], "count": b["doc_count"], "background": b["bg_count"],
             "score": round(b["score"], 4), "people": b["people"]["value"]}
            for b in buckets if b["people"]["value"] >= K_ANONYMITY][:RISING]


def _database_rising(threads, start, end) -> dict:
    """Tags: count in the window against the window of equal length before (plus-one smoothed);
    words of titles: the JLH heuristic of significant_words, window against every thread up to `to`
    (Elasticsearch's background set)."""
    before = start - (end - start)
    current = [t for t in threads if start <= t.created_at < end]
    earlier = [t for t in threads if before <= t.created_at < start]
    tags_of = defaultdict(list)
    ids = [t.id for t in current + earlier]
    if ids:
        for thread_id, tag in db.session.execute(queries.thread_tags(ids)):
            tags_of[thread_id].append(tag)
    now_counts, then_counts, people = Counter(), Counter(), defaultdict(set)
    for t in current:
        for tag in tags_of[t.id]:
            now_counts[tag] += 1
            people[tag].add(t.author_id)
    for t in earlier:
        for tag in tags_of[t.id]:
            then_counts[tag] += 1
    tags = sorted(((now_counts[tag] + 1) / (then_counts[tag] + 1), tag)
                  for tag in now_counts if len(people[tag]) >= K_ANONYMITY
                  and now_counts[tag] > then_counts[tag])
    titles = dict(db.session.execute(select(Thread.id, Thread.title).where(
        Thread.id.in_([t.id for t in threads]))).all()) if threads else {}
    current_titles = [titles[t.id] for t in current]
    authors_by_word = defaultdict(set)
    for t in current:
        for word in set(queries.words(titles[t.id])):
            authors_by_word[word].add(t.author_id)
    words = [w for w in significant_words(current_titles,
                                          list(titles.values()), RISING * 3)
             if len(authors_by_word[w["term"]]) >= K_ANONYMITY][:RISING]
    return {"tags": [{"tag": tag, "count": now_counts[tag], "background": then_counts[tag],
                      "score": round(score, 4), "people": len(people[tag])}
                     for score, tag in sorted(tags, reverse=True)[:RISING]],
            "terms": [{**w, "background": None, "people": len(authors_by_word[w["term"]])}
                      for w in words]}
