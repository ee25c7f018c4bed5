"""Cursor (keyset) pagination: stable under concurrent inserts, one helper for every list."""
import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_
from sqlalchemy.orm import InstrumentedAttribute

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


def _encode(values: list[Any]) -> str:
    tagged = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(tagged, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_value(raw: Any, key: SortKey) -> Any:
    """One cursor value, checked against its column's type (a cursor is client input)."""
    expected = key.column.type.python_type
    value = datetime.fromisoformat(raw["t"]) if isinstance(raw, dict) else raw
    if expected is bool:
        valid = isinstance(value, bool)
    elif expected is float:
        valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif expected is int:
        valid = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
    elif expected is datetime:
        valid = isinstance(value, datetime) and value.tzinfo is not None
    else:
        valid = isinstance(value, expected)
    if not valid:
        raise ValueError("cursor value of the wrong type")
    return value


def _decode(cursor: str, keys: list[SortKey]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong width")
        return [_decode_value(raw, key) for raw, key in zip(values, keys)]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput({"cursor": ["Not a valid cursor."]}) from None


def _beyond(key: SortKey, value: Any) -> ColumnElement[bool]:
    """Rows past `value` on one key; booleans have no `<`, so False < True is spelled out."""
    if isinstance(value, bool):
        later = value if key.descending else not value  # the value that sorts after `value`
        return key.column.is_(not value) if later else false()
    return key.column < value if key.descending else key.column > value


def _after(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the (mixed-direction) order given by `keys`."""
    alternatives = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        alternatives.append(and_(*equal_prefix, _beyond(key, values[i])))
    return or_(*alternatives)


def paginate(statement: Select, keys: list[SortKey], limit: int, cursor: str | None) -> Page:
    """Run `statement` ordered by `keys` (the last key must be unique, e.g. the id)."""
    if cursor:
        statement = statement.where(_after(keys, _decode(cursor, keys)))
    order = [k.column.desc() if k.descending else k.column.asc() for k in keys]
    rows = list(db.session.scalars(statement.order_by(*order).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, k.column.key) for k in keys])
    return Page(items=rows, next_cursor=next_cursor)
