"""Search rules: who sees what (the one permission door), which engine answers, how answers look.

Elasticsearch answers when it is configured and reachable; otherwise the database does, with the
same response shape and the same permission rules. Which communities the caller may see is asked
of collab.permissions on every request, so visibility changes apply on the next one.
"""
import base64
import binascii
import hashlib
import json
import logging

from elasticsearch import BadRequestError, NotFoundError
from markupsafe import escape
from sqlalchemy import select

from collab.communities.models import Community
from collab.db import db
from collab.errors import Forbidden, InvalidInput
from collab.permissions import (
    find_visible_community,
    visible_communities,
    visible_community_id_list,
    visible_community_ids,
)
from collab.people.models import User
from collab.threads import service as threads
from collab.threads.models import Thread, ThreadKind
from search import client as search_client
from search import indexer, queries
from search.client import SearchUnavailable
from search.reindex import indices_behind_alias

log = logging.getLogger(__name__)

ELASTICSEARCH, DATABASE = "elasticsearch", "database"
# Offset pagination of collapsed results stops here (Elasticsearch's result window).
MAX_OFFSET = 1000


# Cursors -------------------------------------------------------------------

def _fingerprint(args: dict) -> str:
    keys = ("q", "community", "kind", "status", "tag", "author", "audience", "since", "until", "sort")
    material = json.dumps([str(args.get(k)) for k in keys])
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def _encode_cursor(args: dict, page: queries.Page) -> str:
    payload = {"f": _fingerprint(args)}
    if page.after_thread_id is not None:
        payload["a"] = page.after_thread_id
    else:
        payload["o"] = page.offset
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(args: dict) -> queries.Page:
    cursor, limit = args.get("cursor"), args["limit"]
    if not cursor:
        return queries.Page(limit)
    invalid = InvalidInput({"cursor": ["Not a valid cursor for this search."]})
    try:
        payload = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(payload, dict) or payload.get("f") != _fingerprint(args):
        raise invalid
    after, offset = payload.get("a"), payload.get("o")
    if args["sort"] == "new" and isinstance(after, int) and not isinstance(after, bool) and after > 0:
        return queries.Page(limit, after_thread_id=after)
    if args["sort"] != "new" and isinstance(offset, int) and not isinstance(offset, bool) \
            and 0 < offset <= MAX_OFFSET:
        return queries.Page(limit, offset=offset)
    raise invalid


def _next_page(args: dict, page: queries.Page, has_more: bool, last_thread_id: int | None) -> str | None:
    if not has_more or last_thread_id is None:
        return None
    if args["sort"] == "new":
        return _encode_cursor(args, queries.Page(page.limit, after_thread_id=last_thread_id))
    offset = page.offset + page.limit
    return _encode_cursor(args, queries.Page(page.limit, offset=offset)) if offset <= MAX_OFFSET else None


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


def _filters(viewer: User, args: dict) -> queries.Filters:
    filters = queries.Filters(
        visible_community_ids=visible_community_id_list(viewer),
        kind=args.get("kind"), status=args.get("status"), tag=args.get("tag"),
        author=args.get("author"), audience=args.get("audience"),
        since=args.get("since"), until=args.get("until"))
    if args.get("community"):
        community_id = db.session.scalar(select(Community.id).where(
            Community.slug == args["community"], visible_communities(viewer)))
        filters.community_id = community_id
        filters.impossible = community_id is None
    for name in ("since", "until"):
        value = getattr(filters, name)
        if value is not None and value.tzinfo is None:
            from datetime import UTC
            setattr(filters, name, value.replace(tzinfo=UTC))
    return filters


def _visible_threads(viewer: User, thread_ids: list[int]) -> dict[int, threads.ThreadView]:
    """Thread views for ids from an engine, re-checked through the permission door."""
    if not thread_ids:
        return {}
    rows = db.session.scalars(select(Thread).where(
        Thread.id.in_(thread_ids), Thread.deleted_at.is_(None),
        Thread.community_id.in_(visible_community_ids(viewer)))).unique()
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
    page = _decode_cursor(args)
    filters = _filters(viewer, args)
    if _elasticsearch_ready():
        try:
            return _search_elasticsearch(viewer, args, text_query, filters, page)
        except SearchUnavailable as error:
            log.warning("search falling back to the database: %s", error)
    return _search_database(viewer, args, text_query, filters, page)


def _search_elasticsearch(viewer, args, text_query, filters, page) -> dict:
    body = queries.search_body(text_query, filters, args["sort"], page)
    response = _es_call("search", body=body)
    hits = response["hits"]["hits"]
    has_more = len(hits) > page.limit
    hits = hits[:page.limit]
    views = _visible_threads(viewer, [hit["_source"]["thread_id"] for hit in hits])
    items = []
    for hit in hits:
        view = views.get(hit["_source"]["thread_id"])
        if view is None:
            continue  # deleted or hidden since it was indexed
        highlight, best_post = {}, None
        for inner in hit.get("inner_hits", {}).get("best", {}).get("hits", {}).get("hits", []):
            source, fragments = inner["_source"], inner.get("highlight", {})
            if source["doc_type"] == "thread" and not highlight:
                highlight = {k: v for k, v in fragments.items() if k in ("title", "body")}
            elif source["doc_type"] == "post" and best_post is None:
                best_post = {"id": source["post_id"], "highlight": fragments.get("body", [])}
        items.append({"thread": view, "score": hit.get("_score"), "highlight": highlight,
                      "best_post": best_post})
    aggregations = response.get("aggregations", {})
    facets = {name: [{"value": str(bucket["key"]), "count": bucket["threads"]["value"]}
                     for bucket in aggregations.get(name, {}).get("buckets", [])]
              for name in queries.FACET_FIELDS}
    last = hits[-1]["_source"]["thread_id"] if hits else None
    return {"engine": ELASTICSEARCH,
            "total": aggregations.get("total_threads", {}).get("value", 0),
            "items": items, "facets": facets,
            "next_cursor": _next_page(args, page, has_more, last)}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _search_database(viewer, args, text_query, filters, page) -> dict:
    visible = visible_community_ids(viewer)
    statement = queries.database_search(_dialect(), text_query, filters, visible)
    rows = db.session.execute(queries.database_page(statement, args["sort"], page)).all()
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
    facets = {name: [{"value": str(value), "count": count}
                     for value, count in db.session.execute(facet)]
              for name, facet in queries.database_facets(statement).items()}
    return {"engine": DATABASE, "total": db.session.scalar(queries.database_total(statement)),
            "items": items, "facets": facets,
            "next_cursor": _next_page(args, page, has_more, ids[-1] if ids else None)}


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


# Related threads and similar ideas -------------------------------------------------

def _scored_threads(viewer: User, engine: str, scored: list[tuple[int, float]]) -> dict:
    views = _visible_threads(viewer, [thread_id for thread_id, _ in scored])
    return {"engine": engine, "items": [{"thread": views[i], "score": float(score)}
                                        for i, score in scored if i in views]}


def _more_like_this(viewer: User, like: list[str], limit: int, **narrowing) -> dict:
    if _elasticsearch_ready():
        try:
            response = _es_call("search", body=queries.more_like_this_body(
                like, visible_community_id_list(viewer), limit, **narrowing))
            return _scored_threads(viewer, ELASTICSEARCH, [
                (h["_source"]["thread_id"], h["_score"]) for h in response["hits"]["hits"]])
        except SearchUnavailable as error:
            log.warning("more-like-this falling back to the database: %s", error)
    statement = queries.database_similar(_dialect(), " ".join(like), visible_community_ids(viewer),
                                         limit, **narrowing)
    rows = [] if statement is None else db.session.execute(statement).all()
    return _scored_threads(viewer, DATABASE, [(row[0], row[1]) for row in rows])


def related(viewer: User, thread_id: int, limit: int) -> dict:
    thread = threads.find_visible_thread(viewer, thread_id)
    like = [thread.title, thread.body, " ".join(thread.tags)]
    return _more_like_this(viewer, like, limit, exclude_thread_id=thread.id)


def similar_ideas(viewer: User, slug: str, fields: dict) -> dict:
    community = find_visible_community(viewer, slug)
    like = [fields["title"], fields.get("body", "")]
    return _more_like_this(viewer, like, fields["limit"], community_id=community.id,
                           kind=ThreadKind.IDEA.value)


# Operations ----------------------------------------------------------------------

def status(viewer: User) -> dict:
    if not viewer.is_admin:
        raise Forbidden("Only admins see the search status.")
    backlog, oldest = indexer.backlog()
    answer = {"engine": DATABASE, "configured": search_client.is_configured(), "alias": None,
              "index": None, "documents": None, "error": None,
              "outbox": {"backlog": backlog, "oldest_age_seconds": oldest}}
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

