"""Schema pieces shared by every feature: strict input, list envelopes, pagination args."""
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from collab.pagination import DEFAULT_LIMIT, MAX_LIMIT


MAX_ID = 2**31 - 1  # PostgreSQL `integer`; larger ids cannot exist


class StrictSchema(Schema):
    """Input schemas reject unknown fields so typos fail loudly."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _reject_nul_characters(self, data, **kwargs):
        """PostgreSQL cannot store U+0000 in text; refuse it here rather than fail on write."""
        if isinstance(data, dict):
            bad = {key: ["Must not contain NUL characters."] for key, value in data.items()
                   if isinstance(value, str) and "\x00" in value}
            if bad:
                raise ValidationError(bad)
        return data


def Id(**kwargs) -> fields.Integer:
    """A row id in input: a positive integer that fits the id columns."""
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kwargs)


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None)


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A `{"items": [...], "next_cursor": ...}` envelope around `item_schema`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(allow_none=True),
        },
        name=name,
    )
