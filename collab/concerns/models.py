"""Concerns raised on threads, and the members' explicit flags."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.db import UTCDateTime, db
from collab.people.models import User


class ConcernState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Concern(db.Model):
    """One per thread: opened when the thread's concern score reaches the threshold."""

    __tablename__ = "concerns"
    __table_args__ = (Index("ix_concerns_community_state", "community_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           unique=True)
    state: Mapped[str] = mapped_column(String(16), default=ConcernState.OPEN)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    flags: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[str] = mapped_column(Text, default="")  # risk terms, comma separated
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    response_note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # resolved or dismissed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    assignee: Mapped[User | None] = relationship(lazy="joined")


class ConcernFlag(db.Model):
    """A member's explicit "this is a concern" on a thread; one per person and thread."""

    __tablename__ = "concern_flags"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
