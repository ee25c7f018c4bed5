"""Schema pieces shared by every feature: strict input, list envelopes, pagination args."""
from marshmallow import RAISE, Schema, fields, validate

from collab.pagination import DEFAULT_LIMIT, MAX_LIMIT


class StrictSchema(Schema):
    """Input schemas reject unknown fields so typos fail loudly."""

    class Meta:
        unknown = RAISE


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
