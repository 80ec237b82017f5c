"""The rows a push worker claims, and the database work around them: loading a claim with
what its pushes need, building the push message, recording outcomes (retried on a deadlock or a
busy database) and counting deliveries. `backend.notifications.worker` runs the loop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from backend.clock import SEOUL, utcnow
from backend.extensions import db
from backend.notifications import texts
from backend.notifications.fcm import MAX_TTL_SECONDS, PushMessage
from backend.notifications.models import (
    Announcement,
    DeliveryCounter,
    Device,
    Notification,
    OutboxMessage,
    OutboxStatus,
)

log = logging.getLogger(__name__)

#: Outcome recording is retried this many times on a deadlock or a busy database.
RECORD_TRIES = 3


@dataclass
class ClaimedPush:
    """A claimed outbox row with what its push needs."""

    id: str
    attempts: int
    created_at: datetime
    topic: str | None
    device_id: str | None
    notification_id: str | None
    announcement_id: str | None
    request_id: str | None = None
    token: str | None = None
    locale: str | None = None
    kind: str = ""
    category: str = ""
    title_ko: str = ""
    body_ko: str = ""
    title_en: str | None = None
    body_en: str | None = None
    link: str | None = None
    data: dict[str, Any] | None = None
    announcement_title: str = ""
    announcement_body: str = ""


def load_claimed(ids: Sequence[str]) -> list[ClaimedPush]:
    """The claimed rows with what a push needs (rows deleted meanwhile are simply absent).

    One primary-key lookup per table rather than one join: the planner would happily hash-join
    a batch of 500 against the whole (ever-growing) notifications table.
    """
    outbox = OutboxMessage.__table__
    rows = [
        ClaimedPush(**row._mapping)
        for row in db.session.execute(
            sa.select(
                outbox.c.id,
                outbox.c.attempts,
                outbox.c.created_at,
                outbox.c.topic,
                outbox.c.device_id,
                outbox.c.notification_id,
                outbox.c.announcement_id,
                outbox.c.request_id,
            ).where(outbox.c.id.in_(ids))
        )
    ]
    notification, device = Notification.__table__, Device.__table__
    announcement = Announcement.__table__
    notifications = _by_id(
        sa.select(
            notification.c.id,
            notification.c.kind,
            notification.c.category,
            notification.c.title_ko,
            notification.c.body_ko,
            notification.c.title_en,
            notification.c.body_en,
            notification.c.link,
            notification.c.data,
        ),
        notification.c.id,
        {row.notification_id for row in rows},
    )
    devices = _by_id(
        sa.select(device.c.id, device.c.token, device.c.locale),
        device.c.id,
        {row.device_id for row in rows},
    )
    announcements = _by_id(
        sa.select(
            announcement.c.id,
            announcement.c.title.label("announcement_title"),
            announcement.c.body.label("announcement_body"),
        ),
        announcement.c.id,
        {row.announcement_id for row in rows},
    )
    for row in rows:
        for found in (
            notifications.get(row.notification_id),
            devices.get(row.device_id),
            announcements.get(row.announcement_id),
        ):
            for name, value in (found or {}).items():
                if name != "id":
                    setattr(row, name, value)
    return rows


def _by_id(query: sa.Select, id_column: Any, ids: set[str | None]) -> dict[str, dict[str, Any]]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    found = db.session.execute(query.where(id_column.in_(wanted)))
    return {row.id: dict(row._mapping) for row in found}


def push_message(row: ClaimedPush, *, ttl: timedelta) -> PushMessage:
    seconds = max(0, min(MAX_TTL_SECONDS, int(ttl.total_seconds())))
    if row.topic is not None:
        # One message for every subscriber: the announcement's own (Korean) text.
        return PushMessage(
            message_id=row.id,
            token=None,
            topic=row.topic,
            title=row.announcement_title,
            body=row.announcement_body,
            data={
                "announcement_id": row.announcement_id,
                "kind": texts.ANNOUNCEMENT,
                "category": "announcements",
            },
            link=f"{texts.LINK_SCHEME}announcements/{row.announcement_id}",
            collapse_key=row.announcement_id,
            ttl=seconds,
        )
    title, body = texts.pick(
        english=texts.is_english(row.locale),
        title_ko=row.title_ko,
        body_ko=row.body_ko,
        title_en=row.title_en,
        body_en=row.body_en,
    )
    data = {str(key): str(value) for key, value in (row.data or {}).items()}
    data.update(
        notification_id=row.notification_id,
        kind=row.kind,
        category=str(getattr(row.category, "value", row.category)),
    )
    return PushMessage(
        message_id=row.id,
        token=row.token,
        title=title,
        body=body,
        data=data,
        link=row.link,
        collapse_key=row.notification_id,
        ttl=seconds,
    )


def finish_claimed(claim_id: str, ids: Sequence[str], status: OutboxStatus, **values: Any) -> int:
    """Set a final status on rows this claim still holds; returns how many."""
    if not ids:
        return 0
    outbox = OutboxMessage.__table__
    return (
        db.session.execute(
            sa.update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.claim_id == claim_id)
            .values(status=status.value, claimed_until=None, **values)
        ).rowcount
        or 0
    )


def update_each_claimed(claim_id: str, params: list[dict[str, Any]], **values: Any) -> int:
    """Update rows this claim still holds, one parameter set per row; returns how many."""
    outbox = OutboxMessage.__table__
    statement = (
        sa.update(outbox)
        .where(outbox.c.id == sa.bindparam("b_id"), outbox.c.claim_id == claim_id)
        .values(claimed_until=None, **values)
    )
    updated = 0
    for one in params:  # executemany's rowcount is not reliable across drivers
        updated += db.session.execute(statement, one).rowcount or 0
    return updated


def count_pushes(**metrics: int) -> None:
    """Add to today's (Asia/Seoul) delivery counters, creating them on first use."""
    day = utcnow().astimezone(SEOUL).date()
    table = DeliveryCounter.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for metric, count in sorted(metrics.items()):  # one order everywhere: no lock cycles
        if not count:
            continue
        statement = insert(table).values(day=day, metric=metric, count=count)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.day, table.c.metric],
                set_={"count": table.c.count + statement.excluded.count},
            )
        )


def in_transaction(work: Callable[[], Any]) -> Any:
    """Run `work` and commit; on a deadlock or a busy database, roll back and run it again."""
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except DBAPIError as error:
            db.session.rollback()
            if attempt == RECORD_TRIES or not _is_transient(error):
                raise
            log.info("recording push outcomes hit %s; trying again", type(error.orig).__name__)
    raise AssertionError("unreachable")


def _is_transient(error: DBAPIError) -> bool:
    code = getattr(error.orig, "pgcode", None)
    if code in ("40P01", "40001"):  # deadlock detected, serialization failure
        return True
    return "database is locked" in str(error.orig)


def clip(text: str | None, length: int = 500) -> str | None:
    """Fit a text into its column (an error message can be anything)."""
    return None if text is None else text[:length]
