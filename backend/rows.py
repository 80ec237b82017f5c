"""Reading rows as a caller may see them: one row by id, or a filtered page.

A row the caller may not see is answered exactly like a row that does not exist (404 with the
domain's code), so ids of other municipalities' rows reveal nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from backend.errors import NotFound
from backend.extensions import db
from backend.pagination import Page, paginate, where_given
from backend.permissions import can_see_row, scope_to_municipality

if TYPE_CHECKING:
    from backend.identity.models import User

T = TypeVar("T")


def get_visible(
    model: type[T],
    row_id: str,
    *,
    viewer: User | None,
    message: str,
    code: str,
    may_see: Callable[[User, T], bool] = can_see_row,
) -> T:
    """The row with that id if `may_see(viewer, row)` (by default: its municipality is the
    viewer's, or the viewer is national); otherwise NotFound. No viewer: no row-level rule."""
    row = db.session.get(model, row_id)
    if row is None or (viewer is not None and not may_see(viewer, row)):
        raise NotFound(message, code=code)
    return row


def list_page(
    model: Any,
    *,
    limit: int,
    cursor: str | None,
    viewer: User | None = None,
    filters: Mapping[Any, Any] | None = None,
    query: sa.Select | None = None,
    newest_first: bool = True,
) -> Page:
    """One page of `query` (all rows of the model by default), limited to the viewer's
    municipality when a viewer is given, with `column == value` for every filter given."""
    query = sa.select(model) if query is None else query
    if viewer is not None:
        query = scope_to_municipality(query, model, viewer)
    query = where_given(query, filters or {})
    return paginate(query, model.id, limit=limit, cursor=cursor, newest_first=newest_first)
