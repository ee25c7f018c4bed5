"""Insight requests and answers."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from collab.schemas import StrictSchema


class InsightArgs(StrictSchema):
    from_ = fields.DateTime(data_key="from", metadata={"description": "Start (ISO 8601); default `to` − 30 days."})
    to = fields.DateTime(metadata={"description": "End, exclusive (ISO 8601); default now."})
    interval = fields.String(load_default="week", validate=validate.OneOf(["day", "week"]))

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] >= data["to"]:
            raise ValidationError("`from` must be before `to`.", "to")


class Figure(Schema):
    """A count or rate with the number of people behind it; null and suppressed below k."""

    value = fields.Raw(allow_none=True)
    people = fields.Integer(allow_none=True)
    suppressed = fields.Boolean()


class ActivityBucket(Schema):
    start = fields.DateTime()
    threads = fields.Integer(allow_none=True)
    posts = fields.Integer(allow_none=True)
    active_people = fields.Integer(allow_none=True)
    new_members = fields.Integer(allow_none=True)
    suppressed = fields.Boolean(metadata={"description": "Fewer than k active people."})


class Percentiles(Schema):
    p50 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)
    count = fields.Integer(allow_none=True)
    suppressed = fields.Boolean()


class ResponseTimes(Schema):
    first_reply_hours = fields.Nested(Percentiles)
    accepted_answer_hours = fields.Nested(Percentiles, metadata={
        "description": "Until the answer that was accepted was posted."})


class AnswerRate(Schema):
    questions = fields.Nested(Figure)
    rate = fields.Nested(Figure)


class AgeFigure(Figure):
    age = fields.String()


class FunnelStep(Figure):
    status = fields.String()
    median_hours_in_status = fields.Float(allow_none=True)


class ConcernFigures(Schema):
    opened = fields.Nested(Figure)
    resolved = fields.Nested(Figure)
    open_now = fields.Nested(Figure)


class AudienceFlow(Schema):
    rows = fields.String()
    columns = fields.String()
    matrix = fields.Dict(keys=fields.String(), values=fields.Dict(
        keys=fields.String(), values=fields.Nested(Figure)))


class RisingTag(Schema):
    tag = fields.String()
    count = fields.Integer()
    background = fields.Integer(allow_none=True)
    score = fields.Float()
    people = fields.Integer()


class RisingTerm(Schema):
    term = fields.String()
    count = fields.Integer()
    background = fields.Integer(allow_none=True)
    score = fields.Float()
    people = fields.Integer()


class RisingTopics(Schema):
    engine = fields.String()
    tags = fields.List(fields.Nested(RisingTag))
    terms = fields.List(fields.Nested(RisingTerm))


class Insights(Schema):
    community = fields.String(allow_none=True)
    from_ = fields.DateTime(data_key="from")
    to = fields.DateTime()
    interval = fields.String()
    k_anonymity = fields.Integer()
    activity = fields.List(fields.Nested(ActivityBucket))
    response_times = fields.Nested(ResponseTimes)
    answer_rate = fields.Nested(AnswerRate)
    unanswered_by_age = fields.List(fields.Nested(AgeFigure))
    idea_funnel = fields.List(fields.Nested(FunnelStep))
    concerns = fields.Nested(ConcernFigures)
    audience_flow = fields.Nested(AudienceFlow)
    rising_topics = fields.Nested(RisingTopics)
