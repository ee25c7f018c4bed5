"""Flags and moderation actions in and out."""
from marshmallow import Schema, fields, validate

from collab.people.schemas import UserRef
from collab.schemas import PageArgs, StrictSchema


class FlagCreate(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class ModerationAction(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(["hide", "restore", "delete"]))
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class FlagQueueArgs(PageArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved"]))


class FlagOut(Schema):
    id = fields.Integer()
    target_type = fields.String()
    target_id = fields.Integer()
    reason = fields.String()
    reporter = fields.Nested(UserRef)
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)


class ModerationOut(Schema):
    target_type = fields.String()
    target_id = fields.Integer()
    action = fields.String()
    hidden = fields.Boolean()
    deleted = fields.Boolean()
