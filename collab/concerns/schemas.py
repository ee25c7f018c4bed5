"""Concerns in and out."""
from marshmallow import Schema, fields, validate

from collab.concerns.models import ConcernState
from collab.people.schemas import UserRef
from collab.schemas import Id, PageArgs, StrictSchema, page_schema

STATE = validate.OneOf([s.value for s in ConcernState])


class ConcernFlagCreate(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ConcernListArgs(PageArgs):
    state = fields.String(validate=STATE)


class ConcernUpdate(StrictSchema):
    state = fields.String(validate=STATE, metadata={
        "description": "open → acknowledged → resolved, or dismissed; resolved/dismissed → open reopens."})
    assignee_id = Id(allow_none=True, metadata={"description": "An owner or moderator; null unassigns."})
    response_note = fields.String(validate=validate.Length(max=5000))


class ThreadRef(Schema):
    id = fields.Integer()
    title = fields.String()
    community = fields.String()


class ConcernStatusOut(Schema):
    """What the thread's author and its flaggers see."""

    id = fields.Integer()
    thread = fields.Nested(ThreadRef)
    state = fields.String()
    acknowledged = fields.Boolean()
    acknowledged_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    response_note = fields.String()
    opened_at = fields.DateTime()


class ConcernOut(ConcernStatusOut):
    """What owners and moderators see in the queue."""

    score = fields.Float()
    flags = fields.Integer()
    reasons = fields.List(fields.String(), metadata={"description": "Complaint and risk words found."})
    assignee = fields.Nested(UserRef, allow_none=True)
    updated_at = fields.DateTime()


class ConcernFlagOut(Schema):
    thread_id = fields.Integer()
    flags = fields.Integer()
    concern = fields.Nested(ConcernStatusOut, allow_none=True)


ConcernPage = page_schema(ConcernOut, "ConcernPage")
ConcernStatusPage = page_schema(ConcernStatusOut, "ConcernStatusPage")
