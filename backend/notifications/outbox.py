"""Notifications: writing them. `notify_users` writes the inbox rows and, for each device whose
category is on, the push outbox rows, in the caller's transaction; the delivery worker
(`backend.notifications.worker`) sends the outbox after commit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend.clock import utcnow
from backend.extensions import db
from backend.identity.models import AuthSession, User
from backend.ids import new_id
from backend.notifications import texts
from backend.notifications.models import (
    Device,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)
from backend.notifications.recipients import push_due_at
from backend.operations.request_log import current_request_id

#: Users handled per query when fanning out (keeps IN lists short on every database).
_CHUNK = 500


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notify_users(
    *, user_ids: Iterable[str], content: texts.Content, municipality_id: str | None
) -> list[str]:
    """Put a notification in each user's inbox and queue its pushes; returns the new ids.

    Users that do not exist or were deleted are skipped. A push is queued for every device of
    a live login of an active user who has the category on, due at once or when their quiet
    hours end.
    """
    wanted = list(dict.fromkeys(user_ids))
    now = utcnow()
    created: list[str] = []
    for chunk in _chunks(wanted, _CHUNK):
        recipients = db.session.execute(
            sa.select(User.id, User.is_active, NotificationPreference)
            .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
            .where(User.id.in_(chunk), User.deleted_at.is_(None))
        ).all()
        if not recipients:
            continue
        devices: dict[str, list[str]] = {}
        for device_id, user_id in db.session.execute(
            sa.select(Device.id, Device.user_id)
            .join(AuthSession, AuthSession.id == Device.session_id)
            .where(
                Device.user_id.in_([user_id for user_id, active, _ in recipients if active]),
                *_live_login(now),
            )
        ):
            devices.setdefault(user_id, []).append(device_id)
        position = {user_id: index for index, user_id in enumerate(chunk)}
        inbox_rows, outbox_rows = _notification_rows(
            sorted(recipients, key=lambda row: position[row[0]]),
            devices,
            content,
            municipality_id,
            now,
        )
        created.extend(row["id"] for row in inbox_rows)
        db.session.execute(sa.insert(Notification), inbox_rows)
        if outbox_rows:
            db.session.execute(sa.insert(OutboxMessage), outbox_rows)
    return created


def _live_login(now: Any) -> tuple[sa.ColumnElement[bool], ...]:
    """A device receives pushes while the login that registered it lasts."""
    return (AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)


def _notification_rows(
    recipients: Iterable[tuple[str, bool, NotificationPreference | None]],
    devices: Mapping[str, Sequence[str]],
    content: texts.Content,
    municipality_id: str | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inbox rows for the recipients and outbox rows for the devices whose category is on."""
    inbox_rows, outbox_rows = [], []
    for user_id, _active, stored in recipients:
        notification_id = new_id()
        inbox_rows.append(_inbox_row(notification_id, user_id, content, municipality_id, now))
        # No stored settings: every category on, no quiet hours (the defaults).
        if stored is not None and not stored.allows(content.category):
            continue
        due_at = now if stored is None else push_due_at(preferences=stored, now=now)
        outbox_rows.extend(
            _outbox_row(due_at, now, notification_id=notification_id, device_id=device_id)
            for device_id in devices.get(user_id, ())
        )
    return inbox_rows, outbox_rows


def _inbox_row(
    notification_id: str,
    user_id: str,
    content: texts.Content,
    municipality_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": notification_id,
        "user_id": user_id,
        "municipality_id": municipality_id,
        "kind": content.kind,
        "category": content.category,
        "title_ko": content.title_ko,
        "body_ko": content.body_ko,
        "title_en": content.title_en,
        "body_en": content.body_en,
        "link": content.link,
        "data": dict(content.data),
        "created_at": now,
    }


def _outbox_row(due_at: datetime, now: datetime, **target: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "due_at": due_at,
        "created_at": now,
        # The request being served, or the one whose event the fan-out is handling (it binds
        # the event's id): the worker's lines about this push then name that request.
        "request_id": current_request_id(),
        **target,
    }


def count_queued_pushes() -> int:
    """Pushes waiting to be sent (pending in the outbox)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )


def purge_outbox(*, older_than: timedelta) -> int:
    """Delete finished outbox rows (sent, dead, skipped) older than this; returns how many."""
    result = db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.status != OutboxStatus.PENDING,
            OutboxMessage.created_at < utcnow() - older_than,
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0
