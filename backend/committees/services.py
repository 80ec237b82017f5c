"""Committee services: committees, appointments, meetings, registrations, check-in, calendars.

Seats at a meeting (the rule every registration, promotion and change keeps):

- at most ``capacity`` registrations are confirmed;
- at most ``capacity - reserved_seats`` of them belong to people who are not committee members.

Members may take any seat, others only the unreserved ones; so members fill the reserved seats
first and spill over into the general ones, and a reserved seat never goes to a non-member.
The waitlist is served by tier (member, certified, general), then by time of registration.
Counting and confirming happen with the meeting row locked (``SELECT ... FOR UPDATE`` on
PostgreSQL, the database write lock on SQLite), so parallel registrations cannot overbook.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from backend import events
from backend.audit.services import record_audit
from backend.certification.services import has_active_certificate
from backend.clock import SEOUL, add_months, seoul_day_start, seoul_today, utcnow
from backend.committees import tickets
from backend.committees.ical import CalendarEvent, build_calendar
from backend.committees.letters import render_appointment_letter
from backend.committees.models import (
    CHECK_IN_MARGIN,
    SINGLE_HOLDER_ROLES,
    Appointment,
    AppointmentRole,
    AppointmentStatus,
    CalendarFeed,
    Committee,
    Meeting,
    MeetingStatus,
    PriorityTier,
    Registration,
    RegistrationStatus,
    Stage,
)
from backend.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.pagination import Page, paginate, where_given
from backend.participation.services import get_project
from backend.permissions import (
    Role,
    can_manage_committee,
    can_manage_meetings,
    ensure_same_municipality,
    scope_to_municipality,
)

T = TypeVar("T")

#: How far back the calendar feeds reach.
CALENDAR_HISTORY = timedelta(days=180)
#: The most events one calendar feed carries.
CALENDAR_MAX_EVENTS = 500


# ---- other domains ----------------------------------------------------------------------------


def _holds_active_certificate(user_id: str, on: date) -> bool:
    """Whether the user holds an active model-citizen certificate on a day (certification)."""
    return has_active_certificate(user_id=user_id, on=on)


# ---- helpers ----------------------------------------------------------------------------------


def _visible(viewer: User, row: T | None, *, code: str, what: str) -> T:
    """The row if the viewer may see its municipality; otherwise as if it did not exist."""
    try:
        return ensure_same_municipality(viewer, row)
    except NotFound:
        raise NotFound(f"{what} not found.", code=code) from None


def _lock(model: Any, row: T) -> T:
    """Serialise writers on one row and return it freshly read.

    PostgreSQL: ``SELECT ... FOR UPDATE`` waits for the other holders. SQLite has one writer at a
    time: a (no-op) UPDATE takes the write lock now, before anything is counted, so a second
    writer waits (busy_timeout) instead of failing later on a stale snapshot.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        query = (
            sa.select(model)
            .where(model.id == row.id)
            .with_for_update(of=model)
            .execution_options(populate_existing=True)
        )
        return db.session.scalars(query).one()
    db.session.execute(
        sa.update(model)
        .where(model.id == row.id)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SEOUL).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


# ---- committees -------------------------------------------------------------------------------


def create_committee(
    *,
    actor: User,
    name: str,
    seats: int,
    term_months: int,
    purpose: str = "",
    requires_certificate: bool = False,
    project_id: str | None = None,
) -> Committee:
    """An official sets up a committee of their municipality (optionally of a project)."""
    if actor.role != Role.OFFICIAL or actor.municipality_id is None:
        raise PermissionDenied("Only officials of a municipality create committees.")
    if project_id is not None:
        # Another municipality's project is "not found", as everywhere else (tenancy).
        get_project(viewer=actor, project_id=project_id)
    committee = Committee(
        municipality_id=actor.municipality_id,
        project_id=project_id,
        name=name.strip(),
        purpose=purpose,
        seats=seats,
        term_months=term_months,
        requires_certificate=requires_certificate,
        created_by_id=actor.id,
    )
    db.session.add(committee)
    db.session.flush()
    record_audit(
        actor=actor,
        action="committee.create",
        target_type="committee",
        target_id=committee.id,
        municipality_id=committee.municipality_id,
        details={
            "name": committee.name,
            "seats": seats,
            "term_months": term_months,
            "requires_certificate": requires_certificate,
            "project_id": project_id,
        },
    )
    return committee


def get_committee(*, viewer: User, committee_id: str) -> Committee:
    """One committee, if the viewer may see its municipality."""
    committee = db.session.get(Committee, committee_id)
    return _visible(viewer, committee, code="committee_not_found", what="Committee")


def list_committees(
    *, viewer: User, limit: int, cursor: str | None, project_id: str | None = None
) -> Page:
    """Committees the viewer may see, newest first."""
    query = scope_to_municipality(sa.select(Committee), Committee, viewer)
    query = where_given(query, {Committee.project_id: project_id})
    return paginate(query, Committee.id, limit=limit, cursor=cursor)


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
    if committee.requires_certificate and not _holds_active_certificate(user.id, term_start):
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
    db.session.add(appointment)
    db.session.flush()
    record_audit(
        actor=actor,
        action="appointment.create",
        target_type="appointment",
        target_id=appointment.id,
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
    appointment.dismissed_at = utcnow()
    appointment.dismissed_by = actor
    appointment.dismissal_reason = reason
    appointment.effective_end = min(appointment.term_end, today - timedelta(days=1))
    db.session.flush()
    record_audit(
        actor=actor,
        action="appointment.dismiss",
        target_type="appointment",
        target_id=appointment.id,
        municipality_id=appointment.municipality_id,
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
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is not None and viewer.role == Role.CITIZEN and appointment.user_id != viewer.id:
        appointment = None
    return _visible(viewer, appointment, code="appointment_not_found", what="Appointment")


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


def _members_on(committee_id: str, day: date) -> list[str]:
    """Ids of the people who hold a term on a committee on a day."""
    return list(
        db.session.scalars(
            sa.select(Appointment.user_id).where(
                Appointment.committee_id == committee_id,
                Appointment.term_start <= day,
                Appointment.effective_end >= day,
            )
        )
    )


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
        record_audit(
            actor=None,
            action="appointment.end",
            target_type="appointment",
            target_id=appointment.id,
            municipality_id=appointment.municipality_id,
            details={
                "committee_id": appointment.committee_id,
                "user_id": appointment.user_id,
                "term_end": appointment.term_end.isoformat(),
            },
        )
        count += 1
    db.session.flush()
    return count


# ---- meetings ---------------------------------------------------------------------------------


def _check_meeting_plan(values: dict[str, Any]) -> None:
    """Field rules that involve several fields; the first broken rule names the error code."""
    broken: list[tuple[str, str, str]] = []
    if values["ends_at"] <= values["starts_at"]:
        broken.append(("meeting_times_invalid", "ends_at", "Must be after starts_at."))
    if values["reserved_seats"] > values["capacity"]:
        broken.append(
            ("reserved_seats_exceed_capacity", "reserved_seats", "Must not exceed capacity.")
        )
    if values["priority_opens_at"] > values["general_opens_at"]:
        broken.append(
            (
                "registration_windows_invalid",
                "general_opens_at",
                "Must not be before priority_opens_at.",
            )
        )
    if values["general_opens_at"] >= values["starts_at"]:
        broken.append(
            ("registration_windows_invalid", "general_opens_at", "Must be before starts_at.")
        )
    if not values.get("place") and not values.get("online_url"):
        broken.append(("meeting_location_required", "place", "Give a place or an online link."))
    if broken:
        fields: dict[str, list[str]] = {}
        for _code, field, message in broken:
            fields.setdefault(field, []).append(message)
        raise ValidationFailed("Check the meeting's plan.", code=broken[0][0], fields=fields)


def _check_future_start(starts_at: datetime) -> None:
    if starts_at <= utcnow():
        raise ValidationFailed(
            "The meeting would start in the past.",
            code="meeting_in_past",
            fields={"starts_at": ["Must be in the future."]},
        )


def _people_to_tell(meeting: Meeting) -> list[str]:
    """Live registrants and the committee's members on the meeting day, sorted."""
    registrants = db.session.scalars(
        sa.select(Registration.user_id).where(
            Registration.meeting_id == meeting.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    return sorted(set(registrants) | set(_members_on(meeting.committee_id, meeting.seoul_date)))


def _publish_meeting(event: str, meeting: Meeting, user_ids: list[str]) -> None:
    events.publish(
        event,
        meeting_id=meeting.id,
        municipality_id=meeting.municipality_id,
        title=meeting.title,
        starts_at=meeting.starts_at,
        user_ids=user_ids,
    )


def create_meeting(
    *,
    actor: User,
    committee: Committee,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    priority_opens_at: datetime,
    general_opens_at: datetime,
    reserved_seats: int = 0,
    agenda: str = "",
    place: str | None = None,
    online_url: str | None = None,
    stage: Stage | None = None,
) -> Meeting:
    """Schedule a committee meeting; its members hear of it."""
    if not can_manage_meetings(actor, committee):
        raise PermissionDenied("Only the municipality's schedulers and officials plan meetings.")
    values = {
        "title": title.strip(),
        "agenda": agenda,
        "place": place or None,
        "online_url": online_url or None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": capacity,
        "reserved_seats": reserved_seats,
        "priority_opens_at": priority_opens_at,
        "general_opens_at": general_opens_at,
        "stage": stage,
    }
    _check_meeting_plan(values)
    _check_future_start(starts_at)
    now = utcnow()
    meeting = Meeting(
        municipality_id=committee.municipality_id,
        committee=committee,
        project_id=committee.project_id,
        created_by_id=actor.id,
        status=MeetingStatus.SCHEDULED,
        sequence=0,
        created_at=now,
        updated_at=now,
        **values,
    )
    db.session.add(meeting)
    db.session.flush()
    record_audit(
        actor=actor,
        action="meeting.create",
        target_type="meeting",
        target_id=meeting.id,
        municipality_id=meeting.municipality_id,
        details={k: _jsonable(v) for k, v in values.items() if k != "agenda"},
    )
    _publish_meeting(
        events.MEETING_SCHEDULED,
        meeting,
        sorted(set(_members_on(committee.id, meeting.seoul_date))),
    )
    meeting.counts = (0, 0)
    return meeting


def get_meeting(*, viewer: User, meeting_id: str) -> Meeting:
    """One meeting, if the viewer may see its municipality (with seat counts)."""
    meeting = _visible(
        viewer, db.session.get(Meeting, meeting_id), code="meeting_not_found", what="Meeting"
    )
    _count_seats([meeting])
    return meeting


def _count_seats(meetings: list[Meeting]) -> None:
    """Fill each meeting's confirmed and waitlisted counts, in one query."""
    if not meetings:
        return
    rows = db.session.execute(
        sa.select(Registration.meeting_id, Registration.status, sa.func.count())
        .where(
            Registration.meeting_id.in_([m.id for m in meetings]),
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .group_by(Registration.meeting_id, Registration.status)
    )
    found: dict[tuple[str, RegistrationStatus], int] = {
        (meeting_id, status): count for meeting_id, status, count in rows
    }
    for meeting in meetings:
        meeting.counts = (
            found.get((meeting.id, RegistrationStatus.CONFIRMED), 0),
            found.get((meeting.id, RegistrationStatus.WAITLISTED), 0),
        )


def list_meetings(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    committee_id: str | None = None,
    project_id: str | None = None,
    status: MeetingStatus | None = None,
    upcoming: bool = False,
) -> Page:
    """Meetings the viewer may see, newest first, optionally of one committee or project."""
    query = scope_to_municipality(sa.select(Meeting), Meeting, viewer)
    query = where_given(
        query,
        {
            Meeting.committee_id: committee_id,
            Meeting.project_id: project_id,
            Meeting.status: status,
        },
    )
    if upcoming:
        query = query.where(Meeting.ends_at > utcnow())
    page = paginate(query, Meeting.id, limit=limit, cursor=cursor)
    _count_seats(page.items)
    return page


def _seat_use(meeting_id: str) -> tuple[int, int]:
    """(confirmed, confirmed non-members) of a meeting."""
    confirmed, others = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Registration.tier != PriorityTier.MEMBER),
        ).where(
            Registration.meeting_id == meeting_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).one()
    return confirmed, others


def _fits(meeting: Meeting, tier: PriorityTier, confirmed: int, others: int) -> bool:
    if confirmed >= meeting.capacity:
        return False
    return tier == PriorityTier.MEMBER or others < meeting.general_seats


def _promote_waitlisted(meeting: Meeting) -> list[Registration]:
    """Confirm the best-placed waitlisted registrations while seats allow; tell each of them."""
    confirmed, others = _seat_use(meeting.id)
    if confirmed >= meeting.capacity:
        return []
    waiting = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.meeting_id == meeting.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.priority, Registration.created_at, Registration.id)
    )
    now, promoted = utcnow(), []
    for registration in waiting:
        if confirmed >= meeting.capacity:
            break
        if not _fits(meeting, registration.tier, confirmed, others):
            continue  # only a member may take the seat that is free
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = registration.promoted_at = now
        confirmed += 1
        others += registration.tier != PriorityTier.MEMBER
        promoted.append(registration)
    db.session.flush()
    for registration in promoted:
        _publish_registration(events.REGISTRATION_PROMOTED, registration)
    return promoted


def _meeting_changes(meeting: Meeting, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that differ from the stored values (empty strings clear optional text)."""
    different = {}
    for name, value in changes.items():
        if name in ("place", "online_url") and value == "":
            value = None
        if name == "title":
            value = value.strip()
        if getattr(meeting, name) != value:
            different[name] = value
    return different


def update_meeting(*, actor: User, meeting: Meeting, **changes: Any) -> Meeting:
    """Change a meeting's plan: it becomes `changed`, its calendar event is updated and the
    people concerned are told; more seats promote waitlisted registrants."""
    if not can_manage_meetings(actor, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials plan meetings.")
    meeting = _lock(Meeting, meeting)
    if not meeting.is_open_for_changes:
        raise RuleViolation(f"The meeting is {meeting.status.value}.", code="meeting_not_editable")
    different = _meeting_changes(meeting, changes)
    if not different:
        _count_seats([meeting])
        return meeting
    plan_fields = (
        "starts_at",
        "ends_at",
        "capacity",
        "reserved_seats",
        "priority_opens_at",
        "general_opens_at",
        "place",
        "online_url",
    )
    values = {name: different.get(name, getattr(meeting, name)) for name in plan_fields}
    _check_meeting_plan(values)
    if "starts_at" in different:
        _check_future_start(values["starts_at"])
    confirmed, others = _seat_use(meeting.id)
    if values["capacity"] < confirmed:
        raise RuleViolation(
            f"{confirmed} registrations are confirmed; capacity cannot go below that.",
            code="capacity_below_confirmed",
            fields={"capacity": [f"At least {confirmed}."]},
        )
    if others > values["capacity"] - values["reserved_seats"]:
        raise RuleViolation(
            "Non-members already hold more seats than would stay unreserved.",
            code="reserved_seats_taken",
            fields={"reserved_seats": [f"At most {values['capacity'] - others}."]},
        )
    for name, value in different.items():
        setattr(meeting, name, value)
    if "starts_at" in different:
        meeting.reminder_sent_at = None
    meeting.status = MeetingStatus.CHANGED
    meeting.sequence += 1
    meeting.updated_at = utcnow()
    db.session.flush()
    record_audit(
        actor=actor,
        action="meeting.update",
        target_type="meeting",
        target_id=meeting.id,
        municipality_id=meeting.municipality_id,
        details={k: _jsonable(v) for k, v in different.items() if k != "agenda"}
        | ({"agenda": "changed"} if "agenda" in different else {}),
    )
    _promote_waitlisted(meeting)
    _publish_meeting(events.MEETING_CHANGED, meeting, _people_to_tell(meeting))
    _count_seats([meeting])
    return meeting


def cancel_meeting(*, actor: User, meeting: Meeting, reason: str) -> Meeting:
    """Cancel a meeting: registrants and members are told, calendars show it cancelled."""
    if not can_manage_meetings(actor, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials plan meetings.")
    meeting = _lock(Meeting, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("The meeting is already cancelled.", code="meeting_cancelled")
    if meeting.status == MeetingStatus.HELD:
        raise RuleViolation("The meeting was held.", code="meeting_not_editable")
    now = utcnow()
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = meeting.updated_at = now
    meeting.cancel_reason = reason
    meeting.sequence += 1
    db.session.flush()
    record_audit(
        actor=actor,
        action="meeting.cancel",
        target_type="meeting",
        target_id=meeting.id,
        municipality_id=meeting.municipality_id,
        details={"reason": reason},
    )
    _publish_meeting(events.MEETING_CANCELLED, meeting, _people_to_tell(meeting))
    _count_seats([meeting])
    return meeting


def attach_minutes(
    *, actor: User, meeting: Meeting, minutes: str, minutes_url: str | None = None
) -> Meeting:
    """Attach (or replace) the minutes once the meeting has begun; the meeting is then held."""
    if not can_manage_meetings(actor, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials plan meetings.")
    meeting = _lock(Meeting, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise RuleViolation("The meeting was cancelled.", code="meeting_cancelled")
    if utcnow() < meeting.starts_at:
        raise RuleViolation("The meeting has not started yet.", code="meeting_not_started")
    now = utcnow()
    replaced = meeting.minutes is not None
    meeting.minutes = minutes
    meeting.minutes_url = minutes_url or None
    meeting.minutes_attached_at = meeting.updated_at = now
    meeting.status = MeetingStatus.HELD
    db.session.flush()
    record_audit(
        actor=actor,
        action="meeting.minutes",
        target_type="meeting",
        target_id=meeting.id,
        municipality_id=meeting.municipality_id,
        details={"replaced": replaced, "minutes_url": meeting.minutes_url},
    )
    _count_seats([meeting])
    return meeting


def send_meeting_reminders(*, within: timedelta) -> int:
    """Remind (once) the confirmed registrants of meetings that start soon; returns how many."""
    now = utcnow()
    query = sa.select(Meeting).where(
        Meeting.status.in_([MeetingStatus.SCHEDULED, MeetingStatus.CHANGED]),
        Meeting.reminder_sent_at.is_(None),
        Meeting.starts_at > now,
        Meeting.starts_at <= now + within,
    )
    count = 0
    for meeting in db.session.scalars(query):
        meeting.reminder_sent_at = now
        user_ids = sorted(
            db.session.scalars(
                sa.select(Registration.user_id).where(
                    Registration.meeting_id == meeting.id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
            )
        )
        _publish_meeting(events.MEETING_REMINDER, meeting, user_ids)
        count += 1
    db.session.flush()
    return count


# ---- registrations ----------------------------------------------------------------------------


def _publish_registration(event: str, registration: Registration) -> None:
    meeting = registration.meeting
    events.publish(
        event,
        registration_id=registration.id,
        meeting_id=meeting.id,
        user_id=registration.user_id,
        municipality_id=registration.municipality_id,
        title=meeting.title,
        starts_at=meeting.starts_at,
    )


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
    if _holds_active_certificate(user_id, seoul_today()):
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
    if actor.role != Role.CITIZEN or actor.municipality_id != meeting.municipality_id:
        raise PermissionDenied("Only citizens of the municipality register for its meetings.")
    meeting = _lock(Meeting, meeting)
    now = utcnow()
    _check_registration_open(meeting, now)
    if now < meeting.priority_opens_at:
        raise RuleViolation("Registration has not opened yet.", code="registration_not_open")
    already = db.session.scalar(
        sa.select(Registration.id).where(
            Registration.meeting_id == meeting.id,
            Registration.user_id == actor.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    if already is not None:
        raise Conflict("You are already registered for this meeting.", code="already_registered")
    tier = priority_tier(meeting=meeting, user_id=actor.id)
    if now < meeting.general_opens_at and tier == PriorityTier.GENERAL:
        raise RuleViolation(
            "Only committee members and certified model citizens may register now.",
            code="registration_priority_only",
        )
    confirmed, others = _seat_use(meeting.id)
    fits = _fits(meeting, tier, confirmed, others)
    registration = Registration(
        meeting=meeting,
        municipality_id=meeting.municipality_id,
        user=actor,
        tier=tier,
        priority=tier.rank,
        status=RegistrationStatus.CONFIRMED if fits else RegistrationStatus.WAITLISTED,
        created_at=now,
        confirmed_at=now if fits else None,
    )
    db.session.add(registration)
    db.session.flush()
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
    registration = db.session.get(Registration, registration_id)
    if (
        registration is not None
        and viewer.role == Role.CITIZEN
        and registration.user_id != viewer.id
    ):
        registration = None
    registration = _visible(
        viewer, registration, code="registration_not_found", what="Registration"
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
            registration.ticket = tickets.make_ticket(registration.id, registration.meeting_id)
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
    query = scope_to_municipality(
        sa.select(Registration).where(Registration.meeting_id == meeting.id), Registration, viewer
    )
    query = where_given(query, {Registration.status: status})
    page = paginate(query, Registration.id, limit=limit, cursor=cursor)
    _describe(page.items, owner=False)
    return page


def list_my_registrations(
    *,
    user: User,
    limit: int,
    cursor: str | None,
    status: RegistrationStatus | None = None,
) -> Page:
    """The caller's registrations, newest first, with tickets and waitlist positions."""
    query = sa.select(Registration).where(Registration.user_id == user.id)
    query = where_given(query, {Registration.status: status})
    page = paginate(query, Registration.id, limit=limit, cursor=cursor)
    _describe(page.items, owner=True)
    return page


def ticket_png(*, viewer: User, registration_id: str) -> bytes:
    """The QR image of a live registration's ticket (its registrant, or the meeting's staff)."""
    registration = db.session.get(Registration, registration_id)
    if registration is not None and not (
        registration.user_id == viewer.id or can_manage_meetings(viewer, registration.meeting)
    ):
        registration = None
    registration = _visible(
        viewer, registration, code="registration_not_found", what="Registration"
    )
    if registration.status == RegistrationStatus.CANCELLED:
        raise RuleViolation("The registration was cancelled.", code="registration_cancelled")
    return tickets.render_ticket_png(tickets.make_ticket(registration.id, registration.meeting_id))


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


# ---- calendars --------------------------------------------------------------------------------


def _calendar_event(meeting: Meeting) -> CalendarEvent:
    description = meeting.agenda
    if meeting.online_url:
        description = f"{description}\n\n{meeting.online_url}".strip()
    return CalendarEvent(
        uid=f"{meeting.id}@meetings.coproduction",
        summary=meeting.title,
        description=description,
        location=meeting.place or meeting.online_url or "",
        url=meeting.online_url,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        sequence=meeting.sequence,
        created_at=meeting.created_at,
        modified_at=meeting.updated_at,
        cancelled=meeting.status == MeetingStatus.CANCELLED,
    )


def _recent(query: sa.Select) -> list[Meeting]:
    query = query.where(Meeting.starts_at >= utcnow() - CALENDAR_HISTORY)
    return list(
        db.session.scalars(query.order_by(Meeting.starts_at.desc()).limit(CALENDAR_MAX_EVENTS))
    )


def committee_calendar(*, viewer: User, committee: Committee) -> str:
    """The committee's meetings as an iCalendar feed."""
    meetings = _recent(sa.select(Meeting).where(Meeting.committee_id == committee.id))
    events_ = [_calendar_event(m) for m in sorted(meetings, key=lambda m: m.starts_at)]
    return build_calendar(name=committee.name, events=events_)


def personal_calendar(*, user: User) -> str:
    """The person's meetings as an iCalendar feed: those they registered for (not cancelled)
    and those of committees they are a member of on the meeting day."""
    registered = sa.select(Registration.meeting_id).where(
        Registration.user_id == user.id, Registration.status != RegistrationStatus.CANCELLED
    )
    conditions = [Meeting.id.in_(registered)]
    terms = db.session.execute(
        sa.select(
            Appointment.committee_id, Appointment.term_start, Appointment.effective_end
        ).where(
            Appointment.user_id == user.id,
            Appointment.effective_end >= Appointment.term_start,
        )
    )
    for committee_id, first, last in terms:
        conditions.append(
            sa.and_(
                Meeting.committee_id == committee_id,
                Meeting.starts_at >= seoul_day_start(first),
                Meeting.starts_at < seoul_day_start(last + timedelta(days=1)),
            )
        )
    meetings = _recent(sa.select(Meeting).where(sa.or_(*conditions)))
    events_ = [_calendar_event(m) for m in sorted(meetings, key=lambda m: m.starts_at)]
    return build_calendar(name=f"{user.display_name} - 회의", events=events_)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_calendar_feed(*, user: User) -> tuple[CalendarFeed, str]:
    """Make (or replace) the person's secret feed token; the old URL stops working."""
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=_token_hash(token))
    db.session.add(feed)
    db.session.flush()
    return feed, token


def revoke_calendar_feed(*, user: User) -> None:
    """Stop the person's secret feed URL from working (nothing happens if there is none)."""
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    db.session.flush()


def calendar_for_token(*, token: str) -> str:
    """The personal feed behind a secret token."""
    feed = db.session.scalar(
        sa.select(CalendarFeed).where(CalendarFeed.token_hash == _token_hash(token))
    )
    user = db.session.get(User, feed.user_id) if feed is not None else None
    if user is None or not user.is_usable:
        raise NotFound("Calendar feed not found.", code="calendar_feed_not_found")
    return personal_calendar(user=user)
