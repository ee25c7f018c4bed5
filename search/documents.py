"""Search documents, always built from the database by id (never from a request payload).

One document per visible thread (`thread-<id>`) and per visible post (`post-<id>`). A post's
document copies the thread fields it is filtered and ranked by, which is why a change to those
thread fields bumps the posts' versions too (collab/outbox.py). A document's version is its row's
`version` column; entities that are gone get DELETED_VERSION so a late write never resurrects them.
"""
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from collab.db import db
from collab.threads.models import Post, Thread

# Above any row version: the delete of a vanished entity wins over every earlier write.
DELETED_VERSION = 10**18


@dataclass(frozen=True)
class Document:
    id: str
    version: int
    source: dict | None  # None: the document must not be in the index
    thread_id: int | None = None

    @property
    def is_delete(self) -> bool:
        return self.source is None


def thread_doc_id(thread_id: int) -> str:
    return f"thread-{thread_id}"


def post_doc_id(post_id: int) -> str:
    return f"post-{post_id}"


def _hidden(thread: Thread) -> bool:
    return thread.deleted_at is not None or thread.merged_into_id is not None


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _thread_fields(thread: Thread) -> dict:
    """What a thread's document and its posts' documents share."""
    community = thread.community
    return {
        "thread_id": thread.id,
        "community_id": community.id,
        "community_slug": community.slug,
        "community_name": community.name,
        "community_visibility": community.visibility,
        "community_audiences": community.audiences,
        "community_archived": community.archived,
        "kind": thread.kind,
        "status": thread.status,
        "tags": thread.tags,
        "upvotes": thread.upvotes,
        "downvotes": thread.downvotes,
        "score": thread.upvotes - thread.downvotes,
        "crowd": max(thread.upvotes - thread.downvotes, 0),
        "has_accepted_answer": thread.accepted_post_id is not None,
        "thread_created_at": _iso(thread.created_at),
    }


def thread_document(thread: Thread) -> Document:
    doc_id = thread_doc_id(thread.id)
    if _hidden(thread):
        return Document(doc_id, thread.version, None, thread.id)
    return Document(doc_id, thread.version, thread_id=thread.id, source={
        **_thread_fields(thread),
        "doc_type": "thread",
        "post_id": None,
        "title": thread.title,
        "body": thread.body,
        "author_id": thread.author_id,
        "author_handle": thread.author.handle,
        "author_audience": thread.author.audience,
        "reply_count": thread.reply_count,
        "accepted": False,
        "created_at": _iso(thread.created_at),
        "updated_at": _iso(thread.updated_at),
    })


def post_document(post: Post, thread: Thread) -> Document:
    doc_id = post_doc_id(post.id)
    if post.deleted_at is not None or _hidden(thread):
        return Document(doc_id, post.version, None, thread.id)
    return Document(doc_id, post.version, thread_id=thread.id, source={
        **_thread_fields(thread),
        "doc_type": "post",
        "post_id": post.id,
        "thread_title": thread.title,
        "body": post.body,
        "author_id": post.author_id,
        "author_handle": post.author.handle,
        "author_audience": post.author.audience,
        "accepted": thread.accepted_post_id == post.id,
        "created_at": _iso(post.created_at),
        "updated_at": _iso(post.updated_at),
    })


def _load_threads(thread_ids: Iterable[int]) -> dict[int, Thread]:
    ids = sorted(set(thread_ids))
    if not ids:
        return {}
    threads = db.session.scalars(select(Thread).where(Thread.id.in_(ids))
                                 .options(selectinload(Thread.tag_rows))).unique()
    return {t.id: t for t in threads}


def thread_documents(thread_ids: Iterable[int]) -> list[Document]:
    """The thread's own documents; a missing thread yields a delete."""
    ids = sorted(set(thread_ids))
    threads = _load_threads(ids)
    return [thread_document(threads[i]) if i in threads
            else Document(thread_doc_id(i), DELETED_VERSION, None, i) for i in ids]


def posts_of_threads(thread_ids: Iterable[int]) -> list[Document]:
    """Every post document of these threads (present posts only; see orphan cleanup in the indexer)."""
    ids = sorted(set(thread_ids))
    if not ids:
        return []
    threads = _load_threads(ids)
    posts = db.session.scalars(select(Post).where(Post.thread_id.in_(ids))
                               .options(joinedload(Post.author)).order_by(Post.id))
    return [post_document(post, threads[post.thread_id]) for post in posts]


def post_documents(post_ids: Iterable[int]) -> list[Document]:
    ids = sorted(set(post_ids))
    if not ids:
        return []
    posts = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(ids))
                                                .options(joinedload(Post.author)))}
    threads = _load_threads(p.thread_id for p in posts.values())
    return [post_document(posts[i], threads[posts[i].thread_id]) if i in posts
            else Document(post_doc_id(i), DELETED_VERSION, None) for i in ids]


def thread_ids_of_communities(community_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(community_ids))
    if not ids:
        return []
    return list(db.session.scalars(select(Thread.id).where(Thread.community_id.in_(ids))))


def threads_batch(after_id: int, limit: int) -> list[int]:
    """Thread ids in id order, for the reindex scan."""
    return list(db.session.scalars(select(Thread.id).where(Thread.id > after_id)
                                   .order_by(Thread.id).limit(limit)))
