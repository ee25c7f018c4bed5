"""Stored sentence embeddings of threads (thread_embeddings): computed where the text changes, read
everywhere else.

A thread's vector is computed once per text (title and body; its hash names the model and the
truncation): after the commit that created or edited the thread (`SIMILARITY_EMBED_ON_WRITE`:
`background`, the default, in a worker thread of the process; `inline`, right after the commit;
`off`), by the indexer when it builds documents (drain and reindex), or by the backfill
`flask search embed`. Requests never embed stored content: the database fallback and the duplicate
scan read the stored vectors, and only the draft is embedded in the request.
"""
import logging
import queue
import threading
from collections.abc import Callable, Iterable

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from collab.db import db
from collab.similarity.models import ThreadEmbedding
from collab.threads.models import Thread
from search import embeddings

log = logging.getLogger(__name__)

PENDING_KEY = "similarity_embed_pending"
MODES = ("background", "inline", "off")
# Threads embedded and stored together by the backfill and the write-side worker.
BATCH = 256


def stored(rows) -> dict:
    """Stored vectors of these threads (rows with id, title, body) whose text has not changed since."""
    rows = list(rows)
    if not rows or not embeddings.available():
        return {}
    hashes = {row.id: embeddings.content_hash(embeddings.thread_text(row.title, row.body))
              for row in rows}
    found = db.session.execute(
        select(ThreadEmbedding.thread_id, ThreadEmbedding.content_hash, ThreadEmbedding.vector)
        .where(ThreadEmbedding.thread_id.in_(list(hashes))))
    return {thread_id: embeddings.from_bytes(vector) for thread_id, content_hash, vector in found
            if content_hash == hashes[thread_id]}


def ensure(session: Session, texts: dict[int, str]) -> tuple[dict, int]:
    """Vectors of these threads' texts: stored ones reused, the others computed in batches and
    stored (committed on `session`). Returns the vectors and how many were computed."""
    if not texts or not embeddings.available():
        return {}, 0
    hashes = {i: embeddings.content_hash(t) for i, t in texts.items()}
    vectors = {thread_id: embeddings.from_bytes(vector) for thread_id, content_hash, vector
               in session.execute(select(ThreadEmbedding.thread_id, ThreadEmbedding.content_hash,
                                         ThreadEmbedding.vector)
                                  .where(ThreadEmbedding.thread_id.in_(list(texts))))
               if content_hash == hashes[thread_id]}
    missing = [i for i in texts if i not in vectors]
    if not missing:
        return vectors, 0
    computed = embeddings.encode([texts[i] for i in missing])
    for i, vector in zip(missing, computed):
        vectors[i] = vector
    try:
        session.execute(delete(ThreadEmbedding).where(ThreadEmbedding.thread_id.in_(missing)))
        session.execute(insert(ThreadEmbedding.__table__), [
            {"thread_id": i, "content_hash": hashes[i], "vector": embeddings.to_bytes(vectors[i])}
            for i in missing])
        session.commit()
    except (IntegrityError, OperationalError) as error:
        # Another writer stored them first, or the thread vanished meanwhile: the vectors are
        # still right for this caller; the store catches up on the next change.
        session.rollback()
        log.info("thread embeddings not stored: %s", str(error)[:200])
    return vectors, len(missing)


def _texts(session: Session, thread_ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(select(Thread.id, Thread.title, Thread.body)
                           .where(Thread.id.in_(list(thread_ids)), Thread.deleted_at.is_(None),
                                  Thread.merged_into_id.is_(None)))
    return {row.id: embeddings.thread_text(row.title, row.body) for row in rows}


def embed_threads(thread_ids: Iterable[int]) -> int:
    """Compute and store the vectors these threads lack, on a session of their own; how many."""
    ids = sorted(set(thread_ids))
    computed = 0
    with Session(db.engine) as session:
        for start in range(0, len(ids), BATCH):
            texts = _texts(session, ids[start:start + BATCH])
            computed += ensure(session, texts)[1]
            session.rollback()  # end the read transaction between batches
    return computed


def backfill(progress: Callable[[int], None] | None = None, batch: int = BATCH,
             rebuild: bool = False, shard: tuple[int, int] = (0, 1)) -> tuple[int, int]:
    """Every live thread's vector (`flask search embed`); returns (threads scanned, computed).

    `shard` (k, n): only threads whose id is k modulo n, so n processes share the work."""
    scanned = computed = 0
    after = 0
    k, n = shard
    with Session(db.engine) as session:
        if rebuild:
            session.execute(delete(ThreadEmbedding) if n == 1 else
                            delete(ThreadEmbedding).where(ThreadEmbedding.thread_id % n == k))
            session.commit()
        while True:
            query = select(Thread.id).where(Thread.id > after)
            if n > 1:
                query = query.where(Thread.id % n == k)
            ids = list(session.scalars(query.order_by(Thread.id).limit(batch)))
            if not ids:
                break
            after = ids[-1]
            computed += ensure(session, _texts(session, ids))[1]
            session.rollback()
            scanned += len(ids)
            if progress is not None:
                progress(len(ids))
    return scanned, computed


# Computing on write -------------------------------------------------------------

def _after_flush(session, flush_context) -> None:
    changed = set()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Thread) or obj.id is None:
            continue
        state = db.inspect(obj)
        if obj in session.new or any(state.attrs[key].history.has_changes()
                                     for key in ("title", "body")):
            changed.add(obj.id)
    if changed:
        session.info.setdefault(PENDING_KEY, set()).update(changed)


def _after_commit(session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    writer = current_app.extensions.get("similarity_embedder")
    if writer is not None:
        writer.submit(pending)


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)


class Embedder:
    """Embeds the threads a commit created or edited: in a worker thread, or inline."""

    def __init__(self, app: Flask):
        self.app = app
        self.queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def mode(self) -> str:
        mode = self.app.config.get("SIMILARITY_EMBED_ON_WRITE") or "background"
        return mode if mode in MODES else "background"

    def submit(self, thread_ids: set[int]) -> None:
        mode = self.mode()
        if mode == "off" or not embeddings.available():
            return
        if mode == "inline":
            self._embed(thread_ids)
            return
        self.queue.put(set(thread_ids))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="similarity-embedder",
                                               daemon=True)
                self.thread.start()

    def _embed(self, thread_ids: set[int]) -> None:
        try:
            embed_threads(thread_ids)
        except Exception:  # noqa: BLE001 - the indexer or the backfill computes them later
            log.exception("embedding threads on write failed")

    def _run(self) -> None:
        while True:
            ids, taken = self.queue.get(), 1
            while not self.queue.empty() and len(ids) < BATCH:  # gather what queued meanwhile
                ids |= self.queue.get_nowait()
                taken += 1
            with self.app.app_context():
                self._embed(ids)
            for _ in range(taken):
                self.queue.task_done()

    def wait(self) -> None:
        """Until everything submitted so far is stored (tests and benchmarks)."""
        self.queue.join()


def init_app(app: Flask) -> None:
    from flask_sqlalchemy.session import Session as FlaskSession

    app.extensions["similarity_embedder"] = Embedder(app)
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(FlaskSession, name, listener):
            event.listen(FlaskSession, name, listener)
