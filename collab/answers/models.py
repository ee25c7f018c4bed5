"""Votes on posts (answers and replies): one per person and post."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from collab import time
from collab.db import UTCDateTime, db


class PostVote(db.Model):
    __tablename__ = "post_votes"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)  # 1 or -1
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
