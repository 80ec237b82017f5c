"""Joining, capacity, check-in codes, the state machine, events, history and statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend import events
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.participation import checkin, services
from backend.participation.models import (
    Activity,
    Participation,
    ParticipationStatus,
    ProjectStage,
)
from backend.permissions import Role

PS = ParticipationStatus


@pytest.fixture
def published(app):
    """Record the events published during the test: [(name, payload), ...]."""
    seen: list[tuple[str, dict]] = []
    handlers = []
    with app.app_context():
        for name in (events.PARTICIPATION_CONFIRMED, events.PARTICIPATION_REJECTED):
            handler = (lambda n: lambda **payload: seen.append((n, payload)))(name)
            events.subscribe(name, handler)
            handlers.append((name, handler))
    yield seen
    for name, handler in handlers:
        app.extensions["event_handlers"][name].remove(handler)


def _refresh(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def test_joining_respects_capacity(create_activity, create_user):
    activity = create_activity(capacity=2)
    first, second, third = (create_user(Role.CITIZEN) for _ in range(3))
    services.join_activity(actor=first, activity=activity)
    services.join_activity(actor=second, activity=activity)
    db.session.commit()
    with pytest.raises(RuleViolation) as error:
        services.join_activity(actor=third, activity=activity)
    assert error.value.code == "activity_full"
    db.session.rollback()
    assert _refresh(activity).registered_count == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 2


def test_cancel_frees_the_seat_and_the_citizen_may_join_again(create_activity, create_user):
    activity = create_activity(capacity=1)
    citizen, other = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    participation = services.join_activity(actor=citizen, activity=activity)
    db.session.commit()
    services.cancel_participation(actor=citizen, participation=participation)
    db.session.commit()
    assert _refresh(activity).registered_count == 0
    services.join_activity(actor=other, activity=_refresh(activity))
    db.session.commit()
    with pytest.raises(RuleViolation) as error:  # the seat went to the other citizen
        services.join_activity(actor=citizen, activity=_refresh(activity))
    assert error.value.code == "activity_full"


def test_joining_twice_is_a_conflict(create_activity, create_user):
    activity = create_activity()
    citizen = create_user(Role.CITIZEN)
    services.join_activity(actor=citizen, activity=activity)
    with pytest.raises(RuleViolation) as error:
        services.join_activity(actor=citizen, activity=activity)
    assert error.value.code == "already_joined"


def test_citizens_cannot_join_another_municipalitys_activity(
    create_activity, create_user, other_municipality
):
    activity = create_activity()
    stranger = create_user(Role.CITIZEN, municipality=other_municipality)
    with pytest.raises(NotFound):
        services.get_activity(viewer=stranger, activity_id=activity.id)
    with pytest.raises(NotFound):
        services.join_activity(actor=stranger, activity=activity)


def test_draft_projects_take_no_participants(create_project, create_activity, create_user):
    activity = create_activity(create_project(status="completed"))
    with pytest.raises(RuleViolation) as error:
        services.join_activity(actor=create_user(Role.CITIZEN), activity=activity)
    assert error.value.code == "project_not_open"


def test_check_in_code_rotates_and_accepts_the_previous_window(create_activity, app, clock):
    activity = create_activity(starts_at=clock.now + timedelta(minutes=10))
    now = clock.now
    current = checkin.current_code(
        activity_id=activity.id, now=now, starts_at=activity.starts_at, ends_at=activity.ends_at
    )
    assert len(current.code) == 6 and current.code.isdigit()
    assert current.valid_from <= now < current.expires_at
    assert (current.expires_at - current.valid_from).total_seconds() == 60
    assert checkin.code_is_valid(activity_id=activity.id, code=current.code, now=now)
    assert checkin.code_is_valid(
        activity_id=activity.id, code=current.code, now=current.expires_at + timedelta(seconds=30)
    )
    assert not checkin.code_is_valid(
        activity_id=activity.id, code=current.code, now=current.expires_at + timedelta(seconds=61)
    )
    later = checkin.current_code(
        activity_id=activity.id,
        now=now + timedelta(minutes=5),
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
    )
    assert later.code != current.code or later.valid_from != current.valid_from
    other = checkin.code_for_window(activity.id + "X", 1)
    assert other != checkin.code_for_window(activity.id, 1)


def test_check_in_works_once_near_the_activity_time(official, create_activity, create_user, clock):
    activity = create_activity(starts_at=clock.now + timedelta(hours=2))
    citizen = create_user(Role.CITIZEN)
    services.join_activity(actor=citizen, activity=activity)
    db.session.commit()

    code = services.get_check_in_code(actor=official, activity=activity).code
    with pytest.raises(RuleViolation) as error:  # two hours early
        services.check_in(actor=citizen, activity=activity, code=code)
    assert error.value.code == "check_in_closed"

    clock.advance(minutes=95)  # 25 minutes before the start
    with pytest.raises(ValidationFailed) as error:
        services.check_in(actor=citizen, activity=activity, code=code)  # expired long ago
    assert error.value.code == "check_in_code_invalid"
    code = services.get_check_in_code(actor=official, activity=activity).code
    participation = services.check_in(actor=citizen, activity=activity, code=code)
    db.session.commit()
    assert participation.status == PS.ATTENDED and participation.attended_at == clock.now
    with pytest.raises(RuleViolation) as error:
        services.check_in(actor=citizen, activity=activity, code=code)
    assert error.value.code == "already_checked_in"

    stranger = create_user(Role.CITIZEN)
    with pytest.raises(RuleViolation) as error:
        services.check_in(actor=stranger, activity=activity, code=code)
    assert error.value.code == "not_registered"


def test_confirm_publishes_the_event_and_twice_changes_nothing(
    official, create_activity, create_user, clock, published
):
    activity = create_activity(starts_at=clock.now - timedelta(hours=2), hours=3, kind="meeting")
    citizen = create_user(Role.CITIZEN)
    participation = services.record_participation(
        actor=official, activity=activity, user_id=citizen.id, attended=True
    )
    services.confirm_participation(actor=official, participation=participation)
    db.session.commit()
    assert participation.status == PS.CONFIRMED and participation.hours == 3.0
    assert published == [
        (
            events.PARTICIPATION_CONFIRMED,
            {
                "participation_id": participation.id,
                "user_id": citizen.id,
                "municipality_id": citizen.municipality_id,
                "project_id": activity.project_id,
                "activity_id": activity.id,
                "stage": "plan",
                "activity_kind": "meeting",
                "hours": 3.0,
                "confirmed_at": clock.now,
                "actor_id": official.id,
            },
        )
    ]

    services.confirm_participation(actor=official, participation=participation, hours=9)
    db.session.commit()
    stage = db.session.get(ProjectStage, activity.stage_id)
    assert (stage.confirmed_count, stage.confirmed_hours) == (1, 3.0)
    assert _refresh(participation).hours == 3.0
    assert len(published) == 1


def test_illegal_moves_name_the_allowed_ones(
    official, create_activity, create_user, clock, published
):
    activity = create_activity(starts_at=clock.now - timedelta(hours=3))
    citizen = create_user(Role.CITIZEN)
    participation = services.record_participation(
        actor=official, activity=activity, user_id=citizen.id, attended=True
    )
    services.reject_participation(actor=official, participation=participation, reason="대리 출석")
    db.session.commit()
    assert published[-1][0] == events.PARTICIPATION_REJECTED
    assert published[-1][1]["reason"] == "대리 출석"
    with pytest.raises(RuleViolation) as error:
        services.confirm_participation(actor=official, participation=participation)
    assert error.value.code == "illegal_transition"
    assert error.value.fields == {"status": ["Allowed moves from rejected: none."]}

    other = services.record_participation(
        actor=official, activity=activity, user_id=create_user(Role.CITIZEN).id, attended=True
    )
    with pytest.raises(RuleViolation) as error:
        services.cancel_participation(actor=official, participation=other)
    assert error.value.fields == {"status": ["Allowed moves from attended: confirmed, rejected."]}
    assert error.value.details["allowed"] == ["confirmed", "rejected"]


def test_confirming_before_the_activity_starts_is_refused(official, create_activity, create_user):
    activity = create_activity()  # tomorrow
    participation = services.record_participation(
        actor=official, activity=activity, user_id=create_user(Role.CITIZEN).id
    )
    with pytest.raises(RuleViolation) as error:
        services.confirm_participation(actor=official, participation=participation)
    assert error.value.code == "activity_not_started"


def test_no_show_only_after_the_end(official, create_activity, create_user, clock):
    activity = create_activity(starts_at=clock.now - timedelta(hours=1), hours=2)
    participation = services.record_participation(
        actor=official, activity=activity, user_id=create_user(Role.CITIZEN).id
    )
    with pytest.raises(RuleViolation) as error:
        services.mark_no_show(actor=official, participation=participation)
    assert error.value.code == "activity_not_ended"
    clock.advance(hours=2)
    services.mark_no_show(actor=official, participation=participation)
    db.session.commit()
    assert participation.status == PS.NO_SHOW
    assert _refresh(activity).registered_count == 0


def test_bulk_confirm_is_all_or_nothing(official, create_activity, create_user, clock, published):
    activity = create_activity(starts_at=clock.now - timedelta(hours=2), hours=2)
    people = [create_user(Role.CITIZEN) for _ in range(3)]
    attended = [
        services.record_participation(
            actor=official, activity=activity, user_id=p.id, attended=True
        )
        for p in people[:2]
    ]
    rejected = services.record_participation(
        actor=official, activity=activity, user_id=people[2].id
    )
    services.reject_participation(actor=official, participation=rejected, reason="중복")
    db.session.commit()
    published.clear()

    with pytest.raises(RuleViolation):
        services.confirm_activity_participations(
            actor=official, activity=activity, participation_ids=[attended[0].id, rejected.id]
        )
    db.session.rollback()
    assert {_refresh(p).status for p in attended} == {PS.ATTENDED}
    assert published == []

    done = services.confirm_activity_participations(actor=official, activity=activity, hours=1.5)
    db.session.commit()
    assert {p.id for p in done} == {p.id for p in attended}
    assert {p.status for p in done} == {PS.CONFIRMED}
    stage = db.session.get(ProjectStage, activity.stage_id)
    assert (stage.confirmed_count, stage.confirmed_hours) == (2, 3.0)
    assert len(published) == 2
    # Again: nothing attended is left, nothing moves.
    assert services.confirm_activity_participations(actor=official, activity=activity) == []


def test_history_summary_and_stats(
    record_confirmed_participation, create_activity, create_user, clock
):
    citizen = create_user(Role.CITIZEN)
    old = record_confirmed_participation(
        citizen, stage="plan", when=clock.now - timedelta(days=400)
    )
    record_confirmed_participation(
        citizen, stage="plan", when=clock.now - timedelta(days=10), hours=3
    )
    record_confirmed_participation(citizen, stage="evaluate", hours=1.5)
    upcoming = create_activity(stage="decide")
    services.join_activity(actor=citizen, activity=upcoming)
    db.session.commit()

    stats = services.confirmed_participation_stats(
        user_id=citizen.id, since=clock.now - timedelta(days=365)
    )
    assert stats.total == 2
    assert stats.by_stage == {"plan": 1, "decide": 0, "implement": 0, "evaluate": 1}
    assert stats.hours == 4.5
    everything = services.confirmed_participation_stats(
        user_id=citizen.id, since=old.activity_starts_at
    )
    assert everything.total == 3

    summary = services.participation_summary(user=citizen)
    assert (summary.total, summary.confirmed, summary.hours) == (4, 3, 6.5)
    by_stage = {s.stage.value: s for s in summary.stages}
    assert by_stage["plan"].confirmed == 2 and by_stage["plan"].hours == 5.0
    assert by_stage["decide"].by_status["registered"] == 1
    assert by_stage["implement"].total == 0

    page = services.list_my_participations(user=citizen, limit=2, cursor=None)
    assert len(page.items) == 2 and page.next_cursor is not None
    assert page.items[0].activity.id == upcoming.id
    rest = services.list_my_participations(user=citizen, limit=10, cursor=page.next_cursor)
    assert len(rest.items) == 2 and rest.next_cursor is None


def test_record_participation_only_for_citizens_of_the_municipality(
    official, create_activity, create_user, other_municipality
):
    activity = create_activity()
    for user in (
        create_user(Role.CITIZEN, municipality=other_municipality),
        create_user(Role.OFFICIAL),
    ):
        with pytest.raises(NotFound) as error:
            services.record_participation(actor=official, activity=activity, user_id=user.id)
        assert error.value.code == "user_not_found"


def test_seat_counter_survives_concurrent_style_updates(official, create_activity, create_user):
    activity = create_activity(capacity=1)
    services.record_participation(
        actor=official, activity=activity, user_id=create_user(Role.CITIZEN).id
    )
    # A stale copy of the activity (loaded before the seat was taken) still cannot overbook.
    stale = Activity(
        id=activity.id, capacity=1, registered_count=0, municipality_id=activity.municipality_id
    )
    with pytest.raises(RuleViolation):
        services._take_seat(stale)


def test_a_checked_in_meeting_becomes_a_confirmed_participation(
    app, create_project, create_user, clock, published
):
    project = create_project()
    citizen = create_user(Role.CITIZEN)
    payload = {
        "registration_id": "R1",
        "meeting_id": "01JD8X7Q2M4N5P6R7S8T9V0W1X",
        "user_id": citizen.id,
        "municipality_id": project.municipality_id,
        "project_id": project.id,
        "stage": "decide",
        "title": "시민위원회 정기회의",
        "starts_at": clock.now - timedelta(hours=1),
        "ends_at": clock.now + timedelta(hours=1),
        "actor_id": None,
    }
    events.publish(events.MEETING_ATTENDED, **payload)
    events.publish(events.MEETING_ATTENDED, **payload)  # a second delivery changes nothing
    db.session.commit()
    (participation,) = db.session.scalars(sa.select(Participation)).all()
    assert (participation.status, participation.stage.value, participation.hours) == (
        PS.CONFIRMED,
        "decide",
        2.0,
    )
    assert participation.activity.kind.value == "meeting"
    stage = db.session.get(ProjectStage, participation.stage_id)
    assert (stage.mode.value, stage.confirmed_count) == ("citizen", 1)
    assert [name for name, _ in published] == [events.PARTICIPATION_CONFIRMED]
    # Meetings without a project stage are not participations.
    events.publish(events.MEETING_ATTENDED, **{**payload, "meeting_id": "X", "project_id": None})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 1


def test_a_rejected_citizen_cannot_join_again(official, create_activity, create_user):
    activity = create_activity()
    citizen = create_user(Role.CITIZEN)
    participation = services.join_activity(actor=citizen, activity=activity)
    services.reject_participation(actor=official, participation=participation, reason="중복 신청")
    db.session.commit()
    with pytest.raises(RuleViolation) as error:
        services.join_activity(actor=citizen, activity=activity)
    assert error.value.code == "illegal_transition"
    assert error.value.fields == {"status": ["Allowed moves from rejected: none."]}


def test_activities_of_unpublished_projects_are_hidden_from_citizens(
    official, create_project, create_activity, create_user
):
    citizen = create_user(Role.CITIZEN)
    for project in (create_project(status="draft"), create_project(visibility="private")):
        activity = create_activity(project)
        with pytest.raises(NotFound):
            services.get_activity(viewer=citizen, activity_id=activity.id)
        assert services.get_activity(viewer=official, activity_id=activity.id) is activity


def test_participant_ids_are_the_people_holding_a_seat_in_the_project(
    clock, create_user, create_project, create_activity, official_for
):
    project, elsewhere = create_project(), create_project()
    official = official_for(project.municipality_id)
    past = clock.now - timedelta(days=1)
    workshop = create_activity(project, starts_at=past)
    hearing = create_activity(project, stage="decide", starts_at=past)
    other = create_activity(elsewhere, starts_at=past)
    people = {name: create_user() for name in ("registered", "attended", "confirmed", "twice")}
    people |= {name: create_user() for name in ("cancelled", "rejected", "no_show", "other")}

    def record(activity, name, **kwargs):
        return services.record_participation(
            actor=official, activity=activity, user_id=people[name].id, **kwargs
        )

    record(workshop, "registered")
    record(workshop, "attended", attended=True)
    services.confirm_participation(actor=official, participation=record(workshop, "confirmed"))
    record(workshop, "twice")
    record(hearing, "twice", attended=True)
    services.cancel_participation(actor=official, participation=record(hearing, "cancelled"))
    services.reject_participation(
        actor=official, participation=record(hearing, "rejected", attended=True), reason="중복"
    )
    services.mark_no_show(actor=official, participation=record(hearing, "no_show"))
    record(other, "other", attended=True)
    db.session.commit()

    found = services.list_participant_ids(project_id=project.id)
    expected = sorted(people[name].id for name in ("registered", "attended", "confirmed", "twice"))
    assert found == expected
    assert services.list_participant_ids(project_id=elsewhere.id) == [people["other"].id]


def test_an_official_record_tells_the_citizen_and_queues_the_push(
    official, create_activity, create_user, create_device, outbox_rows
):
    from backend.notifications.models import Notification

    activity = create_activity(title="골목 안전 점검")
    citizen, joiner = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    device = create_device(citizen)
    create_device(joiner)
    recorded = services.record_participation(actor=official, activity=activity, user_id=citizen.id)
    services.join_activity(actor=joiner, activity=activity)
    db.session.commit()
    # The request wrote one event row; the notification worker makes the inbox entry.
    from backend.notifications.fanout import fan_out
    from backend.notifications.models import NotificationEvent

    assert db.session.scalars(sa.select(Notification)).all() == []
    (event,) = db.session.scalars(sa.select(NotificationEvent)).all()
    assert event.kind == events.PARTICIPATION_RECORDED
    assert fan_out() == 1

    (notice,) = db.session.scalars(sa.select(Notification)).all()
    assert (notice.user_id, notice.kind) == (citizen.id, events.PARTICIPATION_RECORDED)
    assert "골목 안전 점검" in notice.body_ko
    assert notice.link == f"coproduction://participations/{recorded.id}"
    # One push, to the recorded citizen's device: a citizen joining by themselves is not told.
    assert [(row.notification_id, row.device_id) for row in outbox_rows()] == [
        (notice.id, device.id)
    ]
