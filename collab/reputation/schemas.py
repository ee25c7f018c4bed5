"""Reputation requests and answers."""
from marshmallow import Schema, fields, validate

from collab.people.schemas import UserRef
from collab.reputation.service import PERIODS
from collab.schemas import StrictSchema


class LeaderboardArgs(StrictSchema):
    period = fields.String(load_default="month", validate=validate.OneOf(list(PERIODS)),
                           metadata={"description": "week, month (30 days), year or all"})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class Rules(Schema):
    points = fields.Dict(keys=fields.String(), values=fields.Integer())
    daily_cap = fields.Integer()


class Standing(Schema):
    rank = fields.Integer()
    user = fields.Nested(UserRef)
    points = fields.Integer()


class Leaderboard(Schema):
    community = fields.String()
    period = fields.String()
    since = fields.Date(allow_none=True)
    rules = fields.Nested(Rules)
    items = fields.List(fields.Nested(Standing))


class CommunityPoints(Schema):
    community = fields.String()
    points = fields.Integer()


class UserReputation(Schema):
    user = fields.Nested(UserRef)
    total = fields.Integer()
    communities = fields.List(fields.Nested(CommunityPoints))
