"""The only place that builds search queries: Elasticsearch request bodies and the database fallback.

Both engines read the same parsed query text (`parse`) and the same filters, and both are handed the
caller's visible community ids from the one permission door: an empty set builds a query that
matches nothing (never a missing filter).
"""
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    cast,
    desc,
    false,
    func,
    join,
    literal,
    literal_column,
    or_,
    select,
    text,
    Float,
    Integer,
    String,
    union,
    union_all,
)

from collab.challenges.models import ChallengeIdea
from collab.communities.models import Community
from collab.errors import InvalidInput
from collab.people.models import User
from collab.threads.models import Post, Thread, ThreadTag

MAX_CLAUSES = 32
HIGHLIGHT_PRE, HIGHLIGHT_POST = "<mark>", "</mark>"
# Markers the database highlighters wrap matches in; replaced by <mark> after HTML-escaping.
DB_MARK_START, DB_MARK_END = "\x01", "\x02"
# Lucene's English stop words: dropped from database queries, as the English analyzer does.
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split())

# Weights of the relevance formula (docs/search.md).
TITLE_BOOST, TAGS_BOOST, BODY_BOOST, POSTS_BOOST = 3.0, 2.0, 1.0, 1.0
PHRASE_BOOST = 2.0
# Typo tolerance, kept cheap: an exact match always outscores a fuzzy one, the first letters must
# be right, and each word expands to at most a few similar terms of the index.
FUZZY_BOOST, FUZZY_PREFIX, FUZZY_EXPANSIONS = 0.5, 2, 10
VOTES_WEIGHT, REPLIES_WEIGHT, ACCEPTED_WEIGHT, FRESHNESS_WEIGHT = 0.5, 0.25, 0.5, 0.5
FRESHNESS_SCALE, FRESHNESS_OFFSET = "90d", "7d"

TEXT_FIELDS = [f"title^{TITLE_BOOST}", f"tags.text^{TAGS_BOOST}", f"body^{BODY_BOOST}",
               f"posts.body^{POSTS_BOOST}"]
PHRASE_FIELDS = [f"title^{TITLE_BOOST}", f"body^{BODY_BOOST}"]


# Query text --------------------------------------------------------------------

@dataclass(frozen=True)
class QueryText:
    """`q` split into words, "quoted phrases", and -excluded words or -"phrases"."""

    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # words and phrases alike

    @property
    def positive(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def empty(self) -> bool:
        return not (self.positive or self.excluded)


_TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|([^\s"]+))')


def parse(q: str | None) -> QueryText:
    """Parses the search box; an unbalanced quote is the caller's error (422), never a 500."""
    q = (q or "").strip()
    if q.count('"') % 2:
        raise InvalidInput({"q": ["Unbalanced quote: close every \" you open."]})
    terms, phrases, excluded = [], [], []
    position = 0
    while position < len(q):
        match = _TOKEN.match(q, position)
        if match is None:
            break
        position = match.end()
        negated, phrase, word = match.groups()
        value = " ".join((phrase if phrase is not None else word).split())
        if not value or value == "-":
            continue
        if negated:
            excluded.append(value)
        elif phrase is not None:
            phrases.append(value)
        else:
            terms.append(value)
    if len(terms) + len(phrases) + len(excluded) > MAX_CLAUSES:
        raise InvalidInput({"q": [f"At most {MAX_CLAUSES} words and phrases."]})
    return QueryText(tuple(terms), tuple(phrases), tuple(excluded))


def words(value: str) -> list[str]:
    """Word characters only, lowercased: what the database engines may be given."""
    return [w.lower() for w in re.findall(r"\w+", value)]


@dataclass
class Filters:
    visible_community_ids: list[int]
    community_id: int | None = None
    kind: str | None = None
    status: str | None = None
    tag: str | None = None
    author: str | None = None
    audience: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Ideas of these challenges only (a challenge or phase filter, resolved through the permission
    # door by the caller); None: no such filter, empty: nothing matches.
    challenge_ids: list[int] | None = None
    # The challenges the caller may see: the only ones the challenge facet may name.
    visible_challenge_ids: list[int] | None = None
    # Their phases now, by id (the phase facet sums the challenge facet by these).
    challenge_phases: dict[int, str] = field(default_factory=dict)
    # A requested community the caller may not see: match nothing, say nothing.
    impossible: bool = False
    # fresh | needs_review | obsolete (collab/freshness/rules.py), with the request's cutoffs:
    # last checked before `freshness_checked_before` and read since `freshness_read_since`.
    freshness: str | None = None
    freshness_checked_before: datetime | None = None
    freshness_read_since: datetime | None = None


# Elasticsearch ------------------------------------------------------------------

MATCH_NONE = {"match_none": {}}


def permission_filter(visible_community_ids: list[int]) -> dict:
    """Fail closed: no visible community means a query that matches nothing."""
    if not visible_community_ids:
        return MATCH_NONE
    return {"terms": {"community_id": sorted(visible_community_ids)}}


def _posts(query: dict, **options) -> dict:
    return {"nested": {"path": "posts", "score_mode": "max", "query": query, **options}}


def _thread_or_posts(field_name: str, value: str) -> dict:
    """The thread's author or the author of one of its posts (their root copy)."""
    return {"bool": {"should": [{"term": {field_name: value}},
                                {"term": {f"posts.{field_name}": value}}],
                     "minimum_should_match": 1}}


def _filters(filters: Filters) -> list[dict]:
    clauses = [permission_filter(filters.visible_community_ids)]
    if filters.impossible:
        clauses.append(MATCH_NONE)
    for name, value in (("community_id", filters.community_id), ("kind", filters.kind),
                        ("status", filters.status), ("tags", filters.tag)):
        if value is not None:
            clauses.append({"term": {name: value}})
    for name, value in (("author_handle", filters.author), ("author_audience", filters.audience)):
        if value is not None:
            clauses.append(_thread_or_posts(name, value))
    if filters.challenge_ids is not None:
        clauses.append({"terms": {"challenge_id": sorted(filters.challenge_ids)}}
                       if filters.challenge_ids else MATCH_NONE)
    if filters.since or filters.until:
        bounds = {}
        if filters.since:
            bounds["gte"] = filters.since.isoformat()
        if filters.until:
            bounds["lt"] = filters.until.isoformat()
        clauses.append({"range": {"created_at": bounds}})
    if filters.freshness:
        clauses.append(_freshness_filter(filters))
    return clauses


def _freshness_filter(filters: Filters) -> dict:
    """The freshness state as date ranges on the indexed clock: exact at query time."""
    if filters.freshness == "obsolete":
        return {"term": {"answer_freshness.obsolete": True}}
    old_and_read = [
        {"range": {"answer_freshness.checked_at": {
            "lt": filters.freshness_checked_before.isoformat()}}},
        {"range": {"answer_freshness.read_at": {"gte": filters.freshness_read_since.isoformat()}}},
    ]
    current = [{"term": {"has_accepted_answer": True}},
               {"term": {"answer_freshness.obsolete": False}}]
    if filters.freshness == "needs_review":
        return {"bool": {"filter": current + old_and_read}}
    return {"bool": {"filter": current, "must_not": [{"bool": {"filter": old_and_read}}]}}


def _fuzzy(options: dict) -> dict:
    return {**options, "fuzziness": "AUTO", "prefix_length": FUZZY_PREFIX,
            "max_expansions": FUZZY_EXPANSIONS}


def _word(word: str, fuzzy: bool, fields: list[str] = TEXT_FIELDS) -> dict:
    """A word matches in the thread (title, tags, body) or in its posts (or nearly, if fuzzy).

    Matching reads the posts' root copy (`include_in_root`), not a nested query: a nested query
    per word cost several times the rest of the search on 1M posts.
    """
    exact = {"multi_match": {"query": word, "fields": fields, "type": "best_fields",
                             "zero_terms_query": "all"}}
    if not fuzzy:
        return exact
    return {"bool": {"should": [exact, {"multi_match": _fuzzy({
        "query": word, "fields": fields, "type": "best_fields", "boost": FUZZY_BOOST})}],
        "minimum_should_match": 1}}


def _phrase(phrase: str, fields: list[str] = TEXT_FIELDS) -> dict:
    # Posts are separate values of posts.body: a phrase never spans two posts (position gap).
    return {"multi_match": {"query": phrase, "fields": fields, "type": "phrase",
                            "zero_terms_query": "all"}}


def _text_query(text_query: QueryText, fuzzy: bool, fields: list[str] = TEXT_FIELDS) -> dict:
    must = [_word(term, fuzzy, fields) for term in text_query.terms]
    must += [_phrase(phrase, fields) for phrase in text_query.phrases]
    should, must_not = [], []
    if len(text_query.terms) > 1:
        should.append({"multi_match": {"query": " ".join(text_query.terms), "fields": PHRASE_FIELDS,
                                       "type": "phrase", "slop": 1, "boost": PHRASE_BOOST}})
    for excluded in text_query.excluded:
        must_not.append({"multi_match": {"query": excluded,
                                         "fields": ["title", "tags.text", "body", "posts.body"],
                                         "type": "phrase"}})
    if not must:
        must.append({"match_all": {}})
    return {"bool": {"must": must, "should": should, "must_not": must_not}}


def best_posts_body(text_query: QueryText, thread_ids: list[int], visible_community_ids: list[int],
                    fuzzy: bool) -> dict | None:
    """Each thread's best matching post (nested query, inner_hits size 1, highlighted), for a page.

    A second, small request restricted to the page's threads: inner hits in the main search
    would run a nested query over every matching thread's posts.
    """
    clauses = []
    for term in text_query.terms:
        clauses.append({"match": {"posts.body": {"query": term}}})
        if fuzzy:
            clauses.append({"match": {"posts.body": _fuzzy({"query": term, "boost": FUZZY_BOOST})}})
    for phrase in text_query.phrases:
        clauses.append({"match_phrase": {"posts.body": phrase}})
    if not clauses or not thread_ids:
        return None
    return {"size": len(thread_ids), "_source": ["thread_id"],
            "query": {"bool": {
                "filter": [permission_filter(visible_community_ids),
                           {"terms": {"thread_id": sorted(thread_ids)}}],
                "must": [_posts({"bool": {"should": clauses, "minimum_should_match": 1}},
                                inner_hits={
                    "name": "best_post", "size": 1, "_source": False,
                    "docvalue_fields": ["posts.post_id"],
                    "highlight": {"pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST],
                                  "encoder": "html",
                                  "fields": {"posts.body": {"fragment_size": 160,
                                                            "number_of_fragments": 2}}}})]}}}


def _ranked(query: dict, now: datetime) -> dict:
    """Text relevance times (1 + crowd signals + freshness); see docs/search.md.

    Freshness decays from `now`, pinned in the cursor so every page ranks with the same scores.
    """
    return {"function_score": {
        "query": query,
        "functions": [
            {"weight": 1},
            {"field_value_factor": {"field": "crowd", "modifier": "log1p", "missing": 0},
             "weight": VOTES_WEIGHT},
            {"field_value_factor": {"field": "reply_count", "modifier": "log1p", "missing": 0},
             "weight": REPLIES_WEIGHT},
            {"filter": {"term": {"has_accepted_answer": True}}, "weight": ACCEPTED_WEIGHT},
            {"gauss": {"created_at": {"origin": now.isoformat(), "scale": FRESHNESS_SCALE,
                                      "offset": FRESHNESS_OFFSET, "decay": 0.5}},
             "weight": FRESHNESS_WEIGHT},
        ],
        "score_mode": "sum",
        "boost_mode": "multiply",
    }}


def _highlight() -> dict:
    return {"pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST], "encoder": "html",
            "fields": {"title": {"number_of_fragments": 0},
                       "body": {"fragment_size": 160, "number_of_fragments": 2}}}


FACET_FIELDS = {"community": "community_slug", "kind": "kind", "status": "status",
                "tags": "tags", "audience": "author_audience"}
FACET_SIZE = 20
CHALLENGE_FACET = "challenge"


@dataclass
class Page:
    limit: int
    # The last item's sort values (search_after in Elasticsearch, a keyset in the database).
    after: tuple | None = None
    # The instant freshness decays from, fixed by the first page (relevance).
    now: datetime | None = None
    # Typo tolerance: only when the exact words found fewer threads than a page (docs/search.md).
    fuzzy: bool = False


SORTS = ("relevance", "new", "top")
# What each sort's `after` holds: Elasticsearch's sort values of the last hit.
SORT_KEYS = {"relevance": ("score", "thread_id"), "top": ("votes", "thread_id"),
             "new": ("thread_id",)}


def search_body(text_query: QueryText, filters: Filters, sort: str, page: Page) -> dict:
    """Threads (one document each), exact total, facets by thread, search_after paging."""
    query = {"bool": {"must": [_text_query(text_query, page.fuzzy)], "filter": _filters(filters)}}
    body: dict = {
        "size": page.limit + 1,
        "_source": ["thread_id"],
        "track_total_hits": True,
        "aggs": {name: {"terms": {"field": field_name, "size": FACET_SIZE}}
                 for name, field_name in FACET_FIELDS.items()},
    }
    visible_challenges = sorted(filters.visible_challenge_ids or [])
    # Only challenges the caller may see are counted (by id; their phases are summed from these).
    body["aggs"][CHALLENGE_FACET] = {
        "filter": {"terms": {"challenge_id": visible_challenges}} if visible_challenges
        else MATCH_NONE,
        "aggs": {"ids": {"terms": {"field": "challenge_id",
                                   "size": max(len(visible_challenges), 1)}}}}
    if text_query.positive:
        body["highlight"] = _highlight()
    if sort == "relevance":
        body["query"] = _ranked(query, page.now)
        body["sort"] = [{"_score": "desc"}, {"thread_id": "desc"}]
    elif sort == "top":
        body["query"] = query
        body["sort"] = [{"score": "desc"}, {"thread_id": "desc"}]
    else:
        body["query"] = query
        body["sort"] = [{"thread_id": "desc"}]
    if page.after is not None:
        body["search_after"] = list(page.after)
    return body


def threads_in_communities_body(community_ids: set[int], after_thread_id: int | None,
                                size: int) -> dict:
    """Thread documents of these communities by thread id, a page at a time (orphan sweep)."""
    body = {"size": size, "_source": ["thread_id"], "sort": [{"thread_id": "asc"}],
            "query": {"terms": {"community_id": sorted(community_ids)}}}
    if after_thread_id is not None:
        body["search_after"] = [after_thread_id]
    return body


def suggest_titles_body(prefix: str, visible_community_ids: list[int], size: int) -> dict:
    return {"size": size, "_source": ["thread_id", "title", "community_slug"],
            "query": {"bool": {
                "must": [{"match": {"title.prefix": {"query": prefix, "operator": "and"}}}],
                "filter": [permission_filter(visible_community_ids)]}}}


# Characters with a meaning in Lucene's regular expressions (RegExp with all flags, which
# Elasticsearch uses for `include`): intervals <1-100>, quotes, @, &, ~, # and the usual ones.
LUCENE_REGEX_SPECIAL = frozenset('.?+*|{}[]()"\\#@&<>~^$/-')


def lucene_regex_escape(value: str) -> str:
    """Escape for a Lucene regular expression (Python's re.escape knows another syntax)."""
    return "".join("\\" + c if c in LUCENE_REGEX_SPECIAL else c for c in value)


def suggest_tags_body(prefix: str, visible_community_ids: list[int], size: int) -> dict:
    folded = prefix.strip().lower()
    return {"size": 0,
            "query": {"bool": {"filter": [permission_filter(visible_community_ids),
                                          {"prefix": {"tags": folded}}]}},
            "aggs": {"tags": {"terms": {"field": "tags", "size": size,
                                        "include": lucene_regex_escape(folded) + ".*"}}}}


def similar_body(words: list[str], visible_community_ids: list[int], size: int,
                 boosts: tuple[float, float], exclude_thread_id: int | None = None,
                 community_id: int | None = None, kind: str | None = None) -> dict:
    """Threads ranked by BM25 against a draft's words, any of which may match (no cut-off).

    Unlike more_like_this (which demanded 30% of the terms and dropped most candidates), every
    visible thread sharing a word is ranked, best first; `boosts` weigh title and body (replies
    are not scored: matching every reply's words cost most of the query on a large index).
    """
    filters, must_not = _similar_filters(visible_community_ids, exclude_thread_id, community_id, None)
    text_value = " ".join(words)
    title, body = boosts
    should = [{"match": {"title": {"query": text_value, "boost": title}}},
              {"match": {"body": {"query": text_value, "boost": body}}}]
    query = {"bool": {"should": should, "minimum_should_match": 1,
                      "filter": filters, "must_not": must_not}}
    if kind is not None:
        # The kind filtered around the scored query, not beside its words: the same scores, and on
        # 1M posts a third of the time (benchmarks/similarity_latency.py).
        query = {"bool": {"must": [query], "filter": [{"term": {"kind": kind}}]}}
    # No total and no secondary sort: Lucene may then skip documents that cannot reach the top.
    return {"size": size, "_source": False, "docvalue_fields": ["thread_id"],
            "track_total_hits": False, "query": query}


def _similar_filters(visible_community_ids: list[int], exclude_thread_id: int | None,
                     community_id: int | None, kind: str | None) -> tuple[list[dict], list[dict]]:
    filters = [permission_filter(visible_community_ids)]
    if community_id is not None:
        filters.append({"term": {"community_id": community_id}})
    if kind is not None:
        filters.append({"term": {"kind": kind}})
    must_not = [{"term": {"thread_id": exclude_thread_id}}] if exclude_thread_id else []
    return filters, must_not


# kNN candidates examined per shard: exact on a small community, bounded on a large index.
KNN_CANDIDATES = 200


def similar_knn_body(vector: list[float], visible_community_ids: list[int], size: int,
                     exclude_thread_id: int | None = None, community_id: int | None = None,
                     kind: str | None = None) -> dict:
    """The threads nearest to a draft's embedding, under the same permission filter as BM25.

    The filter is applied inside the kNN search (not after it), so hidden communities are never
    candidates and `size` neighbours come from what the caller may see.
    """
    filters, must_not = _similar_filters(visible_community_ids, exclude_thread_id, community_id, kind)
    return {"size": size, "_source": False, "docvalue_fields": ["thread_id"],
            "track_total_hits": False,
            "knn": {"field": "embedding", "query_vector": vector, "k": size,
                    "num_candidates": max(size, KNN_CANDIDATES),
                    "filter": {"bool": {"filter": filters, "must_not": must_not}}}}


# The database (no Elasticsearch) ---------------------------------------------------

ENGLISH = literal_column("'english'::regconfig")
# The stored vectors of migration 0032 (generated columns, GIN-indexed; PostgreSQL only): the
# title weighted A over the body weighted B, and a post's body. Not mapped on the models, since
# SQLite has no such columns (its FTS5 tables instead); never parsed again at query time.
PG_THREAD_VECTOR = literal_column("threads.search_vector")
PG_POST_VECTOR = literal_column("posts.search_vector")


def _fts5_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def fts5_expression(text_query: QueryText, any_word: bool = False) -> str | None:
    """FTS5 MATCH syntax built from words only (every token quoted), or None for no text."""
    positives = []
    for term in text_query.terms:
        positives += [_fts5_string(w) for w in words(term) if w not in ENGLISH_STOP_WORDS]
    for phrase in text_query.phrases:
        if words(phrase):
            positives.append(_fts5_string(" ".join(words(phrase))))
    if not positives:
        return None
    expression = "(" + (" OR " if any_word else " AND ").join(positives) + ")"
    for excluded in text_query.excluded:
        if words(excluded):
            expression += " NOT " + _fts5_string(" ".join(words(excluded)))
    return expression


def pg_tsquery(text_query: QueryText, any_word: bool = False) -> ColumnElement | None:
    parts = []
    for index, term in enumerate(text_query.terms):
        parts.append(func.plainto_tsquery(ENGLISH, bindparam(f"term_{index}", term)))
    for index, phrase in enumerate(text_query.phrases):
        parts.append(func.phraseto_tsquery(ENGLISH, bindparam(f"phrase_{index}", phrase)))
    if not parts:
        return None
    query = parts[0]
    for part in parts[1:]:
        query = func.tsquery_or(query, part) if any_word else func.tsquery_and(query, part)
    for index, excluded in enumerate(text_query.excluded):
        query = func.tsquery_and(query, func.tsquery_not(
            func.phraseto_tsquery(ENGLISH, bindparam(f"excluded_{index}", excluded))))
    return query


def _thread_filters(filters: Filters, visible_ids: Select) -> list[ColumnElement]:
    """Live threads in visible communities, narrowed by the request's filters."""
    conditions = [Thread.community_id.in_(visible_ids), Thread.deleted_at.is_(None),
                  Thread.merged_into_id.is_(None)]
    if filters.impossible:
        conditions.append(false())
    if filters.community_id is not None:
        conditions.append(Thread.community_id == filters.community_id)
    if filters.kind:
        conditions.append(Thread.kind == filters.kind)
    if filters.status:
        conditions.append(Thread.status == filters.status)
    if filters.tag:
        conditions.append(Thread.id.in_(select(ThreadTag.thread_id).where(
            ThreadTag.tag == filters.tag)))
    if filters.author:
        conditions.append(Thread.author_id.in_(select(User.id).where(User.handle == filters.author)))
    if filters.audience:
        conditions.append(Thread.author_id.in_(select(User.id).where(
            User.audience == filters.audience)))
    if filters.challenge_ids is not None:
        conditions.append(Thread.id.in_(select(ChallengeIdea.thread_id).where(
            ChallengeIdea.challenge_id.in_(filters.challenge_ids))))
    if filters.since:
        conditions.append(Thread.created_at >= filters.since)
    if filters.until:
        conditions.append(Thread.created_at < filters.until)
    if filters.freshness:
        conditions.append(_database_freshness(filters))
    return conditions


def _database_freshness(filters: Filters) -> ColumnElement:
    """The same states as _freshness_filter, on the thread's columns."""
    if filters.freshness == "obsolete":
        return and_(Thread.accepted_post_id.is_not(None), Thread.answer_obsolete_at.is_not(None))
    old_and_read = and_(Thread.answer_checked_at < filters.freshness_checked_before,
                        Thread.last_read_at >= filters.freshness_read_since)
    current = and_(Thread.accepted_post_id.is_not(None), Thread.answer_checked_at.is_not(None),
                   Thread.answer_obsolete_at.is_(None))
    if filters.freshness == "needs_review":
        return and_(current, old_and_read)
    return and_(current, or_(Thread.last_read_at.is_(None), ~old_and_read))


def _thread_columns(source=None) -> list[ColumnElement]:
    """What the page and the facets read of a matching thread."""
    if source is not None:
        return [source.c.community_id, source.c.kind, source.c.status, source.c.author_id,
                source.c.votes]
    return [Thread.community_id, Thread.kind, Thread.status, Thread.author_id,
            (Thread.upvotes - Thread.downvotes).label("votes")]


@dataclass
class DatabaseSearch:
    """The statements of one database search: matching threads with a rank, and per-page extras."""

    dialect: str
    text_query: QueryText
    # columns: thread_id, rank (higher is better; tiered_rank's), then THREAD_COLUMNS' (for the
    # page's order and the facets, so neither reads the threads again)
    ranked: Select
    fts5: str | None = None
    tsquery: ColumnElement | None = None

    @property
    def replies_unranked(self) -> bool:
        """PostgreSQL with words to match: a thread matched only by its replies has rank NULL in
        `ranked`; the page ranks those threads (replies_rank) only when it reaches them."""
        return self.tsquery is not None


def tiered_rank(own_rank, replies_rank):
    """The database engine's relevance (docs/search.md): a thread whose own text (title, body) or
    tags match ranks 1 + that rank, above every thread matched only by its replies, which ranks
    r / (1 + r) of its best reply's rank r (below 1). The second tier's threads need their posts
    read to be ranked, the first tier's do not: the first page rarely reads a reply's rank."""
    if own_rank is None:
        return replies_rank / (1.0 + replies_rank)
    return 1.0 + own_rank


def replies_rank(tsquery: ColumnElement, thread_id: ColumnElement) -> ColumnElement:
    """A thread's second-tier rank from its best live matching reply (PostgreSQL)."""
    best = func.max(cast(func.ts_rank_cd(PG_POST_VECTOR, tsquery), Float) * 0.5)
    return (select(tiered_rank(None, best))  # one aggregate, however often it is named
            .where(Post.thread_id == thread_id, Post.deleted_at.is_(None),
                   PG_POST_VECTOR.op("@@")(tsquery)).scalar_subquery())


def _excluded_threads(dialect: str, text_query: QueryText) -> Select | None:
    """Threads an excluded word or phrase touches: in the title, body, a tag or a live post
    (SQLite's FTS5 tables; PostgreSQL checks each candidate thread, _pg_not_excluded)."""
    excluded = [" ".join(words(value)) for value in text_query.excluded if words(value)]
    if not excluded:
        return None
    tags = select(ThreadTag.thread_id).where(ThreadTag.tag.in_(
        sorted({value.lower() for value in text_query.excluded} | set(excluded))))
    expression = " OR ".join(_fts5_string(value) for value in excluded)
    in_threads = select(literal_column("thread_id")).select_from(text(
        "SELECT rowid AS thread_id FROM threads_fts WHERE threads_fts MATCH :fts_not_threads")
        .bindparams(fts_not_threads=expression).columns(thread_id=Thread.id.type)
        .subquery("excluded_threads"))
    in_posts = select(literal_column("thread_id")).select_from(text(
        "SELECT posts.thread_id AS thread_id FROM posts_fts JOIN posts ON posts.id = "
        "posts_fts.rowid WHERE posts_fts MATCH :fts_not_posts AND posts.deleted_at IS NULL")
        .bindparams(fts_not_posts=expression).columns(thread_id=Thread.id.type)
        .subquery("excluded_posts"))
    return in_threads.union(in_posts, tags)


def _pg_not_excluded(text_query: QueryText) -> ColumnElement | None:
    """No excluded word or phrase in the thread's title, body, tags or live posts: checked on
    each candidate thread (its own vector, its tags and posts by index), so the work follows the
    filtered threads instead of reading every post an excluded word touches."""
    excluded = [" ".join(words(value)) for value in text_query.excluded if words(value)]
    if not excluded:
        return None
    tags = sorted({value.lower() for value in text_query.excluded} | set(excluded))
    query = None
    for index, value in enumerate(text_query.excluded):
        part = func.phraseto_tsquery(ENGLISH, bindparam(f"not_{index}", value))
        query = part if query is None else func.tsquery_or(query, part)
    return and_(
        ~PG_THREAD_VECTOR.op("@@")(query),
        ~select(ThreadTag.thread_id).where(ThreadTag.thread_id == Thread.id,
                                           ThreadTag.tag.in_(tags)).exists(),
        ~select(Post.id).where(Post.thread_id == Thread.id, Post.deleted_at.is_(None),
                               PG_POST_VECTOR.op("@@")(query)).exists())


def _tag_hits(text_query: QueryText) -> Select | None:
    """Threads tagged with every searched word (tags are searched like titles, boosted alike)."""
    wanted = sorted({term.lower() for term in text_query.terms})
    if not wanted or text_query.phrases:
        return None
    return (select(ThreadTag.thread_id.label("thread_id"),
                   literal_column(str(TAGS_BOOST)).label("rank"))
            .where(ThreadTag.tag.in_(wanted)).group_by(ThreadTag.thread_id)
            .having(func.count() == len(wanted)))  # (thread_id, tag) is the key


def database_search(dialect: str, text_query: QueryText, filters: Filters,
                    visible_ids: Select) -> DatabaseSearch:
    conditions = _thread_filters(filters, visible_ids)
    tag_hits = _tag_hits(text_query)
    if dialect == "sqlite":
        excluded = _excluded_threads(dialect, text_query)
        if excluded is not None:
            conditions.append(Thread.id.not_in(excluded))
        expression = fts5_expression(text_query)
        if expression is None:
            ranked = select(Thread.id.label("thread_id"), literal_column("0.0").label("rank"),
                            *_thread_columns())
            return DatabaseSearch(dialect, text_query, ranked.where(*conditions))
        thread_hits = text(
            "SELECT rowid AS thread_id, -bm25(threads_fts, 3.0, 1.0) AS rank "
            "FROM threads_fts WHERE threads_fts MATCH :fts_threads").bindparams(
            fts_threads=expression)
        post_hits = text(
            "SELECT posts.thread_id AS thread_id, -bm25(posts_fts) * 0.5 AS rank "
            "FROM posts_fts JOIN posts ON posts.id = posts_fts.rowid "
            "WHERE posts_fts MATCH :fts_posts AND posts.deleted_at IS NULL").bindparams(
            fts_posts=expression)
        own = literal(True).label("own")
        hits = (select(literal_column("thread_id"), literal_column("rank"), own)
                .select_from(thread_hits.columns(thread_id=Thread.id.type,
                                                 rank=Thread.top_score.type).subquery()))
        post_ranked = (select(literal_column("thread_id"), literal_column("rank"),
                              literal(False).label("own"))
                       .select_from(post_hits.columns(thread_id=Thread.id.type,
                                                      rank=Thread.top_score.type).subquery()))
        hits = (hits.union_all(post_ranked) if tag_hits is None
                else hits.union_all(post_ranked, tag_hits.add_columns(own))).subquery("hits")
        best = (select(hits.c.thread_id,
                       func.max(case((hits.c.own, hits.c.rank))).label("own_rank"),
                       func.max(case((~hits.c.own, hits.c.rank))).label("replies_rank"))
                .group_by(hits.c.thread_id).subquery("best"))
        rank = case((best.c.own_rank.is_not(None), tiered_rank(best.c.own_rank, None)),
                    else_=tiered_rank(None, best.c.replies_rank))
        ranked = (select(Thread.id.label("thread_id"), rank.label("rank"), *_thread_columns())
                  .join(best, best.c.thread_id == Thread.id).where(*conditions))
        return DatabaseSearch(dialect, text_query, ranked, fts5=expression)
    not_excluded = _pg_not_excluded(text_query)
    if not_excluded is not None:
        conditions.append(not_excluded)
    query = pg_tsquery(text_query)
    if query is None:
        ranked = select(Thread.id.label("thread_id"), literal_column("0.0").label("rank"),
                        *_thread_columns())
        return DatabaseSearch(dialect, text_query, ranked.where(*conditions))
    # The request's threads first (visibility and every filter), each with its own text's rank
    # (NULL: no match) from its stored vector, read with the row; then the text matched in those
    # threads' posts only, and only for a thread whose own text and tags did not match: one live
    # matching reply decides it (EXISTS stops there), and its rank waits for the page
    # (replies_rank). MATERIALIZED: computed once, whatever the parts below do with it.
    filtered = select(Thread.id.label("thread_id"), *_thread_columns(),
                      case((PG_THREAD_VECTOR.op("@@")(query),
                            cast(func.ts_rank_cd(PG_THREAD_VECTOR, query), Float)))
                      .label("thread_rank")) \
        .where(*conditions).cte("filtered").prefix_with("MATERIALIZED")
    by_reply = select(Post.id).where(Post.thread_id == filtered.c.thread_id,
                                     Post.deleted_at.is_(None),
                                     PG_POST_VECTOR.op("@@")(query)).exists()
    rows, own_rank = filtered, filtered.c.thread_rank
    matched = [filtered.c.thread_rank.is_not(None)]
    if tag_hits is not None:  # read by tag (the words' threads), hashed against the filtered
        tagged = tag_hits.subquery("tagged")
        rows = filtered.outerjoin(tagged, tagged.c.thread_id == filtered.c.thread_id)
        own_rank = func.greatest(own_rank, tagged.c.rank)  # NULLs ignored
        matched.append(tagged.c.thread_id.is_not(None))
    # OR evaluates left to right: the reply check runs only for threads not matched already.
    ranked = (select(filtered.c.thread_id, tiered_rank(own_rank, None).label("rank"),
                     *_thread_columns(filtered))
              .select_from(rows).where(or_(*matched, by_reply)))
    return DatabaseSearch(dialect, text_query, ranked, tsquery=query)


def _page(search: DatabaseSearch, matches, sort: str, page: Page) -> Select:
    """A page of `matches` (DatabaseSearch.ranked's columns) in the sort's order, after the
    previous page's last item (a keyset, like search_after); `position` numbers its rows."""
    if search.replies_unranked and sort == "relevance":
        return _tiered_page(search, matches, page)
    statement = select(matches.c.thread_id, matches.c.rank, matches.c.votes)
    if sort == "new":
        keys = [matches.c.thread_id]
    elif sort == "top":
        keys = [matches.c.votes, matches.c.thread_id]
    else:
        keys = [matches.c.rank, matches.c.thread_id]
    return _keyset(statement, keys, page)


def _keyset(statement: Select, keys: list, page: Page) -> Select:
    if page.after is not None:
        statement = statement.where(_after(keys, list(page.after)))
    order = [desc(key) for key in keys]
    return (statement.add_columns(func.row_number().over(order_by=order).label("position"))
            .order_by(*order).limit(page.limit + 1))


def _tiered_page(search: DatabaseSearch, matches, page: Page) -> Select:
    """The relevance page when the threads matched only by replies are not ranked yet: the
    first tier's page, then, only if it is short (PostgreSQL runs a part whose condition holds no
    row's value once, before the part, and skips the part when it fails), the second tier ranked
    from its replies. Every second-tier rank is below every first-tier one (tiered_rank)."""
    size = page.limit + 1
    own = select(matches.c.thread_id, matches.c.rank, matches.c.votes) \
        .where(matches.c.rank.is_not(None))
    own = _keyset(own, [matches.c.rank, matches.c.thread_id], page).cte("own_page")
    short = select(func.count()).select_from(own).scalar_subquery() < size
    by_replies = select(matches.c.thread_id,
                        replies_rank(search.tsquery, matches.c.thread_id).label("rank"),
                        matches.c.votes).where(matches.c.rank.is_(None), short) \
        .subquery("by_replies")
    replies = _keyset(select(by_replies.c.thread_id, by_replies.c.rank, by_replies.c.votes),
                      [by_replies.c.rank, by_replies.c.thread_id], page).subquery("replies_page")
    both = union_all(select(own.c.thread_id, own.c.rank, own.c.votes),
                     select(replies.c.thread_id, replies.c.rank, replies.c.votes)) \
        .subquery("tiers")
    return _keyset(select(both.c.thread_id, both.c.rank, both.c.votes),
                   [both.c.rank, both.c.thread_id], Page(limit=page.limit))


def _after(keys: list, values: list) -> ColumnElement:
    """Rows strictly after `values` in descending `keys` order."""
    first, *rest = keys
    if not rest:
        return first < values[0]
    return or_(first < values[0], and_(first == values[0], _after(rest, values[1:])))


def database_sort_values(row, sort: str) -> tuple:
    if sort == "new":
        return (row.thread_id,)
    if sort == "top":
        return (int(row.votes), row.thread_id)
    return (float(row.rank or 0.0), row.thread_id)


FACET_SIZES = {CHALLENGE_FACET: None, "community": FACET_SIZE, "kind": None, "status": None,
               "tags": FACET_SIZE, "audience": None}


def _matches(search: DatabaseSearch):
    matches = search.ranked.cte("matches")
    return matches.prefix_with("MATERIALIZED") if search.dialect == "postgresql" else matches


def _summary_parts(matches, visible_challenge_ids: list[int] | None) -> list[Select]:
    """The total, then each facet: (facet, value, count, position) in the facet's order (count,
    then value), from the columns of `matches` (one row per thread)."""
    threads = func.count()
    distinct_threads = func.count(func.distinct(matches.c.thread_id))
    facets = {  # name: (the grouped column, the rows it is read from, conditions, count)
        CHALLENGE_FACET: (ChallengeIdea.challenge_id,
                          join(ChallengeIdea, matches, matches.c.thread_id == ChallengeIdea.thread_id),
                          [ChallengeIdea.challenge_id.in_(visible_challenge_ids or [])],
                          distinct_threads),
        "community": (Community.slug,
                      join(Community, matches, matches.c.community_id == Community.id), [],
                      threads),
        "kind": (matches.c.kind, matches, [], threads),
        "status": (matches.c.status, matches, [], threads),
        "tags": (ThreadTag.tag, join(ThreadTag, matches, matches.c.thread_id == ThreadTag.thread_id),
                 [], threads),  # (thread_id, tag) is the key: a thread once per tag
        "audience": (User.audience, join(User, matches, matches.c.author_id == User.id), [],
                     threads),
    }
    parts = [select(literal("total").label("facet"), cast(None, String).label("value"),
                    func.count().label("count"), literal(1).label("position"))
             .select_from(matches)]
    for name, (key, rows, conditions, count) in facets.items():
        facet = (select(literal(name).label("facet"), cast(key, String).label("value"),
                        count.label("count"),
                        func.row_number().over(order_by=(desc(count), key)).label("position"))
                 .select_from(rows).where(*conditions).group_by(key).subquery(name))
        part = select(facet.c.facet, facet.c.value, facet.c["count"], facet.c.position)
        if FACET_SIZES[name] is not None:
            part = part.where(facet.c.position <= FACET_SIZES[name])
        parts.append(part)
    return parts


def database_results(search: DatabaseSearch, sort: str, page: Page,
                     visible_challenge_ids: list[int] | None = None) -> Select:
    """The page, the total and every facet in one statement over the matches computed once (a
    MATERIALIZED CTE on PostgreSQL): rows (facet, value, count, thread_id, rank, votes) where
    facet is "page" for the page's rows (in its order), "total" for the total (count), and a
    facet's name for its buckets (in the facet's order)."""
    matches = _matches(search)
    page_rows = _page(search, matches, sort, page).subquery("page")
    rank = page_rows.c.rank
    if search.replies_unranked:  # `new` and `top`: the page's threads matched by a reply only
        rank = func.coalesce(rank, replies_rank(search.tsquery, page_rows.c.thread_id))
    none = {"value": cast(None, String), "count": cast(None, Integer),
            "thread_id": cast(None, Integer), "rank": cast(None, Float),
            "votes": cast(None, Integer)}
    parts = [select(literal("page").label("facet"), none["value"].label("value"),
                    none["count"].label("count"), page_rows.c.thread_id,
                    cast(rank, Float).label("rank"), page_rows.c.votes,
                    page_rows.c.position)]
    for part in _summary_parts(matches, visible_challenge_ids):
        summary = part.subquery()
        parts.append(select(summary.c.facet, summary.c.value, summary.c["count"],
                            none["thread_id"].label("thread_id"), none["rank"].label("rank"),
                            none["votes"].label("votes"), summary.c.position))
    results = union_all(*parts).subquery("results")
    return select(results.c.facet, results.c.value, results.c["count"], results.c.thread_id,
                  results.c.rank, results.c.votes).order_by(results.c.facet, results.c.position)


def database_highlights(search: DatabaseSearch, thread_ids: list[int]) -> Select | None:
    """Title and body fragments for a page of threads, wrapped in DB_MARK_* markers."""
    if not thread_ids or not search.text_query.positive:
        return None
    if search.dialect == "sqlite":
        if search.fts5 is None:
            return None
        return text(
            "SELECT rowid AS thread_id, "
            "highlight(threads_fts, 0, :start, :end) AS title, "
            "snippet(threads_fts, 1, :start, :end, '…', 24) AS body "
            "FROM threads_fts WHERE threads_fts MATCH :fts AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True), fts=search.fts5, ids=thread_ids,
                     start=DB_MARK_START, end=DB_MARK_END)
    options = f"StartSel={DB_MARK_START}, StopSel={DB_MARK_END}"
    return select(
        Thread.id.label("thread_id"),
        func.ts_headline(ENGLISH, Thread.title, search.tsquery,
                         options + ", HighlightAll=true").label("title"),
        func.ts_headline(ENGLISH, Thread.body, search.tsquery,
                         options + ", MaxFragments=2, MaxWords=30, MinWords=10").label("body"),
    ).where(Thread.id.in_(thread_ids), PG_THREAD_VECTOR.op("@@")(search.tsquery))


def database_best_posts(search: DatabaseSearch, thread_ids: list[int]) -> Select | None:
    """Matching live posts of a page of threads, best first: (thread_id, post_id, fragment)."""
    if not thread_ids or not search.text_query.positive:
        return None
    if search.dialect == "sqlite":
        if search.fts5 is None:
            return None
        return text(
            "SELECT posts.thread_id AS thread_id, posts.id AS post_id, "
            "snippet(posts_fts, 0, :start, :end, '…', 24) AS body "
            "FROM posts_fts JOIN posts ON posts.id = posts_fts.rowid "
            "WHERE posts_fts MATCH :fts AND posts.deleted_at IS NULL AND posts.thread_id IN :ids "
            "ORDER BY bm25(posts_fts)"
        ).bindparams(bindparam("ids", expanding=True), fts=search.fts5, ids=thread_ids,
                     start=DB_MARK_START, end=DB_MARK_END)
    options = f"StartSel={DB_MARK_START}, StopSel={DB_MARK_END}, MaxFragments=2, MaxWords=30, MinWords=10"
    return (select(Post.thread_id, Post.id.label("post_id"),
                   func.ts_headline(ENGLISH, Post.body, search.tsquery, options).label("body"))
            .where(Post.thread_id.in_(thread_ids), Post.deleted_at.is_(None),
                   PG_POST_VECTOR.op("@@")(search.tsquery))
            .order_by(desc(func.ts_rank_cd(PG_POST_VECTOR, search.tsquery))))


def _similar_conditions(visible_ids: Select, exclude_thread_id: int | None,
                        community_id: int | None, kind: str | None) -> list[ColumnElement]:
    conditions = _thread_filters(Filters(visible_community_ids=[], community_id=community_id,
                                         kind=kind), visible_ids)
    if exclude_thread_id is not None:
        conditions.append(Thread.id != exclude_thread_id)
    return conditions


def database_similar(dialect: str, like_words: list[str], visible_ids: Select, size: int,
                     exclude_thread_id: int | None = None, community_id: int | None = None,
                     kind: str | None = None) -> Select | None:
    """Threads of the scope sharing any of the words, the database's best first (a pool to rescore)."""
    if not like_words:
        return None
    text_query = QueryText(terms=tuple(like_words))
    conditions = _similar_conditions(visible_ids, exclude_thread_id, community_id, kind)
    if dialect == "sqlite":
        expression = fts5_expression(text_query, any_word=True)
        if expression is None:
            return None
        hits = text("SELECT rowid AS thread_id, -bm25(threads_fts, 3.0, 1.0) AS rank "
                    "FROM threads_fts WHERE threads_fts MATCH :fts") \
            .bindparams(fts=expression) \
            .columns(thread_id=Thread.id.type, rank=Thread.top_score.type).subquery("hits")
        return (select(hits.c.thread_id, hits.c.rank).join(Thread, Thread.id == hits.c.thread_id)
                .where(*conditions).order_by(desc(hits.c.rank), desc(hits.c.thread_id))
                .limit(size))
    query = pg_tsquery(text_query, any_word=True)
    rank = func.ts_rank(PG_THREAD_VECTOR, query).label("rank")
    return (select(Thread.id.label("thread_id"), rank)
            .where(PG_THREAD_VECTOR.op("@@")(query), *conditions)
            .order_by(desc("rank"), desc(Thread.id)).limit(size))


def database_similar_scope_size(visible_ids: Select, exclude_thread_id: int | None = None,
                                community_id: int | None = None, kind: str | None = None) -> Select:
    """How many threads the similarity ranks among (BM25's document count)."""
    return select(func.count()).select_from(Thread).where(
        *_similar_conditions(visible_ids, None, community_id, kind))


def database_similar_window(visible_ids: Select, size: int, exclude_thread_id: int | None = None,
                            community_id: int | None = None, kind: str | None = None) -> Select:
    """The scope's newest threads with their text: the semantic candidates of the fallback."""
    return (select(Thread.id, Thread.title, Thread.body)
            .where(*_similar_conditions(visible_ids, exclude_thread_id, community_id, kind))
            .order_by(desc(Thread.id)).limit(size))


def similar_texts(thread_ids: list[int]) -> Select:
    """Title and body of these threads (for rescoring)."""
    return select(Thread.id, Thread.title, Thread.body).where(Thread.id.in_(thread_ids))


def community_threads(community_id: int, size: int) -> Select:
    """A community's live threads, newest first (the duplicate scan's window)."""
    return (select(Thread.id, Thread.kind, Thread.title, Thread.body)
            .where(Thread.community_id == community_id, Thread.deleted_at.is_(None),
                   Thread.merged_into_id.is_(None))
            .order_by(desc(Thread.id)).limit(size))


def database_suggest_titles(dialect: str, prefix: str, visible_ids: Select, size: int) -> Select | None:
    tokens = words(prefix)
    if not tokens:
        return None
    conditions = _thread_filters(Filters(visible_community_ids=[]), visible_ids)
    if dialect == "sqlite":
        fts = "title : (" + " AND ".join(
            [_fts5_string(t) for t in tokens[:-1]] + [_fts5_string(tokens[-1]) + " *"]) + ")"
        hits = text("SELECT rowid AS thread_id, -bm25(threads_fts, 3.0, 1.0) AS rank "
                    "FROM threads_fts WHERE threads_fts MATCH :fts").bindparams(fts=fts) \
            .columns(thread_id=Thread.id.type, rank=Thread.top_score.type).subquery("hits")
        return (select(Thread.id, Thread.title, Community.slug)
                .join(hits, hits.c.thread_id == Thread.id)
                .join(Community, Community.id == Thread.community_id)
                .where(*conditions).order_by(desc(hits.c.rank), desc(Thread.id)).limit(size))
    # Weight A: the title's lexemes in the stored thread vector (the body's are weight B).
    tsquery = " & ".join([t + ":A" for t in tokens[:-1]] + [tokens[-1] + ":*A"])
    query = func.to_tsquery(ENGLISH, bindparam("prefix_query", tsquery))
    return (select(Thread.id, Thread.title, Community.slug)
            .join(Community, Community.id == Thread.community_id)
            .where(PG_THREAD_VECTOR.op("@@")(query), *conditions)
            .order_by(desc(Thread.upvotes - Thread.downvotes), desc(Thread.id)).limit(size))


def _like_prefix(prefix: str) -> str:
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def database_suggest_tags(prefix: str, visible_ids: Select, size: int) -> Select:
    conditions = _thread_filters(Filters(visible_community_ids=[]), visible_ids)
    return (select(ThreadTag.tag, func.count().label("count"))
            .join(Thread, Thread.id == ThreadTag.thread_id)
            .where(func.lower(ThreadTag.tag).like(_like_prefix(prefix), escape="\\"), *conditions)
            .group_by(ThreadTag.tag).order_by(desc("count"), ThreadTag.tag).limit(size))


def suggest_communities(prefix: str, visible: ColumnElement, size: int) -> Select:
    """Communities (the caller may see) whose name, a word of its name, or slug starts so."""
    pattern = _like_prefix(prefix.strip())
    return (select(Community).where(visible, or_(
        func.lower(Community.name).like(pattern, escape="\\"),
        func.lower(Community.name).like("% " + pattern, escape="\\"),
        Community.slug.like(pattern, escape="\\")))
        .order_by(Community.name, Community.id).limit(size))



# Expertise (collab/insights) ----------------------------------------------------------
#
# Who knows about a topic: the replies, accepted answers and threads of each person among the
# threads that best match the topic (the caller's visible communities only), split into age
# buckets so recency decays the same way on both engines.

EXPERT_SAMPLE = 200     # the best matching threads that count as evidence
EXPERT_CANDIDATES = 50  # people considered per engine request
EXPERT_EVIDENCE = 3
EXPERT_WINDOWS = (30, 180, None)  # days of threads searched for the sample, widening
EXPERT_FIELDS = TEXT_FIELDS[:3]  # title, tags, body: not the posts
AGE_BUCKETS = (("recent", 90), ("year", 365), ("older", None))  # (key, max age in days)


def age_ranges(now: datetime) -> list[dict]:
    """date_range buckets: newer than 90 days, than a year, and older."""
    from datetime import timedelta

    ranges, newer_bound = [], None
    for key, days in AGE_BUCKETS:
        bucket: dict = {"key": key}
        if days is not None:
            bucket["from"] = (now - timedelta(days=days)).isoformat()
        if newer_bound is not None:
            bucket["to"] = newer_bound
        ranges.append(bucket)
        newer_bound = bucket.get("from")
    return ranges


def age_bucket(created_at: datetime, now: datetime) -> str:
    """The AGE_BUCKETS key of a date (the database's side of age_ranges)."""
    age_days = (now - created_at).total_seconds() / 86400
    for key, days in AGE_BUCKETS:
        if days is None or age_days <= days:
            return key
    return AGE_BUCKETS[-1][0]


def experts_body(text_query: QueryText, visible_community_ids: list[int],
                 community_id: int | None, now: datetime,
                 created_since: datetime | None = None) -> dict:
    """Aggregations over the newest matching threads (started since `created_since`, as on the
    database: database_expert_sample): replies and accepted answers per person (nested posts),
    threads and up-votes per author, by age, with evidence threads and tags.

    The text only filters (no relevance to compute, no phrase boost); the score is the thread's
    creation time, so the sampler keeps the newest EXPERT_SAMPLE threads, and the window keeps
    a common word from scoring every thread."""
    filters = [permission_filter(visible_community_ids)]
    if community_id is not None:
        filters.append({"term": {"community_id": community_id}})
    if created_since is not None:
        filters.append({"range": {"created_at": {"gte": created_since.isoformat()}}})
    text_filter = _text_query(text_query, fuzzy=False, fields=EXPERT_FIELDS)
    text_filter["bool"].pop("should")
    ages = {"date_range": {"ranges": age_ranges(now)}}
    accepted = {"filter": {"term": {"posts.accepted": True}}}
    # The hits are the sample itself (best first): evidence threads are picked from them, which
    # costs far less than top_hits under reverse_nested; their ids come from doc values, so no
    # hit's _source (with its posts) is loaded. A thread matches on its own title, tags and body
    # (as on the database, database_expert_sample), not on its posts' root copy.
    return {
        "size": EXPERT_SAMPLE, "_source": False, "docvalue_fields": ["thread_id"],
        "track_total_hits": False,
        "query": {"function_score": {
            "query": {"bool": {"filter": [*filters, text_filter]}},
            "functions": [{"field_value_factor": {"field": "created_at"}}],
            "boost_mode": "replace"}},
        "aggs": {"best": {"sampler": {"shard_size": EXPERT_SAMPLE}, "aggs": {
            "posts": {"nested": {"path": "posts"}, "aggs": {"people": {
                "terms": {"field": "posts.author_id", "size": EXPERT_CANDIDATES},
                "aggs": {
                    "ages": {"date_range": {**ages["date_range"], "field": "posts.created_at"},
                             "aggs": {"accepted": accepted}},
                    "threads": {"reverse_nested": {}, "aggs": {
                        "tags": {"terms": {"field": "tags", "size": 3}}}},
                }}}},
            "authors": {"terms": {"field": "author_id", "size": EXPERT_CANDIDATES}, "aggs": {
                "ages": {"date_range": {**ages["date_range"], "field": "created_at"}},
                "crowd": {"sum": {"field": "crowd"}},
                "tags": {"terms": {"field": "tags", "size": 3}},
            }},
        }}},
    }


def evidence_threads(thread_ids: list[int], user_ids: list[int]) -> Select:
    """Who replied in (with accepted) or started which of these threads, for the evidence."""
    replies = (select(Post.author_id, Post.thread_id,
                      (Thread.accepted_post_id == Post.id).label("accepted"))
               .join(Thread, Thread.id == Post.thread_id)
               .where(Post.thread_id.in_(thread_ids), Post.author_id.in_(user_ids),
                      Post.deleted_at.is_(None)))
    started = (select(Thread.author_id, Thread.id, false().label("accepted"))
               .where(Thread.id.in_(thread_ids), Thread.author_id.in_(user_ids)))
    return replies.union_all(started)


def database_expert_sample(dialect: str, text_query: QueryText, filters: Filters,
                           visible_ids: Select, size: int,
                           created_since: datetime | None = None) -> Select:
    """The `size` newest matching threads (thread_id), newest first, among those started since
    `created_since` (all if None).

    A thread matches on its own title and body (the threads' full-text index: FTS5, or the GIN
    index of the stored vector of migration 0032) or its tags, not on its posts: ranking every matching
    post cost tens of seconds on 1M posts drawn from a small vocabulary. The evidence is then
    the posts of these threads (database_expert_replies), so the work is bounded by `size`; the
    window (index ix_threads_live_created) keeps a common word from visiting every thread.
    """
    conditions = _thread_filters(filters, visible_ids)
    if created_since is not None:
        conditions.append(Thread.created_at >= created_since)
    excluded = (_excluded_threads(dialect, text_query) if dialect == "sqlite"
                else _pg_not_excluded(text_query))
    if excluded is not None:
        conditions.append(Thread.id.not_in(excluded) if dialect == "sqlite" else excluded)
    if dialect == "sqlite":
        expression = fts5_expression(text_query)
        text_match = false() if expression is None else Thread.id.in_(
            select(literal_column("thread_id")).select_from(text(
                "SELECT rowid AS thread_id FROM threads_fts WHERE threads_fts MATCH :fts_experts")
                .bindparams(fts_experts=expression).columns(thread_id=Thread.id.type)
                .subquery("text_hits")))
    else:
        query = pg_tsquery(text_query)
        text_match = false() if query is None else PG_THREAD_VECTOR.op("@@")(query)
    columns = (Thread.id.label("thread_id"), Thread.created_at.label("created"))
    parts = [select(*columns).where(text_match, *conditions)]
    wanted = sorted({term.lower() for term in text_query.terms})
    if wanted and not text_query.phrases:  # tagged with every word (as _tag_hits)
        parts.append(select(*columns).where(*conditions, *[
            Thread.id.in_(select(ThreadTag.thread_id).where(ThreadTag.tag == tag))
            for tag in wanted]))
    hits = (parts[0] if len(parts) == 1 else union(*parts)).subquery("hits")
    return (select(hits.c.thread_id)
            .order_by(desc(hits.c.created), desc(hits.c.thread_id)).limit(size))


def _age_case(column, now: datetime) -> ColumnElement:
    """The AGE_BUCKETS key of a date column (the SQL side of age_bucket)."""
    from datetime import timedelta

    whens = [(column >= now - timedelta(days=days), literal(key))
             for key, days in AGE_BUCKETS if days is not None]
    return case(*whens, else_=literal(AGE_BUCKETS[-1][0]))


def database_expert_replies(thread_ids: list[int], now: datetime) -> Select:
    """Replies in these threads per author and age bucket: (author, bucket, replies, accepted)."""
    rows = (select(Post.author_id.label("author_id"),
                   _age_case(Post.created_at, now).label("bucket"),
                   case((Thread.accepted_post_id == Post.id, 1), else_=0).label("accepted"))
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.thread_id.in_(thread_ids), Thread.id.in_(thread_ids),
                   Post.deleted_at.is_(None))).subquery("replies")
    return (select(rows.c.author_id, rows.c.bucket, func.count(), func.sum(rows.c.accepted))
            .group_by(rows.c.author_id, rows.c.bucket))


def database_expert_started(thread_ids: list[int], now: datetime) -> Select:
    """These threads per author and age bucket: (author, bucket, threads, positive net votes)."""
    crowd = Thread.upvotes - Thread.downvotes
    rows = (select(Thread.author_id.label("author_id"),
                   _age_case(Thread.created_at, now).label("bucket"),
                   case((crowd > 0, crowd), else_=0).label("crowd"))
            .where(Thread.id.in_(thread_ids))).subquery("started")
    return (select(rows.c.author_id, rows.c.bucket, func.count(), func.sum(rows.c.crowd))
            .group_by(rows.c.author_id, rows.c.bucket))


def database_expert_tags(thread_ids: list[int]) -> Select:
    """Tags of the threads each person replied in or started: (author, tag, threads)."""
    involved = union(
        select(Post.author_id.label("author_id"), Post.thread_id.label("thread_id"))
        .where(Post.thread_id.in_(thread_ids), Post.deleted_at.is_(None)),
        select(Thread.author_id, Thread.id).where(Thread.id.in_(thread_ids)),
    ).subquery("involved")
    return (select(involved.c.author_id, ThreadTag.tag, func.count())
            .join(ThreadTag, ThreadTag.thread_id == involved.c.thread_id)
            .group_by(involved.c.author_id, ThreadTag.tag))


def person_topics_body(user_id: int, visible_community_ids: list[int], size: int) -> dict:
    """A person's top tags: the threads they started or replied in (root copy of the replies).
    Their significant words are computed from bounded samples (collab/expertise/service.py):
    significant_text cost seconds per request on 1M posts."""
    involved = {"bool": {"should": [{"term": {"author_id": user_id}},
                                    {"term": {"posts.author_id": user_id}}],
                         "minimum_should_match": 1}}
    return {
        "size": 0, "track_total_hits": False,
        "query": {"bool": {"filter": [permission_filter(visible_community_ids), involved]}},
        "aggs": {"tags": {"terms": {"field": "tags", "size": size}}},
    }
