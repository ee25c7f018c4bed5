"""Cursor (keyset) pagination: stable under concurrent inserts, one helper for every list."""
import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_
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


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong width")
        return [datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in values]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput({"cursor": ["Not a valid cursor."]}) from None


def _after(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the (mixed-direction) order given by `keys`."""
    alternatives = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives)


def paginate(statement: Select, keys: list[SortKey], limit: int, cursor: str | None) -> Page:
    """Run `statement` ordered by `keys` (the last key must be unique, e.g. the id)."""
    if cursor:
        statement = statement.where(_after(keys, _decode(cursor, len(keys))))
    order = [k.column.desc() if k.descending else k.column.asc() for k in keys]
    rows = list(db.session.scalars(statement.order_by(*order).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, k.column.key) for k in keys])
    return Page(items=rows, next_cursor=next_cursor)
