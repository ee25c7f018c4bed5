"""Related threads, similar drafts and duplicate suggestions: rules, engines and permissions.

Two signals, fused (`ranking.fuse`): BM25 over title and body, and the cosine of sentence
embeddings (search/embeddings.py). Elasticsearch runs the BM25 query (`queries.similar_body`) and
a filtered kNN query on the documents' `embedding` (`queries.similar_knn_body`); the database
fallback takes the threads sharing a word, scores them with the same BM25 in Python
(`ranking.bm25`), and adds the cosine over the scope's newest threads and the BM25 hits (their
stored vectors, collab/similarity/vectors.py). Only drafts are embedded in the request. Every path is narrowed to the communities the caller may see, asked of
collab.permissions per request; the hits are re-checked through the same door before they are
shown, so nothing from a hidden community is ranked, counted or suggested.
"""
import logging
from concurrent.futures import Future, ThreadPoolExecutor

from collab.db import db
from collab.people.models import User
from collab.permissions import (
    find_visible_community,
    find_visible_community_scope,
    require_moderator,
    visible_community_id_list,
    visible_community_ids,
)
from collab.search import service as search
from collab.similarity import ranking, vectors
from collab.threads import service as threads
from collab.threads.models import ThreadKind
from search import embeddings, queries
from search.client import SearchUnavailable

log = logging.getLogger(__name__)

# Threads the database fallback rescores: all those sharing a word with the draft in a community,
# the database's best POOL of them on a large scope.
POOL = 300
# Candidates each engine's signal brings to the fusion (BM25 hits and nearest neighbours).
FUSION_POOL = 50
# Semantic candidates of the database fallback: the scope's newest threads (stored vectors).
SEMANTIC_WINDOW = 1000
# Duplicate scan: the community's newest threads, compared pairwise.
DUPLICATE_WINDOW = 2000


# Drafts are embedded here while the request thread runs the BM25 search (ONNX Runtime releases
# the GIL): the request waits for the longer of the two, not for both one after the other.
_drafts = ThreadPoolExecutor(max_workers=2, thread_name_prefix="draft-embedding")


def _rank(viewer: User, like: str, semantic_text: str, limit: int, vector=None,
          visible: list[int] | None = None, **narrowing) -> dict:
    """`visible`: the caller's visible communities, decided once per request (asked if None)."""
    words = ranking.query_words(like)
    if not words:  # stop words only: nothing to compare, on either signal
        return {"engine": search.ELASTICSEARCH if search.elasticsearch_ready() else search.DATABASE,
                "items": []}
    pending = None
    if embeddings.available() and vector is None:
        pending = _drafts.submit(embeddings.encode, [semantic_text],
                                 threads=embeddings.REQUEST_THREADS)
    if search.elasticsearch_ready():
        if visible is None:
            visible = visible_community_id_list(viewer)
        try:
            return search.scored_threads(viewer, search.ELASTICSEARCH, _elasticsearch_rank(
                visible, words, vector, limit, pending, **narrowing), visible)
        except SearchUnavailable as error:
            log.warning("similar threads falling back to the database: %s", error)
    if pending is not None:
        vector = pending.result()[0]
    return search.scored_threads(viewer, search.DATABASE,
                                 _database_rank(viewer, words, vector, limit, **narrowing))


def _msearch(bodies: list[dict]) -> list[list[dict]]:
    """The hits of each search, in one round trip (the cluster runs them side by side)."""
    responses = search.es_call("msearch", searches=[part for body in bodies for part in ({}, body)])
    responses = responses["responses"]
    for response in responses:
        if "error" in response:
            raise SearchUnavailable(str(response["error"])[:300])
    return [response["hits"]["hits"] for response in responses]


def _elasticsearch_rank(visible: list[int], words: list[str], vector, limit: int,
                        pending: Future | None = None, **narrowing) -> list[tuple[int, float]]:
    """BM25 and kNN candidates, fused. `pending`: the draft's embedding, still running."""
    size = max(limit, FUSION_POOL)
    lexical_body = queries.similar_body(words, visible, size,
                                        (ranking.TITLE_BOOST, ranking.BODY_BOOST), **narrowing)
    if pending is not None:  # BM25 while the draft is embedded, then its neighbours
        [lexical_hits] = _msearch([lexical_body])
        vector = pending.result()[0]
        [neighbour_hits] = _msearch([queries.similar_knn_body(vector.tolist(), visible, size,
                                                              **narrowing)])
    elif vector is not None:  # a stored vector (related): both searches in one round trip
        lexical_hits, neighbour_hits = _msearch([
            lexical_body, queries.similar_knn_body(vector.tolist(), visible, size, **narrowing)])
    else:
        [lexical_hits], neighbour_hits = _msearch([lexical_body]), []
    lexical = {h["fields"]["thread_id"][0]: h["_score"] for h in lexical_hits}
    # Elasticsearch scores a cosine neighbour (1 + cosine) / 2.
    semantic = {h["fields"]["thread_id"][0]: 2 * h["_score"] - 1 for h in neighbour_hits}
    return ranking.fuse(lexical, semantic)[:limit]


def _database_rank(viewer: User, words: list[str], vector, limit: int,
                   **narrowing) -> list[tuple[int, float]]:
    visible = visible_community_ids(viewer)
    lexical = _database_bm25(visible, words, **narrowing)
    semantic = {}
    if vector is not None:
        window = {row.id: row for row in db.session.execute(
            queries.database_similar_window(visible, SEMANTIC_WINDOW, **narrowing))}
        missing = [i for i in lexical if i not in window]
        if missing:
            window.update({row.id: row for row in db.session.execute(
                queries.similar_texts(missing))})
        stored = vectors.stored(window.values())
        semantic = {i: float(v @ vector) for i, v in stored.items()}
    return ranking.fuse(lexical, semantic)[:limit]


def _database_bm25(visible, words: list[str], **narrowing) -> dict[int, float]:
    statement = queries.database_similar(search.dialect(), words, visible, POOL, **narrowing)
    ids = [] if statement is None else [row.thread_id for row in db.session.execute(statement)]
    if not ids:
        return {}
    total = db.session.scalar(queries.database_similar_scope_size(visible, **narrowing))
    candidates = [ranking.Candidate(row.id, row.title, row.body)
                  for row in db.session.execute(queries.similar_texts(ids))]
    return {i: s for i, s in ranking.bm25(words, candidates, total).items() if s > 0}


def related(viewer: User, thread_id: int, limit: int, scope: str = "community") -> dict:
    """Threads like this one: in its community (default) or in every community the caller sees."""
    thread = threads.find_visible_thread(viewer, thread_id)
    like = "\n".join([thread.title, thread.body, " ".join(thread.tags)])
    narrowing = {"community_id": thread.community_id} if scope == "community" else {}
    # A thread's own vector is stored (collab/similarity/vectors.py): no embedding in the request.
    stored = vectors.stored([thread]).get(thread.id)
    return _rank(viewer, like, embeddings.thread_text(thread.title, thread.body), limit,
                 vector=stored, exclude_thread_id=thread.id, **narrowing)


def similar_threads(viewer: User, slug: str, fields: dict) -> dict:
    """Threads of a community like a draft (title and body): "has this been asked?"."""
    # One permission decision: the draft's community (else 404) and every visible one.
    community_id, visible = find_visible_community_scope(viewer, slug)
    like = "\n".join([fields["title"], fields.get("body") or ""])
    return _rank(viewer, like, embeddings.thread_text(fields["title"], fields.get("body") or ""),
                 fields["limit"], visible=visible, community_id=community_id,
                 kind=fields.get("kind"))


def similar_ideas(viewer: User, slug: str, fields: dict) -> dict:
    return similar_threads(viewer, slug, {**fields, "kind": ThreadKind.IDEA.value})


def duplicates(viewer: User, slug: str, args: dict) -> dict:
    """Likely duplicate pairs among a community's newest threads (moderators), best first.

    Scored by the mean of the TF-IDF cosine of title and body (IDF over the window) and the cosine
    of their embeddings, within one kind; each pair names the newer thread to merge into the older
    one (POST /threads/{id}/merge).
    """
    community = find_visible_community(viewer, slug)
    require_moderator(viewer, community)
    semantic = embeddings.available()
    threshold = args["threshold"]
    if threshold is None:
        threshold = ranking.DUPLICATE_THRESHOLD if semantic else ranking.LEXICAL_DUPLICATE_THRESHOLD
    rows = db.session.execute(queries.community_threads(community.id, DUPLICATE_WINDOW)).all()
    if args.get("kind"):
        rows = [row for row in rows if row.kind == args["kind"]]
    kinds = {row.id: row.kind for row in rows}
    texts = {row.id: f"{row.title}\n{row.body}" for row in rows}
    stored = vectors.stored(rows) if semantic else None
    pairs = [(a, b, score) for a, b, score in ranking.duplicate_pairs(texts, stored, threshold)
             if kinds[a] == kinds[b]][:args["limit"]]
    views = search.visible_threads(viewer, sorted({i for a, b, _ in pairs for i in (a, b)}))
    items = []
    for a, b, score in pairs:
        if a in views and b in views:
            older, newer = sorted((a, b))
            items.append({"thread": views[newer], "duplicate_of": views[older],
                          "score": round(score, 4)})
    return {"threshold": threshold, "scanned": len(rows), "items": items}
