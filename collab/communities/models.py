"""Communities, the audiences and organizations they are open to, and memberships."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collab import time
from collab.db import UTCDateTime, db
from collab.people.models import User


class Visibility(StrEnum):
    OPEN = "open"
    RESTRICTED = "restricted"
    PRIVATE = "private"


class Role(StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"
    MEMBER = "member"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"   # asked to join a restricted community
    INVITED = "invited"   # invited to a private (or any) community, not yet accepted
    BANNED = "banned"


class Community(db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now, onupdate=time.now)
    # Memberships with status active, kept by the database's triggers on memberships (migration
    # 0024) whatever path changes them; never written here (read-only to the ORM).
    active_member_count: Mapped[int] = mapped_column(
        Integer, server_default="0", deferred=True)

    audience_rows: Mapped[list["CommunityAudience"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CommunityAudience.audience"
    )
    organization_rows: Mapped[list["CommunityOrganization"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CommunityOrganization.organization"
    )

    @property
    def audiences(self) -> list[str]:
        return [row.audience for row in self.audience_rows]

    @property
    def organizations(self) -> list[str]:
        return [row.organization for row in self.organization_rows]


class CommunityAudience(db.Model):
    """One row per audience (employee, partner, customer) a community is open to."""

    __tablename__ = "community_audiences"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    audience: Mapped[str] = mapped_column(String(16), primary_key=True)


class CommunityOrganization(db.Model):
    """Allow-list: when a community has rows here, only these organizations may see it."""

    __tablename__ = "community_organizations"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    organization: Mapped[str] = mapped_column(String(120), primary_key=True)


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        Index("ix_memberships_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    status: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now, onupdate=time.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    community: Mapped[Community] = relationship()


class MembershipRejection(db.Model):
    """The last time a moderator rejected a user's request to join (deleting the request).

    Read for the cool-down before the user may ask again; cleared when they become a member.
    """

    __tablename__ = "membership_rejections"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rejected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=time.now)
