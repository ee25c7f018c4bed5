"""Cached sentence embeddings of threads, for the database fallback's semantic signal."""
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from collab.db import db


class ThreadEmbedding(db.Model):
    """A thread's embedding (float32 little-endian) for the text whose hash it carries.

    A cache: filled when a similarity request on the database needs it, recomputed when the
    thread's title or body changes (the hash no longer matches); deleted with the thread.
    """
    __tablename__ = "thread_embeddings"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
