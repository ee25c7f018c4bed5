"""Community rules: who creates and changes communities, who joins, invites, approves and bans."""
from dataclasses import dataclass
from datetime import timedelta

import orjson

from flask import current_app
from sqlalchemy import Boolean, Select, String, bindparam, case, delete, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.functions import GenericFunction

from collab import time
from collab.communities.models import (
    Community,
    CommunityAudience,
    CommunityOrganization,
    Membership,
    MembershipRejection,
    MembershipStatus,
    Role,
    Visibility,
)
from collab.audit import service as audit
from collab.db import db, read_connection
from collab.errors import Conflict, Forbidden, InvalidInput, NotFound, TooSoon
from collab.pagination import (
    Page,
    SortKey,
    cursor_values,
    page_of,
    page_parameters,
    page_shape,
    page_statement,
    paginate,
)
from collab.people.models import Audience, User
from collab.people.service import can_see_user
from collab.permissions import (
    MODERATOR_ROLES,
    find_community_for_membership,
    find_visible_community,
    is_moderator,
    is_owner,
    may_join,
    membership_of,
    require_moderator,
    bound_viewer,
    viewer_parameters,
    viewer_shape,
    visible_communities,
)

# Slugs nobody may take; also what makes "not available" say nothing about who holds a slug.
RESERVED_SLUGS = frozenset({"admin", "api", "audit", "new", "me", "search", "settings", "help",
                            "about", "support", "system", "www"})


@dataclass(frozen=True)
class MyMembership:
    """The caller's membership as a community payload shows it."""

    role: str
    status: str


@dataclass
class CommunityView:
    """A community with what the caller should see beside it."""

    community: Community
    member_count: int
    my_membership: MyMembership | None
    pending_requests: int | None = None  # only for the community's staff (owners, moderators, admins)

    def __getattr__(self, name):
        return getattr(self.community, name)


def _views(viewer: User, communities: list[Community]) -> list[CommunityView]:
    """A page of communities with member counts, the caller's membership, and, for the
    communities the caller runs (same rule as permissions.is_moderator), pending requests:
    one grouped query over the page's memberships."""
    ids = [c.id for c in communities]
    rows = {}
    if ids:
        mine = Membership.user_id == viewer.id
        rows = {community_id: (active or 0, pending or 0,
                               MyMembership(role, status) if status is not None else None)
                for community_id, active, pending, role, status in db.session.execute(
                    select(Membership.community_id,
                           func.sum(case((Membership.status == MembershipStatus.ACTIVE, 1),
                                         else_=0)),
                           func.sum(case((Membership.status == MembershipStatus.PENDING, 1),
                                         else_=0)),
                           func.max(case((mine, Membership.role))),
                           func.max(case((mine, Membership.status))))
                    .where(Membership.community_id.in_(ids))
                    .group_by(Membership.community_id))}
    views = []
    for community in communities:
        active, pending, membership = rows.get(community.id, (0, 0, None))
        staff = viewer.is_admin or (membership is not None and membership.status ==
                                    MembershipStatus.ACTIVE and membership.role in MODERATOR_ROLES)
        views.append(CommunityView(community, active, membership, pending if staff else None))
    return views


def _view(viewer: User, community: Community) -> CommunityView:
    return _views(viewer, [community])[0]


def _set_audiences(community: Community, audiences: list[str]) -> None:
    community.audience_rows = [CommunityAudience(audience=a) for a in sorted(audiences)]


def _set_organizations(community: Community, organizations: list[str]) -> None:
    community.organization_rows = [CommunityOrganization(organization=o)
                                   for o in sorted(organizations)]


def create_community(actor: User, fields: dict) -> CommunityView:
    if not (actor.is_admin or actor.audience == Audience.EMPLOYEE):
        raise Forbidden("Only employees create communities.")
    if fields["slug"] in RESERVED_SLUGS or db.session.scalar(
            select(Community.id).where(Community.slug == fields["slug"])):
        # One answer for reserved, taken-and-visible and taken-and-hidden: no existence oracle.
        raise Conflict("That slug is not available.", errors={"slug": ["Not available."]})
    community = Community(
        slug=fields["slug"], name=fields["name"], purpose=fields["purpose"],
        description=fields.get("description", ""), visibility=fields["visibility"],
        created_by_id=actor.id,
    )
    _set_audiences(community, fields["audiences"])
    _set_organizations(community, fields.get("organizations", []))
    db.session.add(community)
    db.session.flush()
    db.session.add(Membership(community_id=community.id, user_id=actor.id, role=Role.OWNER,
                              status=MembershipStatus.ACTIVE))
    audit.record(actor, "community.create", "community", community.id,
                 community_id=community.id, visibility=community.visibility)
    db.session.commit()
    return _view(actor, community)


def get_community(viewer: User, slug: str) -> CommunityView:
    return _view(viewer, find_visible_community(viewer, slug))


@dataclass(frozen=True, slots=True)
class CommunityListing:
    """A community as a list page shows it, read in the page's one statement (no ORM instance)."""

    id: int
    slug: str
    name: str
    purpose: str
    description: str
    visibility: str
    audiences: list[str]
    organizations: list[str]
    archived: bool
    created_at: object
    member_count: int
    my_membership: MyMembership | None
    pending_requests: int | None


class json_strings(GenericFunction):
    """The texts of a group as a JSON array (text): organization names may hold any separator."""

    type = String()
    inherit_cache = True


@compiles(json_strings, "postgresql")
def _json_strings_postgresql(element, compiler, **kw):
    return f"CAST(json_agg({compiler.process(element.clauses, **kw)}) AS TEXT)"


@compiles(json_strings)
def _json_strings_sqlite(element, compiler, **kw):
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


def _listing_columns() -> list:
    """Everything a list page shows of a community beside its columns, as scalar subqueries
    and the stored active-member count; with the caller's own membership (an outer join
    `mine`): one statement for the page."""
    count_of = lambda status: (select(func.count()).where(  # noqa: E731
        Membership.community_id == Community.id, Membership.status == status)
        .correlate(Community).scalar_subquery())
    return [
        select(json_strings(CommunityAudience.audience))
        .where(CommunityAudience.community_id == Community.id)
        .correlate(Community).scalar_subquery().label("audience_list"),
        select(json_strings(CommunityOrganization.organization))
        .where(CommunityOrganization.community_id == Community.id)
        .correlate(Community).scalar_subquery().label("organization_list"),
        # Stored, kept exact by the database (migration 0024): counting ~340 members per
        # community at every request was most of the list's database CPU.
        Community.__table__.c.active_member_count.label("active_count"),
        count_of(MembershipStatus.PENDING).label("pending_count"),
    ]


def _texts(value) -> list[str]:
    return sorted(orjson.loads(value)) if value else []


LIST_KEYS = [SortKey(Community.name, descending=False), SortKey(Community.id, descending=False)]
FILTERS = ("member", "visibility", "archived", "audience")
# GET /communities' statement per shape of caller, filters given and cursor or not, built once
# (its building and cache key were most of the request's CPU).
_LIST_STATEMENTS: dict[tuple, Select] = {}


def _list_statement(viewer: User, filters: tuple[str, ...], after: list | None) -> Select:
    shape = (viewer_shape(viewer), filters, page_shape(after))
    statement = _LIST_STATEMENTS.get(shape)
    if statement is not None:
        return statement
    bound = bound_viewer(viewer)
    mine = aliased(Membership, name="mine")
    community = Community.__table__.c
    statement = (
        select(community.id, community.slug, community.name, community.purpose,
               community.description, community.visibility, community.archived,
               community.created_at, *_listing_columns(),
               mine.role.label("my_role"), mine.status.label("my_status"))
        .select_from(Community)
        .outerjoin(mine, (mine.community_id == Community.id) & (mine.user_id == bound.id))
        .where(visible_communities(bound)))
    if "member" in filters:
        statement = statement.where(Community.id.in_(select(Membership.community_id).where(
            Membership.user_id == bound.id, Membership.status == MembershipStatus.ACTIVE)))
    if "visibility" in filters:
        statement = statement.where(Community.visibility == bindparam("visibility", type_=String))
    if "archived" in filters:
        statement = statement.where(Community.archived == bindparam("archived", type_=Boolean))
    if "audience" in filters:
        statement = statement.where(Community.id.in_(select(CommunityAudience.community_id).where(
            CommunityAudience.audience == bindparam("audience", type_=String))))
    statement = _LIST_STATEMENTS[shape] = page_statement(statement, LIST_KEYS, after)
    return statement


def list_communities(viewer: User, args: dict) -> Page:
    """One statement, built once: the visible page with audiences, allow-lists, member counts,
    pending requests and the caller's membership (the same rules as _views)."""
    filters = tuple(name for name in FILTERS
                    if (args.get(name) if name == "member" else name in args))
    after = cursor_values(LIST_KEYS, args["cursor"])
    parameters = {**viewer_parameters(viewer), **{name: args[name] for name in filters},
                  **page_parameters(LIST_KEYS, args["limit"], after)}
    # Core execution on the request's read connection (collab.db.read_connection): the
    # statement selects columns only, so the ORM's execution steps (about a sixth of the
    # request's CPU) would add nothing.
    rows = read_connection().execute(
        _list_statement(viewer, filters, after), parameters).all()
    page = page_of(rows, LIST_KEYS, args["limit"])
    listings = []
    for row in page.items:
        membership = MyMembership(row.my_role, row.my_status) if row.my_status is not None else None
        staff = viewer.is_admin or (membership is not None and membership.status ==
                                    MembershipStatus.ACTIVE and membership.role in MODERATOR_ROLES)
        listings.append(CommunityListing(
            row.id, row.slug, row.name, row.purpose, row.description, row.visibility,
            _texts(row.audience_list), _texts(row.organization_list), row.archived,
            row.created_at, row.active_count, membership,
            row.pending_count if staff else None))
    page.items = listings
    return page


def update_community(actor: User, slug: str, fields: dict) -> CommunityView:
    community = find_visible_community(actor, slug)
    require_moderator(actor, community)
    changed = sorted(name for name in fields if getattr(community, name) != fields[name])
    if changed:
        extra = ({"visibility": {"from": community.visibility, "to": fields["visibility"]}}
                 if "visibility" in changed else {})
        audit.record(actor, "community.update", "community", community.id,
                     community_id=community.id, fields=changed, **extra)
    for name in ("name", "purpose", "description", "visibility", "archived"):
        if name in fields:
            setattr(community, name, fields[name])
    if "audiences" in fields:
        _set_audiences(community, fields["audiences"])
    if "organizations" in fields:
        _set_organizations(community, fields["organizations"])
    db.session.commit()
    return _view(actor, community)


# Memberships ---------------------------------------------------------------

def _target(actor: User, fields: dict) -> User:
    """The user named by `user_id` or `handle` (the schema allows one), else the caller.

    Someone the caller may not see (collab.people.service.can_see_user) is "no such user".
    """
    if "handle" in fields:
        field, user = "handle", db.session.scalar(select(User).where(User.handle == fields["handle"]))
    elif "user_id" in fields:
        field, user = "user_id", db.session.get(User, fields["user_id"])
    else:
        return actor
    if user is None or not can_see_user(actor, user):
        raise InvalidInput({field: ["No such user."]})
    return user


def add_member(actor: User, slug: str, fields: dict) -> tuple[Membership, bool]:
    """Join (no user, or yourself) or invite (another user, by id or handle).

    Returns (membership, created).
    """
    if fields.get("handle", actor.handle) == actor.handle \
            and fields.get("user_id", actor.id) == actor.id:
        target = actor  # joining needs no look-up
    else:
        community = find_visible_community(actor, slug)  # a hidden community stays a 404
        require_moderator(actor, community)
        target = _target(actor, fields)
    if target.id == actor.id:
        if "role" in fields and fields["role"] != Role.MEMBER:
            raise InvalidInput({"role": ["You join as a member; an owner can promote you."]})
        return _join(actor, find_community_for_membership(actor, slug))
    return _invite(actor, community, target, fields.get("role", Role.MEMBER))


def _forget_rejection(community_id: int, user_id: int) -> None:
    db.session.execute(delete(MembershipRejection).where(
        MembershipRejection.community_id == community_id, MembershipRejection.user_id == user_id))


def _require_cooled_down(user: User, community: Community) -> None:
    """A rejected request may be repeated only after MEMBERSHIP_REQUEST_COOLDOWN seconds."""
    rejection = db.session.get(MembershipRejection, (community.id, user.id))
    if rejection is None:
        return
    retry_at = rejection.rejected_at + timedelta(
        seconds=current_app.config["MEMBERSHIP_REQUEST_COOLDOWN"])
    if time.now() < retry_at:
        raise TooSoon(f"Your request to join was declined; you may ask again from "
                      f"{retry_at.isoformat()}.", retry_at)


def _join(user: User, community: Community) -> tuple[Membership, bool]:
    membership = membership_of(user, community)
    if membership is not None:
        if membership.status == MembershipStatus.BANNED:
            raise Forbidden("You are banned from this community.")
        if membership.status == MembershipStatus.INVITED:
            membership.status = MembershipStatus.ACTIVE
            _forget_rejection(community.id, user.id)
            _audit_membership(user, "membership.accept", membership)
            db.session.commit()
        return membership, False
    if community.archived:
        raise Forbidden("The community is archived.")
    # Without a membership, the permission door only let `user` reach this community if its
    # audience and allow-list admit them (or they are an admin): they may join.
    if user.is_admin:
        status = MembershipStatus.ACTIVE
    elif community.visibility == Visibility.RESTRICTED:
        _require_cooled_down(user, community)
        status = MembershipStatus.PENDING
    else:
        status = MembershipStatus.ACTIVE
    membership = Membership(community_id=community.id, user_id=user.id, role=Role.MEMBER,
                            status=status)
    db.session.add(membership)
    _audit_membership(user, "membership.join", membership)
    db.session.commit()
    return membership, True


def _audit_membership(actor: User, action: str, membership: Membership, **details) -> None:
    audit.record(actor, action, "membership", membership.user_id,
                 community_id=membership.community_id,
                 **{"role": membership.role, "status": membership.status, **details})


def _require_role_power(actor: User, community: Community, role: str) -> None:
    """Moderators manage members; only owners (and admins) hand out or touch staff roles."""
    if role in (Role.OWNER, Role.MODERATOR) and not is_owner(actor, community):
        raise Forbidden("Only owners grant or change the owner and moderator roles.")


def _invite(actor: User, community: Community, user: User, role: str) -> tuple[Membership, bool]:
    require_moderator(actor, community)
    _require_role_power(actor, community, role)
    if community.archived:
        raise Forbidden("The community is archived.")
    if not may_join(user, community):
        raise InvalidInput({"user_id": ["This user's audience or organization may not join "
                                        "this community."]})
    membership = membership_of(user, community)
    if membership is not None:
        if membership.status == MembershipStatus.PENDING:
            membership.status = MembershipStatus.ACTIVE
            membership.role = role
            _forget_rejection(community.id, user.id)
            _audit_membership(actor, "membership.approve", membership)
            db.session.commit()
            return membership, False
        raise Conflict(f"The user is already {membership.status} here.")
    membership = Membership(community_id=community.id, user_id=user.id, role=role,
                            status=MembershipStatus.INVITED, invited_by_id=actor.id)
    db.session.add(membership)
    _audit_membership(actor, "membership.invite", membership)
    db.session.commit()
    return membership, True


def list_members(viewer: User, slug: str, args: dict) -> Page:
    """One status when asked; otherwise active members, and for staff pending requests first."""
    community = find_visible_community(viewer, slug)
    keys = [SortKey(Membership.id, descending=False)]
    if "status" in args:
        if args["status"] != MembershipStatus.ACTIVE:
            require_moderator(viewer, community)
        statuses = [args["status"]]
    elif is_moderator(viewer, community):
        statuses = [MembershipStatus.PENDING, MembershipStatus.ACTIVE]
        keys = [SortKey(Membership.status), *keys]  # "pending" > "active": requests first
    else:
        statuses = [MembershipStatus.ACTIVE]
    statement = select(Membership).where(Membership.community_id == community.id,
                                         Membership.status.in_(statuses))
    if "role" in args:
        statement = statement.where(Membership.role == args["role"])
    return paginate(statement, keys, args["limit"], args["cursor"])


def list_my_invitations(viewer: User, args: dict) -> Page:
    """The caller's pending invitations, newest first, even to communities they cannot see yet:
    the invitation itself shows the community's slug, name and purpose, and who invited."""
    statement = (select(Membership)
                 .where(Membership.user_id == viewer.id,
                        Membership.status == MembershipStatus.INVITED)
                 .options(selectinload(Membership.community), selectinload(Membership.invited_by)))
    return paginate(statement, [SortKey(Membership.created_at), SortKey(Membership.id)],
                    args["limit"], args["cursor"])


def _find_membership(actor: User, slug: str, user_id: int) -> tuple[Community, Membership]:
    """Your own membership, or (moderators only) someone else's.

    The permission check comes before the lookup, so 403 and 404 never tell a non-moderator
    whether another user has a membership here.
    """
    community = find_community_for_membership(actor, slug)
    if user_id != actor.id:
        require_moderator(actor, community)
    membership = db.session.scalar(select(Membership).where(
        Membership.community_id == community.id, Membership.user_id == user_id))
    if membership is None:
        raise NotFound(f"User {user_id} has no membership here.")
    return community, membership


def _other_active_owners(community: Community, user_id: int) -> int:
    return db.session.scalar(select(func.count()).where(
        Membership.community_id == community.id, Membership.role == Role.OWNER,
        Membership.status == MembershipStatus.ACTIVE, Membership.user_id != user_id))


def update_member(actor: User, slug: str, user_id: int, fields: dict) -> Membership:
    if not fields:
        raise InvalidInput({"_schema": ["Give a role or a status to change."]})
    community, membership = _find_membership(actor, slug, user_id)
    is_self = user_id == actor.id
    status = fields.get("status")
    if status == MembershipStatus.ACTIVE and membership.status != MembershipStatus.ACTIVE:
        if is_self and membership.status == MembershipStatus.INVITED:
            pass  # accepting an invitation
        else:
            require_moderator(actor, community)  # approving a request, or lifting a ban
            _require_role_power(actor, community, membership.role)  # a banned moderator
    elif status == MembershipStatus.BANNED and membership.status != MembershipStatus.BANNED:
        if is_self:
            raise Forbidden("You cannot ban yourself.")
        require_moderator(actor, community)
        _require_role_power(actor, community, membership.role)
    if "role" in fields and fields["role"] != membership.role:
        _require_role_power(actor, community, Role.OWNER)
        if membership.role == Role.OWNER and not _other_active_owners(community, user_id):
            raise Conflict("A community keeps at least one owner.")
        _audit_membership(actor, "membership.role", membership, previous=membership.role,
                          role=fields["role"])
        membership.role = fields["role"]
    if status == MembershipStatus.BANNED and membership.role == Role.OWNER \
            and not _other_active_owners(community, user_id):
        raise Conflict("A community keeps at least one owner.")
    if status is not None and status != membership.status:
        action = {(MembershipStatus.BANNED, MembershipStatus.ACTIVE): "membership.unban",
                  (MembershipStatus.INVITED, MembershipStatus.ACTIVE): "membership.accept",
                  (MembershipStatus.PENDING, MembershipStatus.ACTIVE): "membership.approve",
                  }.get((membership.status, status), f"membership.{status}")
        if status == MembershipStatus.BANNED:
            action = "membership.ban"
        _audit_membership(actor, action, membership, previous=membership.status)
        membership.status = status
        if status == MembershipStatus.ACTIVE:
            _forget_rejection(community.id, user_id)
    db.session.commit()
    return membership


def remove_member(actor: User, slug: str, user_id: int) -> None:
    """Leave, decline an invitation, cancel a request, reject a request, remove, or unban.

    A rejected request is remembered for the cool-down before the user may ask again.
    """
    community, membership = _find_membership(actor, slug, user_id)
    if user_id != actor.id or membership.status == MembershipStatus.BANNED:
        require_moderator(actor, community)
        _require_role_power(actor, community, membership.role)
        if membership.status == MembershipStatus.PENDING:
            rejection = db.session.get(MembershipRejection, (community.id, user_id))
            if rejection is None:
                rejection = MembershipRejection(community_id=community.id, user_id=user_id)
                db.session.add(rejection)
            rejection.rejected_by_id, rejection.rejected_at = actor.id, time.now()
    if membership.role == Role.OWNER and membership.status == MembershipStatus.ACTIVE \
            and not _other_active_owners(community, user_id):
        raise Conflict("A community keeps at least one owner; name another owner first.")
    _audit_membership(actor, "membership.leave" if user_id == actor.id else "membership.remove",
                      membership, previous=membership.status)
    db.session.delete(membership)
    db.session.commit()
