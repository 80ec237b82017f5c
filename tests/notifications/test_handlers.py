"""Every catalogued domain event, published with its catalogued payload, notifies the right people.

These tests publish the events directly, with the payloads the publishing domains send, inside one
transaction: the inbox entry and the queued pushes commit with it. tests/test_end_to_end.py
follows some of them from the real publishers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from backend import events
from backend.extensions import db
from backend.notifications import handlers, texts
from backend.notifications.models import Category, Device, Notification, OutboxMessage

ID = "01JD8X7Q2M4N5P6R7S8T9V0W1X"
STARTS_AT = datetime(2026, 3, 5, 5, 0, tzinfo=UTC)  # 14:00 in Seoul


def _payload(event: str, user_id: str, municipality_id: str) -> dict[str, Any]:
    """The catalogued payload of each event (backend/events.py)."""
    who = {"user_id": user_id, "municipality_id": municipality_id}
    meeting = {"meeting_id": ID, "municipality_id": municipality_id, "title": "정기회의"}
    return {
        events.PARTICIPATION_CONFIRMED: {
            "participation_id": ID,
            **who,
            "project_id": ID,
            "activity_id": ID,
            "stage": "plan",
            "activity_kind": "workshop",
            "hours": 1.5,
            "confirmed_at": STARTS_AT,
            "actor_id": ID,
        },
        events.PARTICIPATION_RECORDED: {
            "participation_id": ID,
            **who,
            "project_id": ID,
            "activity_id": ID,
            "activity_title": "골목 안전 점검",
            "starts_at": STARTS_AT,
            "status": "registered",
            "actor_id": ID,
        },
        events.PARTICIPATION_REJECTED: {
            "participation_id": ID,
            **who,
            "project_id": ID,
            "activity_id": ID,
            "reason": "불참",
            "actor_id": ID,
        },
        events.REWARD_GRANTED: {
            "entry_id": ID,
            **who,
            "incentive": "points",
            "amount": 100,
            "reason": "워크숍 참여",
        },
        events.CERTIFICATE_ISSUED: {"certificate_id": ID, **who, "expires_at": STARTS_AT},
        events.CERTIFICATE_EXPIRING: {"certificate_id": ID, **who, "expires_at": STARTS_AT},
        events.CERTIFICATE_REVOKED: {"certificate_id": ID, **who, "reason": "부정 발급"},
        events.APPOINTMENT_CREATED: {
            "appointment_id": ID,
            **who,
            "committee_id": ID,
            "committee_name": "주민참여위원회",
            "role": "위원",
            "term_end": date(2027, 3, 1),
        },
        events.APPOINTMENT_TERM_ENDING: {
            "appointment_id": ID,
            **who,
            "committee_name": "주민참여위원회",
            "term_end": date(2027, 3, 1),
        },
        events.APPOINTMENT_DISMISSED: {
            "appointment_id": ID,
            **who,
            "committee_name": "주민참여위원회",
            "reason": "임기 중 이사",
        },
        events.MEETING_SCHEDULED: {**meeting, "starts_at": STARTS_AT, "user_ids": [user_id]},
        events.MEETING_CHANGED: {**meeting, "starts_at": STARTS_AT, "user_ids": [user_id]},
        events.MEETING_CANCELLED: {**meeting, "starts_at": STARTS_AT, "user_ids": [user_id]},
        events.MEETING_REMINDER: {**meeting, "starts_at": STARTS_AT, "user_ids": [user_id]},
        events.REGISTRATION_CONFIRMED: {
            "registration_id": ID,
            **meeting,
            "user_id": user_id,
            "starts_at": STARTS_AT,
        },
        events.REGISTRATION_PROMOTED: {
            "registration_id": ID,
            **meeting,
            "user_id": user_id,
            "starts_at": STARTS_AT,
        },
        events.DISPUTE_UPDATED: {
            "dispute_id": ID,
            "user_ids": [user_id],
            "municipality_id": municipality_id,
            "state": "accepted",
            "action": "accepted",
        },
        events.DISPUTE_HEARING_SCHEDULED: {
            "dispute_id": ID,
            "hearing_id": ID,
            "user_ids": [user_id],
            "municipality_id": municipality_id,
            "starts_at": STARTS_AT,
            "place": "행정안전부 회의실",
        },
        events.DISPUTE_DEADLINE_NEAR: {
            "dispute_id": ID,
            "user_ids": [user_id],
            "municipality_id": municipality_id,
            "deadline": date(2026, 3, 9),
        },
    }[event]


#: event -> (category, link path before the id, part of the Korean body, of the English body)
EXPECTED = {
    events.PARTICIPATION_CONFIRMED: (
        Category.PARTICIPATION,
        "participations",
        "1.5시간",
        "1.5 hours",
    ),
    events.PARTICIPATION_RECORDED: (
        Category.PARTICIPATION,
        "participations",
        "골목 안전 점검(2026-03-05 14:00)",
        "in 골목 안전 점검 (2026-03-05 14:00)",
    ),
    events.PARTICIPATION_REJECTED: (Category.PARTICIPATION, "participations", "불참", "불참"),
    events.REWARD_GRANTED: (Category.REWARDS, "rewards", "포인트 100", "points 100"),
    events.CERTIFICATE_ISSUED: (Category.CERTIFICATES, "certificates", "2026-03-05", "2026-03-05"),
    events.CERTIFICATE_EXPIRING: (
        Category.CERTIFICATES,
        "certificates",
        "2026-03-05",
        "2026-03-05",
    ),
    events.CERTIFICATE_REVOKED: (Category.CERTIFICATES, "certificates", "부정 발급", "부정 발급"),
    events.APPOINTMENT_CREATED: (Category.COMMITTEES, "appointments", "2027-03-01", "2027-03-01"),
    events.APPOINTMENT_TERM_ENDING: (
        Category.COMMITTEES,
        "appointments",
        "2027-03-01",
        "2027-03-01",
    ),
    events.APPOINTMENT_DISMISSED: (
        Category.COMMITTEES,
        "appointments",
        "임기 중 이사",
        "임기 중 이사",
    ),
    events.MEETING_SCHEDULED: (Category.MEETINGS, "meetings", "2026-03-05 14:00", "정기회의"),
    events.MEETING_CHANGED: (Category.MEETINGS, "meetings", "2026-03-05 14:00", "정기회의"),
    events.MEETING_CANCELLED: (Category.MEETINGS, "meetings", "2026-03-05 14:00", "정기회의"),
    events.MEETING_REMINDER: (Category.MEETINGS, "meetings", "2026-03-05 14:00", "정기회의"),
    events.REGISTRATION_CONFIRMED: (
        Category.MEETINGS,
        "registrations",
        "2026-03-05 14:00",
        "정기회의",
    ),
    events.REGISTRATION_PROMOTED: (
        Category.MEETINGS,
        "registrations",
        "2026-03-05 14:00",
        "정기회의",
    ),
    events.DISPUTE_UPDATED: (Category.PARTICIPATION, "disputes", "accepted", "accepted"),
    events.DISPUTE_HEARING_SCHEDULED: (
        Category.PARTICIPATION,
        "disputes",
        "2026-03-05 14:00 · 행정안전부 회의실",
        "2026-03-05 14:00",
    ),
    events.DISPUTE_DEADLINE_NEAR: (Category.PARTICIPATION, "disputes", "2026-03-09", "2026-03-09"),
}


def _catalogue() -> set[str]:
    return {
        value
        for name, value in vars(events).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }


def test_every_catalogued_event_has_a_handler_or_is_deliberately_silent(app):
    registry = app.extensions["event_handlers"]
    handled = {event for event, subscribed in registry.items() if subscribed}
    assert _catalogue() - handled - handlers.SILENT_EVENTS == set()
    assert set(EXPECTED) == set(texts.TEMPLATES)
    device_events = {events.SESSION_ENDED, events.USER_DELETED}
    assert set(EXPECTED) | device_events | handlers.SILENT_EVENTS == _catalogue()


@pytest.mark.parametrize("event", sorted(EXPECTED))
def test_event_puts_a_notification_in_the_inbox_and_queues_its_push(
    clock, create_user, create_device, municipality, publish, event
):
    user = create_user()
    device = create_device(user)
    bystander = create_user()
    create_device(bystander)
    category, link, korean, english = EXPECTED[event]

    publish(event, **_payload(event, user.id, municipality.id))

    notification = db.session.scalar(sa.select(Notification))
    assert notification.user_id == user.id
    assert (notification.kind, notification.category) == (event, category)
    assert notification.municipality_id == municipality.id
    assert notification.link == f"coproduction://{link}/{ID}"
    assert korean in notification.body_ko
    assert english in notification.body_en
    assert notification.title_ko and notification.title_en
    assert "{" not in notification.body_ko + notification.body_en
    assert all(isinstance(value, str) for value in notification.data.values())
    outbox = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [(row.notification_id, row.device_id) for row in outbox] == [
        (notification.id, device.id)
    ]
    assert outbox[0].due_at == clock.now


def test_meeting_events_notify_everyone_listed(
    clock, create_user, create_device, municipality, publish
):
    users = [create_user() for _ in range(3)]
    for user in users:
        create_device(user)
    payload = _payload(events.MEETING_CANCELLED, users[0].id, municipality.id)
    payload["user_ids"] = [user.id for user in users]

    publish(events.MEETING_CANCELLED, **payload)

    recipients = db.session.scalars(sa.select(Notification.user_id)).all()
    assert sorted(recipients) == sorted(user.id for user in users)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3


def test_a_rolled_back_change_leaves_no_notification(
    clock, create_user, create_device, municipality, count_rows
):
    user = create_user()
    create_device(user)

    events.publish(
        events.REWARD_GRANTED, **_payload(events.REWARD_GRANTED, user.id, municipality.id)
    )
    db.session.rollback()  # the request that granted the reward failed

    assert (count_rows(Notification), count_rows(OutboxMessage)) == (0, 0)


def test_session_ended_and_user_deleted_remove_devices(
    clock, create_user, create_device, publish, count_rows
):
    user = create_user()
    kept = create_device(user)
    ended = create_device(user)

    publish(events.SESSION_ENDED, session_id=ended.session_id, user_id=user.id)
    assert db.session.scalars(sa.select(Device.id)).all() == [kept.id]

    publish(events.USER_DELETED, user_id=user.id, actor_id=None)
    assert count_rows(Device) == 0


def test_unknown_incentive_and_missing_fields_still_read(clock):
    content = texts.render(events.REWARD_GRANTED, {"entry_id": ID, "incentive": "badge"})

    assert content.body_ko.startswith("badge")
    assert content.link == f"coproduction://rewards/{ID}"
