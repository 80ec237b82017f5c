"""Meetings: planning rules, changes and cancellation (events, SEQUENCE), minutes, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend import events
from backend.audit.models import AuditEntry
from backend.clock import utcnow
from backend.committees import services
from backend.committees.models import Meeting, MeetingStatus, Stage
from backend.errors import Conflict, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.permissions import Role


@pytest.fixture
def scheduler(create_user):
    return create_user(Role.SCHEDULER)


def _plan(**overrides):
    now = utcnow()
    plan = {
        "title": "제1차 회의",
        "agenda": "안건",
        "place": "구청 회의실",
        "starts_at": now + timedelta(days=10),
        "ends_at": now + timedelta(days=10, hours=2),
        "capacity": 20,
        "reserved_seats": 5,
        "priority_opens_at": now + timedelta(days=1),
        "general_opens_at": now + timedelta(days=3),
        "stage": Stage.PLAN,
    }
    plan.update(overrides)
    return plan


def test_scheduling_tells_the_members_and_is_audited(
    clock, scheduler, create_user, create_committee, create_appointment, create_project, published
):
    committee = create_committee(project_id=create_project().id)
    members = [create_user(), create_user()]
    for member in members:
        create_appointment(committee, member)
    meeting = services.create_meeting(actor=scheduler, committee=committee, **_plan())
    db.session.commit()
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.sequence == 0
    assert meeting.project_id == committee.project_id
    [payload] = published.of(events.MEETING_SCHEDULED)
    assert payload == {
        "meeting_id": meeting.id,
        "municipality_id": committee.municipality_id,
        "title": "제1차 회의",
        "starts_at": meeting.starts_at,
        "user_ids": sorted(m.id for m in members),
    }
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "meeting.create"))
    assert entry.actor_id == scheduler.id and entry.target_id == meeting.id


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"ends_at": datetime(2026, 3, 12, 1, tzinfo=UTC)}, "meeting_times_invalid", "ends_at"),
        ({"reserved_seats": 21}, "reserved_seats_exceed_capacity", "reserved_seats"),
        (
            {"general_opens_at": datetime(2026, 3, 2, 12, tzinfo=UTC)},
            "registration_windows_invalid",
            "general_opens_at",
        ),
        (
            {"general_opens_at": datetime(2026, 3, 12, 1, tzinfo=UTC)},
            "registration_windows_invalid",
            "general_opens_at",
        ),
        ({"place": None}, "meeting_location_required", "place"),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_written(
    clock, scheduler, create_committee, count_rows, change, code, field
):
    committee = create_committee()
    with pytest.raises(ValidationFailed) as caught:
        services.create_meeting(actor=scheduler, committee=committee, **_plan(**change))
    assert caught.value.code == code
    assert field in caught.value.fields
    assert count_rows(Meeting) == 0


def test_a_meeting_cannot_start_in_the_past(clock, scheduler, create_committee):
    now = utcnow()
    with pytest.raises(ValidationFailed) as caught:
        services.create_meeting(
            actor=scheduler,
            committee=create_committee(),
            **_plan(
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=1),
                priority_opens_at=now - timedelta(days=2),
                general_opens_at=now - timedelta(days=1),
            ),
        )
    assert caught.value.code == "meeting_in_past"


def test_an_online_meeting_needs_no_place(clock, scheduler, create_committee):
    meeting = services.create_meeting(
        actor=scheduler,
        committee=create_committee(),
        **_plan(place=None, online_url="https://meet.example.kr/abc"),
    )
    assert meeting.online_url == "https://meet.example.kr/abc"


def test_schedulers_of_another_municipality_are_refused(
    clock, create_user, create_committee, other_municipality
):
    foreign = create_user(Role.SCHEDULER, municipality=other_municipality)
    with pytest.raises(PermissionDenied):
        services.create_meeting(actor=foreign, committee=create_committee(), **_plan())


def test_a_change_raises_the_sequence_and_tells_registrants_and_members(
    clock,
    scheduler,
    create_user,
    create_committee,
    create_appointment,
    create_meeting,
    register,
    published,
):
    committee = create_committee()
    member = create_user()
    create_appointment(committee, member)
    meeting = create_meeting(committee)
    attendee = create_user()
    register(meeting, attendee)
    unchanged = services.update_meeting(actor=scheduler, meeting=meeting, title=meeting.title)
    assert unchanged.sequence == 0 and unchanged.status == MeetingStatus.SCHEDULED
    later = meeting.starts_at + timedelta(hours=1)
    changed = services.update_meeting(
        actor=scheduler, meeting=meeting, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    db.session.commit()
    assert changed.status == MeetingStatus.CHANGED and changed.sequence == 1
    [payload] = published.of(events.MEETING_CHANGED)
    assert payload["user_ids"] == sorted([member.id, attendee.id])
    assert payload["starts_at"] == later
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "meeting.update"))
    assert set(entry.details) == {"starts_at", "ends_at"}


def test_seat_changes_keep_the_rule(
    clock, scheduler, create_user, create_committee, create_meeting, register, published
):
    meeting = create_meeting(create_committee(), capacity=2)
    first, second, third = (create_user() for _ in range(3))
    for citizen in (first, second, third):
        register(meeting, citizen)
    with pytest.raises(RuleViolation) as caught:
        services.update_meeting(actor=scheduler, meeting=meeting, capacity=1)
    assert caught.value.code == "capacity_below_confirmed"
    db.session.rollback()
    with pytest.raises(RuleViolation) as caught:
        services.update_meeting(actor=scheduler, meeting=meeting, reserved_seats=1)
    assert caught.value.code == "reserved_seats_taken"
    db.session.rollback()
    services.update_meeting(actor=scheduler, meeting=meeting, capacity=3)
    db.session.commit()
    assert [p["user_id"] for p in published.of(events.REGISTRATION_PROMOTED)] == [third.id]
    assert meeting.counts == (3, 0)


def test_cancellation_tells_everyone_once_and_closes_the_meeting(
    clock, scheduler, create_user, create_committee, create_meeting, register, published
):
    meeting = create_meeting(create_committee(), capacity=1)
    confirmed, waiting = create_user(), create_user()
    register(meeting, confirmed)
    register(meeting, waiting)
    services.cancel_meeting(actor=scheduler, meeting=meeting, reason="태풍")
    db.session.commit()
    assert meeting.status == MeetingStatus.CANCELLED and meeting.sequence == 1
    [payload] = published.of(events.MEETING_CANCELLED)
    assert payload["user_ids"] == sorted([confirmed.id, waiting.id])
    with pytest.raises(Conflict) as caught:
        services.cancel_meeting(actor=scheduler, meeting=meeting, reason="again")
    assert caught.value.code == "meeting_cancelled"
    with pytest.raises(RuleViolation) as caught:
        services.update_meeting(actor=scheduler, meeting=meeting, title="다시")
    assert caught.value.code == "meeting_not_editable"
    with pytest.raises(RuleViolation) as caught:
        services.register_for_meeting(actor=create_user(), meeting=meeting)
    assert caught.value.code == "meeting_cancelled"


def test_minutes_after_the_start_make_the_meeting_held(
    clock, scheduler, create_committee, create_meeting
):
    meeting = create_meeting(create_committee())
    with pytest.raises(RuleViolation) as caught:
        services.attach_minutes(actor=scheduler, meeting=meeting, minutes="회의록")
    assert caught.value.code == "meeting_not_started"
    clock.set(meeting.ends_at)
    services.attach_minutes(
        actor=scheduler, meeting=meeting, minutes="회의록", minutes_url="https://x.example.kr/m"
    )
    db.session.commit()
    assert meeting.status == MeetingStatus.HELD and meeting.minutes == "회의록"
    with pytest.raises(RuleViolation):
        services.update_meeting(actor=scheduler, meeting=meeting, title="바뀜")


def test_reminders_go_once_to_confirmed_registrants(
    clock, app, create_user, create_committee, create_meeting, register, published
):
    committee = create_committee()
    soon = create_meeting(committee, capacity=1, starts_at=utcnow() + timedelta(hours=20))
    create_meeting(committee, starts_at=utcnow() + timedelta(days=3))
    confirmed, waiting = create_user(), create_user()
    register(soon, confirmed)
    register(soon, waiting)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["committees", "send-reminders", "--hours", "24"])
    assert result.exit_code == 0, result.output
    assert "1 meetings" in result.output
    [payload] = published.of(events.MEETING_REMINDER)
    assert payload["meeting_id"] == soon.id and payload["user_ids"] == [confirmed.id]
    runner.invoke(args=["committees", "send-reminders"])
    assert len(published.of(events.MEETING_REMINDER)) == 1


def test_demo_data_has_a_committee_with_a_chair_and_a_meeting_once(app, ctx, count_rows):
    from backend.committees.models import Appointment, Committee

    runner = app.test_cli_runner()
    for _ in range(2):
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert (count_rows(Committee), count_rows(Appointment), count_rows(Meeting)) == (1, 1, 1)
