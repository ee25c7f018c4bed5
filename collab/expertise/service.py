"""Expertise rules: evidence per person among the newest threads that match a topic, and a score.

Both engines return the same evidence (replies, accepted answers, threads started and up-votes
received, counted per age bucket) among the caller's visible communities only; the score is
computed here from it, so the ranking formula exists once. See docs in README (Expertise).
"""
import functools
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, func, select, union

from collab import time
from collab.communities.models import Community
from collab.db import db
from collab.errors import InvalidInput
from collab.people import service as people
from collab.people.models import User
from collab.permissions import (
    find_visible_community,
    visible_community_id_list,
    visible_community_ids,
)
from collab.search import service as search_service
from collab.threads.models import Post, Thread, ThreadTag
from search import queries
from search.client import SearchUnavailable

log = logging.getLogger(__name__)

# The ranking rules, in one place: points per piece of evidence, and how age discounts them.
WEIGHTS = {"accepted": 4.0, "reply": 1.0, "thread": 0.5}
UPVOTE_WEIGHT = 1.0  # times log2(1 + net up-votes on threads they started)
DECAY = {"recent": 1.0, "year": 0.5, "older": 0.25}  # AGE_BUCKETS of search.queries


@dataclass
class Evidence:
    user_id: int
    replies: Counter = field(default_factory=Counter)    # by age bucket, accepted included
    accepted: Counter = field(default_factory=Counter)
    threads: Counter = field(default_factory=Counter)
    upvotes: int = 0
    thread_ids: list[int] = field(default_factory=list)  # best evidence first
    tags: Counter = field(default_factory=Counter)

    @property
    def score(self) -> float:
        total = 0.0
        for bucket, weight in DECAY.items():
            accepted = self.accepted[bucket]
            total += weight * (WEIGHTS["accepted"] * accepted
                               + WEIGHTS["reply"] * (self.replies[bucket] - accepted)
                               + WEIGHTS["thread"] * self.threads[bucket])
        return total + UPVOTE_WEIGHT * math.log2(1 + max(self.upvotes, 0))

    def add_thread(self, thread_id: int) -> None:
        if thread_id not in self.thread_ids:
            self.thread_ids.append(thread_id)


def experts(viewer: User, args: dict) -> dict:
    """People ranked by evidence about `q`, each with why; hidden communities never count."""
    text_query = queries.parse(args["q"])
    if not text_query.positive:
        raise InvalidInput({"q": ["Name a topic: at least one word that is not excluded."]})
    community_id = None
    if args.get("community"):
        community_id = find_visible_community(viewer, args["community"]).id
    now = time.now()
    engine, evidence = None, None
    if search_service._elasticsearch_ready():
        try:
            evidence = _elasticsearch_evidence(viewer, text_query, community_id, now)
            engine = search_service.ELASTICSEARCH
        except SearchUnavailable as error:
            log.warning("experts falling back to the database: %s", error)
    if evidence is None:
        evidence = _database_evidence(viewer, text_query, community_id, now)
        engine = search_service.DATABASE
    ranked = sorted(evidence.values(), key=lambda e: (-e.score, e.user_id))[:args["limit"]]
    return {"engine": engine, "q": args["q"], "items": _items(viewer, ranked)}


def _windows(community_id: int | None) -> tuple:
    """Days of threads to look at for the sample, widening. One community's threads are few
    enough to search at once (its own index narrows them); all visible ones are not."""
    return (None,) if community_id is not None else queries.EXPERT_WINDOWS


def _elasticsearch_evidence(viewer, text_query, community_id, now) -> dict[int, Evidence]:
    visible = visible_community_id_list(viewer)
    for days in _windows(community_id):  # one request unless the newest window has too few
        since = None if days is None else now - timedelta(days=days)
        body = queries.experts_body(text_query, visible, community_id, now, since)
        response = search_service._es_call("search", body=body)
        if len(response["hits"]["hits"]) >= queries.EXPERT_SAMPLE:
            break
    aggregations = response["aggregations"]["best"]
    evidence: dict[int, Evidence] = {}
    for bucket in aggregations["posts"]["people"]["buckets"]:
        person = evidence.setdefault(int(bucket["key"]), Evidence(int(bucket["key"])))
        for age in bucket["ages"]["buckets"]:
            person.replies[age["key"]] += age["doc_count"]
            person.accepted[age["key"]] += age["accepted"]["doc_count"]
        for tag in bucket["threads"]["tags"]["buckets"]:
            person.tags[tag["key"]] += tag["doc_count"]
    for bucket in aggregations["authors"]["buckets"]:
        person = evidence.setdefault(int(bucket["key"]), Evidence(int(bucket["key"])))
        for age in bucket["ages"]["buckets"]:
            person.threads[age["key"]] += age["doc_count"]
        person.upvotes += int(bucket["crowd"]["value"])
        for tag in bucket["tags"]["buckets"]:
            person.tags[tag["key"]] += tag["doc_count"]
    _pick_evidence(evidence, [int(hit["fields"]["thread_id"][0])
                              for hit in response["hits"]["hits"]])
    return evidence


def _pick_evidence(evidence: dict[int, Evidence], ranked_thread_ids: list[int]) -> None:
    """Each person's evidence threads among the sample: accepted answers first, then by rank."""
    if not evidence or not ranked_thread_ids:
        return
    position = {thread_id: index for index, thread_id in enumerate(ranked_thread_ids)}
    rows = defaultdict(set)
    for author_id, thread_id, accepted in db.session.execute(
            queries.evidence_threads(ranked_thread_ids, list(evidence))):
        rows[author_id].add((not accepted, position[thread_id], thread_id))
    for author_id, picks in rows.items():
        for _, _, thread_id in sorted(picks):
            evidence[author_id].add_thread(thread_id)


def _database_evidence(viewer, text_query, community_id, now) -> dict[int, Evidence]:
    """The same evidence as on Elasticsearch, from the EXPERT_SAMPLE newest matching threads
    (queries.database_expert_sample), counted by grouped SQL."""
    filters = queries.Filters(visible_community_ids=[], community_id=community_id)
    dialect = search_service._dialect()
    for days in _windows(community_id):  # the newest first: widen only if too few matched
        since = None if days is None else now - timedelta(days=days)
        sample = list(db.session.scalars(queries.database_expert_sample(
            dialect, text_query, filters, visible_community_ids(viewer), queries.EXPERT_SAMPLE,
            since)))
        if len(sample) >= queries.EXPERT_SAMPLE:
            break
    evidence: dict[int, Evidence] = {}
    if not sample:
        return evidence

    def person(author_id):
        return evidence.setdefault(author_id, Evidence(author_id))
    for author_id, bucket, replies, accepted in db.session.execute(
            queries.database_expert_replies(sample, now)):
        person(author_id).replies[bucket] += replies
        person(author_id).accepted[bucket] += int(accepted or 0)
    for author_id, bucket, threads, crowd in db.session.execute(
            queries.database_expert_started(sample, now)):
        person(author_id).threads[bucket] += threads
        person(author_id).upvotes += int(crowd or 0)
    for author_id, tag, threads in db.session.execute(queries.database_expert_tags(sample)):
        person(author_id).tags[tag] += threads
    # Only the best candidates need evidence threads (as on Elasticsearch, from the sample).
    candidates = sorted(evidence.values(), key=lambda e: (-e.score, e.user_id))
    shortlist = {e.user_id: e for e in candidates[:queries.EXPERT_CANDIDATES]}
    _pick_evidence(shortlist, sample)
    return evidence


def _items(viewer: User, ranked: list[Evidence]) -> list[dict]:
    """Results with why; evidence threads are re-checked through the permission door."""
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_([e.user_id for e in ranked])))}
    wanted = {t for e in ranked for t in e.thread_ids[:queries.EXPERT_EVIDENCE * 2]}
    threads = {row.id: row for row in db.session.execute(
        select(Thread.id, Thread.title, Community.slug)
        .join(Community, Community.id == Thread.community_id)
        .where(Thread.id.in_(wanted), Thread.deleted_at.is_(None),
               Thread.community_id.in_(visible_community_ids(viewer))))} if wanted else {}
    items = []
    for person in ranked:
        if person.user_id not in users:
            continue
        shown = [threads[t] for t in person.thread_ids if t in threads][:queries.EXPERT_EVIDENCE]
        items.append({
            "user": users[person.user_id],
            "score": round(person.score, 3),
            "why": {
                "accepted_answers": sum(person.accepted.values()),
                "replies": sum(person.replies.values()),
                "threads_started": sum(person.threads.values()),
                "upvotes_received": max(person.upvotes, 0),
                "recent_contributions": person.replies["recent"] + person.threads["recent"],
                "tags": [tag for tag, _ in person.tags.most_common(3)],
                "evidence": [{"thread_id": row.id, "title": row.title, "community": row.slug}
                             for row in shown],
            },
        })
    return items


# A person's topics -------------------------------------------------------------------------

_WORD = re.compile(r"[a-z][a-z0-9'-]{2,}")
# Bounded samples (their newest posts against the newest visible ones): the cost no longer grows
# with how much a person has written; counts (replies, accepted answers, tags) are exact.
PERSON_POSTS = 500
BACKGROUND_POSTS = 2000


def expertise(viewer: User, user_id: int, limit: int) -> dict:
    """A person's top tags and significant words, from what the caller may see of their work."""
    person = people.get_user(viewer, user_id)
    if search_service._elasticsearch_ready():
        try:
            return _elasticsearch_topics(viewer, person, limit)
        except SearchUnavailable as error:
            log.warning("expertise falling back to the database: %s", error)
    return _database_topics(viewer, person, limit)


def _counts(viewer: User, person: User) -> dict:
    """Their replies and accepted answers in visible threads, in one query."""
    accepted = func.coalesce(func.sum(case((Thread.accepted_post_id == Post.id, 1), else_=0)), 0)
    replies, accepted = db.session.execute(
        select(func.count(), accepted).select_from(Post).join(Thread, Thread.id == Post.thread_id)
        .where(Post.author_id == person.id, Post.deleted_at.is_(None),
               Thread.deleted_at.is_(None),
               Thread.community_id.in_(visible_community_ids(viewer)))).one()
    return {"replies": replies, "accepted_answers": accepted}


def _elasticsearch_topics(viewer: User, person: User, limit: int) -> dict:
    """Tags from a terms aggregation; the words as on the database (_sampled_words):
    significant_text re-analysed hundreds of threads' posts and looked up every word's background
    frequency, seconds per request on 1M posts."""
    body = queries.person_topics_body(person.id, visible_community_id_list(viewer), limit)
    aggregations = search_service._es_call("search", body=body)["aggregations"]
    return {"engine": search_service.ELASTICSEARCH, "user": person, **_counts(viewer, person),
            "tags": [{"tag": b["key"], "count": b["doc_count"]}
                     for b in aggregations["tags"]["buckets"]],
            "terms": _sampled_words(viewer, person, limit)}


def _database_topics(viewer: User, person: User, limit: int) -> dict:
    visible = visible_community_ids(viewer)
    live = (Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None),
            Thread.community_id.in_(visible))
    # Threads they replied in (index ix_posts_author_live alone) or started, then the live and
    # visible ones among them: no scan of every thread for an OR.
    mine_or_replied = union(
        select(Post.thread_id.label("thread_id")).where(Post.author_id == person.id,
                                                        Post.deleted_at.is_(None)),
        select(Thread.id).where(Thread.author_id == person.id)).subquery("involved")
    involved = (select(Thread.id).join(mine_or_replied, mine_or_replied.c.thread_id == Thread.id)
                .where(*live))
    tags = db.session.execute(
        select(ThreadTag.tag, func.count()).where(ThreadTag.thread_id.in_(involved))
        .group_by(ThreadTag.tag).order_by(func.count().desc(), ThreadTag.tag).limit(limit)).all()
    return {"engine": search_service.DATABASE, "user": person, **_counts(viewer, person),
            "tags": [{"tag": tag, "count": count} for tag, count in tags],
            "terms": _sampled_words(viewer, person, limit)}


def _sampled_words(viewer: User, person: User, limit: int) -> list[dict]:
    """Significant words of their newest PERSON_POSTS visible posts against the newest
    BACKGROUND_POSTS visible posts (both engines)."""
    posts = select(Post.body).join(Thread, Thread.id == Post.thread_id).where(
        Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None),
        Thread.community_id.in_(visible_community_ids(viewer)), Post.deleted_at.is_(None))
    mine = list(db.session.scalars(
        posts.where(Post.author_id == person.id).order_by(Post.id.desc()).limit(PERSON_POSTS)))
    if not mine:
        return []
    background = list(db.session.scalars(posts.order_by(Post.id.desc()).limit(BACKGROUND_POSTS)))
    return significant_words(mine, background, limit)


def text_words(text: str) -> set[str]:
    """The words a text counts once for in significant_words (stop words left out)."""
    return {w for w in _WORD.findall(text.lower()) if w not in queries.ENGLISH_STOP_WORDS}


@functools.lru_cache(maxsize=8)
def _document_frequency(texts: tuple[str, ...]) -> Counter:
    """In how many of `texts` each word occurs (stop words left out). Memoised by the texts
    themselves: a background sample (the newest visible posts or titles) is the same for request
    after request until something is written, and tokenising it was most of a request's Python
    time. Callers must not change the Counter."""
    counts = Counter()
    for text in texts:
        counts.update(text_words(text))
    return counts


def significant_words(foreground: list[str], background: list[str], limit: int) -> list[dict]:
    """Words much more frequent in `foreground` texts than in `background` ones (JLH, like
    Elasticsearch's default significance heuristic), each counted once per text."""
    if not foreground or not background:
        return []
    return jlh(_document_frequency(tuple(foreground)), _document_frequency(tuple(background)),
               len(foreground), len(background), limit)


def jlh(mine: Counter, everyone: Counter, foreground: int, background: int,
        limit: int) -> list[dict]:
    """significant_words from the texts' document frequencies (`mine` of the `foreground`
    texts, `everyone` of the `background` ones), for callers that count them their own way."""
    scored = []
    for word, count in mine.items():
        if count < 2:
            continue
        foreground_rate = count / foreground
        background_rate = max(everyone[word], count) / max(background, foreground)
        if foreground_rate <= background_rate:
            continue
        score = (foreground_rate - background_rate) * (foreground_rate / background_rate)
        scored.append((score, word, count))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [{"term": word, "count": count, "score": round(score, 4)}
            for score, word, count in scored[:limit]]
