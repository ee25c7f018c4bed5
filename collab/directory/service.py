"""Who appears in the directory, and the administrative changes to users."""
from sqlalchemy import func, or_, select, update

from collab import time
from collab.db import db
from collab.errors import Forbidden, InvalidInput, NotFound
from collab.pagination import Page, SortKey, paginate
from collab.people.models import ApiToken, User
from collab.people.service import visible_users


def list_users(viewer: User, args: dict) -> Page:
    statement = select(User).where(visible_users(viewer))
    if not (viewer.is_admin and args["include_deactivated"]):
        statement = statement.where(User.deactivated_at.is_(None))
    if args["handle"]:
        statement = statement.where(User.handle.startswith(args["handle"], autoescape=True))
    if args["q"]:
        pattern = "%" + args["q"].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [func.lower(User.handle).like(pattern, escape="\\"),
                   func.lower(User.display_name).like(pattern, escape="\\")]
        if viewer.is_admin:
            matches.append(User.email.like(pattern, escape="\\"))
        statement = statement.where(or_(*matches))
    for name in ("audience", "organization", "kind"):
        if args[name] is not None:
            statement = statement.where(getattr(User, name) == args[name])
    return paginate(statement, [SortKey(User.handle, descending=False)], args["limit"],
                    args["cursor"])


def find_by_handle(viewer: User, handle: str) -> User:
    user = db.session.scalar(select(User).where(User.handle == handle, visible_users(viewer)))
    if user is None:
        raise NotFound(f"No user '{handle}'.")
    return user


def _administered(actor: User, user_id: int) -> User:
    if not actor.is_admin:
        raise Forbidden("Only admins change users.")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def update_user(actor: User, user_id: int, fields: dict) -> User:
    user = _administered(actor, user_id)
    if user.id == actor.id and fields.get("is_admin") is False:
        raise InvalidInput({"is_admin": ["Admins cannot remove their own admin flag."]})
    for name, value in fields.items():
        setattr(user, name, value)
    db.session.commit()
    return user


def deactivate_user(actor: User, user_id: int) -> User:
    """Tokens are revoked in the same transaction; content stays, shown as a deactivated user."""
    user = _administered(actor, user_id)
    if user.id == actor.id:
        raise Forbidden("Admins cannot deactivate themselves.")
    now = time.now()
    if user.deactivated_at is None:
        user.deactivated_at = now
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                              ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    db.session.commit()
    return user


def reactivate_user(actor: User, user_id: int) -> User:
    """The account may sign in again with new tokens (revoked ones stay revoked)."""
    user = _administered(actor, user_id)
    user.deactivated_at = None
    db.session.commit()
    return user
