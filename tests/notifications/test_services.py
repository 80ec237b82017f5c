"""Notification services without HTTP: devices, preferences, inbox, outbox, announcements."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import SEOUL, utcnow
from backend.errors import NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.ids import ID_PATTERN, new_id
from backend.notifications import services, texts
from backend.notifications.models import (
    Audience,
    DeliveryCounter,
    Device,
    Notification,
    OutboxMessage,
    Platform,
)
from backend.participation import services as participation
from backend.participation.models import Participation
from backend.permissions import Role


def register(user, session, token="token-a", **overrides):
    fields = {"platform": Platform.ANDROID, "app_version": "1.2.0", "locale": "ko-KR"}
    fields.update(overrides)
    registration = services.register_device(user=user, session_id=session.id, token=token, **fields)
    db.session.commit()
    return registration


# ---- devices --------------------------------------------------------------------------------


def test_register_then_refresh_keeps_one_device_per_login(
    create_user, create_session, municipality
):
    user = create_user()
    session = create_session(user)

    first = register(user, session, "token-a")
    again = register(user, session, "token-a", app_version="1.3.0")
    assert again.device.app_version == "1.3.0"
    refreshed = register(user, session, "token-b")

    assert first.created and not again.created and not refreshed.created
    assert first.topics == [f"municipality-{municipality.id}"]
    device = db.session.scalars(sa.select(Device)).one()
    assert (device.id, device.token, device.app_version) == (first.device.id, "token-b", "1.2.0")


def test_each_login_has_its_own_device(create_user, create_session):
    user = create_user()
    register(user, create_session(user), "phone")
    register(user, create_session(user), "tablet")

    assert sorted(db.session.scalars(sa.select(Device.token))) == ["phone", "tablet"]


def test_a_token_moves_to_the_login_that_registers_it(create_user, create_session):
    user = create_user()
    old_login, new_login = create_session(user), create_session(user)
    moved = register(user, old_login, "token-a")
    register(user, new_login, "token-b")

    register(user, new_login, "token-a")  # the app logged in again on the first phone

    device = db.session.scalars(sa.select(Device)).one()
    assert (device.id, device.session_id, device.token) == (
        moved.device.id,
        new_login.id,
        "token-a",
    )


def test_a_token_taken_over_by_another_user_drops_the_first_users_pushes(
    create_user, create_session, create_device, notify, count_rows
):
    first_user, second_user = create_user(), create_user()
    create_device(first_user, token="shared-phone")
    notify(first_user)
    assert count_rows(OutboxMessage) == 1

    registration = register(second_user, create_session(second_user), "shared-phone")

    assert registration.created
    assert registration.device.user_id == second_user.id
    assert count_rows(OutboxMessage) == 0  # nothing for the first user reaches this phone
    assert count_rows(Device) == 1


def test_delete_device_is_only_for_its_owner(create_user, create_device):
    owner, other = create_user(), create_user()
    device = create_device(owner)

    with pytest.raises(NotFound) as refused:
        services.delete_device(user=other, device_id=device.id)
    assert refused.value.code == "device_not_found"
    services.delete_device(user=owner, device_id=device.id)
    assert db.session.get(Device, device.id) is None


def test_only_citizens_with_announcements_on_get_the_municipality_topic(
    create_user, set_preferences, municipality
):
    citizen, official = create_user(), create_user(Role.OFFICIAL)

    assert services.topics_for(user=citizen) == [f"municipality-{municipality.id}"]
    assert services.topics_for(user=official) == []
    set_preferences(citizen, announcements=False)
    assert services.topics_for(user=citizen) == []


# ---- preferences ----------------------------------------------------------------------------


def test_preferences_default_to_everything_on(create_user):
    settings = services.preference_settings(user=create_user())

    assert all(
        getattr(settings, name)
        for name in ("participation", "rewards", "certificates", "committees", "meetings")
    )
    assert (settings.quiet_start_minute, settings.quiet_end_minute) == (None, None)


@pytest.mark.parametrize(
    "changes",
    [{"quiet_start_minute": 600}, {"quiet_start_minute": 600, "quiet_end_minute": 600}],
)
def test_quiet_hours_need_a_distinct_start_and_end(create_user, changes):
    with pytest.raises(ValidationFailed) as refused:
        services.update_preferences(user=create_user(), changes=changes)

    assert refused.value.code == "quiet_hours_invalid"


def test_quiet_hours_are_set_and_cleared(create_user):
    user = create_user()
    services.update_preferences(
        user=user, changes={"quiet_start_minute": 1320, "quiet_end_minute": 420}
    )
    cleared = services.update_preferences(
        user=user, changes={"quiet_start_minute": None, "quiet_end_minute": None, "rewards": False}
    )

    assert (cleared.quiet_start_minute, cleared.rewards) == (None, False)


@pytest.mark.parametrize(
    ("quiet", "now", "due"),
    [
        ((22 * 60, 7 * 60), (2026, 3, 2, 23, 30), (2026, 3, 3, 7, 0)),
        ((22 * 60, 7 * 60), (2026, 3, 3, 6, 0), (2026, 3, 3, 7, 0)),
        ((22 * 60, 7 * 60), (2026, 3, 3, 7, 0), None),
        ((22 * 60, 7 * 60), (2026, 3, 2, 21, 59), None),
        ((13 * 60, 14 * 60), (2026, 3, 2, 13, 15), (2026, 3, 2, 14, 0)),
        ((13 * 60, 14 * 60), (2026, 3, 2, 14, 0), None),
    ],
)
def test_push_due_at_is_the_end_of_the_quiet_hours_in_seoul(quiet, now, due):
    preferences = services.default_preferences("u")
    preferences.quiet_start_minute, preferences.quiet_end_minute = quiet
    moment = datetime(*now, tzinfo=SEOUL)

    result = services.push_due_at(preferences=preferences, now=moment)

    assert result == (datetime(*due, tzinfo=SEOUL) if due else moment)


# ---- inbox ----------------------------------------------------------------------------------


def test_inbox_pages_newest_first_and_counts_unread(clock, create_user, notify):
    user = create_user()
    for hours in (1, 2, 3):
        notify(user, hours=float(hours))

    first = services.list_inbox(user=user, limit=2, cursor=None, english=False)
    second = services.list_inbox(user=user, limit=2, cursor=first.next_cursor, english=False)

    assert [item.body for item in first.items + second.items] == [
        f"활동 참여 {hours}시간이 인정되었습니다." for hours in (3, 2, 1)
    ]
    assert second.next_cursor is None
    assert services.count_unread(user=user) == 3
    services.mark_read(user=user, notification_id=first.items[0].id, english=False)
    unread = services.list_inbox(user=user, limit=10, cursor=None, english=True, unread_only=True)
    assert [item.title for item in unread.items] == ["Participation confirmed"] * 2
    assert services.mark_all_read(user=user) == 2
    assert services.count_unread(user=user) == 0


def test_mark_read_is_idempotent_and_private(clock, create_user, notify):
    owner, other = create_user(), create_user()
    notify(owner)
    notification_id = db.session.scalar(sa.select(Notification.id))

    first = services.mark_read(user=owner, notification_id=notification_id, english=False)
    clock.advance(minutes=5)
    again = services.mark_read(user=owner, notification_id=notification_id, english=False)

    assert first.read_at == again.read_at
    with pytest.raises(NotFound):
        services.mark_read(user=other, notification_id=notification_id, english=False)


def test_pushes_go_only_to_devices_of_live_logins(
    clock, create_user, create_device, create_session, notify, count_rows
):
    user = create_user()
    live = create_device(user)
    create_device(user, session=create_session(user, revoked=True))
    create_device(user, session=create_session(user, expires_in=timedelta(seconds=-1)))

    notify(user)

    assert db.session.scalars(sa.select(OutboxMessage.device_id)).all() == [live.id]


def test_deactivated_accounts_get_the_inbox_entry_but_no_push(
    clock, create_user, create_device, notify, count_rows
):
    user = create_user()
    create_device(user)
    user.is_active = False
    db.session.commit()

    notify(user)

    assert (count_rows(Notification), count_rows(OutboxMessage)) == (1, 0)


def test_notify_users_skips_unknown_deleted_and_repeated_users(clock, create_user):
    alive, deleted = create_user(), create_user()
    deleted.deleted_at = utcnow()
    db.session.commit()
    content = texts.render("meeting.reminder", {"meeting_id": "M", "title": "회의"})

    created = services.notify_users(
        user_ids=[alive.id, new_id(), deleted.id, alive.id], content=content, municipality_id=None
    )
    db.session.commit()

    assert len(created) == 1
    assert db.session.scalars(sa.select(Notification.user_id)).all() == [alive.id]


# ---- announcements --------------------------------------------------------------------------


def test_municipality_announcement_reaches_every_citizen_inbox_and_one_topic(
    clock, create_user, municipality, other_municipality, notify
):
    official = create_user(Role.OFFICIAL)
    citizens = [create_user() for _ in range(3)]
    departed = create_user()
    departed.deleted_at = utcnow()
    create_user(municipality=other_municipality)
    db.session.commit()
    notify(citizens[0])  # an older notification

    announcement = services.create_announcement(
        actor=official, title="공지", body="본문", title_en="Notice", body_en="Body"
    )
    db.session.commit()

    assert announcement.audience is Audience.MUNICIPALITY
    assert announcement.recipient_count == 3
    entries = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "announcement")
    ).all()
    assert sorted(entry.user_id for entry in entries) == sorted(c.id for c in citizens)
    for entry in entries:
        assert re.match(ID_PATTERN, entry.id)
        assert entry.data == {"announcement_id": announcement.id}
        assert entry.created_at == clock.now
    # Both inbox rows may carry ids of the same millisecond, whose order ULIDs leave open.
    inbox = services.list_inbox(user=citizens[0], limit=10, cursor=None, english=True)
    assert ("announcement", "Notice", "Body") in [
        (item.kind, item.title, item.body) for item in inbox.items
    ]
    assert len(inbox.items) == 2
    topic = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [(row.announcement_id, row.topic, row.device_id) for row in topic] == [
        (announcement.id, f"municipality-{municipality.id}", None)
    ]
    audit = db.session.scalars(sa.select(AuditEntry)).one()
    assert (audit.action, audit.target_id, audit.details["recipients"]) == (
        "announcement.create",
        announcement.id,
        3,
    )


def test_project_announcement_reaches_its_participants_as_they_chose(
    clock,
    create_user,
    create_device,
    set_preferences,
    create_project,
    create_activity,
    official_for,
):
    official = create_user(Role.OFFICIAL)
    joined, quiet, cancelled, outsider = (create_user() for _ in range(4))
    for citizen in (joined, quiet, cancelled, outsider):
        create_device(citizen)
    set_preferences(quiet, announcements=False)
    project = create_project()
    workshop, survey = create_activity(project), create_activity(project, stage="decide")
    for citizen in (joined, quiet, cancelled):
        participation.join_activity(actor=citizen, activity=workshop)
    participation.record_participation(
        actor=official_for(project.municipality_id), activity=survey, user_id=quiet.id
    )
    [left] = db.session.scalars(
        sa.select(Participation).where(Participation.user_id == cancelled.id)
    )
    participation.cancel_participation(actor=cancelled, participation=left)
    db.session.commit()

    announcement = services.create_announcement(
        actor=official,
        title="현장 조사 안내",
        body="토요일 10시",
        project_id=project.id,
        participant_ids=participation.list_participant_ids(project_id=project.id),
    )
    db.session.commit()

    # `quiet` takes part twice and is told once; `cancelled` and `outsider` are not told.
    assert (announcement.audience, announcement.recipient_count) == (Audience.PROJECT, 2)
    told = sa.select(Notification.user_id).where(Notification.kind == "announcement")
    assert sorted(db.session.scalars(told)) == sorted([joined.id, quiet.id])
    pushes = db.session.execute(
        sa.select(Device.user_id)
        .join(OutboxMessage, OutboxMessage.device_id == Device.id)
        .join(Notification, Notification.id == OutboxMessage.notification_id)
        .where(Notification.kind == "announcement")
    ).scalars()
    assert list(pushes) == [joined.id]  # `quiet` switched announcements off: inbox only


def test_project_of_another_municipality_is_not_found(
    client, clock, create_user, other_municipality, create_project, auth_headers, table_counts
):
    official = create_user(Role.OFFICIAL)
    headers = auth_headers(official)
    theirs = create_project(other_municipality)
    before = table_counts()

    for project_id in (theirs.id, new_id()):
        response = client.post(
            "/api/v1/announcements",
            headers=headers,
            json={"title": "t", "body": "b", "project_id": project_id},
        )
        assert response.status_code == 404
        assert response.json["error"]["code"] == "project_not_found"
    assert table_counts() == before


def test_a_project_announcement_without_its_audience_is_a_programming_error(create_user):
    with pytest.raises(ValueError):
        services.create_announcement(
            actor=create_user(Role.OFFICIAL), title="t", body="b", project_id=new_id()
        )


def test_only_officials_announce(create_user):
    with pytest.raises(PermissionDenied):
        services.create_announcement(actor=create_user(Role.CITIZEN), title="t", body="b")


# ---- statistics -----------------------------------------------------------------------------


def test_stats_show_the_queue_and_the_daily_counters(
    clock, create_user, create_device, notify, deliver
):
    user = create_user()
    create_device(user)
    notify(user)
    deliver()
    notify(user)
    yesterday = (clock.now.astimezone(SEOUL) - timedelta(days=1)).date()
    db.session.add(DeliveryCounter(day=yesterday, metric="dead", count=2))
    db.session.commit()

    stats = services.delivery_stats(days=2, push_configured=False)

    assert (stats["queued"], stats["due"], stats["in_flight"], stats["devices"]) == (1, 1, 0, 1)
    assert stats["totals"] == {
        "sent": 1,
        "retried": 0,
        "dead": 2,
        "tokens_pruned": 0,
        "inbox_only": 0,
    }
    assert [(day["date"], day["sent"], day["dead"]) for day in stats["days"]] == [
        (clock.now.astimezone(SEOUL).date(), 1, 0),
        (yesterday, 0, 2),
    ]
