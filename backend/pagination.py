"""Cursor pagination over time-ordered ids: stable, newest first, bounded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backend.errors import ValidationFailed
from backend.extensions import db
from backend.ids import is_valid_id


@dataclass
class Page:
    """One page of a list and the cursor of the next, if any."""

    items: list[Any]
    next_cursor: str | None


def where_given(query: sa.Select, conditions: Mapping[Any, Any]) -> sa.Select:
    """Add `column == value` for every condition whose value was given (not None)."""
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    return query


def paginate(
    query: sa.Select, id_column: Any, *, limit: int, cursor: str | None, newest_first: bool = True
) -> Page:
    """Run `query` for one page ordered by its ULID column; the cursor is the last id seen."""
    if cursor is not None:
        if not is_valid_id(cursor):
            raise ValidationFailed("Invalid cursor.", fields={"cursor": ["Invalid cursor."]})
        query = query.where(id_column < cursor if newest_first else id_column > cursor)
    order = id_column.desc() if newest_first else id_column.asc()
    rows = list(db.session.scalars(query.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = getattr(rows[-1], id_column.key) if more and rows else None
    return Page(items=rows, next_cursor=last)
