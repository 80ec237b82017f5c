"""Committees: appointments of members, their terms, letters and term endings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa

from backend import events
from backend.audit.services import save_and_audit
from backend.clock import add_months, seoul_today, utcnow
from backend.committees import shared
from backend.committees.letters import render_appointment_letter
from backend.committees.models import (
    SINGLE_HOLDER_ROLES,
    Appointment,
    AppointmentRole,
    AppointmentStatus,
    Committee,
)
from backend.committees.registrations import _retier_after_dismissal
from backend.committees.shared import _lock
from backend.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.pagination import Page, paginate
from backend.permissions import (
    Role,
    can_manage_committee,
    can_see_personal_row,
    scope_to_municipality,
)
from backend.rows import get_visible

# ---- appointments -----------------------------------------------------------------------------


def _holding(committee_id: str, start: date, end: date) -> sa.Select:
    """Appointments of a committee whose membership overlaps the days start..end."""
    return sa.select(Appointment).where(
        Appointment.committee_id == committee_id,
        Appointment.effective_end >= Appointment.term_start,
        Appointment.term_start <= end,
        Appointment.effective_end >= start,
    )


def _most_held_at_once(terms: Iterable[tuple[date, date]], start: date, end: date) -> int:
    """The largest number of the terms that hold a seat on one day of start..end."""
    changes: list[tuple[date, int]] = []
    for first, last in terms:
        changes.append((max(first, start), 1))
        changes.append((min(last, end) + timedelta(days=1), -1))
    held = most = 0
    for _day, change in sorted(changes, key=lambda item: (item[0], item[1])):
        held += change
        most = max(most, held)
    return most


def _appointee(committee: Committee, user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_usable or user.municipality_id != committee.municipality_id:
        raise NotFound("User not found.", code="user_not_found")
    if user.role != Role.CITIZEN:
        raise ValidationFailed(
            "Only citizens are appointed to citizen committees.",
            code="appointee_not_citizen",
            fields={"user_id": ["Not a citizen."]},
        )
    return user


def _term(committee: Committee, start: date, end: date | None) -> date:
    longest = add_months(start, committee.term_months) - timedelta(days=1)
    end = longest if end is None else end
    if end < start:
        raise ValidationFailed(
            "The term ends before it starts.",
            code="term_invalid",
            fields={"term_end": ["Must be on or after term_start."]},
        )
    if end > longest:
        raise ValidationFailed(
            f"A term of this committee lasts at most {committee.term_months} months.",
            code="term_too_long",
            fields={"term_end": [f"At most {longest.isoformat()}."]},
        )
    if end < seoul_today():
        raise ValidationFailed(
            "The term is already over.",
            code="term_in_past",
            fields={"term_end": ["Must be today or later."]},
        )
    return end


def appoint_member(
    *,
    actor: User,
    committee: Committee,
    user_id: str,
    role: AppointmentRole,
    term_start: date,
    term_end: date | None = None,
) -> Appointment:
    """Appoint (위촉) a citizen for a term; the end defaults to the committee's term length.

    Refused when the seats would be over-filled on any day of the term, when the person already
    holds an overlapping term, when a chair or vice-chair would be doubled, or when a required
    certificate is not active on the first day.
    """
    if not can_manage_committee(actor, committee):
        raise PermissionDenied("Only the municipality's officials appoint members.")
    user = _appointee(committee, user_id)
    term_end = _term(committee, term_start, term_end)
    committee = _lock(Committee, committee)
    overlapping = list(db.session.scalars(_holding(committee.id, term_start, term_end)))
    if any(a.user_id == user.id for a in overlapping):
        raise RuleViolation(
            "This person already holds a term on this committee at that time.",
            code="appointment_overlaps",
        )
    if role in SINGLE_HOLDER_ROLES and any(a.role == role for a in overlapping):
        raise RuleViolation(f"The committee already has a {role.value}.", code="role_taken")
    terms = [(a.term_start, a.effective_end) for a in overlapping]
    if _most_held_at_once(terms, term_start, term_end) >= committee.seats:
        raise RuleViolation("Every seat of the committee is taken.", code="committee_full")
    if committee.requires_certificate and not shared._holds_active_certificate(user.id, term_start):
        raise RuleViolation(
            "Members of this committee must hold an active model-citizen certificate.",
            code="certificate_required",
        )
    reappointment = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Appointment)
        .where(Appointment.committee_id == committee.id, Appointment.user_id == user.id)
    )
    appointment = Appointment(
        committee=committee,
        municipality_id=committee.municipality_id,
        user=user,
        role=role,
        term_start=term_start,
        term_end=term_end,
        effective_end=term_end,
        appointed_by=actor,
    )
    save_and_audit(
        appointment,
        actor=actor,
        action="appointment.create",
        target_type="appointment",
        municipality_id=committee.municipality_id,
        details={
            "committee_id": committee.id,
            "user_id": user.id,
            "role": role.value,
            "term_start": term_start.isoformat(),
            "term_end": term_end.isoformat(),
            "reappointment": bool(reappointment),
        },
    )
    events.publish(
        events.APPOINTMENT_CREATED,
        appointment_id=appointment.id,
        user_id=user.id,
        municipality_id=committee.municipality_id,
        committee_id=committee.id,
        committee_name=committee.name,
        role=role.value,
        term_end=term_end,
    )
    return appointment


def dismiss_appointment(*, actor: User, appointment: Appointment, reason: str) -> Appointment:
    """Dismiss (해촉) a member: membership ends today, before the term's end."""
    if not can_manage_committee(actor, appointment.committee):
        raise PermissionDenied("Only the municipality's officials dismiss members.")
    _lock(Committee, appointment.committee)
    db.session.refresh(appointment)
    if appointment.dismissed_at is not None:
        raise Conflict("This appointment was already dismissed.", code="appointment_dismissed")
    today = seoul_today()
    if appointment.effective_end < today:
        raise RuleViolation("This term is already over.", code="appointment_ended")
    return _end_appointment(appointment, actor=actor, reason=reason, today=today)


def end_seats_of_leaving_member(*, user_id: str, reason: str) -> int:
    """End every current or future seat of a citizen whose account is deleted: the same end as
    a dismissal, made by nobody (the account's deletion is the act)."""
    today = seoul_today()
    ending = db.session.scalars(
        sa.select(Appointment).where(
            Appointment.user_id == user_id,
            Appointment.dismissed_at.is_(None),
            Appointment.effective_end >= today,
        )
    ).all()
    for appointment in ending:
        _lock(Committee, appointment.committee)
        _end_appointment(appointment, actor=None, reason=reason, today=today)
    return len(ending)


def _end_appointment(
    appointment: Appointment, *, actor: User | None, reason: str, today: date
) -> Appointment:
    appointment.dismissed_at = utcnow()
    appointment.dismissed_by = actor
    appointment.dismissal_reason = reason
    appointment.effective_end = min(appointment.term_end, today - timedelta(days=1))
    save_and_audit(
        appointment,
        actor=actor,
        action="appointment.dismiss",
        target_type="appointment",
        details={
            "committee_id": appointment.committee_id,
            "user_id": appointment.user_id,
            "reason": reason,
        },
    )
    events.publish(
        events.APPOINTMENT_DISMISSED,
        appointment_id=appointment.id,
        user_id=appointment.user_id,
        municipality_id=appointment.municipality_id,
        committee_name=appointment.committee.name,
        reason=reason,
    )
    _retier_after_dismissal(appointment)
    return appointment


def get_appointment(*, viewer: User, appointment_id: str) -> Appointment:
    """One appointment: citizens see their own, staff those of their municipality."""
    return get_visible(
        Appointment, appointment_id, viewer, "appointment_not_found", can_see_personal_row
    )


def _appointment_status_filter(status: AppointmentStatus, today: date) -> sa.ColumnElement:
    live = Appointment.effective_end >= Appointment.term_start
    return {
        AppointmentStatus.ACTIVE: sa.and_(
            Appointment.term_start <= today, Appointment.effective_end >= today
        ),
        AppointmentStatus.UPCOMING: sa.and_(live, Appointment.term_start > today),
        AppointmentStatus.ENDED: sa.and_(
            Appointment.dismissed_at.is_(None), Appointment.effective_end < today
        ),
        AppointmentStatus.DISMISSED: sa.and_(
            Appointment.dismissed_at.is_not(None), Appointment.effective_end < today
        ),
    }[status]


def list_appointments(
    *,
    viewer: User,
    committee: Committee,
    limit: int,
    cursor: str | None,
    status: AppointmentStatus | None = None,
) -> Page:
    """A committee's appointment history (members past, present and future), newest first."""
    query = scope_to_municipality(
        sa.select(Appointment).where(Appointment.committee_id == committee.id), Appointment, viewer
    )
    if status is not None:
        query = query.where(_appointment_status_filter(status, seoul_today()))
    return paginate(query, Appointment.id, limit=limit, cursor=cursor)


def list_my_appointments(
    *, user: User, limit: int, cursor: str | None, status: AppointmentStatus | None = None
) -> Page:
    """The caller's committees, roles and terms, newest first."""
    query = sa.select(Appointment).where(Appointment.user_id == user.id)
    if status is not None:
        query = query.where(_appointment_status_filter(status, seoul_today()))
    return paginate(query, Appointment.id, limit=limit, cursor=cursor)


def appointment_letter(*, viewer: User, appointment_id: str) -> str:
    """The printable appointment letter (HTML) for the member or the municipality's officials."""
    appointment = get_appointment(viewer=viewer, appointment_id=appointment_id)
    if appointment.dismissed_at is not None:
        raise RuleViolation("A dismissed appointment has no letter.", code="appointment_dismissed")
    municipality = db.session.get(Municipality, appointment.municipality_id)
    return render_appointment_letter(appointment, municipality_name=municipality.name)


def notify_terms_ending(*, within_days: int) -> int:
    """Announce (once) every term that ends within the next days; returns how many."""
    today = seoul_today()
    query = sa.select(Appointment).where(
        Appointment.dismissed_at.is_(None),
        Appointment.term_ending_notified_at.is_(None),
        Appointment.effective_end >= today,
        Appointment.effective_end <= today + timedelta(days=within_days),
    )
    count = 0
    for appointment in db.session.scalars(query):
        appointment.term_ending_notified_at = utcnow()
        events.publish(
            events.APPOINTMENT_TERM_ENDING,
            appointment_id=appointment.id,
            user_id=appointment.user_id,
            municipality_id=appointment.municipality_id,
            committee_name=appointment.committee.name,
            term_end=appointment.term_end,
        )
        count += 1
    db.session.flush()
    return count


def record_ended_terms() -> int:
    """Write each term that ended by itself into the audit log (once); returns how many."""
    query = sa.select(Appointment).where(
        Appointment.dismissed_at.is_(None),
        Appointment.end_recorded_at.is_(None),
        Appointment.effective_end < seoul_today(),
    )
    count = 0
    for appointment in db.session.scalars(query):
        appointment.end_recorded_at = utcnow()
        save_and_audit(
            appointment,
            actor=None,
            action="appointment.end",
            target_type="appointment",
            details={
                "committee_id": appointment.committee_id,
                "user_id": appointment.user_id,
                "term_end": appointment.term_end.isoformat(),
            },
        )
        count += 1
    db.session.flush()
    return count
