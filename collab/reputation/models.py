"""Daily reputation per person and community: the capped points, and the raw ones."""
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from collab.db import db


class ReputationDay(db.Model):
    """Derived from the event history (collab.reputation.service.recompute rebuilds it)."""

    __tablename__ = "reputation_days"
    __table_args__ = (Index("ix_reputation_days_community_day", "community_id", "day"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)       # capped at DAILY_CAP
    raw_points: Mapped[int] = mapped_column(Integer)   # before the cap
