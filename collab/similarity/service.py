"""Related threads, similar drafts and duplicate suggestions: rules, engines and permissions.

Elasticsearch ranks with BM25 over title, body and posts (`queries.similar_body`); the database
fallback takes the threads sharing a word and scores them with the same BM25 in Python
(`ranking.bm25`). Every path is narrowed to the communities the caller may see, asked of
collab.permissions per request; the hits are re-checked through the same door before they are
shown, so nothing from a hidden community is ranked, counted or suggested.
"""
import logging
from collections import defaultdict

from collab.db import db
from collab.people.models import User
from collab.permissions import (
    find_visible_community,
    require_moderator,
    visible_community_id_list,
    visible_community_ids,
)
from collab.search import service as search
from collab.similarity import ranking
from collab.threads import service as threads
from collab.threads.models import ThreadKind
from search import queries
from search.client import SearchUnavailable

log = logging.getLogger(__name__)

# Threads the database fallback rescores: all those sharing a word with the draft in a community,
# the database's best POOL of them on a large scope.
POOL = 300
# Duplicate scan: the community's newest threads, compared pairwise.
DUPLICATE_WINDOW = 2000


def _rank(viewer: User, like: str, limit: int, **narrowing) -> dict:
    words = ranking.query_words(like)
    if not words:
        return {"engine": search.ELASTICSEARCH if search.elasticsearch_ready() else search.DATABASE,
                "items": []}
    if search.elasticsearch_ready():
        try:
            response = search.es_call("search", body=queries.similar_body(
                words, visible_community_id_list(viewer), limit,
                (ranking.TITLE_BOOST, ranking.BODY_BOOST, ranking.POSTS_BOOST), **narrowing))
            return search.scored_threads(viewer, search.ELASTICSEARCH, [
                (h["_source"]["thread_id"], h["_score"]) for h in response["hits"]["hits"]])
        except SearchUnavailable as error:
            log.warning("similar threads falling back to the database: %s", error)
    return search.scored_threads(viewer, search.DATABASE, _database_rank(viewer, words, limit,
                                                                         **narrowing))


def _database_rank(viewer: User, words: list[str], limit: int, **narrowing) -> list[tuple[int, float]]:
    visible = visible_community_ids(viewer)
    statement = queries.database_similar(search.dialect(), words, visible, POOL, **narrowing)
    ids = [] if statement is None else [row.thread_id for row in db.session.execute(statement)]
    if not ids:
        return []
    total = db.session.scalar(queries.database_similar_scope_size(visible, **narrowing))
    thread_rows, post_rows = queries.similar_texts(ids)
    posts = defaultdict(list)
    for thread_id, body in db.session.execute(post_rows):
        posts[thread_id].append(body)
    candidates = [ranking.Candidate(row.id, row.title, row.body, "\n".join(posts[row.id]))
                  for row in db.session.execute(thread_rows)]
    scores = ranking.bm25(words, candidates, total)
    ranked = sorted(((i, s) for i, s in scores.items() if s > 0), key=lambda p: (-p[1], -p[0]))
    return ranked[:limit]


def related(viewer: User, thread_id: int, limit: int, scope: str = "community") -> dict:
    """Threads like this one: in its community (default) or in every community the caller sees."""
    thread = threads.find_visible_thread(viewer, thread_id)
    like = "\n".join([thread.title, thread.body, " ".join(thread.tags)])
    narrowing = {"community_id": thread.community_id} if scope == "community" else {}
    return _rank(viewer, like, limit, exclude_thread_id=thread.id, **narrowing)


def similar_threads(viewer: User, slug: str, fields: dict) -> dict:
    """Threads of a community like a draft (title and body): "has this been asked?"."""
    community = find_visible_community(viewer, slug)
    like = "\n".join([fields["title"], fields.get("body") or ""])
    return _rank(viewer, like, fields["limit"], community_id=community.id, kind=fields.get("kind"))


def similar_ideas(viewer: User, slug: str, fields: dict) -> dict:
    return similar_threads(viewer, slug, {**fields, "kind": ThreadKind.IDEA.value})


def duplicates(viewer: User, slug: str, args: dict) -> dict:
    """Likely duplicate pairs among a community's newest threads (moderators), best first.

    Scored by TF-IDF cosine of title and body, IDF over the window, within one kind; each pair
    names the newer thread to merge into the older one (POST /threads/{id}/merge).
    """
    community = find_visible_community(viewer, slug)
    require_moderator(viewer, community)
    rows = db.session.execute(queries.community_threads(community.id, DUPLICATE_WINDOW)).all()
    if args.get("kind"):
        rows = [row for row in rows if row.kind == args["kind"]]
    kinds = {row.id: row.kind for row in rows}
    texts = {row.id: f"{row.title}\n{row.body}" for row in rows}
    pairs = [(a, b, score) for a, b, score in ranking.cosine_pairs(texts, args["threshold"])
             if kinds[a] == kinds[b]][:args["limit"]]
    views = search.visible_threads(viewer, sorted({i for a, b, _ in pairs for i in (a, b)}))
    items = []
    for a, b, score in pairs:
        if a in views and b in views:
            older, newer = sorted((a, b))
            items.append({"thread": views[newer], "duplicate_of": views[older],
                          "score": round(score, 4)})
    return {"threshold": args["threshold"], "scanned": len(rows), "items": items}
