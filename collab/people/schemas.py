"""People in and out."""
import re

from marshmallow import fields, validate

from collab.people.models import Audience
from collab.schemas import PageArgs, Pattern, StrictSchema, plain_name

HANDLE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{1,39}")
HANDLE = Pattern(HANDLE_PATTERN, error="2-40 lowercase letters, digits, '_', '.', '-'.")
AUDIENCE = validate.OneOf([a.value for a in Audience])


class UserCreate(StrictSchema):
    handle = fields.String(required=True, validate=HANDLE)
    display_name = fields.String(validate=[validate.Length(1, 120), plain_name])
    email = fields.Email(required=True, validate=validate.Length(max=254))
    audience = fields.String(required=True, validate=AUDIENCE)
    organization = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(1, 120))
    is_admin = fields.Boolean(load_default=False)


class UserOut(StrictSchema):
    id = fields.Integer()
    handle = fields.String()
    display_name = fields.String()
    audience = fields.String()
    organization = fields.String(allow_none=True)
    is_admin = fields.Boolean()
    created_at = fields.DateTime()


class UserPrivateOut(UserOut):
    """What a user sees of themselves (and admins of anyone)."""

    email = fields.String()


class UserRef(StrictSchema):
    """A user as shown beside content."""

    id = fields.Integer()
    handle = fields.String()
    display_name = fields.String()
    audience = fields.String()
    organization = fields.String(allow_none=True)


class TokenCreate(StrictSchema):
    name = fields.String(load_default="", validate=validate.Length(max=80))


class TokenOut(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(metadata={"description": "Shown once; only its hash is stored."})


class HandleLowercase(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class UserListArgs(PageArgs):
    handle = HandleLowercase(
        validate=validate.Regexp(r"^[a-z0-9_.-]{1,40}$", error="1-40 of a-z, 0-9, '_', '.', '-'."),
        metadata={"description": "Handles starting with this (case-insensitive)."})
