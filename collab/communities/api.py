"""Community and membership endpoints."""
from collab.auth import current_caller, current_user
from collab.blueprints import Blueprint
from collab.communities import service
from collab.communities.schemas import (
    CommunityCreate,
    CommunityListArgs,
    CommunityOut,
    CommunityUpdate,
    InvitationOut,
    MemberAdd,
    MemberListArgs,
    MembershipOut,
    MemberUpdate,
)
from collab.schemas import PageArgs, direct_page, page_schema

blueprint = Blueprint("communities", __name__, description="Communities and memberships")

CommunityPage = direct_page(page_schema(CommunityOut, "CommunityPage"), CommunityOut)
MembershipPage = page_schema(MembershipOut, "MembershipPage")
InvitationPage = page_schema(InvitationOut, "InvitationPage")


@blueprint.post("/communities")
@blueprint.arguments(CommunityCreate)
@blueprint.response(201, CommunityOut)
def create_community(fields):
    """Create a community (employees and admins); the creator becomes its owner."""
    return service.create_community(current_user(), fields)


@blueprint.get("/communities")
@blueprint.arguments(CommunityListArgs, location="query")
@blueprint.response(200, CommunityPage)
def list_communities(args):
    """The communities the caller may see, by name."""
    return service.list_communities(current_caller(), args)


@blueprint.get("/communities/<slug>")
@blueprint.response(200, CommunityOut)
def get_community(slug):
    return service.get_community(current_user(), slug)


@blueprint.patch("/communities/<slug>")
@blueprint.arguments(CommunityUpdate)
@blueprint.response(200, CommunityOut)
def update_community(fields, slug):
    """Change a community (owners and moderators)."""
    return service.update_community(current_user(), slug, fields)


@blueprint.post("/communities/<slug>/members")
@blueprint.arguments(MemberAdd)
@blueprint.response(201, MembershipOut)
@blueprint.alt_response(200, schema=MembershipOut, description="Already a member, or accepted")
def add_member(fields, slug):
    """Join (no `user_id` or `handle`): open → active, restricted → pending; or invite a user by
    `user_id` or `handle` (moderators). A request rejected less than MEMBERSHIP_REQUEST_COOLDOWN
    seconds ago is 429 with `retry_at`."""
    membership, created = service.add_member(current_user(), slug, fields)
    return membership, 201 if created else 200


@blueprint.get("/communities/<slug>/members")
@blueprint.arguments(MemberListArgs, location="query")
@blueprint.response(200, MembershipPage)
def list_members(args, slug):
    """Active members; pending, invited and banned ones for moderators.

    Without `status`, moderators get pending requests first, then active members.
    """
    return service.list_members(current_user(), slug, args)


@blueprint.patch("/communities/<slug>/members/<int:user_id>")
@blueprint.arguments(MemberUpdate)
@blueprint.response(200, MembershipOut)
def update_member(fields, slug, user_id):
    """Approve a request, accept an invitation, ban or unban, or change a role."""
    return service.update_member(current_user(), slug, user_id, fields)


@blueprint.delete("/communities/<slug>/members/<int:user_id>")
@blueprint.response(204)
def remove_member(slug, user_id):
    """Leave, decline, cancel, reject, remove or unban."""
    service.remove_member(current_user(), slug, user_id)


@blueprint.get("/me/invitations")
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, InvitationPage)
def my_invitations(args):
    """The caller's pending invitations, newest first; accept with
    `POST /communities/{slug}/members` `{}`, decline with `DELETE .../members/{my id}`."""
    return service.list_my_invitations(current_user(), args)
