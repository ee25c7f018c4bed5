"""Expertise requests and answers."""
from marshmallow import Schema, fields, validate

from collab.people.schemas import UserRef
from collab.schemas import StrictSchema


class ExpertArgs(StrictSchema):
    q = fields.String(required=True, validate=validate.Length(1, 200),
                      metadata={"description": "The topic: words and \"phrases\", as in search."})
    community = fields.String(validate=validate.Length(1, 64),
                              metadata={"description": "Only evidence from this community (slug)."})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class EvidenceThread(Schema):
    thread_id = fields.Integer()
    title = fields.String()
    community = fields.String()


class Why(Schema):
    accepted_answers = fields.Integer()
    replies = fields.Integer(metadata={"description": "Replies in matching threads (accepted included)."})
    threads_started = fields.Integer()
    upvotes_received = fields.Integer(metadata={"description": "Net up-votes on matching threads they started."})
    recent_contributions = fields.Integer(metadata={"description": "Replies and threads of the last 90 days."})
    tags = fields.List(fields.String())
    evidence = fields.List(fields.Nested(EvidenceThread))


class Expert(Schema):
    user = fields.Nested(UserRef)
    score = fields.Float()
    why = fields.Nested(Why)


class ExpertList(Schema):
    engine = fields.String()
    q = fields.String()
    items = fields.List(fields.Nested(Expert))


class ExpertiseArgs(StrictSchema):
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class TagCount(Schema):
    tag = fields.String()
    count = fields.Integer()


class SignificantTerm(Schema):
    term = fields.String()
    count = fields.Integer()
    score = fields.Float()


class Expertise(Schema):
    engine = fields.String()
    user = fields.Nested(UserRef)
    replies = fields.Integer()
    accepted_answers = fields.Integer()
    tags = fields.List(fields.Nested(TagCount))
    terms = fields.List(fields.Nested(SignificantTerm))
