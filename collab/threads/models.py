"""Threads, their tags and posts."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, exists, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from collab import time
from collab.communities.models import Community
from collab.db import UTCDateTime, db
from collab.people.models import User


class ThreadKind(StrEnum):
    DISCUSSION = "discussion"
    QUESTION = "question"
    IDEA = "idea"
    ANNOUNCEMENT = "announcement"


class ThreadStatus(StrEnum):
    OPEN = "open"          # discussions, announcements, unanswered questions
    ANSWERED = "answered"  # a question with an accepted answer
    # The idea lifecycle:
    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"
    DUPLICATE = "duplicate"  # merged into another idea (set by the merge, never by hand)


LISTED = "deleted_at IS NULL AND merged_into_id IS NULL"  # the threads lists show
CURRENT_ANSWER = f"accepted_post_id IS NOT NULL AND answer_obsolete_at IS NULL AND {LISTED}"
OPEN_QUESTIONS = f"accepted_post_id IS NULL AND {LISTED}"
LIVE_IDEAS = f"kind = 'idea' AND {LISTED}"  # the insights' idea funnel
LIVE_QUESTIONS = f"kind = 'question' AND {LISTED}"
REMOVED = "deleted_at IS NOT NULL OR merged_into_id IS NOT NULL"  # deleted or merged


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_community_created", "community_id", "created_at", "id"),
        Index("ix_threads_community_active", "community_id", "last_activity_at", "id"),
        Index("ix_threads_community_top", "community_id", "top_score", "id"),
        Index("ix_threads_community_trending", "community_id", "trending_score", "id"),
        # The pinned-first orders of thread lists (collab/threads/service.py SORT_KEYS), over the
        # threads lists show: a backward scan serves `pinned DESC, <time> DESC, id DESC`.
        Index("ix_threads_listed_pinned_created", "community_id", "pinned", "created_at", "id",
              postgresql_where=text(LISTED), sqlite_where=text(LISTED)),
        Index("ix_threads_listed_pinned_active", "community_id", "pinned", "last_activity_at", "id",
              postgresql_where=text(LISTED), sqlite_where=text(LISTED)),
        # A person's counts and tags join their posts to these, index-only (migration 0018).
        Index("ix_threads_live_refs", "id", "community_id", "accepted_post_id", "merged_into_id",
              postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),
        # Search's freshness filter on the database (migration 0018).
        Index("ix_threads_answer_checked", "answer_checked_at", "last_read_at",
              postgresql_where=text(CURRENT_ANSWER), sqlite_where=text(CURRENT_ANSWER)),
        # Organisation-wide insights (migration 0017) and the newest matching threads of an expert
        # search in a recent window: live threads of a window, and open questions by age, without
        # reading every thread.
        Index("ix_threads_live_created", "created_at", "id", "author_id",
              postgresql_where=text(LISTED), sqlite_where=text(LISTED)),
        Index("ix_threads_open_questions", "kind", "created_at", "author_id",
              postgresql_where=text(OPEN_QUESTIONS), sqlite_where=text(OPEN_QUESTIONS)),
        Index("ix_threads_live_ideas", "created_at", "id", "status", "author_id",
              postgresql_where=text(LIVE_IDEAS), sqlite_where=text(LIVE_IDEAS)),
        # The funnel's counts per status and author, grouped in index order (migration 0031).
        Index("ix_threads_live_idea_authors", "status", "author_id", "created_at",
              postgresql_where=text(LIVE_IDEAS), sqlite_where=text(LIVE_IDEAS)),
        # Deleted or merged threads (few): what the funnel's middle stays leave out (0027).
        Index("ix_threads_removed", "id", postgresql_where=text(REMOVED),
              sqlite_where=text(REMOVED)),
        # A window's questions with what response times and the answer rate read (0021).
        Index("ix_threads_live_questions", "created_at", "id", "author_id", "accepted_post_id",
              "answer_accepted_at",
              postgresql_where=text(LIVE_QUESTIONS), sqlite_where=text(LIVE_QUESTIONS)),
        # The newest live titles, read alone (rising words' samples, migration 0026).
        Index("ix_threads_live_titles", "created_at", "id", "author_id", "title",
              postgresql_where=text(LISTED), sqlite_where=text(LISTED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    accepted_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", use_alter=True, ondelete="SET NULL")
    )
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    downvotes: Mapped[int] = mapped_column(Integer, default=0)
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    trending_score: Mapped[float] = mapped_column(Float, default=0.0)
    # Bumped by every change that alters the thread's search document.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hidden by moderation (collab/moderation): withdrawn like a deletion (deleted_at is set too,
    # so every read path and the search index drop it) until a moderator restores it.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Knowledge freshness (collab/freshness): when the accepted answer was last checked (its
    # creation, then each verification), who verified it, whether it was marked obsolete, and the
    # last read of the thread (touched at most hourly, without a version bump).
    answer_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    answer_obsolete_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the accepted answer was accepted (collab/insights: time to accepted answer).
    answer_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship(lazy="joined")
    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])
    answer_verified_by: Mapped[User | None] = relationship(foreign_keys=[answer_verified_by_id],
                                                          lazy="selectin")
    tag_rows: Mapped[list["ThreadTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ThreadTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def score(self) -> int:
        return self.upvotes - self.downvotes


class ThreadTag(db.Model):
    __tablename__ = "thread_tags"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_thread_created", "thread_id", "created_at", "id"),
        Index("ix_posts_thread_score", "thread_id", "score", "id"),
        # A person's live posts and threads, from the index alone (expertise, migration 0018).
        Index("ix_posts_author_live", "author_id", "thread_id", "id",
              postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),
        # A person's newest live posts (their significant words), a backward range (0021).
        Index("ix_posts_author_newest", "author_id", "id",
              postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Recounted from post_votes (collab/answers) under a lock on the post; score = up - down.
    upvotes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    downvotes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # as Thread.hidden_at

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    author: Mapped[User] = relationship(lazy="joined")


# Whether the post is its question's accepted answer, as a sortable SQL expression (answers list
# accepted first). Deferred: loaded only by the lists that sort on it.
Post.is_accepted = column_property(
    exists().where(Thread.id == Post.thread_id, Thread.accepted_post_id == Post.id),
    deferred=True)
