"""Cursor (keyset) pagination: stable under concurrent inserts, one helper for every list."""
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, false, or_, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

from collab.cursors import BadCursor, sign, unsign
from collab.db import db
from collab.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class SortKey:
    column: InstrumentedAttribute
    descending: bool = True


@dataclass
class Page:
    items: list
    next_cursor: str | None


CURSOR_PURPOSE = "list"
MAX_CURSOR_TEXT = 500
# Datetimes a cursor may hold: a day inside the calendar, so conversions never overflow.
EARLIEST, LATEST = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)


def _encode(values: list[Any]) -> str:
    tagged = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return sign(CURSOR_PURPOSE, tagged)


def _decode_datetime(raw: Any) -> datetime:
    if not isinstance(raw, dict) or set(raw) != {"t"} or not isinstance(raw["t"], str):
        raise ValueError("not a tagged datetime")
    value = datetime.fromisoformat(raw["t"])
    if value.tzinfo is None:
        raise ValueError("datetime without zone")
    value = value.astimezone(UTC)
    if not EARLIEST <= value <= LATEST:
        raise ValueError("datetime out of range")
    return value


def _decode_value(raw: Any, key: SortKey) -> Any:
    """One cursor value, checked against its column's type and range (a cursor is client input)."""
    column_type = key.column.type
    # A TypeDecorator (UTCDateTime) reports `object`; its implementation knows the real type.
    expected = (column_type.impl if isinstance(column_type, TypeDecorator) else column_type).python_type
    if expected is datetime:
        return _decode_datetime(raw)
    if expected is bool:
        valid = isinstance(raw, bool)
    elif expected is float:
        valid = (isinstance(raw, (int, float)) and not isinstance(raw, bool)
                 and math.isfinite(raw) and abs(raw) < 1e300)
    elif expected is int:
        valid = isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2**63
    elif expected is str:
        valid = isinstance(raw, str) and len(raw) <= MAX_CURSOR_TEXT
    else:
        valid = False
    if not valid:
        raise ValueError("cursor value of the wrong type")
    return raw


def _decode(cursor: str, keys: list[SortKey]) -> list[Any]:
    try:
        values = unsign(CURSOR_PURPOSE, cursor)
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong width")
        return [_decode_value(raw, key) for raw, key in zip(values, keys)]
    except (BadCursor, ValueError, TypeError, OverflowError):
        raise InvalidInput({"cursor": ["Not a valid cursor."]}) from None


def _beyond(key: SortKey, value: Any) -> ColumnElement[bool]:
    """Rows past `value` on one key; booleans have no `<`, so False < True is spelled out."""
    if isinstance(value, bool):
        later = value if key.descending else not value  # the value that sorts after `value`
        return key.column.is_(not value) if later else false()
    return key.column < value if key.descending else key.column > value


def _after(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the (mixed-direction) order given by `keys`: booleans as
    they are, the other values as bind parameters (page_parameters gives them).

    Where the remaining keys all run the same way this is one row comparison, `(a, id) < (x, z)`,
    which an index of the order serves as a range (the spelled-out OR is filtered row by row). A
    leading boolean key (pinned) is spelled out first: planners misjudge a row comparison that
    starts with one.
    """
    first, value = keys[0], values[0]
    if len(keys) > 1 and isinstance(value, bool):
        return or_(_beyond(first, value), and_(first.column == value, _after(keys[1:], values[1:])))
    if len(keys) > 1 and len({key.descending for key in keys}) == 1:
        row, bound = tuple_(*(key.column for key in keys)), tuple_(*values)
        return row < bound if first.descending else row > bound
    alternatives = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        alternatives.append(and_(*equal_prefix, _beyond(key, values[i])))
    return or_(*alternatives)


def ordered(keys: list[SortKey], columns=None) -> list:
    """ORDER BY clauses for `keys`, on their own columns or on the same-named `columns` (a
    subquery's `.c`)."""
    return [(k.column if columns is None else columns[k.column.key]).desc() if k.descending
            else (k.column if columns is None else columns[k.column.key]).asc() for k in keys]


def page_of(rows: list, keys: list[SortKey], limit: int) -> Page:
    """A page from up to `limit + 1` rows in key order (an extra row means there is more)."""
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, k.column.key) for k in keys])
    return Page(items=rows, next_cursor=next_cursor)


# Every list pages one way: a statement with the page's size and the cursor's values left as
# bind parameters (so a hot list builds it once per shape), run with page_parameters().
LIMIT_PARAMETER = "page_limit"


def _after_parameter(index: int) -> str:
    return f"page_after_{index}"


def cursor_values(keys: list[SortKey], cursor: str | None) -> list[Any] | None:
    """The values a cursor holds, checked against `keys` (422 for a cursor that is not ours)."""
    return _decode(cursor, keys) if cursor else None


def page_shape(values: list[Any] | None) -> tuple | None:
    """What of a cursor a page's statement is built from (None for a first page): its booleans,
    which decide the comparison's form; every other value is a bind parameter. A statement cache
    keys on it."""
    if values is None:
        return None
    return tuple(value if isinstance(value, bool) else None for value in values)


def page_statement(statement: Select, keys: list[SortKey], values: list[Any] | None) -> Select:
    """`statement` from the cursor's position (`values`, or the start for None) in the order of
    `keys` (the last one unique, e.g. the id), limited: page_shape(values) says which pages it
    serves; page_parameters() gives its parameters."""
    if values is not None:
        statement = statement.where(_after(keys, [
            value if isinstance(value, bool)
            else bindparam(_after_parameter(i), type_=key.column.type)
            for i, (key, value) in enumerate(zip(keys, values))]))
    return statement.order_by(*ordered(keys)).limit(bindparam(LIMIT_PARAMETER, type_=Integer))


def page_parameters(keys: list[SortKey], limit: int, values: list[Any] | None) -> dict:
    """The parameters of a page_statement(): one row more than the page, to know if more follow."""
    parameters = {LIMIT_PARAMETER: limit + 1}
    if values is not None:
        parameters.update((_after_parameter(i), value) for i, value in enumerate(values)
                          if not isinstance(value, bool))
    return parameters


def paginate(statement: Select, keys: list[SortKey], limit: int, cursor: str | None) -> Page:
    """Run `statement` for one page (a statement built per request; hot lists cache theirs)."""
    values = cursor_values(keys, cursor)
    rows = list(db.session.scalars(page_statement(statement, keys, values),
                                   page_parameters(keys, limit, values)).unique())
    return page_of(rows, keys, limit)
