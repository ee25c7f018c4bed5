"""Search rules: who sees what (the one permission door), which engine answers, how answers look.

Elasticsearch answers when it is configured and reachable; otherwise the database does, with the
same response shape and the same permission rules. Which communities the caller may see is asked
of collab.permissions on every request, so visibility changes apply on the next one.
"""
import hashlib
import json
import logging
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from elasticsearch import BadRequestError, NotFoundError
from flask import current_app
from markupsafe import escape
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload

from collab import outbox, time
from collab.challenges import service as challenges
from collab.communities.models import Community
from collab.cursors import BadCursor, sign, unsign
from collab.db import db
from collab.errors import Forbidden, InvalidInput
from collab.freshness import rules as freshness_rules
from collab.people.models import User
from collab.permissions import (
    visible_communities,
    visible_community_id_list,
    visible_community_ids,
)
from collab.threads import service as threads
from collab.threads.models import Thread
from search import client as search_client
from search import indexer, queries
from search.client import SearchUnavailable
from search.reindex import indices_behind_alias

log = logging.getLogger(__name__)

ELASTICSEARCH, DATABASE = "elasticsearch", "database"


# Cursors -------------------------------------------------------------------
#
# A cursor holds the last item's sort values (search_after; a keyset on the database), the engine
# that produced them, and for relevance the instant freshness decays from, so every page ranks
# with the same scores. It is bound to its search by a fingerprint of the query and filters.

def _fingerprint(args: dict) -> str:
    keys = ("q", "community", "kind", "status", "tag", "author", "audience", "since", "until", "sort",
            "challenge", "phase", "freshness")
    material = json.dumps([str(args.get(k)) for k in keys])
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def _encode_cursor(args: dict, engine: str, page: queries.Page) -> str:
    payload = {"f": _fingerprint(args), "e": engine[0], "a": list(page.after)}
    if page.now is not None:
        payload["t"] = int(page.now.timestamp() * 1000)
    if page.fuzzy:
        payload["z"] = 1
    return sign(CURSOR_PURPOSE, payload)


CURSOR_PURPOSE = "search"
# Sort values fit Elasticsearch's long and the database's bigint; the freshness instant is a
# millisecond timestamp inside the calendar.
MAX_SORT_VALUE = 2**63
MAX_STAMP_MS = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp() * 1000)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_SORT_VALUE


def _is_number(value) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value)
                              and abs(value) < 1e300)


@dataclass
class _Cursor:
    engine: str | None
    page: queries.Page


def _decode_cursor(args: dict) -> _Cursor:
    cursor, limit, sort = args.get("cursor"), args["limit"], args["sort"]
    if not cursor:
        return _Cursor(None, queries.Page(limit, now=time.now() if sort == "relevance" else None))
    invalid = InvalidInput({"cursor": ["Not a valid cursor for this search."]})
    try:
        payload = unsign(CURSOR_PURPOSE, cursor)
    except BadCursor:
        raise invalid from None
    if not isinstance(payload, dict) or payload.get("f") != _fingerprint(args):
        raise invalid
    engine = {"e": ELASTICSEARCH, "d": DATABASE}.get(payload.get("e"))
    after = payload.get("a")
    if engine is None or not isinstance(after, list) or len(after) != len(queries.SORT_KEYS[sort]):
        raise invalid
    if not all(_is_int(v) for v in after[1:]) or not (
            _is_number(after[0]) if sort == "relevance" else _is_int(after[0])):
        raise invalid
    now = None
    if sort == "relevance":
        stamp = payload.get("t")
        if not _is_int(stamp) or not 0 < stamp < MAX_STAMP_MS:
            raise invalid
        now = datetime.fromtimestamp(stamp / 1000, UTC)
    if payload.get("z", 0) not in (0, 1):
        raise invalid
    return _Cursor(engine, queries.Page(limit, after=tuple(after), now=now,
                                        fuzzy=payload.get("z") == 1))


def _next_cursor(args: dict, engine: str, page: queries.Page, has_more: bool,
                 last_sort_values: tuple | None) -> str | None:
    if not has_more or last_sort_values is None:
        return None
    return _encode_cursor(args, engine, queries.Page(page.limit, after=last_sort_values,
                                                     now=page.now, fuzzy=page.fuzzy))


# Engines ---------------------------------------------------------------------

def _elasticsearch_ready() -> bool:
    return search_client.is_configured() and not search_client.breaker().is_open()


def _es_call(method: str, **kwargs) -> dict:
    """One request to the cluster; transport failures open the breaker and become SearchUnavailable."""
    es = search_client.client()
    alias = search_client.settings().alias
    try:
        response = getattr(es, method)(index=alias, **kwargs)
    except NotFoundError as error:  # no index yet: the database answers until the first sync
        raise SearchUnavailable(str(error)) from error
    except BadRequestError as error:
        log.info("search rejected by Elasticsearch: %s", error)
        raise InvalidInput({"q": ["The search is too complex; use fewer or simpler words."]}) \
            from None
    except Exception as error:
        if search_client.is_transport_failure(error):
            search_client.breaker().trip()
            raise SearchUnavailable(str(error)) from error
        raise
    return response.body if hasattr(response, "body") else response


# Not a valid handle (collab.people.schemas.HANDLE), so it matches no one.
NO_SUCH_HANDLE = "#none"


def _author_handle(author: str | int | None) -> str | None:
    """The `author` filter as the handle the engines filter on (a user id is looked up)."""
    if not isinstance(author, int):
        return author
    return db.session.scalar(select(User.handle).where(User.id == author)) or NO_SUCH_HANDLE


def _filters(viewer: User, args: dict) -> queries.Filters:
    filters = queries.Filters(
        visible_community_ids=visible_community_id_list(viewer),
        kind=args.get("kind"), status=args.get("status"), tag=args.get("tag"),
        author=_author_handle(args.get("author")), audience=args.get("audience"),
        since=args.get("since"), until=args.get("until"))
    if args.get("freshness"):
        limits = freshness_rules.cutoffs()
        filters.freshness = args["freshness"]
        filters.freshness_checked_before = limits.checked_before
        filters.freshness_read_since = limits.read_since
    if args.get("community"):
        community_id = db.session.scalar(select(Community.id).where(
            Community.slug == args["community"], visible_communities(viewer)))
        filters.community_id = community_id
        filters.impossible = community_id is None
    for name in ("since", "until"):
        value = getattr(filters, name)
        if value is not None and value.tzinfo is None:
            setattr(filters, name, value.replace(tzinfo=UTC))
    # Challenges: the ones the caller may see, each in its phase now (phases follow the clock,
    # so they are resolved here, never stored in the index).
    phases = challenges.visible_challenge_phases(viewer)
    filters.visible_challenge_ids = sorted(phases)
    if args.get("challenge") is not None or args.get("phase"):
        filters.challenge_ids = sorted(
            i for i, phase in phases.items()
            if args.get("challenge") in (None, i) and args.get("phase") in (None, phase))
    filters.challenge_phases = phases
    return filters


def _challenge_facets(facets: dict, challenge_buckets: list[tuple], phases: dict) -> None:
    """`challenge` by id, and `phase` summed from it (an idea takes part in one challenge)."""
    facets["challenge"] = [{"value": str(i), "count": c} for i, c in challenge_buckets
                           if i in phases]
    by_phase: dict[str, int] = {}
    for challenge_id, count in challenge_buckets:
        if challenge_id in phases:
            by_phase[phases[challenge_id]] = by_phase.get(phases[challenge_id], 0) + count
    facets["phase"] = [{"value": p, "count": c}
                       for p, c in sorted(by_phase.items(), key=lambda item: (-item[1], item[0]))]


def _visible_threads(viewer: User, thread_ids: list[int],
                     visible_ids: list[int] | None = None) -> dict[int, threads.ThreadView]:
    """Thread views for ids from an engine, re-checked through the permission door.

    One query for the page's threads (community, author and tags joined in), then thread_views'
    two (vote tallies, the caller's votes), whatever the page size.
    """
    if not thread_ids:
        return {}
    visible = visible_community_ids(viewer) if visible_ids is None else visible_ids
    rows = db.session.scalars(
        select(Thread).where(Thread.id.in_(thread_ids), Thread.deleted_at.is_(None),
                             Thread.community_id.in_(visible))
        .options(joinedload(Thread.tag_rows),
                 joinedload(Thread.community).lazyload(Community.audience_rows),
                 joinedload(Thread.community).lazyload(Community.organization_rows))).unique()
    views = threads.thread_views(viewer, list(rows))
    return {view.thread.id: view for view in views}


def _marked(fragment: str | None) -> str | None:
    if not fragment:
        return None
    return str(escape(fragment)).replace(queries.DB_MARK_START, queries.HIGHLIGHT_PRE) \
        .replace(queries.DB_MARK_END, queries.HIGHLIGHT_POST)


# Search ----------------------------------------------------------------------

def search(viewer: User, args: dict) -> dict:
    text_query = queries.parse(args.get("q"))
    cursor = _decode_cursor(args)
    filters = _filters(viewer, args)
    if cursor.engine in (None, ELASTICSEARCH) and _elasticsearch_ready():
        try:
            return _search_elasticsearch(viewer, args, text_query, filters, cursor.page)
        except SearchUnavailable as error:
            log.warning("search falling back to the database: %s", error)
    if cursor.engine == ELASTICSEARCH and args["sort"] == "relevance":
        # Scores of one engine mean nothing to the other: the client starts again.
        raise InvalidInput({"cursor": ["This cursor has expired; search again."]})
    return _search_database(viewer, args, text_query, filters, cursor.page)


def _search_elasticsearch(viewer, args, text_query, filters, page) -> dict:
    response = _es_call("search", body=queries.search_body(text_query, filters, args["sort"], page))
    if page.after is None and text_query.terms and response["hits"]["total"]["value"] < page.limit:
        # Few exact matches: search again forgiving typos (the cursor keeps this choice).
        page = replace(page, fuzzy=True)
        response = _es_call("search", body=queries.search_body(text_query, filters, args["sort"],
                                                               page))
    hits = response["hits"]["hits"]
    has_more = len(hits) > page.limit
    hits = hits[:page.limit]
    thread_ids = [hit["_source"]["thread_id"] for hit in hits]
    views = _visible_threads(viewer, thread_ids, filters.visible_community_ids)
    best_posts = _best_posts(text_query, [i for i in thread_ids if i in views], filters, page)
    items = []
    for hit in hits:
        view = views.get(hit["_source"]["thread_id"])
        if view is None:
            continue  # deleted or hidden since it was indexed
        fragments = hit.get("highlight", {})
        items.append({"thread": view, "score": hit.get("_score"),
                      "highlight": {k: v for k, v in fragments.items() if k in ("title", "body")},
                      "best_post": best_posts.get(view.thread.id)})
    aggregations = response.get("aggregations", {})
    facets = {name: [{"value": str(bucket["key"]), "count": bucket["doc_count"]}
                     for bucket in aggregations.get(name, {}).get("buckets", [])]
              for name in queries.FACET_FIELDS}
    _challenge_facets(facets, [
        (int(bucket["key"]), bucket["doc_count"]) for bucket in
        aggregations.get(queries.CHALLENGE_FACET, {}).get("ids", {}).get("buckets", [])],
        filters.challenge_phases)
    last = tuple(hits[-1]["sort"]) if hits else None
    return {"engine": ELASTICSEARCH, "total": response["hits"]["total"]["value"],
            "items": items, "facets": facets,
            "next_cursor": _next_cursor(args, ELASTICSEARCH, page, has_more, last)}


def _best_posts(text_query, thread_ids: list[int], filters, page) -> dict[int, dict]:
    """The best matching post of each thread of the page, with its highlight (one request)."""
    body = queries.best_posts_body(text_query, thread_ids, filters.visible_community_ids,
                                   page.fuzzy)
    if body is None:
        return {}
    best = {}
    for hit in _es_call("search", body=body)["hits"]["hits"]:
        for inner in hit.get("inner_hits", {}).get("best_post", {}).get("hits", {}).get("hits", []):
            best[hit["_source"]["thread_id"]] = {
                "id": inner["fields"]["posts.post_id"][0],
                "highlight": inner.get("highlight", {}).get("posts.body", [])}
    return best


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def plan_database_search() -> None:
    """The planner settings of a database search's transaction (PostgreSQL; SET LOCAL).

    - plan_cache_mode: the app's generic plans (POSTGRES_PLAN_CACHE_MODE) would plan every
      search alike; how many threads the filters keep decides whether their posts are read by
      thread or the text's matches are hashed against them, so the search plans with its values.
    - random_page_cost: whether a thread's replies are probed by thread or the text's matching
      posts hashed against the threads turns on the price of a random read; 4 (the default,
      spinning disks) hashes ~50,000 posts to spare ~10,000 probes that read mostly cached pages.
    """
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    db.session.execute(text("SET LOCAL random_page_cost = 1.1"))


def _search_database(viewer, args, text_query, filters, page) -> dict:
    visible = visible_community_ids(viewer)
    statement = queries.database_search(_dialect(), text_query, filters, visible)
    if statement.dialect == "postgresql":
        plan_database_search()
    # One statement: the page, the total and the facets over the matches computed once.
    rows, total, facets, challenge_buckets = [], 0, {name: [] for name in queries.FACET_FIELDS}, []
    for row in db.session.execute(queries.database_results(
            statement, args["sort"], page, filters.visible_challenge_ids)):
        if row.facet == "page":
            rows.append(row)
        elif row.facet == "total":
            total = row.count
        elif row.facet == queries.CHALLENGE_FACET:
            challenge_buckets.append((int(row.value), row.count))
        else:
            facets[row.facet].append({"value": str(row.value), "count": row.count})
    has_more = len(rows) > page.limit
    rows = rows[:page.limit]
    ids = [row.thread_id for row in rows]
    views = _visible_threads(viewer, ids)
    highlights: dict[int, dict] = {}
    highlight_statement = queries.database_highlights(statement, ids)
    if highlight_statement is not None:
        for row in db.session.execute(highlight_statement):
            entry = {}
            title, body = _marked(row.title), _marked(row.body)
            if title and queries.HIGHLIGHT_PRE in title:
                entry["title"] = [title]
            if body and queries.HIGHLIGHT_PRE in body:
                entry["body"] = [body]
            highlights[row.thread_id] = entry
    best_posts: dict[int, dict] = {}
    posts_statement = queries.database_best_posts(statement, ids)
    if posts_statement is not None:
        for row in db.session.execute(posts_statement):
            if row.thread_id not in best_posts:
                fragment = _marked(row.body)
                best_posts[row.thread_id] = {"id": row.post_id,
                                             "highlight": [fragment] if fragment else []}
    items = [{"thread": views[row.thread_id], "score": float(row.rank or 0.0),
              "highlight": highlights.get(row.thread_id, {}),
              "best_post": best_posts.get(row.thread_id)}
             for row in rows if row.thread_id in views]
    _challenge_facets(facets, challenge_buckets, filters.challenge_phases)
    last = queries.database_sort_values(rows[-1], args["sort"]) if rows else None
    return {"engine": DATABASE, "total": total,
            "items": items, "facets": facets,
            "next_cursor": _next_cursor(args, DATABASE, page, has_more, last)}


# Typeahead ---------------------------------------------------------------------

def suggest(viewer: User, q: str, limit: int) -> dict:
    communities = [{"slug": c.slug, "name": c.name} for c in db.session.scalars(
        queries.suggest_communities(q, visible_communities(viewer), limit))]
    visible_ids = visible_community_id_list(viewer)
    if _elasticsearch_ready():
        try:
            titles = _es_call("search", body=queries.suggest_titles_body(q, visible_ids, limit))
            tags = _es_call("search", body=queries.suggest_tags_body(q, visible_ids, limit))
            return {"engine": ELASTICSEARCH, "communities": communities,
                    "titles": [{"thread_id": h["_source"]["thread_id"],
                                "title": h["_source"]["title"],
                                "community": h["_source"]["community_slug"]}
                               for h in titles["hits"]["hits"]],
                    "tags": [{"tag": b["key"], "count": b["doc_count"]}
                             for b in tags["aggregations"]["tags"]["buckets"]]}
        except SearchUnavailable as error:
            log.warning("suggest falling back to the database: %s", error)
    visible = visible_community_ids(viewer)
    title_statement = queries.database_suggest_titles(_dialect(), q, visible, limit)
    titles = [] if title_statement is None else [
        {"thread_id": row[0], "title": row[1], "community": row[2]}
        for row in db.session.execute(title_statement)]
    tags = [{"tag": tag, "count": count} for tag, count in
            db.session.execute(queries.database_suggest_tags(q, visible, limit))]
    return {"engine": DATABASE, "titles": titles, "tags": tags, "communities": communities}


# Scored threads (collab.similarity ranks related and similar threads) ---------------------

def scored_threads(viewer: User, engine: str, scored: list[tuple[int, float]],
                   visible_ids: list[int] | None = None) -> dict:
    """Thread views for engine hits in their order, re-checked through the permission door
    (`visible_ids`: the caller's visible communities, when the request has them already)."""
    views = _visible_threads(viewer, [thread_id for thread_id, _ in scored], visible_ids)
    return {"engine": engine, "items": [{"thread": views[i], "score": float(score)}
                                        for i, score in scored if i in views]}


# What collab.similarity uses of this engine layer.
elasticsearch_ready = _elasticsearch_ready
es_call = _es_call
dialect = _dialect
visible_threads = _visible_threads


# Operations ----------------------------------------------------------------------

def status(viewer: User) -> dict:
    if not viewer.is_admin:
        raise Forbidden("Only admins see the search status.")
    # Database-only mode queues nothing (collab/outbox.py): rows a past configuration left are
    # no backlog, as nothing will drain them; `search reindex` settles them when a cluster is set.
    enabled = outbox.writes_rows(current_app)
    backlog, oldest = indexer.backlog() if enabled else (0, None)
    answer = {"engine": DATABASE, "configured": search_client.is_configured(), "alias": None,
              "index": None, "documents": None, "error": None,
              "outbox": {"enabled": enabled, "backlog": backlog, "oldest_age_seconds": oldest}}
    if not search_client.is_configured():
        return answer
    current = search_client.settings()
    answer["alias"] = current.alias
    try:
        es = search_client.client()
        indices = indices_behind_alias(es, current.alias)
        answer["index"] = indices[-1] if indices else None
        if indices:
            answer["documents"] = es.count(index=current.alias)["count"]
            answer["engine"] = ELASTICSEARCH
            search_client.breaker().reset()
        else:
            answer["error"] = "The alias does not exist yet: run `flask search init` or a sync."
    except Exception as error:  # noqa: BLE001 - status reports, it does not fail
        if not search_client.is_transport_failure(error):
            raise
        answer["error"] = f"Elasticsearch unreachable: {type(error).__name__}"
    return answer

