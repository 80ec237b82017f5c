"""The one helper staff-facing views call when their answer holds citizens' personal data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response, g, request

from backend.api.auth import current_caller
from backend.api.reports import csv_response
from backend.identity.models import User
from backend.privacy.access import record_access
from backend.privacy.models import AccessAction


def log_access(
    action: AccessAction,
    resource: str,
    subject_ids: Iterable[str],
    *,
    resource_id: str | None = None,
    reason: str | None = None,
    actor: User | None = None,
) -> None:
    """Record that the caller (if staff) read, exported, changed or deleted these people's data,
    from this request's address; an export without a reason is refused. A GET commits the
    record (the transaction hook commits reads only when one was written). `actor` is the
    API's caller unless given (the console names its signed-in user)."""
    written = record_access(
        actor=actor or current_caller(),
        # The client's address as werkzeug's ProxyFix set it (TRUSTED_PROXY_COUNT).
        address=request.remote_addr or "unknown",
        action=action,
        resource=resource,
        subject_ids=subject_ids,
        resource_id=resource_id,
        reason=reason,
    )
    if written is not None:
        g.access_recorded = True


def user_ids(items: Iterable[Any], attribute: str = "user_id") -> list[str]:
    """The citizens' ids of a page's items."""
    return [getattr(item, attribute) for item in items]


def export_csv(
    items: Iterable[Any],
    schema: Any,
    columns: Sequence[str],
    filename: str,
    *,
    resource: str,
    resource_id: str | None = None,
    reason: str | None,
    subject_attribute: str = "user_id",
) -> Response:
    """A staff list as CSV: dumped with the same schema as its JSON (so masked the same way),
    recorded as an export with its reason (refused without one)."""
    items = list(items)
    log_access(
        AccessAction.EXPORT,
        resource,
        user_ids(items, subject_attribute),
        resource_id=resource_id,
        reason=reason,
    )
    rows = []
    for dumped in schema.dump(items, many=True):
        row = []
        for column in columns:
            value: Any = dumped
            for part in column.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            row.append(value)
        rows.append(row)
    return csv_response(columns, rows, filename)
