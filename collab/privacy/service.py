"""Export (everything a person wrote and did) and erasure (the documented policy below).

Erasure policy: content is kept and shown as written by "deleted user" (its author id stays, so
threads and votes still count); personal fields are wiped (handle, display name, email,
organization); every token is revoked; memberships are removed (communities keep their other
owners; admins can name new ones); the audit log keeps its ids, which hold no personal data.
The renamed author reaches the search index through the outbox in the same transaction.
"""
from sqlalchemy import select

from collab import time
from collab.audit import service as audit
from collab.audit.models import AuditEvent
from collab.communities.models import Membership
from collab.db import db
from collab.errors import Forbidden, NotFound
from collab.ideas.models import IdeaStatusChange, Vote
from collab.moderation.models import ContentFlag
from collab.people.models import ApiToken, User
from collab.threads.models import Post, Thread

DELETED_USER = "deleted user"


def _iso(value):
    return value.isoformat() if value is not None else None


def export(user: User) -> dict:
    """What `user` wrote and did, as plain JSON (their own copy: nothing of other people)."""
    threads = db.session.scalars(select(Thread).where(Thread.author_id == user.id)
                                 .order_by(Thread.id)).unique()
    posts = db.session.scalars(select(Post).where(Post.author_id == user.id).order_by(Post.id))
    return {
        "profile": {"id": user.id, "handle": user.handle, "display_name": user.display_name,
                    "email": user.email, "audience": user.audience,
                    "organization": user.organization, "is_admin": user.is_admin,
                    "created_at": _iso(user.created_at)},
        "tokens": [{"id": t.id, "name": t.name, "created_at": _iso(t.created_at),
                    "expires_at": _iso(t.expires_at), "revoked_at": _iso(t.revoked_at)}
                   for t in db.session.scalars(select(ApiToken).where(
                       ApiToken.user_id == user.id).order_by(ApiToken.id))],
        "memberships": [{"community": m.community.slug, "role": m.role, "status": m.status,
                         "created_at": _iso(m.created_at)}
                        for m in db.session.scalars(select(Membership).where(
                            Membership.user_id == user.id).order_by(Membership.id))],
        "threads": [{"id": t.id, "community": t.community.slug, "kind": t.kind, "title": t.title,
                     "body": t.body, "tags": t.tags, "created_at": _iso(t.created_at),
                     "deleted": t.deleted_at is not None} for t in threads],
        "posts": [{"id": p.id, "thread_id": p.thread_id, "body": p.body,
                   "created_at": _iso(p.created_at), "deleted": p.deleted_at is not None}
                  for p in posts],
        "votes": [{"thread_id": v.thread_id, "value": v.value, "created_at": _iso(v.created_at)}
                  for v in db.session.scalars(select(Vote).where(Vote.user_id == user.id)
                                              .order_by(Vote.thread_id))],
        "flags": [{"target_type": f.target_type, "target_id": f.target_id, "reason": f.reason,
                   "created_at": _iso(f.created_at)}
                  for f in db.session.scalars(select(ContentFlag).where(
                      ContentFlag.reporter_id == user.id).order_by(ContentFlag.id))],
        "status_changes": [{"thread_id": c.thread_id, "from": c.from_status, "to": c.to_status,
                            "note": c.note, "created_at": _iso(c.created_at)}
                           for c in db.session.scalars(select(IdeaStatusChange).where(
                               IdeaStatusChange.actor_id == user.id)
                               .order_by(IdeaStatusChange.id))],
        "actions": [{"action": e.action, "target_type": e.target_type, "target_id": e.target_id,
                     "community_id": e.community_id, "created_at": _iso(e.created_at)}
                    for e in db.session.scalars(select(AuditEvent).where(
                        AuditEvent.actor_id == user.id).order_by(AuditEvent.id))],
    }


def erase(actor: User, user_id: int) -> None:
    """Erase a person (admins): see the module's policy."""
    if not actor.is_admin:
        raise Forbidden("Only admins erase people.")
    user = db.session.get(User, user_id)
    if user is None or user.erased_at is not None:
        raise NotFound(f"No user {user_id}.")
    if user.id == actor.id:
        raise Forbidden("Admins do not erase themselves; ask another admin.")
    now = time.now()
    user.handle = f"deleted-{user.id}"
    user.display_name = DELETED_USER
    user.email = f"deleted-{user.id}@invalid"
    user.organization = None
    user.is_admin = False
    user.erased_at = now
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                           ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    for membership in db.session.scalars(select(Membership).where(Membership.user_id == user.id)):
        db.session.delete(membership)
    audit.record(actor, "user.erase", "user", user.id)
    db.session.commit()
