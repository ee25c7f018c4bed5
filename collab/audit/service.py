"""Recording audit events (other services call `record` before they commit) and reading them."""
from sqlalchemy import select

from collab.audit.models import AuditEvent
from collab.communities.models import Community
from collab.db import db
from collab.errors import Forbidden, NotFound
from collab.pagination import Page, SortKey, paginate
from collab.people.models import User
from collab.permissions import find_visible_community, is_owner


def record(actor: User | None, action: str, target_type: str, target_id: int | None, *,
           community_id: int | None = None, **details) -> None:
    """Add an event to the caller's transaction: it commits, or rolls back, with the action."""
    db.session.add(AuditEvent(actor_id=actor.id if actor is not None else None, action=action,
                              target_type=target_type, target_id=target_id,
                              community_id=community_id, details=details))


def _filtered(statement, args: dict):
    for name, column in (("action", AuditEvent.action), ("actor", AuditEvent.actor_id),
                         ("target_type", AuditEvent.target_type),
                         ("target_id", AuditEvent.target_id)):
        if args.get(name) is not None:
            statement = statement.where(column == args[name])
    if args.get("since") is not None:
        statement = statement.where(AuditEvent.created_at >= args["since"])
    if args.get("until") is not None:
        statement = statement.where(AuditEvent.created_at < args["until"])
    return statement


def _page(statement, args: dict) -> Page:
    return paginate(_filtered(statement, args), [SortKey(AuditEvent.id)], args["limit"],
                    args["cursor"])


def list_events(viewer: User, args: dict) -> Page:
    """Everything (admins only), newest first."""
    if not viewer.is_admin:
        raise Forbidden("Only admins read the audit log.")
    statement = select(AuditEvent)
    if args.get("community"):
        community_id = db.session.scalar(select(Community.id).where(
            Community.slug == args["community"]))
        if community_id is None:
            raise NotFound(f"No community '{args['community']}'.")
        statement = statement.where(AuditEvent.community_id == community_id)
    return _page(statement, args)


def list_community_events(viewer: User, slug: str, args: dict) -> Page:
    """One community's events, for its owners (and admins)."""
    community = find_visible_community(viewer, slug)
    if not is_owner(viewer, community):
        raise Forbidden("Only the community's owners read its audit log.")
    return _page(select(AuditEvent).where(AuditEvent.community_id == community.id), args)
