"""Committees: meetings, their seats, changes, minutes and reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend import events
from backend.audit.services import save_and_audit
from backend.clock import utcnow
from backend.committees.models import (
    Committee,
    Meeting,
    MeetingStatus,
    PriorityTier,
    Registration,
    RegistrationStatus,
    Stage,
)
from backend.committees.shared import _jsonable, _lock, _members_on
from backend.errors import Conflict, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.pagination import Page, paginate, where_given
from backend.permissions import (
    can_manage_meetings,
    scope_to_municipality,
)
from backend.rows import get_visible

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
    save_and_audit(
        meeting,
        actor=actor,
        action="meeting.create",
        target_type="meeting",
        details={k: _jsonable(v) for k, v in values.items() if k != "agenda"},
    )
    _publish_meeting(
        events.MEETING_SCHEDULED,
        meeting,
        sorted(set(_members_on(committee.id, meeting.seoul_date))),
    )
    meeting.counts = (0, 0)
    return meeting


def get_meeting(*, viewer: User, meeting_id: str, with_seats: bool = True) -> Meeting:
    """One meeting, if the viewer may see its municipality (with seat counts, unless the
    caller answers without them: one statement less)."""
    meeting = get_visible(Meeting, meeting_id, viewer, "meeting_not_found")
    if with_seats:
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
    confirmed, others, _live = _seat_use_and_live(meeting_id, user_id=None)
    return confirmed, others


def _seat_use_and_live(meeting_id: str, *, user_id: str | None) -> tuple[int, int, int]:
    """(confirmed, confirmed non-members, the user's live registrations) of a meeting, in
    one statement: a registration needs all three under the meeting's lock."""
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    live = sa.and_(
        Registration.user_id == user_id, Registration.status != RegistrationStatus.CANCELLED
    )
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(confirmed),
            sa.func.count().filter(confirmed, Registration.tier != PriorityTier.MEMBER),
            sa.func.count().filter(live) if user_id is not None else sa.literal(0),
        ).where(Registration.meeting_id == meeting_id)
    ).one()
    return row[0], row[1], row[2]


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
    save_and_audit(
        meeting,
        actor=actor,
        action="meeting.update",
        target_type="meeting",
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
    save_and_audit(
        meeting,
        actor=actor,
        action="meeting.cancel",
        target_type="meeting",
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
    save_and_audit(
        meeting,
        actor=actor,
        action="meeting.minutes",
        target_type="meeting",
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
        _remind(meeting, now)
        count += 1
    db.session.flush()
    return count


def _remind(meeting: Meeting, now: datetime) -> list[str]:
    """Tell the confirmed registrants the meeting is coming; returns who was told."""
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
    return user_ids


def send_meeting_reminder(*, actor: User, meeting: Meeting) -> int:
    """Staff remind a meeting's confirmed registrants now (again, if need be); returns how many."""
    if not can_manage_meetings(actor, meeting):
        raise PermissionDenied("Only the municipality's schedulers and officials plan meetings.")
    if meeting.status == MeetingStatus.CANCELLED:
        raise RuleViolation("The meeting was cancelled.", code="meeting_cancelled")
    if meeting.status == MeetingStatus.HELD or utcnow() >= meeting.starts_at:
        raise RuleViolation("The meeting has already begun.", code="meeting_started")
    told = _remind(meeting, utcnow())
    save_and_audit(
        meeting,
        actor=actor,
        action="meeting.remind",
        target_type="meeting",
        details={"registrants": len(told)},
    )
    return len(told)


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
