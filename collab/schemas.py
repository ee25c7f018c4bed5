"""Schema pieces shared by every feature: strict input, list envelopes, pagination args."""
import re
from datetime import UTC, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from collab.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page


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


# Bidirectional overrides and isolates, and zero-width characters: invisible, and used to make one
# name look like another ("spoofing"). Refused in names people recognise each other by.
SPOOFING_CHARACTERS = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                                 "\u2066-\u2069\ufeff]")


def plain_name(value: str) -> None:
    """Validator for titles, names, handles, slugs and tags: no invisible or direction controls."""
    if isinstance(value, str) and SPOOFING_CHARACTERS.search(value):
        raise ValidationError("Must not contain invisible or text-direction control characters.")


class Pattern(validate.Regexp):
    """A whole-value pattern (fullmatch): `$` alone also matches before a final newline."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class AwareDateTime(fields.DateTime):
    """An ISO 8601 instant in input: naive means UTC; it must lie inside the calendar in UTC."""

    EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
    LATEST = datetime(9999, 12, 30, tzinfo=UTC)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            parsed = parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("Out of range.") from None
        if not self.EARLIEST <= parsed <= self.LATEST:
            raise ValidationError("Out of range: between 0001-01-02 and 9999-12-30 (UTC).")
        return parsed


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


def direct_page(page: type[Schema], item_schema: type[Schema]) -> type[Schema]:
    """`page` (a page_schema envelope of `item_schema`) dumping a collab.pagination.Page
    directly: each item by `item_schema().dump`, exactly what marshmallow's List of Nested calls,
    without marshmallow's per-item field steps (a twentieth of a GET /communities' CPU). Any
    other object, and an instance with `only`, `exclude` or `many`, is dumped marshmallow's way.
    tests/api/test_community_listing.py compares both."""
    items_schema = item_schema()

    def dump(self, obj, *, many=None):
        many = self.many if many is None else many
        if many or self.only or self.exclude or type(obj) is not Page:
            return Schema.dump(self, obj, many=many)
        dump_item = items_schema.dump
        items, cursor = obj.items, obj.next_cursor
        return {"items": None if items is None else [
                    None if item is None else dump_item(item) for item in items],
                "next_cursor": None if cursor is None else str(cursor)}

    return type(page.__name__, (page,), {"dump": dump, "__doc__": page.__doc__,
                                         "__module__": page.__module__})
