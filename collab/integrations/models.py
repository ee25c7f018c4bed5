"""API clients: registered integrations that act as a service identity."""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.db import UTCDateTime, db
from collab.people.models import User


class ApiClient(db.Model):
    """Only the SHA-256 of the client secret is stored; the secret is shown once."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The user row (kind service) the client acts as: its audience, memberships and rights.
    service_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    all_communities: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service_user: Mapped[User] = relationship(foreign_keys=[service_user_id])
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    community_rows: Mapped[list["ApiClientCommunity"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")


class ApiClientCommunity(db.Model):
    """A community a restricted client may act in (nothing else is visible to it)."""

    __tablename__ = "api_client_communities"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True, index=True)


class IdempotencyKey(db.Model):
    """The first response to a POST sent with an `Idempotency-Key`, replayed for a day."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    # NULL while the first request is still running.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now, index=True)
