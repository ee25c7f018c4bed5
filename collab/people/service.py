"""Creating users, issuing and revoking their tokens, and who may see whom."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement, exists, or_, select, true

from collab import time
from collab.audit import service as audit
from collab.auth import hash_token, new_token
from collab.communities.models import Membership, MembershipStatus
from collab.db import db
from collab.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from collab.integrations.scopes import ALL_SCOPES
from collab.people.models import ApiToken, Audience, User, UserKind
from collab.permissions import visible_community_ids


def create_user(actor: User | None, *, handle: str, email: str, audience: str,
                display_name: str | None = None, organization: str | None = None,
                is_admin: bool = False, kind: str = UserKind.PERSON, commit: bool = True) -> User:
    """`actor` None is the command line (bootstrap); over the API only admins create users."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("Only admins create users.")
    email = email.strip().lower()
    if handle.startswith("deleted-"):  # reserved for erased people (collab/privacy)
        raise Conflict("That handle is not available.", errors={"handle": ["Not available."]})
    taken = db.session.scalar(select(User.handle, User.email).where(
        or_(User.handle == handle, User.email == email)))
    if taken is not None:
        field = "handle" if taken == handle else "email"
        raise Conflict(f"That {field} is already taken.", errors={field: ["Already taken."]})
    user = User(handle=handle, email=email, audience=audience, organization=organization,
                display_name=display_name or handle, is_admin=is_admin, kind=kind)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, audience=audience, is_admin=is_admin)
    if commit:
        db.session.commit()
    return user


def find_user_by_handle(handle: str) -> User | None:
    """The command line's lookup (no viewer: the operator sees everyone)."""
    return db.session.scalar(select(User).where(User.handle == handle))


def visible_users(viewer: User) -> ColumnElement[bool]:
    """SQL condition on User: employees see the directory; partners and customers see themselves
    and the active members of communities they may see."""
    if viewer.is_admin or viewer.audience == Audience.EMPLOYEE:
        return true()
    return or_(User.id == viewer.id, exists().where(
        Membership.user_id == User.id,
        Membership.status == MembershipStatus.ACTIVE,
        Membership.community_id.in_(visible_community_ids(viewer)),
    ))


def can_see_user(viewer: User, user: User) -> bool:
    """The same rule for one user."""
    if viewer.is_admin or viewer.id == user.id or viewer.audience == Audience.EMPLOYEE:
        return True
    return bool(db.session.scalar(select(exists().where(User.id == user.id,
                                                        visible_users(viewer)))))


def get_user(viewer: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not can_see_user(viewer, user):
        raise NotFound(f"No user {user_id}.")
    return user


def issue_token(actor: User | None, user_id: int, name: str = "", *,
                scopes: list[str] | None = None, expires_at=None,
                granting: frozenset[str] | None = None) -> tuple[ApiToken, str]:
    """Returns the stored token row and the plaintext, which is never stored.

    `granting` is the scope set of the token making the request: a new token never holds more.
    """
    user = db.session.get(User, user_id)
    if user is None or user.erased_at is not None \
            or (actor is not None and not can_see_user(actor, user)):
        raise NotFound(f"No user {user_id}.")
    if actor is not None and not (actor.is_admin or actor.id == user.id):
        raise Forbidden("Only admins issue tokens for other users.")
    now = time.now()
    if actor is not None:
        _limit_issuance(user, now)
    if expires_at is not None and expires_at <= now:
        raise InvalidInput({"expires_at": ["Must be in the future."]})
    if granting is not None:
        wanted = set(scopes) if scopes is not None else set(granting)
        missing = sorted(wanted - granting)
        if missing:
            raise Forbidden(f"This token lacks the scope(s) {', '.join(missing)} it would grant.",
                            errors={"scopes": [f"Not held by this token: {s}." for s in missing]})
        scopes = [s for s in ALL_SCOPES if s in wanted]
    plaintext = new_token()
    lifetime = timedelta(days=current_app.config["TOKEN_LIFETIME_DAYS"])
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plaintext), created_at=now,
                     scopes=None if scopes is None else " ".join(scopes),
                     expires_at=expires_at or now + lifetime)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.issue", "token", token.id, user_id=user.id)
    db.session.commit()
    return token, plaintext


def _limit_issuance(user: User, now) -> None:
    """At most TOKEN_ISSUE_LIMIT tokens per user per window, counted from the tokens table itself
    (so every worker agrees); the command line (actor None) is not limited."""
    window = timedelta(seconds=current_app.config["TOKEN_ISSUE_WINDOW_SECONDS"])
    recent = list(db.session.scalars(
        select(ApiToken.created_at).where(ApiToken.user_id == user.id,
                                          ApiToken.created_at > now - window)
        .order_by(ApiToken.created_at)))
    if len(recent) >= current_app.config["TOKEN_ISSUE_LIMIT"]:
        retry_after = (recent[0] + window - now).total_seconds()
        raise TooManyRequests("Too many tokens issued for this user; try again later.",
                              retry_after=int(retry_after) + 1)


def list_tokens(actor: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id)))


def revoke_token(actor: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or not (actor.is_admin or token.user_id == actor.id):
        raise NotFound(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = time.now()
        audit.record(actor, "token.revoke", "token", token.id, user_id=token.user_id)
        db.session.commit()
