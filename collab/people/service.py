"""Creating users, issuing and revoking their tokens, and who may see whom."""
from sqlalchemy import exists, or_, select

from collab import time
from collab.auth import hash_token, new_token
from collab.communities.models import Membership, MembershipStatus
from collab.db import db
from collab.errors import Conflict, Forbidden, InvalidInput, NotFound
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
    taken = db.session.scalar(select(User.handle, User.email).where(
        or_(User.handle == handle, User.email == email)))
    if taken is not None:
        field = "handle" if taken == handle else "email"
        raise Conflict(f"That {field} is already taken.", errors={field: ["Already taken."]})
    user = User(handle=handle, email=email, audience=audience, organization=organization,
                display_name=display_name or handle, is_admin=is_admin, kind=kind)
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def can_see_user(viewer: User, user: User) -> bool:
    """Employees see the directory; partners and customers see people they share a space with."""
    if viewer.is_admin or viewer.id == user.id or viewer.audience == Audience.EMPLOYEE:
        return True
    shares_space = exists().where(
        Membership.user_id == user.id,
        Membership.status == MembershipStatus.ACTIVE,
        Membership.community_id.in_(visible_community_ids(viewer)),
    )
    return bool(db.session.scalar(select(shares_space)))


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
    if user is None or (actor is not None and not can_see_user(actor, user)):
        raise NotFound(f"No user {user_id}.")
    if actor is not None and not (actor.is_admin or actor.id == user.id):
        raise Forbidden("Only admins issue tokens for other users.")
    if expires_at is not None and expires_at <= time.now():
        raise InvalidInput({"expires_at": ["Must be in the future."]})
    if granting is not None:
        wanted = set(scopes) if scopes is not None else set(granting)
        missing = sorted(wanted - granting)
        if missing:
            raise Forbidden(f"This token lacks the scope(s) {', '.join(missing)} it would grant.",
                            errors={"scopes": [f"Not held by this token: {s}." for s in missing]})
        scopes = [s for s in ALL_SCOPES if s in wanted]
    plaintext = new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plaintext),
                     scopes=None if scopes is None else " ".join(scopes), expires_at=expires_at)
    db.session.add(token)
    db.session.commit()
    return token, plaintext


def list_tokens(actor: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id)))


def revoke_token(actor: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or not (actor.is_admin or token.user_id == actor.id):
        raise NotFound(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = time.now()
        db.session.commit()
