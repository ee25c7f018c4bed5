"""Audit log endpoints: read-only by construction (there is no other verb)."""
from collab.audit import service
from collab.audit.schemas import AdminAuditArgs, AuditArgs, AuditEventOut
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.schemas import page_schema

blueprint = Blueprint("audit", __name__, description="The append-only audit log")

AuditPage = page_schema(AuditEventOut, "AuditPage")


@blueprint.get("/audit")
@blueprint.arguments(AdminAuditArgs, location="query")
@blueprint.response(200, AuditPage)
def list_events(args):
    """Every audited action, newest first (admins)."""
    return service.list_events(current_user(), args)


@blueprint.get("/communities/<slug>/audit")
@blueprint.arguments(AuditArgs, location="query")
@blueprint.response(200, AuditPage)
def list_community_events(args, slug):
    """A community's audited actions, newest first (its owners and admins)."""
    return service.list_community_events(current_user(), slug, args)
