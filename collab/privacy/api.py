"""Export and erasure endpoints."""
from marshmallow import Schema, fields

from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.privacy import service

blueprint = Blueprint("privacy", __name__, description="Export and erasure")


class ExportOut(Schema):
    profile = fields.Dict()
    tokens = fields.List(fields.Dict())
    memberships = fields.List(fields.Dict())
    threads = fields.List(fields.Dict())
    posts = fields.List(fields.Dict())
    votes = fields.List(fields.Dict())
    flags = fields.List(fields.Dict())
    status_changes = fields.List(fields.Dict())
    actions = fields.List(fields.Dict())


@blueprint.get("/me/export")
@blueprint.response(200, ExportOut)
def export():
    """Everything the caller wrote and did, as JSON."""
    return service.export(current_user())


@blueprint.delete("/users/<int:user_id>")
@blueprint.response(204)
def erase(user_id):
    """Erase a person (admins): content stays as "deleted user", personal fields are wiped."""
    service.erase(current_user(), user_id)
