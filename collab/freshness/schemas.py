"""Freshness out (inside every thread payload)."""
from marshmallow import fields

from collab.people.schemas import UserRef
from collab.schemas import StrictSchema


class AnswerFreshnessOut(StrictSchema):
    state = fields.String(metadata={"description": "fresh, needs_review or obsolete"})
    checked_at = fields.DateTime(metadata={"description": "accepted answer's creation or last "
                                                         "verification: the review clock"})
    verified_at = fields.DateTime(allow_none=True)
    verified_by = fields.Nested(UserRef, allow_none=True)
    obsolete_at = fields.DateTime(allow_none=True)
