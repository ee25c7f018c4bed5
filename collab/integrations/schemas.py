"""API clients in and out."""
from marshmallow import ValidationError, fields, validate, validates_schema

from collab.integrations.scopes import ALL_SCOPES
from collab.people.schemas import AUDIENCE, HANDLE
from collab.schemas import StrictSchema

SCOPE = validate.OneOf(ALL_SCOPES)


class ClientCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 80))
    owner_id = fields.Integer(load_default=None, allow_none=True,
                              metadata={"description": "The responsible user (default: the caller)."})
    handle = fields.String(load_default=None, validate=HANDLE,
                           metadata={"description": "The service identity's handle."})
    audience = fields.String(load_default="employee", validate=AUDIENCE)
    organization = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(1, 120))
    scopes = fields.List(fields.String(validate=SCOPE), required=True,
                         validate=validate.Length(min=1))
    communities = fields.List(fields.String(), load_default=list,
                              metadata={"description": "Slugs the client may act in."})
    all_communities = fields.Boolean(load_default=False)

    @validates_schema
    def _communities_or_all(self, data, **kwargs):
        if data.get("all_communities") and data.get("communities"):
            raise ValidationError("Give communities or all_communities, not both.", "communities")
        if not data.get("all_communities") and not data.get("communities"):
            raise ValidationError("Name the communities, or set all_communities.", "communities")


class ClientOut(StrictSchema):
    id = fields.Integer()
    client_id = fields.String()
    name = fields.String()
    owner_id = fields.Integer()
    service_user_id = fields.Integer()
    scopes = fields.Function(lambda c: c.scopes.split())
    communities = fields.Function(lambda c: c.community_slugs)
    all_communities = fields.Boolean()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class NewClientOut(ClientOut):
    client_secret = fields.String(metadata={"description": "Shown once; only its hash is stored."})
