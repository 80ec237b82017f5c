"""Events to notifications, after the request: the one place where a domain event becomes
inbox entries and queued pushes.

A request that publishes a notifying event writes one `notification_events` row (`queue`), in
its own transaction, instead of an inbox entry and outbox rows per recipient: every write path
stays small, and the notification rules (`backend.notifications.handlers.FAN_OUT`) run in one
place. The notification worker (`fan_out`, called by every delivery batch) claims events with a
DELETE ... RETURNING, writes their inbox entries and pushes, and commits both together: an event
is fanned out exactly once, and a worker killed mid-way leaves its events for the next one. The
inbox entry therefore appears a moment after the change (the worker's idle interval at most).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from backend.clock import utcnow
from backend.extensions import db
from backend.ids import new_id
from backend.notifications.models import NotificationEvent
from backend.operations.request_log import bind_request_id, current_request_id

log = logging.getLogger(__name__)

_EVENTS = NotificationEvent.__table__
_INSERT = sa.insert(_EVENTS)


def encode_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as JSON values; datetimes, dates and decimals tagged to read back as such."""
    return json.loads(json.dumps(payload, default=_tag))


def decode_payload(stored: dict[str, Any]) -> dict[str, Any]:
    """The payload as it was published (see `encode_payload`)."""
    return {key: _untag(value) for key, value in stored.items()}


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in an event payload")


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(text)
        if tag == "$date":
            return date.fromisoformat(text)
        if tag == "$decimal":
            return Decimal(text)
    if isinstance(value, list):
        return [_untag(item) for item in value]
    return value


def queue(kind: str) -> Callable[..., None]:
    """The subscriber that writes one event row of `kind`, in the publishing transaction."""

    def write_event(**payload: Any) -> None:
        db.session.execute(
            _INSERT,
            {
                "id": new_id(),
                "kind": kind,
                "payload": encode_payload(payload),
                # Carried to the worker: its lines and the pushes it queues name this request.
                "request_id": current_request_id(),
                "created_at": utcnow(),
            },
        )

    write_event.__name__ = f"queue_{kind.replace('.', '_')}"
    return write_event


def fan_out(*, limit: int = 500) -> int:
    """Turn up to `limit` waiting events into inbox entries and pushes, and commit; returns how
    many events were claimed.

    An event whose rule fails is logged (its id and kind, never its payload, which names
    people) and dropped (its savepoint rolled back), so one bad event cannot hold up every
    later one. Each event is handled under the id of the request that published it, so the
    lines logged meanwhile and the pushes it queues carry that id.
    """
    from backend.notifications.handlers import FAN_OUT

    oldest = sa.select(_EVENTS.c.id).order_by(_EVENTS.c.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    claim = (
        sa.delete(_EVENTS)
        .where(_EVENTS.c.id.in_(oldest.scalar_subquery()))
        .returning(_EVENTS.c.id, _EVENTS.c.kind, _EVENTS.c.payload, _EVENTS.c.request_id)
    )
    try:
        claimed = sorted(db.session.execute(claim).all())
        for event_id, kind, payload, request_id in claimed:
            with bind_request_id(request_id):
                _apply(FAN_OUT.get(kind), event_id, kind, payload)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(claimed)


def _apply(rule: Callable[..., None] | None, event_id: str, kind: str, payload: Any) -> None:
    """Run one event's rule in a savepoint; a failure is logged and the event dropped."""
    if rule is None:
        log.error("notification event %s of unknown kind %r dropped", event_id, kind)
        return
    try:
        with db.session.begin_nested():
            rule(**decode_payload(payload))
    except Exception:
        log.exception("notification event %s (%s) failed", event_id, kind)
