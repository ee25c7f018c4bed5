"""Stored sentence embeddings of threads: the database fallback's semantic signal, reused by the indexer."""
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from collab.db import db


class ThreadEmbedding(db.Model):
    """A thread's embedding (float32 little-endian) for the text whose hash it carries.

    Computed where the text changes (collab/similarity/vectors.py: after the commit, in the indexer,
    or by `flask search embed`), stale once the title or body changes (the hash no longer
    matches); deleted with the thread. Requests only read it.
    """
    __tablename__ = "thread_embeddings"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
