"""Committees: checking a ticket in at a meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from backend import events
from backend.clock import utcnow
from backend.committees import tickets
from backend.committees.models import (
    CHECK_IN_CONFLICTS,
    CHECK_IN_MARGIN,
    CheckInScan,
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


def check_in(
    *, actor: User, meeting: Meeting, ticket: str, at: datetime | None = None
) -> CheckInResult:
    """Check an attendee in from their scanned ticket; attendance becomes a participation
    record (MEETING_ATTENDED, published once: a second scan changes nothing).

    `at` is when a door device scanned the ticket offline (default: now); the check-in window
    is judged at that moment, so a queue sent after the meeting still counts.
    """
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
    now = utcnow() if at is None else min(at, utcnow())
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
    if changed:
        # What the UPDATE wrote is known: no read back on the first scan (the hot path).
        set_committed_value(registration, "checked_in_at", now)
        set_committed_value(registration, "checked_in_by_id", actor.id)
    else:
        db.session.refresh(registration)  # an earlier scan's values, as stored
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


@dataclass
class ScanUpload:
    """One scan as a door device sends it."""

    scan_id: str
    ticket: str
    scanned_at: datetime
    offline: bool


def upload_scans(
    *, actor: User, meeting: Meeting, scans: list[ScanUpload], device_id: str | None
) -> list[CheckInScan]:
    """Record a device's scans (a live one or a queue sent after an outage), each once.

    A scan id seen before answers its first outcome again and changes nothing, so a device may
    resend its whole queue after a lost answer. Every scan goes through `check_in`, the one rule
    for the door; what a device could not know offline comes back as a conflict: the person was
    already admitted by another device (`conflict_other_device`), or the registration was
    cancelled meanwhile (`conflict_cancelled`).
    """
    if not can_manage_meetings(actor, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials check in.")
    known = {
        row.scan_id: row
        for row in db.session.scalars(
            sa.select(CheckInScan).where(CheckInScan.scan_id.in_([s.scan_id for s in scans]))
        )
    }
    answers = []
    for scan in scans:
        row = known.get(scan.scan_id)
        if row is not None and row.meeting_id != meeting.id:
            raise ValidationFailed(
                "A scan id was already used for another meeting.",
                code="scan_id_reused",
                fields={"scans": [f"{scan.scan_id} is another meeting's scan."]},
            )
        if row is None:
            row = known[scan.scan_id] = _record_scan(actor, meeting, scan, device_id)
        answers.append(row)
    return answers


def _record_scan(
    actor: User, meeting: Meeting, scan: ScanUpload, device_id: str | None
) -> CheckInScan:
    code = tickets.parse_ticket(scan.ticket)
    registration_id = code.registration_id if code else None
    try:
        # A savepoint: a refused scan must not undo the others of the same upload.
        with db.session.begin_nested():
            result = check_in(actor=actor, meeting=meeting, ticket=scan.ticket, at=scan.scanned_at)
        outcome = "already_checked_in" if result.already_checked_in else "admitted"
        registration_id = result.registration.id
        if result.already_checked_in and _admitted_elsewhere(result.registration.id, device_id):
            outcome = "conflict_other_device"
    except (ValidationFailed, RuleViolation) as error:
        outcome = error.code
        if error.code == "registration_cancelled" and scan.offline:
            outcome = "conflict_cancelled"
    if registration_id is not None and db.session.get(Registration, registration_id) is None:
        registration_id = None
    row = CheckInScan(
        scan_id=scan.scan_id,
        meeting_id=meeting.id,
        registration_id=registration_id,
        scanned_by_id=actor.id,
        device_id=device_id,
        offline=scan.offline,
        scanned_at=min(scan.scanned_at, utcnow()),
        received_at=utcnow(),
        outcome=outcome,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _admitted_elsewhere(registration_id: str, device_id: str | None) -> bool:
    """Whether the person was admitted by a scan from another device (or none recorded)."""
    first = db.session.scalar(
        sa.select(CheckInScan)
        .where(
            CheckInScan.registration_id == registration_id,
            CheckInScan.outcome == "admitted",
        )
        .order_by(CheckInScan.received_at)
        .limit(1)
    )
    # Admitted through the plain check-in endpoint (no scan row): another device too.
    return first is None or first.device_id != device_id


def list_conflicts(*, viewer: User, meeting: Meeting) -> list[CheckInScan]:
    """The meeting's scans with a conflict, oldest first, for the attendance list."""
    if not can_manage_meetings(viewer, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials check in.")
    return list(
        db.session.scalars(
            sa.select(CheckInScan)
            .where(
                CheckInScan.meeting_id == meeting.id, CheckInScan.outcome.in_(CHECK_IN_CONFLICTS)
            )
            .order_by(CheckInScan.received_at)
        )
    )
