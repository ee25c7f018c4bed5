"""Audit events out, and their filters."""
from marshmallow import Schema, fields, validate

from collab.schemas import MAX_ID, AwareDateTime, PageArgs


class AuditArgs(PageArgs):
    action = fields.String(validate=validate.Length(1, 48))
    actor = fields.Integer(validate=validate.Range(1, MAX_ID),
                           metadata={"description": "The acting user's id."})
    target_type = fields.String(validate=validate.Length(1, 24))
    target_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    since = AwareDateTime(metadata={"description": "at or after (ISO 8601)"})
    until = AwareDateTime(metadata={"description": "before (ISO 8601)"})


class AdminAuditArgs(AuditArgs):
    community = fields.String(validate=validate.Length(1, 64), metadata={"description": "slug"})


class AuditEventOut(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    community_id = fields.Integer(allow_none=True)
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    details = fields.Dict(keys=fields.String())
