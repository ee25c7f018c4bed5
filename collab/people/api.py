"""People endpoints: users, tokens, and the caller themselves."""
from flask import jsonify

from collab.auth import current_caller, current_scopes, current_user
from collab.blueprints import Blueprint
from collab.people import service
from collab.people.schemas import (
    NewTokenOut,
    ProfileReputation,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserPrivateOut,
    UserPrivateProfileOut,
    UserProfileOut,
)
from collab.reputation import service as reputation

blueprint = Blueprint("people", __name__, description="Users and API tokens")


@blueprint.post("/users")
@blueprint.arguments(UserCreate)
@blueprint.response(201, UserPrivateOut)
def create_user(fields):
    """Create a user (admins only)."""
    return service.create_user(current_user(), **fields)


@blueprint.get("/users/<int:user_id>")
@blueprint.response(200, UserPrivateProfileOut)
def get_user(user_id):
    """A user's profile with their reputation in the communities the caller may see; the email
    is shown to the user and to admins only."""
    viewer = current_user()
    user = service.get_user(viewer, user_id)
    schema = UserPrivateProfileOut() if viewer.is_admin or viewer.id == user.id \
        else UserProfileOut()
    return jsonify({**schema.dump(user), "reputation": ProfileReputation().dump(
        reputation.points_of(viewer, user))})


@blueprint.post("/users/<int:user_id>/tokens")
@blueprint.arguments(TokenCreate)
@blueprint.response(201, NewTokenOut)
def issue_token(fields, user_id):
    """Issue a token (admins, or the user for themselves). The token is shown only here."""
    token, plaintext = service.issue_token(current_user(), user_id, fields["name"],
                                           scopes=fields["scopes"], expires_at=fields["expires_at"],
                                           granting=current_scopes())
    token.token = plaintext
    return token


@blueprint.delete("/tokens/<int:token_id>")
@blueprint.response(204)
def revoke_token(token_id):
    """Revoke a token: it stops working at once."""
    service.revoke_token(current_user(), token_id)


@blueprint.get("/me")
@blueprint.response(200, UserPrivateOut)
def me():
    """The caller."""
    return current_caller()


@blueprint.get("/me/tokens")
@blueprint.response(200, TokenOut(many=True))
def my_tokens():
    """The caller's tokens (never their values)."""
    return service.list_tokens(current_user())
