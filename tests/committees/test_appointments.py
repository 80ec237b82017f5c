"""Appointments (위촉) and dismissals (해촉): seats, overlaps, certificates, terms, events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backend import events
from backend.audit.models import AuditEntry
from backend.committees import services
from backend.committees.models import Appointment, AppointmentRole, AppointmentStatus
from backend.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.permissions import Role

TODAY = date(2026, 3, 2)  # the clock fixture's day in Seoul


@pytest.fixture
def official(create_user):
    return create_user(Role.OFFICIAL)


def _appoint(official, committee, user, **kwargs):
    kwargs.setdefault("role", AppointmentRole.MEMBER)
    kwargs.setdefault("term_start", TODAY)
    appointment = services.appoint_member(
        actor=official, committee=committee, user_id=user.id, **kwargs
    )
    db.session.commit()
    return appointment


def _audit(action):
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_appointment_defaults_to_the_full_term_and_is_audited_and_announced(
    clock, official, create_user, create_committee, published
):
    committee = create_committee(term_months=24)
    citizen = create_user(Role.CITIZEN)
    appointment = _appoint(official, committee, citizen, role=AppointmentRole.CHAIR)
    assert (appointment.term_start, appointment.term_end) == (TODAY, date(2028, 3, 1))
    assert appointment.status == AppointmentStatus.ACTIVE
    assert appointment.appointed_by_id == official.id
    [entry] = _audit("appointment.create")
    assert entry.actor_id == official.id and entry.target_id == appointment.id
    assert entry.details["role"] == "chair" and entry.details["reappointment"] is False
    [payload] = published.of(events.APPOINTMENT_CREATED)
    assert payload == {
        "appointment_id": appointment.id,
        "user_id": citizen.id,
        "municipality_id": committee.municipality_id,
        "committee_id": committee.id,
        "committee_name": committee.name,
        "role": "chair",
        "term_end": date(2028, 3, 1),
    }


def test_month_arithmetic_clamps_to_the_last_day(clock, official, create_user, create_committee):
    committee = create_committee(term_months=1)
    appointment = _appoint(official, committee, create_user(), term_start=date(2026, 3, 31))
    assert appointment.term_end == date(2026, 4, 29)


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2026, 5, 1), date(2026, 4, 30), "term_invalid"),
        (date(2026, 3, 2), date(2027, 3, 2), "term_too_long"),
        (date(2025, 1, 1), date(2025, 12, 31), "term_in_past"),
    ],
)
def test_bad_terms_are_refused(clock, official, create_user, create_committee, start, end, code):
    committee = create_committee(term_months=12)
    with pytest.raises(ValidationFailed) as caught:
        services.appoint_member(
            actor=official,
            committee=committee,
            user_id=create_user().id,
            role=AppointmentRole.MEMBER,
            term_start=start,
            term_end=end,
        )
    assert caught.value.code == code


def test_seats_cannot_be_overfilled_on_any_day(clock, official, create_user, create_committee):
    committee = create_committee(seats=2, term_months=24)
    _appoint(official, committee, create_user(), term_end=date(2026, 6, 30))
    _appoint(official, committee, create_user(), term_start=date(2026, 3, 10))
    # Two seats are taken until June: a third member fits only from July on.
    with pytest.raises(RuleViolation) as caught:
        _appoint(official, committee, create_user(), term_start=date(2026, 6, 1))
    assert caught.value.code == "committee_full"
    later = _appoint(official, committee, create_user(), term_start=date(2026, 7, 1))
    assert later.status == AppointmentStatus.UPCOMING


def test_terms_that_never_meet_share_a_seat(clock, official, create_user, create_committee):
    committee = create_committee(seats=1, term_months=24)
    _appoint(official, committee, create_user(), term_end=date(2026, 4, 30))
    _appoint(official, committee, create_user(), term_start=date(2026, 5, 1))
    assert (
        services._most_held_at_once(
            [(date(2026, 1, 1), date(2026, 4, 30)), (date(2026, 5, 1), date(2026, 9, 1))],
            date(2026, 1, 1),
            date(2026, 12, 31),
        )
        == 1
    )


def test_no_two_overlapping_terms_for_one_person(clock, official, create_user, create_committee):
    committee = create_committee(term_months=12)
    citizen = create_user()
    _appoint(official, committee, citizen, term_end=date(2026, 12, 31))
    with pytest.raises(RuleViolation) as caught:
        _appoint(official, committee, citizen, term_start=date(2026, 12, 31))
    assert caught.value.code == "appointment_overlaps"
    # Reappointment: a new term after the old one.
    again = _appoint(official, committee, citizen, term_start=date(2027, 1, 1))
    assert again.id != citizen.id and again.status == AppointmentStatus.UPCOMING
    assert _audit("appointment.create")[-1].details["reappointment"] is True


def test_one_chair_at_a_time(clock, official, create_user, create_committee):
    committee = create_committee()
    _appoint(official, committee, create_user(), role=AppointmentRole.CHAIR)
    with pytest.raises(RuleViolation) as caught:
        _appoint(official, committee, create_user(), role=AppointmentRole.CHAIR)
    assert caught.value.code == "role_taken"
    _appoint(official, committee, create_user(), role=AppointmentRole.VICE_CHAIR)
    _appoint(official, committee, create_user(), role=AppointmentRole.MEMBER)


def test_required_certificate_must_be_active_on_the_first_day(
    clock, official, create_user, create_committee, certificates
):
    committee = create_committee(requires_certificate=True)
    citizen = create_user()
    with pytest.raises(RuleViolation) as caught:
        _appoint(official, committee, citizen)
    assert caught.value.code == "certificate_required"
    certificates.grant(citizen, start=TODAY + timedelta(days=10))
    with pytest.raises(RuleViolation):
        _appoint(official, committee, citizen)
    assert _appoint(official, committee, citizen, term_start=TODAY + timedelta(days=10))


def test_only_citizens_of_the_municipality_are_appointed(
    clock, official, create_user, create_committee, other_municipality
):
    committee = create_committee()
    with pytest.raises(NotFound) as caught:
        _appoint(official, committee, create_user(municipality=other_municipality))
    assert caught.value.code == "user_not_found"
    with pytest.raises(ValidationFailed) as caught:
        _appoint(official, committee, create_user(Role.SCHEDULER))
    assert caught.value.code == "appointee_not_citizen"


def test_officials_of_another_municipality_cannot_appoint(
    clock, create_user, create_committee, other_municipality
):
    committee = create_committee()
    foreign = create_user(Role.OFFICIAL, municipality=other_municipality)
    with pytest.raises(PermissionDenied):
        _appoint(foreign, committee, create_user())
    with pytest.raises(NotFound):
        services.get_committee(viewer=foreign, committee_id=committee.id)


def test_dismissal_ends_membership_today_and_frees_the_seat(
    clock, official, create_user, create_committee, published
):
    committee = create_committee(seats=1)
    citizen = create_user()
    appointment = _appoint(official, committee, citizen, term_start=TODAY - timedelta(days=40))
    services.dismiss_appointment(actor=official, appointment=appointment, reason="이사")
    db.session.commit()
    assert appointment.status == AppointmentStatus.DISMISSED
    assert appointment.effective_end == TODAY - timedelta(days=1)
    assert appointment.term_end > TODAY  # the term as appointed is kept
    assert published.of(events.APPOINTMENT_DISMISSED) == [
        {
            "appointment_id": appointment.id,
            "user_id": citizen.id,
            "municipality_id": committee.municipality_id,
            "committee_name": committee.name,
            "reason": "이사",
        }
    ]
    [entry] = _audit("appointment.dismiss")
    assert entry.details["reason"] == "이사"
    # The seat is free from today, and the same person may be reappointed.
    assert _appoint(official, committee, citizen)
    with pytest.raises(Conflict) as caught:
        services.dismiss_appointment(actor=official, appointment=appointment, reason="again")
    assert caught.value.code == "appointment_dismissed"


def test_an_upcoming_appointment_can_be_dismissed_before_it_starts(
    clock, official, create_user, create_committee
):
    committee = create_committee(seats=1)
    appointment = _appoint(official, committee, create_user(), term_start=TODAY + timedelta(9))
    services.dismiss_appointment(actor=official, appointment=appointment, reason="취소")
    db.session.commit()
    assert appointment.status == AppointmentStatus.DISMISSED
    # It never held the seat.
    assert _appoint(official, committee, create_user(), term_start=TODAY + timedelta(9))


def test_an_ended_term_cannot_be_dismissed(
    clock, official, create_user, create_committee, create_appointment
):
    committee = create_committee()
    ended = create_appointment(
        committee, create_user(), term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)
    )
    with pytest.raises(RuleViolation) as caught:
        services.dismiss_appointment(actor=official, appointment=ended, reason="late")
    assert caught.value.code == "appointment_ended"


def test_terms_end_by_themselves(clock, official, create_user, create_committee):
    committee = create_committee(term_months=1)
    appointment = _appoint(official, committee, create_user())
    assert appointment.status == AppointmentStatus.ACTIVE
    clock.advance(days=30)  # 2026-04-01, the last day
    assert appointment.status == AppointmentStatus.ACTIVE
    clock.advance(days=1)
    assert appointment.status == AppointmentStatus.ENDED
    page = services.list_appointments(
        viewer=official, committee=committee, limit=10, cursor=None, status=AppointmentStatus.ENDED
    )
    assert [a.id for a in page.items] == [appointment.id]


def test_history_filters_by_status(
    clock, official, create_user, create_committee, create_appointment
):
    committee = create_committee()
    active = create_appointment(committee, create_user())
    upcoming = create_appointment(committee, create_user(), term_start=TODAY + timedelta(5))
    ended = create_appointment(
        committee, create_user(), term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)
    )
    dismissed = _appoint(official, committee, create_user())
    services.dismiss_appointment(actor=official, appointment=dismissed, reason="사유")
    db.session.commit()

    def ids(status):
        page = services.list_appointments(
            viewer=official, committee=committee, limit=10, cursor=None, status=status
        )
        return {a.id for a in page.items}

    assert ids(AppointmentStatus.ACTIVE) == {active.id}
    assert ids(AppointmentStatus.UPCOMING) == {upcoming.id}
    assert ids(AppointmentStatus.ENDED) == {ended.id}
    assert ids(AppointmentStatus.DISMISSED) == {dismissed.id}
    assert ids(None) == {active.id, upcoming.id, ended.id, dismissed.id}


def test_end_terms_announces_once_and_records_natural_ends(
    clock, create_user, create_committee, create_appointment, published, app
):
    committee = create_committee()
    ending = create_appointment(committee, create_user(), term_end=TODAY + timedelta(days=10))
    create_appointment(committee, create_user(), term_end=TODAY + timedelta(days=100))
    ended = create_appointment(
        committee, create_user(), term_start=date(2025, 1, 1), term_end=TODAY - timedelta(1)
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["committees", "end-terms", "--days", "14"])
    assert first.exit_code == 0, first.output
    assert "Announced 1" in first.output and "recorded 1" in first.output
    assert [p["appointment_id"] for p in published.of(events.APPOINTMENT_TERM_ENDING)] == [
        ending.id
    ]
    assert published.of(events.APPOINTMENT_TERM_ENDING)[0]["term_end"] == ending.term_end
    [entry] = _audit("appointment.end")
    assert entry.target_id == ended.id and entry.actor_id is None
    second = runner.invoke(args=["committees", "end-terms"])
    assert "Announced 0" in second.output and "recorded 0" in second.output
    assert len(published.of(events.APPOINTMENT_TERM_ENDING)) == 1


def test_appointment_rows_unchanged_after_refusals(
    clock, official, create_user, create_committee, count_rows
):
    committee = create_committee(seats=1)
    _appoint(official, committee, create_user())
    before = count_rows(Appointment)
    with pytest.raises(RuleViolation):
        _appoint(official, committee, create_user())
    db.session.rollback()
    assert count_rows(Appointment) == before
