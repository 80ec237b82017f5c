"""Committees: iCalendar feeds of a committee's and a person's meetings."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from backend.clock import seoul_day_start, utcnow
from backend.committees.ical import CalendarEvent, build_calendar
from backend.committees.models import (
    Appointment,
    CalendarFeed,
    Committee,
    Meeting,
    MeetingStatus,
    Registration,
    RegistrationStatus,
)
from backend.errors import NotFound
from backend.extensions import db
from backend.identity.models import User

#: How far back the calendar feeds reach.
CALENDAR_HISTORY = timedelta(days=180)
#: The most events one calendar feed carries.
CALENDAR_MAX_EVENTS = 500


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
