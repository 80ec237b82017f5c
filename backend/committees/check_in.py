"""Committees: checking a ticket in at a meeting."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from backend import events
from backend.clock import utcnow
from backend.committees import tickets
from backend.committees.models import (
    CHECK_IN_MARGIN,
    Meeting,
    MeetingStatus,
    Registration,
    RegistrationStatus,
)
from backend.committees.registrations import _describe
from backend.errors import PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.permissions import (
    can_manage_meetings,
)


@dataclass
class CheckInResult:
    """The outcome of a scan at the door."""

    registration: Registration
    already_checked_in: bool


def check_in(*, actor: User, meeting: Meeting, ticket: str) -> CheckInResult:
    """Check an attendee in from their scanned ticket; attendance becomes a participation
    record (MEETING_ATTENDED, published once: a second scan changes nothing)."""
    if not can_manage_meetings(actor, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials check in.")
    invalid = ValidationFailed(
        "This is not a valid ticket.", code="ticket_invalid", fields={"ticket": ["Not valid."]}
    )
    code = tickets.parse_ticket(ticket)
    if code is None:
        raise invalid
    registration = db.session.get(Registration, code.registration_id)
    if registration is None or not tickets.ticket_matches(code, registration.meeting_id):
        raise invalid
    if registration.meeting_id != meeting.id:
        raise RuleViolation("This ticket is for another meeting.", code="ticket_wrong_meeting")
    if meeting.status == MeetingStatus.CANCELLED:
        raise RuleViolation("The meeting was cancelled.", code="meeting_cancelled")
    now = utcnow()
    if not meeting.starts_at - CHECK_IN_MARGIN <= now <= meeting.ends_at + CHECK_IN_MARGIN:
        raise RuleViolation(
            "Check-in is open from two hours before the start to two hours after the end.",
            code="check_in_not_open",
        )
    if registration.status == RegistrationStatus.CANCELLED:
        raise RuleViolation("The registration was cancelled.", code="registration_cancelled")
    if registration.status != RegistrationStatus.CONFIRMED:
        raise RuleViolation(
            "The registration is on the waitlist.", code="registration_not_confirmed"
        )
    # Conditional update: of two simultaneous scans exactly one changes the row.
    changed = db.session.execute(
        sa.update(Registration)
        .where(Registration.id == registration.id, Registration.checked_in_at.is_(None))
        .values(checked_in_at=now, checked_in_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(registration)
    if changed:
        events.publish(
            events.MEETING_ATTENDED,
            registration_id=registration.id,
            meeting_id=meeting.id,
            user_id=registration.user_id,
            municipality_id=meeting.municipality_id,
            project_id=meeting.project_id,
            stage=meeting.stage.value if meeting.stage else None,
            title=meeting.title,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            actor_id=actor.id,
        )
    _describe([registration], owner=False)
    return CheckInResult(registration=registration, already_checked_in=not changed)
