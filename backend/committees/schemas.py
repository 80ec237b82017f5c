"""Committee schemas: committees, appointments, meetings and registrations, per audience."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from backend.committees.models import (
    AppointmentRole,
    AppointmentStatus,
    MeetingStatus,
    PriorityTier,
    RegistrationStatus,
    Stage,
)
from backend.committees.tickets import MAX_TICKET_LENGTH
from backend.identity.schemas import UserPublicSchema
from backend.privacy.fields import MaskedName
from backend.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageArgsSchema,
    SeoulDate,
    SeoulDateTime,
    Text,
    enum_field,
)

_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def Link(**kwargs: Any) -> fields.URL:
    """An http(s) URL of at most 500 characters."""
    kwargs.setdefault("metadata", {}).setdefault("example", "https://meet.example.kr/room-42")
    return fields.URL(schemes={"http", "https"}, validate=validate.Length(max=500), **kwargs)


def _in_our_era(value: datetime) -> None:
    if not _EARLIEST <= value < _LATEST:
        raise ValidationError("Must be between 2000 and 2099.")


def When(**kwargs: Any) -> SeoulDateTime:
    """A time with an offset, between 2000 and 2099."""
    return SeoulDateTime(validate=_in_our_era, **kwargs)


def Day(**kwargs: Any) -> SeoulDate:
    """A date between 2000 and 2099."""
    return SeoulDate(
        validate=validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31)), **kwargs
    )


# ---- committees -------------------------------------------------------------------------------


class CommitteeCreateSchema(InputSchema):
    name = Text(100, min_length=1, required=True, metadata={"example": "공원 조성 시민위원회"})
    purpose = Text(2000, multiline=True, load_default="")
    seats = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "How many members may hold a term on any one day."},
    )
    term_months = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=120),
        metadata={"description": "The longest term, in months (the default term length)."},
    )
    requires_certificate = fields.Boolean(
        load_default=False,
        metadata={"description": "Members must hold an active model-citizen certificate."},
    )
    project_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "The project the committee serves; null for a municipal one."},
    )


class CommitteeSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    project_id = Id(allow_none=True)
    name = fields.String(required=True)
    purpose = fields.String(required=True)
    seats = fields.Integer(required=True)
    term_months = fields.Integer(required=True)
    requires_certificate = fields.Boolean(required=True)
    created_at = SeoulDateTime(required=True)


class CommitteeBriefSchema(OutputSchema):
    id = Id(required=True)
    name = fields.String(required=True)
    project_id = Id(allow_none=True)


class CommitteeListArgsSchema(PageArgsSchema):
    project_id = Id(load_default=None)


# ---- appointments -----------------------------------------------------------------------------


class AppointmentCreateSchema(InputSchema):
    user_id = Id(required=True, metadata={"description": "The citizen to appoint."})
    role = enum_field(AppointmentRole, load_default=AppointmentRole.MEMBER)
    term_start = Day(required=True)
    term_end = Day(
        load_default=None,
        allow_none=True,
        metadata={"description": "Defaults to the committee's full term length."},
    )


class AppointmentDismissSchema(InputSchema):
    reason = Text(500, min_length=1, required=True)


_STATUS_HELP = (
    "Derived from the dates, so terms end by themselves: `upcoming` before term_start, "
    "`active` from term_start to last_day, `ended` after, `dismissed` after a dismissal."
)
_LAST_DAY_HELP = "The last day of membership: term_end, or the day before a dismissal."


class AppointmentSchema(OutputSchema):
    """An appointment as the municipality's staff see it."""

    id = Id(required=True)
    committee_id = Id(required=True)
    committee_name = fields.String(required=True)
    member = fields.Nested(UserPublicSchema, attribute="user", required=True)
    role = enum_field(AppointmentRole, required=True)
    term_start = SeoulDate(required=True)
    term_end = SeoulDate(required=True)
    last_day = SeoulDate(
        attribute="effective_end", required=True, metadata={"description": _LAST_DAY_HELP}
    )
    status = enum_field(AppointmentStatus, required=True, metadata={"description": _STATUS_HELP})
    appointed_by = fields.Nested(UserPublicSchema, allow_none=True)
    appointed_at = SeoulDateTime(attribute="created_at", required=True)
    dismissed_at = SeoulDateTime(allow_none=True)
    dismissed_by = fields.Nested(UserPublicSchema, allow_none=True)
    dismissal_reason = fields.String(allow_none=True)


class MyAppointmentSchema(OutputSchema):
    """An appointment as the member sees it."""

    id = Id(required=True)
    committee = fields.Nested(CommitteeBriefSchema, required=True)
    role = enum_field(AppointmentRole, required=True)
    term_start = SeoulDate(required=True)
    term_end = SeoulDate(required=True)
    last_day = SeoulDate(
        attribute="effective_end", required=True, metadata={"description": _LAST_DAY_HELP}
    )
    status = enum_field(AppointmentStatus, required=True, metadata={"description": _STATUS_HELP})
    appointed_at = SeoulDateTime(attribute="created_at", required=True)
    dismissed_at = SeoulDateTime(allow_none=True)
    dismissal_reason = fields.String(allow_none=True)


class AppointmentListArgsSchema(PageArgsSchema):
    status = enum_field(AppointmentStatus, load_default=None)


# ---- meetings ---------------------------------------------------------------------------------

_CAPACITY_HELP = "Seats in all, reserved ones included."
_RESERVED_HELP = (
    "Seats only committee members may take (members may take the others too). At most "
    "`capacity` registrations are confirmed, and at most `capacity - reserved_seats` of them "
    "are non-members'."
)
_PRIORITY_HELP = (
    "From here committee members and certified model citizens may register; must not be "
    "after general_opens_at."
)
_GENERAL_HELP = "From here every citizen of the municipality may register; before starts_at."


class MeetingCreateSchema(InputSchema):
    title = Text(200, min_length=1, required=True, metadata={"example": "제3차 정기회의"})
    agenda = Text(10000, multiline=True, load_default="")
    place = Text(200, load_default=None, allow_none=True, metadata={"example": "구청 3층 회의실"})
    online_url = Link(load_default=None, allow_none=True)
    starts_at = When(required=True)
    ends_at = When(required=True, metadata={"description": "After starts_at."})
    capacity = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=10000),
        metadata={"description": _CAPACITY_HELP},
    )
    reserved_seats = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=10000),
        metadata={"description": _RESERVED_HELP},
    )
    priority_opens_at = When(required=True, metadata={"description": _PRIORITY_HELP})
    general_opens_at = When(required=True, metadata={"description": _GENERAL_HELP})
    stage = enum_field(
        Stage,
        load_default=None,
        allow_none=True,
        metadata={"description": "The project stage attendance counts for."},
    )


class MeetingUpdateSchema(InputSchema):
    title = Text(200, min_length=1)
    agenda = Text(10000, multiline=True)
    place = Text(200, allow_none=True)
    online_url = Link(allow_none=True)
    starts_at = When()
    ends_at = When()
    capacity = fields.Integer(
        validate=validate.Range(min=1, max=10000), metadata={"description": _CAPACITY_HELP}
    )
    reserved_seats = fields.Integer(
        validate=validate.Range(min=0, max=10000), metadata={"description": _RESERVED_HELP}
    )
    priority_opens_at = When(metadata={"description": _PRIORITY_HELP})
    general_opens_at = When(metadata={"description": _GENERAL_HELP})
    stage = enum_field(Stage, allow_none=True)


class MeetingCancelSchema(InputSchema):
    reason = Text(500, min_length=1, required=True)


class MinutesSchema(InputSchema):
    minutes = Text(50000, min_length=1, multiline=True, required=True)
    minutes_url = Link(load_default=None, allow_none=True)


class MeetingSchema(OutputSchema):
    id = Id(required=True)
    committee_id = Id(required=True)
    municipality_id = Id(required=True)
    project_id = Id(allow_none=True)
    stage = enum_field(Stage, allow_none=True)
    title = fields.String(required=True)
    agenda = fields.String(required=True)
    place = fields.String(allow_none=True)
    online_url = fields.String(allow_none=True)
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    capacity = fields.Integer(required=True, metadata={"description": _CAPACITY_HELP})
    reserved_seats = fields.Integer(required=True, metadata={"description": _RESERVED_HELP})
    priority_opens_at = SeoulDateTime(required=True)
    general_opens_at = SeoulDateTime(required=True)
    status = enum_field(
        MeetingStatus,
        required=True,
        metadata={"description": "`changed` after any change; `held` once minutes are attached."},
    )
    sequence = fields.Integer(
        required=True, metadata={"description": "Revision number (the calendar SEQUENCE)."}
    )
    confirmed_count = fields.Integer(required=True)
    waitlisted_count = fields.Integer(required=True)
    seats_left = fields.Integer(required=True, metadata={"description": "Free seats of any kind."})
    minutes = fields.String(allow_none=True)
    minutes_url = fields.String(allow_none=True)
    minutes_attached_at = SeoulDateTime(allow_none=True)
    cancelled_at = SeoulDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = SeoulDateTime(required=True)
    updated_at = SeoulDateTime(required=True)


class MeetingBriefSchema(OutputSchema):
    id = Id(required=True)
    committee_id = Id(required=True)
    title = fields.String(required=True)
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    place = fields.String(allow_none=True)
    online_url = fields.String(allow_none=True)
    status = enum_field(MeetingStatus, required=True)


class CommitteeMeetingListArgsSchema(PageArgsSchema):
    status = enum_field(MeetingStatus, load_default=None)
    upcoming = fields.Boolean(
        load_default=False, metadata={"description": "Only meetings that have not ended."}
    )


class MeetingListArgsSchema(CommitteeMeetingListArgsSchema):
    committee_id = Id(load_default=None)
    project_id = Id(load_default=None)


# ---- registrations ----------------------------------------------------------------------------

_TIER_HELP = (
    "Why the registrant is served first: `member` (of the committee on the meeting day), "
    "`certified` (an active model-citizen certificate), `general`."
)
_POSITION_HELP = "1-based place on the waitlist (tier, then time); null unless waitlisted."


class RegistrationSelfSchema(OutputSchema):
    """A registration as the registrant sees it, with the ticket."""

    id = Id(required=True)
    meeting = fields.Nested(MeetingBriefSchema, required=True)
    status = enum_field(RegistrationStatus, required=True)
    tier = enum_field(PriorityTier, required=True, metadata={"description": _TIER_HELP})
    waitlist_position = fields.Integer(allow_none=True, metadata={"description": _POSITION_HELP})
    ticket = fields.String(
        allow_none=True,
        metadata={
            "description": "The ticket text the QR code carries (null once cancelled): `MT2:` "
            "and an ES256 JWS that door devices check offline with /.well-known/jwks.json "
            "(mobile_contract/CHANGES.md). The app may draw it itself or fetch "
            "/registrations/{id}/ticket.png; fetch it again after its meeting changes.",
            "example": "MT2:eyJhbGciOiJFUzI1NiIsImtpZCI6IjNxZ0xXcyIsInR5cCI6Im10In0.eyJ…",
        },
    )
    created_at = SeoulDateTime(required=True)
    confirmed_at = SeoulDateTime(allow_none=True)
    promoted_at = SeoulDateTime(allow_none=True)
    cancelled_at = SeoulDateTime(allow_none=True)
    checked_in_at = SeoulDateTime(allow_none=True)


class CheckInConflictSchema(OutputSchema):
    """A conflict as the attendance list shows it (the scan is in /check-in-conflicts)."""

    scan_id = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={"description": "`conflict_other_device` or `conflict_cancelled`."},
    )
    device_id = fields.String(allow_none=True, required=True)
    scanned_at = SeoulDateTime(required=True)


class RegistrationStaffSchema(OutputSchema):
    """A registration as the meeting's staff see it."""

    id = Id(required=True)
    meeting_id = Id(required=True)
    attendee = fields.Nested(UserPublicSchema, attribute="user", required=True)
    status = enum_field(RegistrationStatus, required=True)
    tier = enum_field(PriorityTier, required=True, metadata={"description": _TIER_HELP})
    waitlist_position = fields.Integer(allow_none=True, metadata={"description": _POSITION_HELP})
    created_at = SeoulDateTime(required=True)
    confirmed_at = SeoulDateTime(allow_none=True)
    promoted_at = SeoulDateTime(allow_none=True)
    cancelled_at = SeoulDateTime(allow_none=True)
    checked_in_at = SeoulDateTime(allow_none=True)
    checked_in_by_id = Id(allow_none=True)
    check_in_conflict = fields.Nested(
        CheckInConflictSchema,
        allow_none=True,
        dump_default=None,
        metadata={
            "description": "In a meeting's registration list: the latest door conflict of "
            "this registration (an offline scan the door could not judge: admitted first on "
            "another device, or cancelled meanwhile), else null."
        },
    )


class RegistrationListArgsSchema(PageArgsSchema):
    status = enum_field(RegistrationStatus, load_default=None)


class CheckInSchema(InputSchema):
    ticket = Text(
        MAX_TICKET_LENGTH,
        min_length=1,
        required=True,
        metadata={"description": "The text of the scanned ticket QR code."},
    )


class CheckInResultSchema(OutputSchema):
    registration = fields.Nested(RegistrationStaffSchema, required=True)
    already_checked_in = fields.Boolean(
        required=True, metadata={"description": "True when this ticket had been scanned before."}
    )


_SCAN_ID = validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$", error="8-64 of A-Z a-z 0-9 _ -.")
_OUTCOME_HELP = (
    "`admitted`, `already_checked_in` (by this device), `conflict_other_device` (another "
    "device admitted the person first), `conflict_cancelled` (the registration was cancelled "
    "before this offline scan reached the server), or the check-in's error code "
    "(`ticket_invalid`, `ticket_wrong_meeting`, `registration_not_confirmed`, ...)."
)


class ScanUploadItemSchema(InputSchema):
    scan_id = fields.String(
        required=True,
        validate=_SCAN_ID,
        metadata={"description": "The device's unique id for this scan (a UUID)."},
    )
    ticket = Text(MAX_TICKET_LENGTH, min_length=1, required=True)
    scanned_at = When(required=True, metadata={"description": "When the device scanned it."})
    offline = fields.Boolean(
        load_default=False, metadata={"description": "True when admitted with no network."}
    )


class ScanUploadSchema(InputSchema):
    device_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$", error="1-64 of A-Z a-z 0-9 _ -."),
        metadata={"example": "door-1"},
    )
    scans = fields.List(
        fields.Nested(ScanUploadItemSchema),
        required=True,
        validate=validate.Length(min=1, max=500),
    )


class CheckInScanSchema(OutputSchema):
    scan_id = fields.String(required=True)
    registration_id = Id(allow_none=True, required=True)
    attendee_name = MaskedName(
        attribute="registration.user.display_name", allow_none=True, dump_default=None
    )
    device_id = fields.String(allow_none=True, required=True)
    offline = fields.Boolean(required=True)
    scanned_at = SeoulDateTime(required=True)
    received_at = SeoulDateTime(required=True)
    outcome = fields.String(required=True, metadata={"description": _OUTCOME_HELP})


class CheckInScanListSchema(OutputSchema):
    items = fields.List(fields.Nested(CheckInScanSchema), required=True)


class CalendarFeedSchema(OutputSchema):
    url = fields.String(
        required=True,
        metadata={"description": "Secret https URL of the personal feed (no token needed)."},
    )
    webcal_url = fields.String(
        required=True, metadata={"description": "The same feed as webcal://, for phones."}
    )
    created_at = SeoulDateTime(required=True)
