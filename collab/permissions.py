"""The one door for visibility: which communities a caller may see, and what they may do there.

Every read of communities, threads, posts and search results filters through
`visible_communities()`; an empty result means nothing, never everything.
"""
from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    event,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, lazyload

from collab.communities.models import (
    Community,
    CommunityAudience,
    CommunityOrganization,
    Membership,
    MembershipStatus,
    Role,
    Visibility,
)
from collab.db import db
from collab.errors import Forbidden, NotFound
from collab.people.models import Audience, User, UserKind

MODERATOR_ROLES = (Role.OWNER, Role.MODERATOR)


def visible_communities(user: User) -> ColumnElement[bool]:
    """SQL condition on Community, true where `user` may see the community and its content."""
    if user.kind == UserKind.SERVICE:  # an API client: only its communities, then the usual rules
        return and_(_client_communities(user), _visible_to_user(user))
    return _visible_to_user(user)


def _client_communities(user: User) -> ColumnElement[bool]:
    from collab.integrations.models import ApiClient, ApiClientCommunity

    return or_(
        exists().where(ApiClient.service_user_id == user.id, ApiClient.all_communities),
        Community.id.in_(select(ApiClientCommunity.community_id)
                         .join(ApiClient, ApiClient.id == ApiClientCommunity.client_id)
                         .where(ApiClient.service_user_id == user.id)),
    )


def _visible_to_user(user: User) -> ColumnElement[bool]:
    if user.is_admin:
        return true()
    member_of = select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE
    )
    banned_from = select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.status == MembershipStatus.BANNED
    )
    open_to_audience = exists().where(
        CommunityAudience.community_id == Community.id, CommunityAudience.audience == user.audience
    )
    has_allow_list = exists().where(CommunityOrganization.community_id == Community.id)
    organization_allowed = (
        exists().where(
            CommunityOrganization.community_id == Community.id,
            CommunityOrganization.organization == user.organization,
        )
        if isinstance(user.organization, BindParameter) or user.organization  # see BoundViewer
        else false()
    )
    # An allow-list names partner and customer companies; employees pass by audience alone.
    organization_ok = (
        true() if user.audience == Audience.EMPLOYEE else or_(~has_allow_list, organization_allowed)
    )
    eligible = and_(
        # Not IN (...): a list is expanded at every execution, equalities are compiled once.
        or_(Community.visibility == Visibility.OPEN, Community.visibility == Visibility.RESTRICTED),
        open_to_audience,
        organization_ok,
        Community.id.not_in(banned_from),
    )
    return or_(Community.id.in_(member_of), eligible)


@dataclass(frozen=True)
class BoundViewer:
    """A caller as visible_communities() reads it, the id and organization left as bind
    parameters: one statement built for every caller of the same shape is reused, and SQLAlchemy
    builds and keys it once (pass `viewer_parameters(user)` when executing it)."""

    id: BindParameter
    audience: str
    organization: BindParameter | None
    is_admin: bool
    kind: str


def viewer_shape(user: User) -> tuple:
    """What decides the form (not the values) of `visible_communities(user)`."""
    return (user.kind, bool(user.is_admin), user.audience, bool(user.organization))


def bound_viewer(user: User) -> BoundViewer:
    return BoundViewer(
        id=bindparam("viewer_id", type_=Integer), audience=user.audience,
        organization=bindparam("viewer_organization", type_=String) if user.organization else None,
        is_admin=bool(user.is_admin), kind=user.kind)


def viewer_parameters(user: User) -> dict:
    return {"viewer_id": user.id, "viewer_organization": user.organization}


def visible_community_ids(user: User) -> Select:
    """Ids of the communities `user` may see, as a subquery for IN filters."""
    return select(Community.id).where(visible_communities(user))


def visible_community_id_list(user: User) -> list[int]:
    """The same set materialised, for engines outside the database (Elasticsearch)."""
    return list(db.session.scalars(visible_community_ids(user)))


def find_visible_community_scope(user: User, slug: str) -> tuple[int, list[int]]:
    """The id of the community `user` may see by `slug` (404 exactly as find_visible_community)
    with the ids of every community they may see, from one query: for a request that both
    addresses a community and filters an engine outside the database."""
    visible = {row.slug: row.id for row in db.session.execute(
        select(Community.slug, Community.id).where(visible_communities(user)))}
    if slug not in visible:
        raise NotFound(f"No community '{slug}'.")
    return visible[slug], sorted(visible.values())


def may_join(user: User, community: Community) -> bool:
    """The audience and allow-list rule, whatever the visibility: who may ever be a member."""
    if user.is_admin:
        return True
    if user.audience not in community.audiences:
        return False
    if user.audience == Audience.EMPLOYEE or not community.organizations:
        return True
    return user.organization in community.organizations


def find_visible_community(user: User, slug: str) -> Community:
    """The community `user` may see, or 404 exactly as if it did not exist."""
    community = db.session.scalar(
        select(Community).where(Community.slug == slug, visible_communities(user))
    )
    if community is None:
        raise NotFound(f"No community '{slug}'.")
    return community


def find_community_for_membership(user: User, slug: str) -> Community:
    """Like find_visible_community, but an invitee may also reach the community to answer."""
    community = db.session.scalar(select(Community).where(
        Community.slug == slug,
        or_(visible_communities(user), Community.id.in_(select(Membership.community_id).where(
            Membership.user_id == user.id, Membership.status == MembershipStatus.INVITED))),
    ))
    if community is None:
        raise NotFound(f"No community '{slug}'.")
    return community


MEMBERSHIPS_KEY = "permissions_memberships"


def membership_of(user: User, community: Community) -> Membership | None:
    """The user's membership row, looked up once per transaction (the role checks ask often).

    The memo lives in the session's info and is dropped when a flush writes a membership, at
    commit and at rollback; while a new or deleted membership waits to be flushed it is bypassed.
    """
    session = db.session()
    memo = session.info.setdefault(MEMBERSHIPS_KEY, {})
    key = (user.id, community.id)
    if key in memo and not _memberships_pending(session):
        return memo[key]
    membership = session.scalar(
        select(Membership).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        ).options(lazyload(Membership.user))  # the caller is in the session already
    )
    memo[key] = membership
    return membership


def remember_membership(user: User, community_id: int, membership: Membership | None) -> None:
    """Seed membership_of's memo with a row (or its absence) read along with something else,
    e.g. the thread a write locks; the same rules drop it."""
    session = db.session()
    if not _memberships_pending(session):
        session.info.setdefault(MEMBERSHIPS_KEY, {})[(user.id, community_id)] = membership


def _memberships_pending(session: Session) -> bool:
    return any(isinstance(obj, Membership) for obj in (*session.new, *session.deleted))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_memberships(session: Session) -> None:
    session.info.pop(MEMBERSHIPS_KEY, None)


@event.listens_for(Session, "after_flush")
def _forget_memberships_written(session: Session, flush_context) -> None:
    if MEMBERSHIPS_KEY in session.info and any(
            isinstance(obj, Membership) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(MEMBERSHIPS_KEY, None)


def is_active_member(user: User, community: Community) -> bool:
    membership = membership_of(user, community)
    return membership is not None and membership.status == MembershipStatus.ACTIVE


def _holds_role(user: User, community: Community, roles: tuple[str, ...]) -> bool:
    """Admins, and active members of the community holding one of `roles`."""
    if user.is_admin:
        return True
    membership = membership_of(user, community)
    return (
        membership is not None
        and membership.status == MembershipStatus.ACTIVE
        and membership.role in roles
    )


def is_moderator(user: User, community: Community) -> bool:
    """Admins, and active owners or moderators of the community."""
    return _holds_role(user, community, MODERATOR_ROLES)


def is_owner(user: User, community: Community) -> bool:
    """Admins, and active owners: the ones who hand out staff roles."""
    return _holds_role(user, community, (Role.OWNER,))


def require_moderator(user: User, community: Community) -> None:
    if not is_moderator(user, community):
        raise Forbidden("Only the community's owners and moderators may do this.")


def require_can_contribute(user: User, community: Community) -> None:
    """Writing needs an active membership in a community that is not archived."""
    if community.archived:
        raise Forbidden("The community is archived and read-only.")
    if not is_active_member(user, community):
        raise Forbidden("Join the community to contribute.")
