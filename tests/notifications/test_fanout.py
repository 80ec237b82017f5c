"""Events become inbox entries in the notification worker: the request writes one event row,
the worker fans it out once, a failing rule holds up nobody else."""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import events
from backend.clock import SEOUL, utcnow
from backend.extensions import db
from backend.notifications import fanout, handlers
from backend.notifications.models import Notification, NotificationEvent, OutboxMessage
from backend.notifications.worker import DeliveryWorker
from backend.operations.request_log import bind_request_id


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _payload(user, **extra):
    return {
        "entry_id": "01JD8X7Q2M4N5P6R7S8T9V0W1X",
        "user_id": user.id,
        "municipality_id": user.municipality_id,
        "incentive": "points",
        "amount": 100,
        "reason": "participation",
        **extra,
    }


def test_payload_values_read_back_as_published():
    payload = {
        "at": datetime(2026, 3, 2, 10, 30, tzinfo=SEOUL),
        "day": date(2026, 3, 2),
        "hours": 1.5,
        "amount": Decimal("12.50"),
        "user_ids": ("a", "b"),
        "nested": {"plain": "dict"},
        "none": None,
    }
    stored = fanout.encode_payload(payload)
    assert fanout.decode_payload(stored) == {**payload, "user_ids": ["a", "b"]}


def test_a_request_writes_one_event_row_and_no_inbox_entry(ctx, create_user, create_device):
    user = create_user()
    create_device(user)
    events.publish(events.REWARD_GRANTED, **_payload(user))
    db.session.commit()
    assert (_count(NotificationEvent), _count(Notification), _count(OutboxMessage)) == (1, 0, 0)
    assert fanout.fan_out() == 1
    assert (_count(NotificationEvent), _count(Notification), _count(OutboxMessage)) == (0, 1, 1)
    assert fanout.fan_out() == 0  # once only
    assert _count(Notification) == 1


def test_the_delivery_worker_fans_out_even_with_push_off(ctx, create_user):
    user = create_user()
    events.publish(events.REWARD_GRANTED, **_payload(user))
    db.session.commit()
    report = DeliveryWorker(sender=None).drain()
    assert report.events == 1
    (notice,) = db.session.scalars(sa.select(Notification)).all()
    assert (notice.user_id, notice.kind) == (user.id, events.REWARD_GRANTED)


def test_a_failure_while_fanning_out_leaves_the_events_for_the_next_worker(
    ctx, create_user, monkeypatch
):
    user = create_user()
    events.publish(events.REWARD_GRANTED, **_payload(user))
    db.session.commit()

    def crash(**_kwargs):
        raise KeyboardInterrupt  # the worker is stopped mid-way: nothing is committed

    monkeypatch.setitem(handlers.FAN_OUT, events.REWARD_GRANTED, crash)
    with pytest.raises(KeyboardInterrupt):
        fanout.fan_out()
    assert (_count(NotificationEvent), _count(Notification)) == (1, 0)
    monkeypatch.undo()
    assert fanout.fan_out() == 1
    assert _count(Notification) == 1


def test_a_failing_rule_drops_its_event_only(ctx, create_user, monkeypatch, caplog):
    first, second = create_user(), create_user()
    with bind_request_id("req-7"):  # as in the request that published it
        events.publish(events.CERTIFICATE_ISSUED, **_payload(first, expires_at=utcnow()))
    events.publish(events.REWARD_GRANTED, **_payload(second))
    db.session.commit()

    def broken(**_kwargs):
        raise ValueError("a bug in a rule")

    monkeypatch.setitem(handlers.FAN_OUT, events.CERTIFICATE_ISSUED, broken)
    assert fanout.fan_out() == 2
    (notice,) = db.session.scalars(sa.select(Notification)).all()
    assert notice.user_id == second.id
    assert _count(NotificationEvent) == 0
    (failed,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert "certificate.issued" in failed.getMessage()
    # Its id and kind, not its payload (which names the person), under its request's id.
    assert first.id not in caplog.text
    assert failed.request_id == "req-7"


def test_the_fan_out_command_fills_the_inbox_without_a_push_worker(app, ctx, create_user):
    user = create_user()
    events.publish(events.REWARD_GRANTED, **_payload(user))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "fan-out", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 events" in result.output
    assert (_count(NotificationEvent), _count(Notification)) == (0, 1)
