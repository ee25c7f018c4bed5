"""Votes on ideas and the history of idea status changes."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.db import UTCDateTime, db
from collab.people.models import User


class Vote(db.Model):
    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("thread_id", "user_id"),
        # A thread's tallies by audience with the caller's vote, read from the index alone
        # (migration 0023).
        Index("ix_votes_thread_tally", "thread_id", "audience", "value", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)
    # The voter's audience when voting, so votes split by audience without a join.
    audience: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)


class IdeaStatusChange(db.Model):
    __tablename__ = "idea_status_changes"
    __table_args__ = (Index("ix_idea_status_changes_thread", "thread_id", "id"),
                      # The digest's latest moves: a backward scan from now (migration 0017).
                      Index("ix_idea_status_changes_created", "created_at", "id"),
                      # The funnel's middle stays per status, one ordered read (0031).
                      Index("ix_idea_status_changes_medians", "from_status", "hours_in_status",
                            "created_at", "thread_id",
                            postgresql_where=text("hours_in_status IS NOT NULL"),
                            sqlite_where=text("hours_in_status IS NOT NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    # Hours the idea spent in `from_status`: since its previous change (or its creation) until
    # this one, stored when the change is made (stay_hours) so the insights' funnel medians read
    # a column instead of pairing every change with the one before it (migration 0021).
    hours_in_status: Mapped[float | None] = mapped_column(Float, nullable=True)

    actor: Mapped[User] = relationship(lazy="joined")
