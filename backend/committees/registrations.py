"""Committees: registrations for meetings, priority tiers, the waitlist and tickets."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from backend import events
from backend.clock import seoul_today, utcnow
from backend.committees import shared, tickets
from backend.committees.meetings import (
    _fits,
    _promote_waitlisted,
    _publish_registration,
    _seat_use,
    _seat_use_and_live,
)
from backend.committees.models import (
    CHECK_IN_CONFLICTS,
    Appointment,
    CheckInScan,
    Meeting,
    MeetingStatus,
    PriorityTier,
    Registration,
    RegistrationStatus,
)
from backend.committees.shared import _lock
from backend.database import insert_attached
from backend.errors import Conflict, PermissionDenied, RuleViolation
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.pagination import Page
from backend.permissions import (
    can_manage_meetings,
    can_see_personal_row,
    can_see_ticket,
    is_citizen_of,
)
from backend.rows import get_visible, list_page

# ---- registrations ----------------------------------------------------------------------------


def priority_tier(*, meeting: Meeting, user_id: str) -> PriorityTier:
    """The person's tier for a meeting: a member of its committee on the meeting day (not
    dismissed), else a certified model citizen today, else general."""
    day = meeting.seoul_date
    member = db.session.scalar(
        sa.select(Appointment.id)
        .where(
            Appointment.committee_id == meeting.committee_id,
            Appointment.user_id == user_id,
            Appointment.term_start <= day,
            Appointment.effective_end >= day,
        )
        .limit(1)
    )
    if member is not None:
        return PriorityTier.MEMBER
    if shared._holds_active_certificate(user_id, seoul_today()):
        return PriorityTier.CERTIFIED
    return PriorityTier.GENERAL


def _check_registration_open(meeting: Meeting, now: datetime) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise RuleViolation("The meeting was cancelled.", code="meeting_cancelled")
    if meeting.status == MeetingStatus.HELD or now >= meeting.starts_at:
        raise RuleViolation("Registration has closed.", code="registration_closed")


def register_for_meeting(*, actor: User, meeting: Meeting) -> Registration:
    """A citizen registers: confirmed while a seat their tier may take is free, else waitlisted.

    Before the priority window nobody may register; during it only committee members and
    certified model citizens; from the general opening everyone of the municipality.
    """
    if not is_citizen_of(actor, meeting.municipality_id):
        raise PermissionDenied("Only citizens of the municipality register for its meetings.")
    meeting = _lock(Meeting, meeting)
    now = utcnow()
    _check_registration_open(meeting, now)
    if now < meeting.priority_opens_at:
        raise RuleViolation("Registration has not opened yet.", code="registration_not_open")
    # The seats taken and the caller's own live registration, in one read under the lock.
    confirmed, others, already = _seat_use_and_live(meeting.id, user_id=actor.id)
    if already:
        raise Conflict("You are already registered for this meeting.", code="already_registered")
    tier = priority_tier(meeting=meeting, user_id=actor.id)
    if now < meeting.general_opens_at and tier == PriorityTier.GENERAL:
        raise RuleViolation(
            "Only committee members and certified model citizens may register now.",
            code="registration_priority_only",
        )
    fits = _fits(meeting, tier, confirmed, others)
    # A Core INSERT of every column: its meeting and user are the rows this request holds.
    registration = insert_attached(
        Registration,
        {
            "id": new_id(),
            "meeting_id": meeting.id,
            "municipality_id": meeting.municipality_id,
            "user_id": actor.id,
            "tier": tier,
            "priority": tier.rank,
            "status": RegistrationStatus.CONFIRMED if fits else RegistrationStatus.WAITLISTED,
            "created_at": now,
            "confirmed_at": now if fits else None,
            "promoted_at": None,
            "cancelled_at": None,
            "checked_in_at": None,
            "checked_in_by_id": None,
        },
    )
    if fits:
        _publish_registration(events.REGISTRATION_CONFIRMED, registration)
    _describe([registration], owner=True)
    return registration


def _retier_after_dismissal(appointment: Appointment) -> None:
    """A dismissed member's live registrations for later meetings lose member priority.

    A registration that held a seat only a member may take goes back to the waitlist (in its
    new tier), and the seat goes to the best-placed waitlisted member, if any.
    """
    registrations = db.session.scalars(
        sa.select(Registration)
        .join(Registration.meeting)
        .where(
            Registration.user_id == appointment.user_id,
            Registration.tier == PriorityTier.MEMBER,
            Registration.status != RegistrationStatus.CANCELLED,
            Registration.checked_in_at.is_(None),
            Meeting.committee_id == appointment.committee_id,
            Meeting.status.in_([MeetingStatus.SCHEDULED, MeetingStatus.CHANGED]),
            Meeting.starts_at > utcnow(),
        )
    ).all()
    for registration in registrations:
        meeting = _lock(Meeting, registration.meeting)
        tier = priority_tier(meeting=meeting, user_id=registration.user_id)
        if tier == PriorityTier.MEMBER:
            continue  # another term of theirs still covers the meeting day
        registration.tier, registration.priority = tier, tier.rank
        db.session.flush()
        if registration.status == RegistrationStatus.CONFIRMED:
            _confirmed, others = _seat_use(meeting.id)
            if others > meeting.general_seats:
                registration.status = RegistrationStatus.WAITLISTED
                registration.confirmed_at = None
                db.session.flush()
                _promote_waitlisted(meeting)


def get_registration(*, viewer: User, registration_id: str) -> Registration:
    """One registration: citizens see their own, staff those of their municipality."""
    registration = get_visible(
        Registration, registration_id, viewer, "registration_not_found", can_see_personal_row
    )
    _describe([registration], owner=registration.user_id == viewer.id)
    return registration


def cancel_registration(*, actor: User, registration: Registration) -> Registration:
    """Give up a place (the registrant, or the meeting's managers); a freed seat goes to the
    best-placed waitlisted registrant, who is told."""
    if actor.id != registration.user_id and not can_manage_meetings(actor, registration.meeting):
        raise PermissionDenied("Only the registrant or the meeting's managers cancel it.")
    meeting = _lock(Meeting, registration.meeting)
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED:
        raise Conflict("The registration is already cancelled.", code="registration_cancelled")
    if registration.checked_in_at is not None:
        raise RuleViolation("The attendee has checked in.", code="registration_checked_in")
    if meeting.status == MeetingStatus.HELD or utcnow() >= meeting.starts_at:
        raise RuleViolation("The meeting has started.", code="registration_closed")
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = utcnow()
    db.session.flush()
    if was_confirmed and meeting.status != MeetingStatus.CANCELLED:
        _promote_waitlisted(meeting)
    _describe([registration], owner=registration.user_id == actor.id)
    return registration


def _describe(registrations: list[Registration], *, owner: bool) -> None:
    """Fill waitlist positions (and, for the registrant, the ticket text)."""
    by_meeting: dict[str, list[Registration]] = {}
    for registration in registrations:
        registration.waitlist_position = None
        registration.ticket = None
        if owner and registration.status != RegistrationStatus.CANCELLED:
            registration.ticket = tickets.make_ticket(registration)
        if registration.status == RegistrationStatus.WAITLISTED:
            by_meeting.setdefault(registration.meeting_id, []).append(registration)
    for meeting_id, waiting in by_meeting.items():
        queue = db.session.scalars(
            sa.select(Registration.id)
            .where(
                Registration.meeting_id == meeting_id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.priority, Registration.created_at, Registration.id)
        ).all()
        place = {registration_id: index + 1 for index, registration_id in enumerate(queue)}
        for registration in waiting:
            registration.waitlist_position = place.get(registration.id)


def list_meeting_registrations(
    *,
    viewer: User,
    meeting: Meeting,
    limit: int,
    cursor: str | None,
    status: RegistrationStatus | None = None,
) -> Page:
    """A meeting's registrations for its staff, newest first, with waitlist positions."""
    page = list_page(
        Registration,
        viewer=viewer,
        filters={Registration.meeting_id: meeting.id, Registration.status: status},
        limit=limit,
        cursor=cursor,
    )
    _describe(page.items, owner=False)
    _attach_conflicts(page.items)
    return page


def _attach_conflicts(registrations: list[Registration]) -> None:
    """Mark each listed registration with its latest door conflict (the attendance list's
    to-check mark), in one query for the page."""
    if not registrations:
        return
    scans = db.session.scalars(
        sa.select(CheckInScan)
        .where(
            CheckInScan.registration_id.in_([r.id for r in registrations]),
            CheckInScan.outcome.in_(CHECK_IN_CONFLICTS),
        )
        .order_by(CheckInScan.received_at)
    )
    latest = {scan.registration_id: scan for scan in scans}
    for registration in registrations:
        registration.check_in_conflict = latest.get(registration.id)


def list_my_registrations(
    *,
    user: User,
    limit: int,
    cursor: str | None,
    status: RegistrationStatus | None = None,
) -> Page:
    """The caller's registrations, newest first, with tickets and waitlist positions."""
    page = list_page(
        Registration,
        filters={Registration.user_id: user.id, Registration.status: status},
        limit=limit,
        cursor=cursor,
    )
    _describe(page.items, owner=True)
    return page


def ticket_png(*, viewer: User, registration_id: str) -> bytes:
    """The QR image of a live registration's ticket (its registrant, or the meeting's staff)."""
    registration = get_visible(
        Registration, registration_id, viewer, "registration_not_found", can_see_ticket
    )
    if registration.status == RegistrationStatus.CANCELLED:
        raise RuleViolation("The registration was cancelled.", code="registration_cancelled")
    return tickets.render_ticket_png(tickets.make_ticket(registration))
