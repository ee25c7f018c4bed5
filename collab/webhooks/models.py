"""Webhook subscriptions, their delivery outbox and the log of delivery attempts."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.db import UTCDateTime, db
from collab.people.models import User

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class EventType(StrEnum):
    THREAD_CREATED = "thread.created"
    THREAD_UPDATED = "thread.updated"
    POST_CREATED = "post.created"
    IDEA_STATUS_CHANGED = "idea.status_changed"
    VOTE_CHANGED = "vote.changed"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    CONCERN_OPENED = "concern.opened"  # to the community's owners and moderators only
    PING = "ping"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"    # retried for the whole retry window without success
    SKIPPED = "skipped"  # the subscriber may no longer see what the event is about


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Events are filtered by what the owner may see, checked when each event is delivered.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Standard Webhooks secret, `whsec_` + base64; kept in clear because signing needs it.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[str] = mapped_column(String(400))  # space-separated event types
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)

    owner: Mapped[User] = relationship()

    @property
    def event_list(self) -> list[str]:
        return self.events.split()


class WebhookDelivery(db.Model):
    """One event for one subscription: the delivery outbox row, and its outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_pending", "status", "next_attempt_at", "id"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))  # `webhook-id`: the same on redelivery
    event_type: Mapped[str] = mapped_column(String(40))
    community_id: Mapped[int | None] = mapped_column(Integer)
    thread_id: Mapped[int | None] = mapped_column(Integer)  # deliveries of a thread go in order
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    subscription: Mapped[WebhookSubscription] = relationship()
    attempt_rows: Mapped[list["WebhookAttempt"]] = relationship(
        order_by="WebhookAttempt.id", lazy="selectin", cascade="all, delete-orphan")


class WebhookAttempt(db.Model):
    """The delivery log: each HTTP attempt with its response code and timing."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BIG_ID, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
