"""People endpoints: users, tokens, and the caller themselves."""
from flask import jsonify

from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.people import service
from collab.schemas import page_schema
from collab.people.schemas import (
    NewTokenOut,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserListArgs,
    UserOut,
    UserPrivateOut,
    UserRef,
)

blueprint = Blueprint("people", __name__, description="Users and API tokens")

UserRefPage = page_schema(UserRef, "UserRefPage")


def _profile_schema(user) -> UserOut:
    viewer = current_user()
    return UserPrivateOut() if viewer.is_admin or viewer.id == user.id else UserOut()


@blueprint.post("/users")
@blueprint.arguments(UserCreate)
@blueprint.response(201, UserPrivateOut)
def create_user(fields):
    """Create a user (admins only)."""
    return service.create_user(current_user(), **fields)


@blueprint.get("/users")
@blueprint.arguments(UserListArgs, location="query")
@blueprint.response(200, UserRefPage)
def find_users(args):
    """Look people up by handle prefix (e.g. to invite them), by handle; only people the caller
    may see: employees see everyone, partners and customers themselves and the members of
    communities they may see."""
    return service.find_users(current_user(), args)


@blueprint.get("/users/<int:user_id>")
@blueprint.response(200, UserPrivateOut)
def get_user(user_id):
    """A user's profile; the email is shown to the user and to admins only."""
    user = service.get_user(current_user(), user_id)
    return jsonify(_profile_schema(user).dump(user))


@blueprint.post("/users/<int:user_id>/tokens")
@blueprint.arguments(TokenCreate)
@blueprint.response(201, NewTokenOut)
def issue_token(fields, user_id):
    """Issue a token (admins, or the user for themselves). The token is shown only here."""
    token, plaintext = service.issue_token(current_user(), user_id, fields["name"])
    return {"id": token.id, "name": token.name, "created_at": token.created_at,
            "revoked_at": token.revoked_at, "expires_at": token.expires_at, "token": plaintext}


@blueprint.delete("/tokens/<int:token_id>")
@blueprint.response(204)
def revoke_token(token_id):
    """Revoke a token: it stops working at once."""
    service.revoke_token(current_user(), token_id)


@blueprint.get("/me")
@blueprint.response(200, UserPrivateOut)
def me():
    """The caller."""
    return current_user()


@blueprint.get("/me/tokens")
@blueprint.response(200, TokenOut(many=True))
def my_tokens():
    """The caller's tokens (never their values)."""
    return service.list_tokens(current_user())
