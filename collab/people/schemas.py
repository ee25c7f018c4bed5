"""People in and out."""
import re

from marshmallow import fields, validate

from collab.integrations.scopes import ALL_SCOPES
from collab.integrations.scopes import parse as parse_scopes
from collab.people.models import Audience
from collab.schemas import Pattern, StrictSchema, plain_name

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


DEACTIVATED_NAME = "Deactivated user"


def shown_name(user) -> str:
    """A deactivated user's content stays; their name does not."""
    return DEACTIVATED_NAME if getattr(user, "deactivated_at", None) else user.display_name


class UserOut(StrictSchema):
    id = fields.Integer()
    handle = fields.String()
    display_name = fields.Function(shown_name, metadata={"type": "string"})
    audience = fields.String()
    organization = fields.String(allow_none=True)
    is_admin = fields.Boolean()
    kind = fields.String(metadata={"description": "person, or service (an API client)."})
    deactivated = fields.Function(lambda u: u.deactivated_at is not None,
                                  metadata={"type": "boolean"})
    created_at = fields.DateTime()


class UserPrivateOut(UserOut):
    """What a user sees of themselves (and admins of anyone)."""

    email = fields.String()

    def dump(self, obj, *, many=None):
        """GET /me's caller (collab.auth.Caller) built directly, as marshmallow dumps it;
        anything else marshmallow's way. tests/api/test_caller_payload.py compares both."""
        from collab.auth import Caller

        many = self.many if many is None else many
        if (many or self.only or self.exclude or type(self) is not UserPrivateOut
                or type(obj) is not Caller):
            return super().dump(obj, many=many)
        return {"id": obj.id, "handle": str(obj.handle), "display_name": str(shown_name(obj)),
                "audience": str(obj.audience),
                "organization": None if obj.organization is None else str(obj.organization),
                "is_admin": bool(obj.is_admin), "kind": str(obj.kind),
                "deactivated": obj.deactivated_at is not None,
                "created_at": obj.created_at.isoformat(), "email": str(obj.email)}


class ProfileCommunityPoints(StrictSchema):
    community = fields.String()
    points = fields.Integer()


class ProfileReputation(StrictSchema):
    """Reputation points (collab/reputation), only in communities the caller may see."""

    total = fields.Integer()
    communities = fields.List(fields.Nested(ProfileCommunityPoints))


class UserProfileOut(UserOut):
    """A user's profile: the user and their reputation where the caller may look."""

    reputation = fields.Nested(ProfileReputation)


class UserPrivateProfileOut(UserPrivateOut):
    reputation = fields.Nested(ProfileReputation)


class UserRef(StrictSchema):
    """A user as shown beside content."""

    id = fields.Integer()
    handle = fields.String()
    display_name = fields.Function(shown_name, metadata={"type": "string"})
    audience = fields.String()
    organization = fields.String(allow_none=True)


class TokenCreate(StrictSchema):
    name = fields.String(load_default="", validate=validate.Length(max=80))
    scopes = fields.List(fields.String(validate=validate.OneOf(ALL_SCOPES)), load_default=None,
                         metadata={"description": "Default: the scopes of the calling token."})
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"description": "Optional; the token stops working then."})


class TokenOut(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    scopes = fields.Function(lambda token: sorted(parse_scopes(token.scopes)))
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(metadata={"description": "Shown once; only its hash is stored."})


class HandleLowercase(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()
