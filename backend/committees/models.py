"""Committee models: committees, appointments, meetings, registrations and calendar feeds."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.clock import SEOUL, seoul_today
from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db
from backend.identity.models import User


class AppointmentRole(enum.StrEnum):
    """A member's role on a committee."""

    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    MEMBER = "member"


#: Roles a committee holds once at a time.
SINGLE_HOLDER_ROLES = frozenset({AppointmentRole.CHAIR, AppointmentRole.VICE_CHAIR})


class AppointmentStatus(enum.StrEnum):
    """Derived from the dates: nothing has to run for a term to end."""

    UPCOMING = "upcoming"
    ACTIVE = "active"
    ENDED = "ended"
    DISMISSED = "dismissed"


class Stage(enum.StrEnum):
    """A stage of a co-production project."""

    PLAN = "plan"
    DECIDE = "decide"
    IMPLEMENT = "implement"
    EVALUATE = "evaluate"


class MeetingStatus(enum.StrEnum):
    """Where a meeting is in its life."""

    SCHEDULED = "scheduled"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    HELD = "held"


class RegistrationStatus(enum.StrEnum):
    """A citizen's place at a meeting."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class PriorityTier(enum.StrEnum):
    """Why a registrant is served before others; the order of the members is the order served."""

    MEMBER = "member"
    CERTIFIED = "certified"
    GENERAL = "general"

    @property
    def rank(self) -> int:
        """0 is served first."""
        return list(PriorityTier).index(self)


class Committee(db.Model):
    """A citizen committee of a municipality, optionally of one of its projects."""

    __tablename__ = "committees"
    __table_args__ = (
        sa.CheckConstraint("seats >= 1", name="seats_positive"),
        sa.CheckConstraint("term_months >= 1", name="term_positive"),
        sa.Index("ix_committees_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    #: The project the committee serves (participation domain); NULL for a municipal committee.
    #: Always a project of the committee's municipality (checked by `create_committee`).
    project_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    purpose: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: How many members may hold a term on any one day.
    seats: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: The longest term an appointment may have, in months.
    term_months: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Appointees must hold an active model-citizen certificate on their first day.
    requires_certificate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Appointment(db.Model):
    """One term of one citizen on one committee (위촉); a reappointment is a new row."""

    __tablename__ = "appointments"
    __table_args__ = (
        sa.CheckConstraint("term_end >= term_start", name="term_ordered"),
        sa.Index("ix_appointments_committee_term", "committee_id", "term_start", "effective_end"),
        sa.Index("ix_appointments_user", "user_id", "id"),
        sa.Index("ix_appointments_effective_end", "effective_end"),
    )

    id: Mapped[str] = id_column()
    committee_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("committees.id"), nullable=False
    )
    #: Copied from the committee, so tenancy scoping needs no join.
    municipality_id: Mapped[str] = mapped_column(sa.String(26), nullable=False)
    user_id: Mapped[str] = mapped_column(sa.String(26), sa.ForeignKey("users.id"), nullable=False)
    role: Mapped[AppointmentRole] = mapped_column(
        enum_type(AppointmentRole, "appointment_role"), nullable=False
    )
    term_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: The last day of the term as appointed.
    term_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: The last day of membership: term_end, or the day before a dismissal took effect.
    effective_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    appointed_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    dismissal_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: When `flask committees end-terms` announced the coming end (once per term).
    term_ending_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When `flask committees end-terms` wrote the natural end into the audit log.
    end_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    committee: Mapped[Committee] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    # selectin: a page of appointments loads its officials in one more query, not one per row.
    appointed_by: Mapped[User | None] = relationship(
        foreign_keys=[appointed_by_id], lazy="selectin"
    )
    dismissed_by: Mapped[User | None] = relationship(
        foreign_keys=[dismissed_by_id], lazy="selectin"
    )

    def status_on(self, day: date) -> AppointmentStatus:
        """The appointment's status on a day (Asia/Seoul)."""
        if self.dismissed_at is not None and day > self.effective_end:
            return AppointmentStatus.DISMISSED
        if day < self.term_start:
            return AppointmentStatus.UPCOMING
        if day > self.effective_end:
            return AppointmentStatus.ENDED
        return AppointmentStatus.ACTIVE

    @property
    def status(self) -> AppointmentStatus:
        """The status today."""
        return self.status_on(seoul_today())

    def is_active_on(self, day: date) -> bool:
        """Whether the person is a member on that day."""
        return self.term_start <= day <= self.effective_end

    @property
    def committee_name(self) -> str:
        """The committee's name (for lists and letters)."""
        return self.committee.name


class Meeting(db.Model):
    """A committee meeting with seats, a priority window, a waitlist and check-in."""

    __tablename__ = "meetings"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="times_ordered"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint(
            "reserved_seats >= 0 AND reserved_seats <= capacity", name="reserved_within_capacity"
        ),
        sa.CheckConstraint(
            "priority_opens_at <= general_opens_at AND general_opens_at < starts_at",
            name="windows_ordered",
        ),
        sa.Index("ix_meetings_municipality", "municipality_id", "id"),
        sa.Index("ix_meetings_committee", "committee_id", "id"),
        sa.Index("ix_meetings_starts_at", "starts_at"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    committee_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("committees.id"), nullable=False
    )
    #: The committee's project, copied so attendance counts for that project's stage.
    project_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id"), index=True
    )
    stage: Mapped[Stage | None] = mapped_column(enum_type(Stage, "meeting_stage"))
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    agenda: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    place: Mapped[str | None] = mapped_column(sa.String(200))
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    capacity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Seats only committee members may take (members may also take the others).
    reserved_seats: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Committee members and certified model citizens may register from here on.
    priority_opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: Everyone of the municipality may register from here on.
    general_opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus, "meeting_status"), nullable=False, default=MeetingStatus.SCHEDULED
    )
    #: iCalendar SEQUENCE: raised on every change a calendar must pick up.
    sequence: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    minutes: Mapped[str | None] = mapped_column(sa.Text)
    minutes_url: Mapped[str | None] = mapped_column(sa.String(500))
    minutes_attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: When `flask committees send-reminders` told the registrants (once per meeting).
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    committee: Mapped[Committee] = relationship(lazy="joined", innerjoin=True)

    #: Filled by the services for answers (confirmed and waitlisted counts); not stored.
    counts = None  # (confirmed, waitlisted)

    @property
    def general_seats(self) -> int:
        """Seats anyone may take."""
        return self.capacity - self.reserved_seats

    @property
    def seoul_date(self) -> date:
        """The day the meeting takes place, in Asia/Seoul."""
        return self.starts_at.astimezone(SEOUL).date()

    @property
    def is_open_for_changes(self) -> bool:
        """Cancelled and held meetings are history."""
        return self.status in (MeetingStatus.SCHEDULED, MeetingStatus.CHANGED)

    @property
    def confirmed_count(self) -> int | None:
        """Confirmed registrations, when the services counted them."""
        return None if self.counts is None else self.counts[0]

    @property
    def waitlisted_count(self) -> int | None:
        """Waitlisted registrations, when the services counted them."""
        return None if self.counts is None else self.counts[1]

    @property
    def seats_left(self) -> int | None:
        """Free seats of any kind, when the services counted them."""
        return None if self.counts is None else max(0, self.capacity - self.counts[0])


class Registration(db.Model):
    """One citizen's registration for one meeting: confirmed, waitlisted or cancelled."""

    __tablename__ = "meeting_registrations"
    __table_args__ = (
        # One live registration per person and meeting; a cancelled one may be followed by another.
        sa.Index(
            "uq_meeting_registrations_live",
            "meeting_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        ),
        sa.Index(
            "ix_meeting_registrations_queue", "meeting_id", "status", "priority", "created_at"
        ),
        sa.Index("ix_meeting_registrations_user", "user_id", "id"),
    )

    id: Mapped[str] = id_column()
    meeting_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("meetings.id"), nullable=False
    )
    municipality_id: Mapped[str] = mapped_column(sa.String(26), nullable=False)
    user_id: Mapped[str] = mapped_column(sa.String(26), sa.ForeignKey("users.id"), nullable=False)
    tier: Mapped[PriorityTier] = mapped_column(
        enum_type(PriorityTier, "priority_tier"), nullable=False
    )
    #: The tier's rank (0 = member), stored so the waitlist is one indexed ordering.
    priority: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_type(RegistrationStatus, "registration_status"), nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when the registrant came off the waitlist.
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))

    meeting: Mapped[Meeting] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)

    #: Filled by the services for answers (1-based place on the waitlist); not stored.
    waitlist_position = None
    #: Filled by the services for the owner's answers (the signed ticket text); not stored.
    ticket = None
    #: Filled in a meeting's registration list (the latest door conflict scan); not stored.
    check_in_conflict = None


class CalendarFeed(db.Model):
    """A citizen's secret calendar URL: phones fetch it without a bearer token."""

    __tablename__ = "calendar_feeds"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    #: SHA-256 of the token; the token itself is shown once, when made.
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()


#: Check-in opens this long before a meeting starts and closes this long after it ends.
CHECK_IN_MARGIN = timedelta(hours=2)

#: Outcomes of an uploaded scan that the door staff must look at again.
CHECK_IN_CONFLICTS = frozenset({"conflict_other_device", "conflict_cancelled"})


class CheckInScan(db.Model):
    """One ticket scan sent by a door device, kept so that a re-sent queue counts once.

    Devices that lose the network go on admitting people from their last copy of the list and
    send their queued scans later; `scan_id` (the device's own unique id for the scan) makes the
    upload idempotent, and `outcome` says what the server made of it, including the conflicts
    a device could not see offline (`conflict_other_device`, `conflict_cancelled`).
    """

    __tablename__ = "check_in_scans"
    __table_args__ = (sa.Index("ix_check_in_scans_meeting", "meeting_id", "received_at"),)

    id: Mapped[str] = id_column()
    #: The device's id for this scan (a UUID): a second upload of it changes nothing.
    scan_id: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    meeting_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("meetings.id"), nullable=False
    )
    registration_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("meeting_registrations.id")
    )
    scanned_by_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id"), nullable=False
    )
    device_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: True when the device admitted the person with no network (and sent the scan later).
    offline: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: When the device scanned it (its clock, never later than received_at).
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: admitted, already_checked_in, conflict_other_device, conflict_cancelled, or the error
    #: code the check-in gave (ticket_invalid, ticket_wrong_meeting, ...).
    outcome: Mapped[str] = mapped_column(sa.String(40), nullable=False)

    registration: Mapped[Registration | None] = relationship(lazy="selectin")
