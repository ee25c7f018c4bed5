"""Flags, the moderators' queue, and hiding, restoring or deleting flagged content.

Hidden content is withdrawn exactly like deleted content (deleted_at is set beside hidden_at), so
every read path and the search index drop it in the same transaction (the outbox sees the change);
restoring clears both. Enough independent flags from trusted members hide content pending review.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from collab import time
from collab.audit import service as audit
from collab.communities.models import Community, Membership, MembershipStatus
from collab.db import db
from collab.errors import Forbidden, InvalidInput, NotFound
from collab.moderation.models import ContentFlag
from collab.pagination import Page, SortKey, paginate
from collab.people.models import User
from collab.permissions import (
    MODERATOR_ROLES,
    find_visible_community,
    is_active_member,
    is_moderator,
    require_moderator,
    visible_communities,
)
from collab.threads import service as threads
from collab.threads.models import Post, Thread

THREAD, POST = "thread", "post"
HIDE, RESTORE, DELETE = "hide", "restore", "delete"


def _live_target(viewer: User, target_type: str, target_id: int) -> tuple[Thread | Post, Thread]:
    if target_type == THREAD:
        thread = threads.find_visible_thread(viewer, target_id)
        return thread, thread
    post = threads.find_visible_post(viewer, target_id)
    return post, post.thread


def _moderated_target(viewer: User, target_type: str, target_id: int) -> tuple[Thread | Post, Thread]:
    """Live or hidden (never deleted) content in a community `viewer` may see, else 404."""
    model = Thread if target_type == THREAD else Post
    statement = select(model).where(model.id == target_id,
                                    or_(model.deleted_at.is_(None), model.hidden_at.is_not(None)))
    if model is Post:
        statement = statement.join(Thread, Thread.id == Post.thread_id)
    statement = statement.join(Community, Community.id == Thread.community_id).where(
        visible_communities(viewer))
    target = db.session.scalar(statement)
    if target is None:
        raise NotFound(f"No {target_type} {target_id}.")
    return target, (target if model is Thread else target.thread)


def _trusted_flag_count(target_type: str, target_id: int, community_id: int) -> int:
    """Open flags by admins, staff, or members active here for the trust period."""
    cutoff = time.now() - timedelta(days=current_app.config["MODERATION_TRUSTED_MEMBER_DAYS"])
    trusted = or_(User.is_admin.is_(True), Membership.role.in_(MODERATOR_ROLES),
                  Membership.created_at <= cutoff)
    return db.session.scalar(
        select(func.count(ContentFlag.reporter_id.distinct()))
        .join(User, User.id == ContentFlag.reporter_id)
        .outerjoin(Membership, (Membership.user_id == ContentFlag.reporter_id)
                   & (Membership.community_id == community_id)
                   & (Membership.status == MembershipStatus.ACTIVE))
        .where(ContentFlag.target_type == target_type, ContentFlag.target_id == target_id,
               ContentFlag.resolved_at.is_(None), trusted))


def flag(actor: User, target_type: str, target_id: int, reason: str) -> tuple[ContentFlag, bool]:
    """Flag a thread or a post (members of its community); flagging twice changes nothing."""
    target, thread = _live_target(actor, target_type, target_id)
    community = thread.community
    if not (is_active_member(actor, community) or is_moderator(actor, community)):
        raise Forbidden("Join the community to flag its content.")
    existing = db.session.scalar(select(ContentFlag).where(
        ContentFlag.target_type == target_type, ContentFlag.target_id == target_id,
        ContentFlag.reporter_id == actor.id))
    if existing is not None:
        return existing, False
    flag_row = ContentFlag(target_type=target_type, target_id=target_id,
                           community_id=community.id, reporter_id=actor.id, reason=reason,
                           created_at=time.now())
    db.session.add(flag_row)
    db.session.flush()
    audit.record(actor, "flag.create", target_type, target_id, community_id=community.id,
                 flag_id=flag_row.id)
    count = _trusted_flag_count(target_type, target_id, community.id)
    if count >= current_app.config["MODERATION_HIDE_THRESHOLD"]:
        _hide(target, thread)
        audit.record(None, "moderation.auto_hide", target_type, target_id,
                     community_id=community.id, trusted_flags=count)
    db.session.commit()
    return flag_row, True


def _hide(target: Thread | Post, thread: Thread) -> None:
    now = time.now()
    if isinstance(target, Post):
        threads.lock_thread(thread)
        thread.reply_count = max(thread.reply_count - 1, 0)
    target.hidden_at = target.deleted_at = now


def _restore(target: Thread | Post, thread: Thread) -> None:
    if isinstance(target, Post):
        threads.lock_thread(thread)
        thread.reply_count += 1
    target.hidden_at = target.deleted_at = None


def moderate(actor: User, target_type: str, target_id: int, action: str, reason: str) -> dict:
    """Hide, restore or delete (moderators), with a reason; resolves the open flags."""
    target, thread = _moderated_target(actor, target_type, target_id)
    require_moderator(actor, thread.community)
    hidden = target.hidden_at is not None
    if action == HIDE and not hidden:
        _hide(target, thread)
    elif action == RESTORE:
        if not hidden:
            raise InvalidInput({"action": ["Only hidden content is restored."]})
        _restore(target, thread)
    elif action == DELETE:
        if hidden:
            target.hidden_at = None  # stays withdrawn (deleted_at), now for good
        elif isinstance(target, Thread):
            target.deleted_at = time.now()
        else:
            _hide(target, thread)
            target.hidden_at = None
    now = time.now()
    for open_flag in db.session.scalars(select(ContentFlag).where(
            ContentFlag.target_type == target_type, ContentFlag.target_id == target_id,
            ContentFlag.resolved_at.is_(None))):
        open_flag.resolved_at, open_flag.resolution = now, action
    audit.record(actor, f"moderation.{action}", target_type, target_id,
                 community_id=thread.community_id, reason=reason)
    db.session.commit()
    return {"target_type": target_type, "target_id": target_id, "action": action,
            "hidden": target.hidden_at is not None, "deleted": target.deleted_at is not None
            and target.hidden_at is None}


def queue(viewer: User, slug: str, args: dict) -> Page:
    """A community's flags, open ones by default, newest first (moderators)."""
    community = find_visible_community(viewer, slug)
    require_moderator(viewer, community)
    statement = select(ContentFlag).where(ContentFlag.community_id == community.id)
    if args["status"] == "open":
        statement = statement.where(ContentFlag.resolved_at.is_(None))
    else:
        statement = statement.where(ContentFlag.resolved_at.is_not(None))
    return paginate(statement, [SortKey(ContentFlag.id)], args["limit"], args["cursor"])
