"""Creating users, issuing and revoking their tokens, and who may see whom."""
from sqlalchemy import exists, or_, select

from collab import time
from collab.auth import hash_token, new_token
from collab.communities.models import Membership, MembershipStatus
from collab.db import db
from collab.errors import Conflict, Forbidden, NotFound
from collab.people.models import ApiToken, Audience, User
from collab.permissions import visible_community_ids


def create_user(actor: User | None, *, handle: str, email: str, audience: str,
                display_name: str | None = None, organization: str | None = None,
                is_admin: bool = False) -> User:
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
                display_name=display_name or handle, is_admin=is_admin)
    db.session.add(user)
    db.session.commit()
    return user


def find_user_by_handle(handle: str) -> User | None:
    """The command line's lookup (no viewer: the operator sees everyone)."""
    return db.session.scalar(select(User).where(User.handle == handle))


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


def issue_token(actor: User | None, user_id: int, name: str = "") -> tuple[ApiToken, str]:
    """Returns the stored token row and the plaintext, which is never stored."""
    user = db.session.get(User, user_id)
    if user is None or (actor is not None and not can_see_user(actor, user)):
        raise NotFound(f"No user {user_id}.")
    if actor is not None and not (actor.is_admin or actor.id == user.id):
        raise Forbidden("Only admins issue tokens for other users.")
    plaintext = new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plaintext))
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
