"""Users and their API tokens."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.db import UTCDateTime, db


class Audience(StrEnum):
    EMPLOYEE = "employee"
    PARTNER = "partner"
    CUSTOMER = "customer"


class UserKind(StrEnum):
    PERSON = "person"
    SERVICE = "service"  # the identity an API client acts as


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    audience: Mapped[str] = mapped_column(String(16))
    organization: Mapped[str | None] = mapped_column(String(120), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    # Set when an admin erased the person (collab/privacy): personal fields are wiped then.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default=UserKind.PERSON, server_default="person")
    # Deactivated users keep their content; their tokens stop working.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")


class ApiToken(db.Model):
    """Only the SHA-256 of a token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated scopes; NULL is a legacy token with every scope. Scopes narrow, never widen.
    scopes: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for tokens issued to an API client (client-credentials grant).
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship(back_populates="tokens")
