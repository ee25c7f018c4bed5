"""User directory endpoints."""
from flask import jsonify

from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.directory import service
from collab.directory.schemas import UserAdminUpdate, UserListArgs
from collab.people.schemas import UserOut, UserPrivateOut
from collab.schemas import page_schema

blueprint = Blueprint("directory", __name__, description="User directory")
# Documented with the email, which admins see (people/api.py does the same for GET /users/{id}).
UserPage = page_schema(UserPrivateOut, "UserPage")


@blueprint.get("/users")
@blueprint.arguments(UserListArgs, location="query")
@blueprint.response(200, UserPage)
def list_users(args):
    """Users the caller may see, by handle; `q` searches handles and names (admins: emails)."""
    page = service.list_users(current_user(), args)
    schema = UserPrivateOut() if current_user().is_admin else UserOut()
    return jsonify({"items": schema.dump(page.items, many=True), "next_cursor": page.next_cursor})


@blueprint.get("/users/by-handle/<handle>")
@blueprint.response(200, UserPrivateOut)
def get_user_by_handle(handle):
    """Look a user up by handle (404 if the caller may not see them)."""
    user = service.find_by_handle(current_user(), handle)
    viewer = current_user()
    schema = UserPrivateOut() if viewer.is_admin or viewer.id == user.id else UserOut()
    return jsonify(schema.dump(user))


@blueprint.patch("/users/<int:user_id>")
@blueprint.arguments(UserAdminUpdate, example={"audience": "partner", "organization": "acme"})
@blueprint.response(200, UserPrivateOut)
def update_user(fields, user_id):
    """Change a user's audience, organization, name or admin flag (admins)."""
    return service.update_user(current_user(), user_id, fields)


@blueprint.post("/users/<int:user_id>/deactivate")
@blueprint.response(200, UserPrivateOut)
def deactivate_user(user_id):
    """Deactivate (admins): tokens stop working at once; content stays, shown as deactivated."""
    return service.deactivate_user(current_user(), user_id)


@blueprint.post("/users/<int:user_id>/reactivate")
@blueprint.response(200, UserPrivateOut)
def reactivate_user(user_id):
    """Reactivate (admins); issue new tokens afterwards."""
    return service.reactivate_user(current_user(), user_id)
