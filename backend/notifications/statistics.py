"""Notifications: delivery statistics (the outbox's state and the workers' daily counters)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from backend.clock import SEOUL, utcnow
from backend.extensions import db
from backend.notifications.models import (
    DeliveryCounter,
    Device,
    OutboxMessage,
    OutboxStatus,
)

#: Counters the workers keep per day (see backend.notifications.worker).
METRICS = ("sent", "retried", "dead", "tokens_pruned", "inbox_only")


def delivery_stats(*, days: int, push_configured: bool) -> dict[str, Any]:
    """The outbox now (queued, due, in flight) and the workers' totals, overall and per day."""
    now = utcnow()
    pending = OutboxMessage.status == OutboxStatus.PENDING
    claimed = sa.and_(OutboxMessage.claimed_until.is_not(None), OutboxMessage.claimed_until > now)
    queued, due, in_flight = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.case((sa.and_(OutboxMessage.due_at <= now, ~claimed), 1))),
            sa.func.count(sa.case((claimed, 1))),
        ).where(pending)
    ).one()
    totals = dict.fromkeys(METRICS, 0)
    for metric, count in db.session.execute(
        sa.select(DeliveryCounter.metric, sa.func.sum(DeliveryCounter.count)).group_by(
            DeliveryCounter.metric
        )
    ):
        totals[metric] = int(count or 0)
    today = now.astimezone(SEOUL).date()
    first = today - timedelta(days=days - 1)
    by_day: dict[date, dict[str, Any]] = {
        first + timedelta(days=n): dict.fromkeys(METRICS, 0) for n in range(days)
    }
    for day, metric, count in db.session.execute(
        sa.select(DeliveryCounter.day, DeliveryCounter.metric, DeliveryCounter.count).where(
            DeliveryCounter.day >= first
        )
    ):
        if day in by_day:
            by_day[day][metric] = int(count)
    return {
        "push_configured": push_configured,
        "devices": db.session.scalar(sa.select(sa.func.count()).select_from(Device)) or 0,
        "queued": queued,
        "due": due,
        "in_flight": in_flight,
        "totals": totals,
        "days": [{"date": day, **counts} for day, counts in sorted(by_day.items(), reverse=True)],
    }
