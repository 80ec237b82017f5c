"""Registration with priority: windows, tiers, reserved seats, the waitlist, promotion, check-in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import events
from backend.clock import utcnow
from backend.committees import services, tickets
from backend.committees.models import PriorityTier, Registration, RegistrationStatus
from backend.errors import Conflict, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.permissions import Role

CONFIRMED, WAITLISTED = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED


@pytest.fixture
def scheduler(create_user):
    return create_user(Role.SCHEDULER)


@pytest.fixture
def committee(create_committee):
    return create_committee()


@pytest.fixture
def member(committee, create_user, create_appointment):
    citizen = create_user(display_name="위원")
    create_appointment(committee, citizen)
    return citizen


def _state(registration):
    db.session.refresh(registration)
    return registration.status, registration.tier


def _positions(meeting):
    regs = db.session.query(Registration).filter_by(meeting_id=meeting.id, status=WAITLISTED)
    regs = list(regs)
    services._describe(regs, owner=False)
    return {r.user_id: r.waitlist_position for r in regs}


def test_registration_windows(
    clock, committee, member, create_user, create_meeting, register, certificates
):
    now = utcnow()
    meeting = create_meeting(
        committee,
        priority_opens_at=now + timedelta(hours=1),
        general_opens_at=now + timedelta(hours=2),
        starts_at=now + timedelta(hours=3),
    )
    certified, citizen = create_user(), create_user()
    certificates.grant(certified)
    with pytest.raises(RuleViolation) as caught:
        register(meeting, member)
    assert caught.value.code == "registration_not_open"

    clock.advance(hours=1)  # the priority window
    with pytest.raises(RuleViolation) as caught:
        register(meeting, citizen)
    assert caught.value.code == "registration_priority_only"
    assert _state(register(meeting, member)) == (CONFIRMED, PriorityTier.MEMBER)
    assert _state(register(meeting, certified)) == (CONFIRMED, PriorityTier.CERTIFIED)

    clock.advance(hours=1)  # the general opening
    assert _state(register(meeting, citizen)) == (CONFIRMED, PriorityTier.GENERAL)

    clock.advance(hours=1)  # the meeting starts
    with pytest.raises(RuleViolation) as caught:
        register(meeting, create_user())
    assert caught.value.code == "registration_closed"


def test_registering_twice_is_refused_but_a_cancelled_one_may_be_redone(
    clock, committee, create_user, create_meeting, register, count_rows
):
    meeting = create_meeting(committee)
    citizen = create_user()
    first = register(meeting, citizen)
    with pytest.raises(Conflict) as caught:
        register(meeting, citizen)
    assert caught.value.code == "already_registered"
    db.session.rollback()
    assert count_rows(Registration) == 1
    services.cancel_registration(actor=citizen, registration=first)
    db.session.commit()
    second = register(meeting, citizen)
    assert second.id != first.id and second.status == CONFIRMED


def test_reserved_seats_go_to_members_only(
    clock, committee, member, create_user, create_appointment, create_meeting, register
):
    meeting = create_meeting(committee, capacity=3, reserved_seats=1)
    a, b, c = (create_user() for _ in range(3))
    assert register(meeting, a).status == CONFIRMED
    assert register(meeting, b).status == CONFIRMED
    # One seat is free, but it is reserved.
    waiting = register(meeting, c)
    assert (waiting.status, waiting.waitlist_position) == (WAITLISTED, 1)
    assert register(meeting, member).status == CONFIRMED
    other_member = create_user()
    create_appointment(committee, other_member)
    assert register(meeting, other_member).status == WAITLISTED


def test_members_may_take_general_seats_too(
    clock, committee, create_user, create_appointment, create_meeting, register
):
    meeting = create_meeting(committee, capacity=3, reserved_seats=1)
    members = [create_user(), create_user()]
    for citizen in members:
        create_appointment(committee, citizen)
    assert [register(meeting, m).status for m in members] == [CONFIRMED, CONFIRMED]
    assert register(meeting, create_user()).status == CONFIRMED
    assert register(meeting, create_user()).status == WAITLISTED


def test_waitlist_is_served_by_tier_then_time(
    clock, committee, create_user, create_meeting, register, certificates, published
):
    meeting = create_meeting(committee, capacity=1)
    first, early, late_certified = create_user(), create_user(), create_user()
    certificates.grant(late_certified)
    held = register(meeting, first)
    register(meeting, early)
    clock.advance(minutes=5)
    register(meeting, late_certified)
    assert _positions(meeting) == {late_certified.id: 1, early.id: 2}
    services.cancel_registration(actor=first, registration=held)
    db.session.commit()
    [promoted] = published.of(events.REGISTRATION_PROMOTED)
    assert promoted["user_id"] == late_certified.id
    assert set(promoted) == {
        "registration_id",
        "meeting_id",
        "user_id",
        "municipality_id",
        "title",
        "starts_at",
    }
    assert _positions(meeting) == {early.id: 1}


def test_a_freed_reserved_seat_waits_for_a_member(
    clock, committee, member, create_user, create_appointment, create_meeting, register
):
    meeting = create_meeting(committee, capacity=2, reserved_seats=1)
    register(meeting, create_user())
    member_place = register(meeting, member)
    general = register(meeting, create_user())
    assert general.status == WAITLISTED
    services.cancel_registration(actor=member, registration=member_place)
    db.session.commit()
    assert _state(general)[0] == WAITLISTED  # the free seat is reserved
    late_member = create_user()
    create_appointment(committee, late_member)
    assert register(meeting, late_member).status == CONFIRMED


def test_confirmation_is_announced(
    clock, committee, create_user, create_meeting, register, published
):
    meeting = create_meeting(committee, capacity=1)
    confirmed = register(meeting, create_user())
    register(meeting, create_user())
    [payload] = published.of(events.REGISTRATION_CONFIRMED)
    assert payload["registration_id"] == confirmed.id


def test_a_dismissed_member_has_no_member_priority(
    clock, committee, member, create_user, create_meeting, register
):
    official = create_user(Role.OFFICIAL)
    [appointment] = committee_appointments(member)
    services.dismiss_appointment(actor=official, appointment=appointment, reason="해촉")
    db.session.commit()
    now = utcnow()
    meeting = create_meeting(
        committee,
        priority_opens_at=now - timedelta(hours=1),
        general_opens_at=now + timedelta(hours=1),
    )
    with pytest.raises(RuleViolation) as caught:
        register(meeting, member)
    assert caught.value.code == "registration_priority_only"
    clock.advance(hours=1)
    assert _state(register(meeting, member)) == (CONFIRMED, PriorityTier.GENERAL)


def committee_appointments(user):
    from backend.committees.models import Appointment

    return list(db.session.query(Appointment).filter_by(user_id=user.id))


def test_dismissal_moves_a_member_out_of_a_reserved_seat(
    clock, committee, member, create_user, create_meeting, register
):
    meeting = create_meeting(committee, capacity=2, reserved_seats=1)
    register(meeting, create_user())
    place = register(meeting, member)
    assert place.tier == PriorityTier.MEMBER
    official = create_user(Role.OFFICIAL)
    [appointment] = committee_appointments(member)
    services.dismiss_appointment(actor=official, appointment=appointment, reason="해촉")
    db.session.commit()
    assert _state(place) == (WAITLISTED, PriorityTier.GENERAL)


def test_a_member_whose_term_ends_before_the_meeting_is_not_a_member_there(
    clock, committee, create_user, create_appointment, create_meeting, register
):
    citizen = create_user()
    create_appointment(committee, citizen, term_end=utcnow().date() + timedelta(days=2))
    meeting = create_meeting(committee)  # in a week
    assert register(meeting, citizen).tier == PriorityTier.GENERAL


def test_other_municipalities_citizens_cannot_register(
    clock, committee, create_user, create_meeting, other_municipality
):
    from backend.errors import PermissionDenied

    meeting = create_meeting(committee)
    with pytest.raises(PermissionDenied):
        services.register_for_meeting(
            actor=create_user(municipality=other_municipality), meeting=meeting
        )


# ---- check-in ---------------------------------------------------------------------------------


def test_check_in_publishes_attendance_once(
    clock, committee, scheduler, create_user, create_meeting, create_project, register, published
):
    project = create_project()
    meeting = create_meeting(committee, stage="decide", project_id=project.id)
    citizen = create_user()
    registration = register(meeting, citizen)
    ticket = registration.ticket
    clock.set(meeting.starts_at - timedelta(minutes=10))
    first = services.check_in(actor=scheduler, meeting=meeting, ticket=ticket)
    db.session.commit()
    assert first.already_checked_in is False
    assert first.registration.checked_in_by_id == scheduler.id
    # Scanners may pad what they read.
    again = services.check_in(actor=scheduler, meeting=meeting, ticket=f" {ticket}\n")
    db.session.commit()
    assert again.already_checked_in is True
    assert published.of(events.MEETING_ATTENDED) == [
        {
            "registration_id": registration.id,
            "meeting_id": meeting.id,
            "user_id": citizen.id,
            "municipality_id": meeting.municipality_id,
            "project_id": project.id,
            "stage": "decide",
            "title": meeting.title,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "actor_id": scheduler.id,
        }
    ]
    with pytest.raises(RuleViolation) as caught:
        services.cancel_registration(actor=citizen, registration=registration)
    assert caught.value.code == "registration_checked_in"


def test_a_ticket_of_another_meeting_is_refused(
    clock, committee, scheduler, create_user, create_meeting, register
):
    mine, other = create_meeting(committee), create_meeting(committee)
    registration = register(other, create_user())
    clock.set(mine.starts_at)
    with pytest.raises(RuleViolation) as caught:
        services.check_in(actor=scheduler, meeting=mine, ticket=registration.ticket)
    assert caught.value.code == "ticket_wrong_meeting"


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "MT1:" + "0" * 26 + t[-27:],
        lambda t: "hello",
        lambda t: t.replace("MT2:", "MT1:"),
        lambda t: t.replace("MT2:", "MT3:"),
        lambda t: t.lower(),
    ],
)
def test_forged_tickets_are_invalid(
    clock, committee, scheduler, create_user, create_meeting, register, forge
):
    meeting = create_meeting(committee)
    registration = register(meeting, create_user())
    clock.set(meeting.starts_at)
    with pytest.raises(ValidationFailed) as caught:
        services.check_in(actor=scheduler, meeting=meeting, ticket=forge(registration.ticket))
    assert caught.value.code == "ticket_invalid"


def test_waitlisted_cancelled_and_early_tickets_do_not_check_in(
    clock, committee, scheduler, create_user, create_meeting, register
):
    meeting = create_meeting(committee, capacity=1)
    holder, waiting = create_user(), create_user()
    held = register(meeting, holder)
    waitlisted = register(meeting, waiting)
    ticket, waiting_ticket = held.ticket, waitlisted.ticket
    with pytest.raises(RuleViolation) as caught:
        services.check_in(actor=scheduler, meeting=meeting, ticket=ticket)
    assert caught.value.code == "check_in_not_open"
    clock.set(meeting.starts_at)
    with pytest.raises(RuleViolation) as caught:
        services.check_in(actor=scheduler, meeting=meeting, ticket=waiting_ticket)
    assert caught.value.code == "registration_not_confirmed"
    clock.set(meeting.starts_at - timedelta(days=1))
    services.cancel_registration(actor=holder, registration=held)
    db.session.commit()
    clock.set(meeting.starts_at)
    with pytest.raises(RuleViolation) as caught:
        services.check_in(actor=scheduler, meeting=meeting, ticket=ticket)
    assert caught.value.code == "registration_cancelled"
    # The waitlisted registrant was promoted, so their ticket now works.
    assert services.check_in(actor=scheduler, meeting=meeting, ticket=waiting_ticket)


def test_legacy_mt1_tickets_still_check_with_the_servers_mac():
    """MT1 tickets (HMAC, before MT2) stay accepted during the transition, and only genuine."""
    from flask import Flask

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k" * 32
    with app.app_context():
        ticket = tickets.make_legacy_ticket(
            "01JD8X7Q2M4N5P6R7S8T9V0W1X", "01JD8X7Q2M4N5P6R7S8T9V0W1Y"
        )
        assert set(ticket) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
        code = tickets.parse_ticket(ticket)
        assert tickets.ticket_matches(code, "01JD8X7Q2M4N5P6R7S8T9V0W1Y")
        assert not tickets.ticket_matches(code, "01JD8X7Q2M4N5P6R7S8T9V0W1Z")
        app.config["SECRET_KEY"] = "other" * 8
        assert not tickets.ticket_matches(code, "01JD8X7Q2M4N5P6R7S8T9V0W1Y")
        app.config["TICKETS_ACCEPT_MT1"] = False
        assert tickets.parse_ticket(ticket) is None


def test_ticket_png_decodes_to_the_ticket(clock, committee, create_user, create_meeting, register):
    import io

    import zxingcpp
    from PIL import Image

    citizen = create_user()
    registration = register(create_meeting(committee), citizen)
    png = services.ticket_png(viewer=citizen, registration_id=registration.id)
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    # Deterministic signatures: the same ticket at every fetch.
    assert decoded.text == registration.ticket
    code = tickets.parse_ticket(decoded.text)
    assert code.registration_id == registration.id
    assert tickets.ticket_matches(code, registration.meeting_id)
