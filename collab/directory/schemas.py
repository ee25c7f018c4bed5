"""Directory queries and administrative changes."""
from marshmallow import fields, validate

from collab.people.schemas import AUDIENCE, HandleLowercase
from collab.schemas import PageArgs, Pattern, StrictSchema


class UserListArgs(PageArgs):
    q = fields.String(load_default=None, validate=validate.Length(1, 120),
                      metadata={"description": "Part of the handle or display name (admins: email too)."})
    handle = HandleLowercase(
        load_default=None, validate=Pattern(r"[a-z0-9_.-]{1,40}", error="1-40 of a-z, 0-9, '_', '.', '-'."),
        metadata={"description": "Handles starting with this, case-insensitive (e.g. to invite)."})
    audience = fields.String(load_default=None, validate=AUDIENCE)
    organization = fields.String(load_default=None, validate=validate.Length(1, 120))
    kind = fields.String(load_default=None, validate=validate.OneOf(["person", "service"]))
    include_deactivated = fields.Boolean(load_default=False)


class UserAdminUpdate(StrictSchema):
    display_name = fields.String(validate=validate.Length(1, 120))
    audience = fields.String(validate=AUDIENCE)
    organization = fields.String(allow_none=True, validate=validate.Length(1, 120))
    is_admin = fields.Boolean()
