"""Digest requests and answers."""
from marshmallow import Schema, fields

from collab.people.schemas import UserRef
from collab.schemas import StrictSchema


class DigestArgs(StrictSchema):
    since = fields.DateTime(metadata={"description": "ISO 8601; default a week ago."})


class DigestThread(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    status = fields.String()
    reply_count = fields.Integer()
    score = fields.Integer()
    created_at = fields.DateTime()


class IdeaMove(Schema):
    thread_id = fields.Integer()
    title = fields.String()
    from_status = fields.String()
    to_status = fields.String()
    note = fields.String()
    at = fields.DateTime()


class DigestConcern(Schema):
    id = fields.Integer()
    state = fields.String()
    opened_at = fields.DateTime()
    thread_id = fields.Integer()
    title = fields.String()


class OpenConcerns(Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(DigestConcern), allow_none=True, metadata={
        "description": "Owners and moderators only; null for other readers."})


class NewExpert(Schema):
    user = fields.Nested(UserRef)
    accepted_answers = fields.Integer()
    tags = fields.List(fields.String())


class Digest(Schema):
    community = fields.String()
    since = fields.DateTime()
    until = fields.DateTime()
    new_threads = fields.List(fields.Nested(DigestThread))
    rising_threads = fields.List(fields.Nested(DigestThread))
    newly_answered = fields.List(fields.Nested(DigestThread))
    ideas_moved = fields.List(fields.Nested(IdeaMove))
    open_concerns = fields.Nested(OpenConcerns)
    new_experts = fields.List(fields.Nested(NewExpert))
