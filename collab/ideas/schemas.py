"""Votes, idea status changes and merges in (their payloads out are in collab.threads.schemas)."""
from marshmallow import fields, validate

from collab.schemas import Id, StrictSchema
from collab.threads.models import ThreadStatus

IDEA_STATUSES = [ThreadStatus.NEW, ThreadStatus.UNDER_REVIEW, ThreadStatus.PLANNED,
                 ThreadStatus.IN_PROGRESS, ThreadStatus.DONE, ThreadStatus.DECLINED]


class VoteIn(StrictSchema):
    value = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, -1]),
                           metadata={"description": "1 (up) or -1 (down)."})


class StatusChangeIn(StrictSchema):
    status = fields.String(required=True,
                           validate=validate.OneOf([s.value for s in IDEA_STATUSES]))
    note = fields.String(load_default="", validate=validate.Length(max=5000),
                         metadata={"description": "Public: shown in the idea's status history."})


class MergeIn(StrictSchema):
    into = Id(required=True,
              metadata={"description": "The idea (same community) that absorbs this one."})
