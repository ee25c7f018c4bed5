"""Search documents, always built from the database by id (never from a request payload).

One document per visible thread (`thread-<id>`) carrying its live posts as a nested field, so a
search hit is a thread, totals and facets count threads, and every ranking signal of the thread
applies to a match in any of its posts. A document's version is the thread's `version` column,
bumped by every change to the thread, its posts, votes, tags or community (collab/outbox.py);
threads that are gone get DELETED_VERSION so a late write never resurrects them.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from collab.challenges.models import ChallengeIdea
from collab.communities.models import Community, CommunityAudience
from collab.db import db
from collab.people.models import User
from collab.similarity import vectors
from collab.threads.models import Post, Thread, ThreadTag
from search import embeddings

# Above any row version: the delete of a vanished entity wins over every earlier write.
DELETED_VERSION = 10**18


@dataclass(frozen=True)
class Document:
    id: str
    version: int
    source: dict | None  # None: the document must not be in the index
    thread_id: int | None = None
    posts: int = 0

    @property
    def is_delete(self) -> bool:
        return self.source is None


def thread_doc_id(thread_id: int) -> str:
    return f"thread-{thread_id}"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Columns, not ORM objects: the reindex builds thousands of documents a second.
_THREAD_COLUMNS = (
    Thread.id, Thread.version, Thread.deleted_at, Thread.merged_into_id, Thread.kind, Thread.status,
    Thread.title, Thread.body, Thread.author_id, Thread.upvotes, Thread.downvotes,
    Thread.reply_count, Thread.accepted_post_id, Thread.created_at, Thread.updated_at,
    Thread.answer_checked_at, Thread.answer_obsolete_at, Thread.last_read_at,
    Thread.community_id, Community.slug, Community.name, Community.visibility, Community.archived,
    User.handle, User.audience,
)


def _tags(thread_ids: list[int]) -> dict[int, list[str]]:
    tags = defaultdict(list)
    for thread_id, tag in db.session.execute(select(ThreadTag.thread_id, ThreadTag.tag)
                                             .where(ThreadTag.thread_id.in_(thread_ids))
                                             .order_by(ThreadTag.thread_id, ThreadTag.tag)):
        tags[thread_id].append(tag)
    return tags


def _audiences(community_ids: set[int]) -> dict[int, list[str]]:
    audiences = defaultdict(list)
    if community_ids:
        for community_id, audience in db.session.execute(
                select(CommunityAudience.community_id, CommunityAudience.audience)
                .where(CommunityAudience.community_id.in_(community_ids))
                .order_by(CommunityAudience.community_id, CommunityAudience.audience)):
            audiences[community_id].append(audience)
    return audiences


def _challenges(thread_ids: list[int]) -> dict[int, int]:
    """The challenge each idea takes part in (its phase follows the clock: searches resolve it)."""
    return dict(db.session.execute(select(ChallengeIdea.thread_id, ChallengeIdea.challenge_id)
                                   .where(ChallengeIdea.thread_id.in_(thread_ids))).all())


def _posts(thread_ids: list[int], accepted: dict[int, int | None]) -> dict[int, list[dict]]:
    """The live posts of these threads, oldest first, in one query."""
    posts = defaultdict(list)
    rows = db.session.execute(
        select(Post.id, Post.thread_id, Post.body, Post.author_id, User.handle, User.audience,
               Post.created_at)
        .join(User, User.id == Post.author_id)
        .where(Post.thread_id.in_(thread_ids), Post.deleted_at.is_(None))
        .order_by(Post.thread_id, Post.id))
    for post_id, thread_id, body, author_id, handle, audience, created_at in rows:
        posts[thread_id].append({
            "post_id": post_id, "body": body, "author_id": author_id, "author_handle": handle,
            "author_audience": audience, "accepted": accepted.get(thread_id) == post_id,
            "created_at": _iso(created_at)})
    return posts


def _embeddings(texts: dict[int, str]) -> dict[int, list[float]]:
    """The threads' sentence embeddings: the stored ones (collab/similarity/vectors.py) when their
    text has not changed, the others batch-computed and stored; none without the model."""
    if not texts or not embeddings.available():
        return {}
    return {i: vector.tolist() for i, vector in vectors.ensure(db.session, texts)[0].items()}


def thread_documents(thread_ids: Iterable[int], embed: bool = True) -> list[Document]:
    """Documents for these threads with their posts, in a handful of queries whatever their number.

    A soft-deleted or merged thread yields a delete with its version; a missing one a delete with
    DELETED_VERSION. `embed=False`: without the `embedding` (the reindex adds it with
    `add_embeddings` on its own threads, while the next batch is read).
    """
    ids = sorted(set(thread_ids))
    if not ids:
        return []
    rows = {row.id: row for row in db.session.execute(
        select(*_THREAD_COLUMNS)
        .join(Community, Community.id == Thread.community_id)
        .join(User, User.id == Thread.author_id)
        .where(Thread.id.in_(ids)))}
    live = [i for i in ids if i in rows
            and rows[i].deleted_at is None and rows[i].merged_into_id is None]
    tags = _tags(live) if live else {}
    challenges = _challenges(live) if live else {}
    audiences = _audiences({rows[i].community_id for i in live})
    posts = _posts(live, {i: rows[i].accepted_post_id for i in live}) if live else {}
    vectors = (_embeddings({i: embeddings.thread_text(rows[i].title, rows[i].body) for i in live})
               if embed else {})
    docs = []
    for thread_id in ids:
        row = rows.get(thread_id)
        doc_id = thread_doc_id(thread_id)
        if row is None:
            docs.append(Document(doc_id, DELETED_VERSION, None, thread_id))
            continue
        if row.deleted_at is not None or row.merged_into_id is not None:
            docs.append(Document(doc_id, row.version, None, thread_id))
            continue
        thread_posts = posts.get(thread_id, [])
        docs.append(Document(doc_id, row.version, thread_id=thread_id, posts=len(thread_posts),
                             source={
            "thread_id": thread_id,
            "community_id": row.community_id,
            "challenge_id": challenges.get(thread_id),
            "community_slug": row.slug,
            "community_name": row.name,
            "community_visibility": row.visibility,
            "community_audiences": audiences.get(row.community_id, []),
            "community_archived": row.archived,
            "kind": row.kind,
            "status": row.status,
            "tags": tags.get(thread_id, []),
            "title": row.title,
            "body": row.body,
            "author_id": row.author_id,
            "author_handle": row.handle,
            "author_audience": row.audience,
            "upvotes": row.upvotes,
            "downvotes": row.downvotes,
            "score": row.upvotes - row.downvotes,
            "crowd": max(row.upvotes - row.downvotes, 0),
            "reply_count": row.reply_count,
            "has_accepted_answer": row.accepted_post_id is not None,
            # The freshness clock (collab/freshness/rules.py); searches filter by date ranges.
            "answer_freshness": {
                "checked_at": _iso(row.answer_checked_at),
                "obsolete": row.answer_obsolete_at is not None,
                "read_at": _iso(row.last_read_at),
            } if row.accepted_post_id is not None else None,
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
            "posts": thread_posts,
        }))
        if thread_id in vectors:
            docs[-1].source["embedding"] = vectors[thread_id]
    return docs


def add_embeddings(session, docs: list[Document]) -> None:
    """Adds the `embedding` to these thread documents (stored vectors reused, missing ones computed
    and stored on `session`, which may belong to another thread than the request's)."""
    if not embeddings.available():
        return
    texts = {doc.thread_id: embeddings.thread_text(doc.source["title"], doc.source["body"])
             for doc in docs if not doc.is_delete}
    found = vectors.ensure(session, texts)[0] if texts else {}
    for doc in docs:
        if doc.thread_id in found:
            doc.source["embedding"] = found[doc.thread_id].tolist()


def thread_ids_of_communities(community_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(community_ids))
    if not ids:
        return []
    return list(db.session.scalars(select(Thread.id).where(Thread.community_id.in_(ids))))


def threads_batch(after_id: int, limit: int) -> list[int]:
    """Thread ids in id order, for the reindex scan."""
    return list(db.session.scalars(select(Thread.id).where(Thread.id > after_id)
                                   .order_by(Thread.id).limit(limit)))


def count_threads_and_posts() -> tuple[int, int]:
    threads = db.session.scalar(select(func.count()).select_from(Thread))
    posts = db.session.scalar(select(func.count()).select_from(Post))
    return threads, posts
