"""Parallel identical requests (a phone retries, two officials click at once) against the real
database, SQLite file or PostgreSQL: every read-decide-write is decided once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.identity.models import User
from backend.notifications.fanout import fan_out
from backend.notifications.models import Notification
from backend.participation import services as participation
from backend.participation.models import Activity, Participation, ProjectStage
from backend.permissions import Role
from backend.rewards import services as rewards
from backend.rewards.models import Incentive
from tests.concurrency import in_parallel

API = "/api/v1"

# Threads, each with its own connection: they must see committed rows (no test transaction).
pytestmark = pytest.mark.real_commits


def _stage(stage_id: str) -> ProjectStage:
    db.session.rollback()
    return db.session.get(ProjectStage, stage_id, populate_existing=True)


def _joined(create_activity, create_user, clock, *, people: int = 1, capacity=None):
    activity = create_activity(starts_at=clock.now + timedelta(hours=1), capacity=capacity)
    joined = []
    for _ in range(people):
        citizen = create_user(Role.CITIZEN)
        joined.append(participation.join_activity(actor=citizen, activity=activity))
    db.session.commit()
    return activity, joined


def test_twenty_parallel_confirmations_count_once(
    app, clock, as_role, create_activity, create_user
):
    _official, headers = as_role(Role.OFFICIAL)
    activity, (joined,) = _joined(create_activity, create_user, clock)
    stage_id, user_id = activity.stage_id, joined.user_id
    clock.advance(hours=2)
    before = _stage(stage_id)
    confirmed_before, hours_before = before.confirmed_count, before.confirmed_hours
    url = f"{API}/participations/{joined.id}/confirm"
    db.session.remove()

    responses = in_parallel(app, 20, lambda c, _s: c.post(url, json={"hours": 2}, headers=headers))

    assert [r.status_code for r in responses] == [200] * 20, [r.get_json() for r in responses]
    assert {r.json["status"] for r in responses} == {"confirmed"}
    stage = _stage(stage_id)
    assert stage.confirmed_count == confirmed_before + 1
    assert stage.confirmed_hours == hours_before + 2
    fan_out(limit=1000)  # the worker's step: events become inbox entries
    notices = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.kind.like("%confirmed%"))
    )
    assert notices == 1


def test_parallel_single_and_bulk_confirmations_count_each_participation_once(
    app, clock, as_role, create_activity, create_user
):
    _official, headers = as_role(Role.OFFICIAL)
    activity, joined = _joined(create_activity, create_user, clock, people=4)
    activity_id, stage_id = activity.id, activity.stage_id
    clock.advance(hours=2)
    ids = [p.id for p in joined]
    confirmed_before = _stage(stage_id).confirmed_count
    db.session.remove()

    def work(client, slot):
        if slot % 2:
            return client.post(
                f"{API}/activities/{activity_id}/participations/confirm",
                json={"participation_ids": ids, "hours": 1},
                headers=headers,
            )
        return client.post(
            f"{API}/participations/{ids[slot % 4]}/confirm", json={"hours": 1}, headers=headers
        )

    responses = in_parallel(app, 12, work)
    assert {r.status_code for r in responses} == {200}, [r.get_json() for r in responses]
    assert _stage(stage_id).confirmed_count == confirmed_before + 4


def test_parallel_cancellations_free_the_seat_once(app, clock, create_activity, create_user):
    activity, (joined, _other) = _joined(create_activity, create_user, clock, people=2, capacity=5)
    activity_id = activity.id
    assert db.session.get(Activity, activity_id).registered_count == 2
    from tests.fixtures.identity import auth_headers_for

    citizen = db.session.get(User, joined.user_id)
    headers = auth_headers_for(citizen)
    url = f"{API}/participations/{joined.id}/cancel"
    db.session.remove()

    responses = in_parallel(app, 10, lambda c, _s: c.post(url, json={}, headers=headers))

    assert {r.status_code for r in responses} == {200}, [r.get_json() for r in responses]
    db.session.rollback()
    assert db.session.get(Activity, activity_id, populate_existing=True).registered_count == 1


def test_twenty_parallel_redemptions_never_overdraw(app, as_role, create_user):
    official, headers = as_role(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    citizen_id = citizen.id
    rewards.grant_reward(
        actor=official, user=citizen, incentive=Incentive.POINTS, reason="시작 포인트", amount=50
    )
    db.session.commit()
    body = {"user_id": citizen.id, "incentive": "points", "amount": 10, "reason": "지역 상점 사용"}
    db.session.remove()

    responses = in_parallel(
        app, 20, lambda c, _s: c.post(f"{API}/rewards/redemptions", json=body, headers=headers)
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 5, 409: 15}, [r.get_json() for r in responses]
    assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {
        "insufficient_balance"
    }
    db.session.rollback()
    assert rewards.balance_of(user_id=citizen_id, incentive=Incentive.POINTS) == 0


def test_first_scans_of_a_meeting_on_two_workers_both_check_in(
    app, clock, as_role, create_committee, create_project, create_meeting, create_user, register
):
    project = create_project()
    committee = create_committee(project_id=project.id)
    meeting = create_meeting(committee, stage="plan", project_id=project.id)
    tickets = [register(meeting, create_user(Role.CITIZEN)).ticket for _ in range(6)]
    clock.set(meeting.starts_at)
    _scheduler, headers = as_role(Role.SCHEDULER)
    meeting_id = meeting.id
    url = f"{API}/meetings/{meeting_id}/check-in"
    db.session.remove()

    responses = in_parallel(
        app, 6, lambda c, slot: c.post(url, json={"ticket": tickets[slot]}, headers=headers)
    )

    assert [r.status_code for r in responses] == [200] * 6, [r.get_json() for r in responses]
    db.session.rollback()
    activities = db.session.scalars(
        sa.select(Activity).where(Activity.source_key == f"meeting:{meeting_id}")
    ).all()
    assert len(activities) == 1
    confirmed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Participation)
        .where(Participation.activity_id == activities[0].id)
    )
    assert confirmed == 6


def test_parallel_identical_dispute_moves_are_decided_once(app, analyst, file_dispute):
    from backend.audit.models import AuditEntry
    from tests.fixtures.identity import auth_headers_for

    dispute_id = file_dispute().id
    headers = auth_headers_for(analyst)
    url = f"{API}/disputes/{dispute_id}/accept"
    db.session.remove()

    responses = in_parallel(app, 10, lambda c, _s: c.post(url, json={}, headers=headers))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 9}, [r.get_json() for r in responses]
    db.session.rollback()
    audited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "dispute.accept", AuditEntry.target_id == dispute_id)
    )
    assert audited == 1


def test_a_first_preferences_change_sent_ten_times_at_once_succeeds(app, create_user):
    from tests.fixtures.identity import auth_headers_for

    headers = auth_headers_for(create_user(Role.CITIZEN))
    db.session.remove()

    responses = in_parallel(
        app,
        10,
        lambda c, _s: c.patch(
            f"{API}/me/notification-preferences", json={"rewards": False}, headers=headers
        ),
    )

    assert {r.status_code for r in responses} == {200}, [r.get_json() for r in responses]
    assert {r.json["rewards"] for r in responses} == {False}


def test_a_device_registration_retried_at_once_makes_one_device(app, create_user):
    from backend.notifications.models import Device
    from tests.fixtures.identity import auth_headers_for

    user = create_user(Role.CITIZEN)
    user_id = user.id
    headers = auth_headers_for(user)
    body = {"token": "fcm-token-1", "platform": "android", "app_version": "1.0.0", "locale": "ko"}
    db.session.remove()

    responses = in_parallel(
        app, 10, lambda c, _s: c.post(f"{API}/me/devices", json=body, headers=headers)
    )

    assert {r.status_code for r in responses} <= {200, 201}, [r.get_json() for r in responses]
    db.session.rollback()
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Device).where(Device.user_id == user_id)
    )
    assert count == 1


def test_parallel_revocations_of_one_certificate_revoke_once(
    app, as_role, create_user, create_certificate
):
    from backend.audit.models import AuditEntry

    certificate_id = create_certificate(create_user(Role.CITIZEN)).id
    _official, headers = as_role(Role.OFFICIAL)
    url = f"{API}/certificates/{certificate_id}/revoke"
    db.session.remove()

    responses = in_parallel(
        app, 10, lambda c, _s: c.post(url, json={"reason": "분실"}, headers=headers)
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 9}, [r.get_json() for r in responses]
    db.session.rollback()
    audited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "certificate.revoke", AuditEntry.target_id == certificate_id)
    )
    assert audited == 1


def test_parallel_calendar_feed_requests_leave_one_feed(app, create_user):
    from backend.committees.models import CalendarFeed
    from tests.fixtures.identity import auth_headers_for

    user = create_user(Role.CITIZEN)
    user_id = user.id
    headers = auth_headers_for(user)
    db.session.remove()

    responses = in_parallel(
        app, 10, lambda c, _s: c.post(f"{API}/me/calendar-feed", headers=headers)
    )

    assert {r.status_code for r in responses} <= {200, 201}, [r.get_json() for r in responses]
    db.session.rollback()
    feeds = db.session.scalar(
        sa.select(sa.func.count()).select_from(CalendarFeed).where(CalendarFeed.user_id == user_id)
    )
    assert feeds == 1
