"""Insight roll-ups: what the window's figures are summed from, kept by session events.

Both tables are projections of threads and posts (collab.insights.rollup keeps them in the
writing transaction; `flask insights rebuild` recomputes them from the same history).
"""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, false, text
from sqlalchemy.orm import Mapped, mapped_column

from collab.db import UTCDateTime, db

ORGANIZATION = 0  # community_id of the rows summed over every community


class InsightDay(db.Model):
    """A person's activity in a community on a UTC day, and the replies they gave and received
    by audience (the audience flow's matrix, summed per window)."""

    __tablename__ = "insight_days"
    __table_args__ = (Index("ix_insight_days_day", "day"),)

    # ORGANIZATION (0) for the sum over every community, so no foreign key.
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    threads: Mapped[int] = mapped_column(Integer, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    # Replies this person wrote to someone else, by the audience of the author replied to ...
    replies_to_employee: Mapped[int] = mapped_column(Integer, default=0)
    replies_to_partner: Mapped[int] = mapped_column(Integer, default=0)
    replies_to_customer: Mapped[int] = mapped_column(Integer, default=0)
    # ... and replies this person received from someone else, by the replier's audience.
    replies_from_employee: Mapped[int] = mapped_column(Integer, default=0)
    replies_from_partner: Mapped[int] = mapped_column(Integer, default=0)
    replies_from_customer: Mapped[int] = mapped_column(Integer, default=0)


class ThreadFact(db.Model):
    """When a thread was first replied to by someone other than its author (live replies)."""

    __tablename__ = "insight_thread_facts"
    # A window's question facts by their thread's start (response times: migrations 0027, 0031).
    __table_args__ = (Index("ix_insight_thread_facts_questions", "thread_created_at", "thread_id",
                            "first_reply_at", postgresql_where=text("question"),
                            sqlite_where=text("question")),)

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           primary_key=True, autoincrement=False)
    first_reply_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The thread's created_at, copied (a thread's start does not change; if it did, the session
    # events recompute the fact).
    thread_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Whether the thread is a question: set by a database trigger at the fact's insert from the
    # thread's kind (which never changes; migration 0031), whatever statement inserts it.
    question: Mapped[bool] = mapped_column(Boolean, server_default=false())
