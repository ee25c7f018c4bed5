"""Community and membership endpoints."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.communities import service
from collab.communities.schemas import (
    CommunityCreate,
    CommunityListArgs,
    CommunityOut,
    CommunityUpdate,
    MemberAdd,
    MemberListArgs,
    MembershipOut,
    MemberUpdate,
)
from collab.schemas import page_schema

blueprint = Blueprint("communities", __name__, description="Communities and memberships")

CommunityPage = page_schema(CommunityOut, "CommunityPage")
MembershipPage = page_schema(MembershipOut, "MembershipPage")


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
    return service.list_communities(current_user(), args)


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
    """Join (no `user_id`): open → active, restricted → pending; or invite a user (moderators)."""
    membership, created = service.add_member(current_user(), slug, fields)
    return membership, 201 if created else 200


@blueprint.get("/communities/<slug>/members")
@blueprint.arguments(MemberListArgs, location="query")
@blueprint.response(200, MembershipPage)
def list_members(args, slug):
    """Active members; pending, invited and banned ones for moderators."""
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
