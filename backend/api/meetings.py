"""HTTP for meetings: scheduling, registration with priority, tickets, check-in and calendars."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for

from backend.api.access_log import log_access, user_ids
from backend.api.auth import current_caller, public, requires
from backend.api.blueprint import Blueprint
from backend.committees import services
from backend.committees.schemas import (
    CalendarFeedSchema,
    CheckInResultSchema,
    CheckInScanListSchema,
    CheckInSchema,
    CommitteeMeetingListArgsSchema,
    MeetingCancelSchema,
    MeetingCreateSchema,
    MeetingListArgsSchema,
    MeetingSchema,
    MeetingUpdateSchema,
    MinutesSchema,
    RegistrationListArgsSchema,
    RegistrationSelfSchema,
    RegistrationStaffSchema,
    ScanUploadSchema,
)
from backend.errors import NotFound
from backend.permissions import ALL_ROLES, COMMITTEE_STAFF_READERS, MEETING_MANAGERS, Role
from backend.privacy.models import AccessAction
from backend.schemas import page_of

blp = Blueprint(
    "meetings",
    __name__,
    url_prefix="/api/v1",
    description="Committee meetings, registrations with priority, tickets and calendars",
)

_PNG = {"type": "string", "format": "binary", "description": "A PNG image."}
_ICS = {"type": "string", "description": "An iCalendar (RFC 5545) document."}
_CALENDAR_TYPE = "text/calendar; charset=utf-8"
_MAX_TOKEN_LENGTH = 100


def _calendar(text: str) -> Response:
    response = Response(text, content_type=_CALENDAR_TYPE)
    response.headers["Content-Disposition"] = 'inline; filename="meetings.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# ---- meetings ---------------------------------------------------------------------------------


@blp.route("/committees/<committee_id>/meetings", methods=["POST"])
@requires(*MEETING_MANAGERS)
@blp.arguments(MeetingCreateSchema)
@blp.response(201, MeetingSchema)
def create_meeting(data: dict[str, Any], committee_id: str) -> Any:
    """Schedule a meeting of the committee (schedulers and officials); its members are told.

    422 `meeting_times_invalid` (end not after start), `registration_windows_invalid`
    (priority_opens_at <= general_opens_at < starts_at broken), `reserved_seats_exceed_capacity`,
    `meeting_location_required`, `meeting_in_past`. Attendance counts as participation in the
    committee's project, at the given stage.
    """
    actor = current_caller()
    committee = services.get_committee(viewer=actor, committee_id=committee_id)
    return services.create_meeting(actor=actor, committee=committee, **data)


@blp.route("/committees/<committee_id>/meetings", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(CommitteeMeetingListArgsSchema, location="query")
@blp.response(200, page_of(MeetingSchema))
def list_committee_meetings(args: dict[str, Any], committee_id: str) -> Any:
    """The committee's meetings, newest first."""
    viewer = current_caller()
    committee = services.get_committee(viewer=viewer, committee_id=committee_id)
    return services.list_meetings(viewer=viewer, committee_id=committee.id, **args)


@blp.route("/meetings", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(MeetingListArgsSchema, location="query")
@blp.response(200, page_of(MeetingSchema))
def list_meetings(args: dict[str, Any]) -> Any:
    """Meetings of the caller's municipality (all for national roles), newest first."""
    return services.list_meetings(viewer=current_caller(), **args)


@blp.route("/meetings/<meeting_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, MeetingSchema)
def get_meeting(meeting_id: str) -> Any:
    """One meeting, with its confirmed and waitlisted counts."""
    return services.get_meeting(viewer=current_caller(), meeting_id=meeting_id)


@blp.route("/meetings/<meeting_id>", methods=["PATCH"])
@requires(*MEETING_MANAGERS)
@blp.arguments(MeetingUpdateSchema)
@blp.response(200, MeetingSchema)
def update_meeting(data: dict[str, Any], meeting_id: str) -> Any:
    """Change the meeting: it becomes `changed`, calendars update it, the people concerned are
    told; more seats promote waitlisted registrants.

    409 `capacity_below_confirmed`, `reserved_seats_taken`, `meeting_not_editable` (cancelled or
    held); 422 as for creation.
    """
    actor = current_caller()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id)
    return services.update_meeting(actor=actor, meeting=meeting, **data)


@blp.route("/meetings/<meeting_id>/cancel", methods=["POST"])
@requires(*MEETING_MANAGERS)
@blp.arguments(MeetingCancelSchema)
@blp.response(200, MeetingSchema)
def cancel_meeting(data: dict[str, Any], meeting_id: str) -> Any:
    """Cancel the meeting: registrants and members are told, calendars show it cancelled."""
    actor = current_caller()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id)
    return services.cancel_meeting(actor=actor, meeting=meeting, **data)


@blp.route("/meetings/<meeting_id>/minutes", methods=["POST"])
@requires(*MEETING_MANAGERS)
@blp.arguments(MinutesSchema)
@blp.response(200, MeetingSchema)
def attach_minutes(data: dict[str, Any], meeting_id: str) -> Any:
    """Attach (or replace) the minutes once the meeting has begun; it is then `held`."""
    actor = current_caller()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id)
    return services.attach_minutes(actor=actor, meeting=meeting, **data)


# ---- registrations ----------------------------------------------------------------------------


@blp.route("/meetings/<meeting_id>/registrations", methods=["POST"])
@requires(Role.CITIZEN)
@blp.response(201, RegistrationSelfSchema)
def register(meeting_id: str) -> Any:
    """Register for the meeting: `confirmed`, or `waitlisted` with a position.

    Before `priority_opens_at` nobody may register (409 `registration_not_open`); until
    `general_opens_at` only committee members and certified model citizens
    (`registration_priority_only`); registration closes when the meeting starts
    (`registration_closed`). Reserved seats go to committee members only. 409
    `already_registered` for a second live registration.
    """
    actor = current_caller()
    # The answer shows the meeting without its seat counts: they are not read.
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id, with_seats=False)
    return services.register_for_meeting(actor=actor, meeting=meeting)


@blp.route("/meetings/<meeting_id>/registrations", methods=["GET"])
@requires(*COMMITTEE_STAFF_READERS)
@blp.arguments(RegistrationListArgsSchema, location="query")
@blp.response(200, page_of(RegistrationStaffSchema))
def list_registrations(args: dict[str, Any], meeting_id: str) -> Any:
    """The meeting's registrations (staff), newest first, with waitlist positions."""
    viewer = current_caller()
    meeting = services.get_meeting(viewer=viewer, meeting_id=meeting_id)
    page = services.list_meeting_registrations(viewer=viewer, meeting=meeting, **args)
    log_access(
        AccessAction.VIEW, "meeting.registrations", user_ids(page.items), resource_id=meeting_id
    )
    return page


@blp.route("/registrations/<registration_id>", methods=["GET"])
@requires(Role.CITIZEN)
@blp.response(200, RegistrationSelfSchema)
def get_registration(registration_id: str) -> Any:
    """One of the caller's registrations, with its status, waitlist position and ticket."""
    return services.get_registration(viewer=current_caller(), registration_id=registration_id)


@blp.route("/registrations/<registration_id>/cancel", methods=["POST"])
@requires(Role.CITIZEN)
@blp.response(200, RegistrationSelfSchema)
def cancel_registration(registration_id: str) -> Any:
    """Give up the place; a freed seat goes to the best-placed waitlisted registrant (by tier,
    then time), who is told."""
    actor = current_caller()
    registration = services.get_registration(viewer=actor, registration_id=registration_id)
    return services.cancel_registration(actor=actor, registration=registration)


@blp.route("/me/registrations", methods=["GET"])
@requires(Role.CITIZEN)
@blp.arguments(RegistrationListArgsSchema, location="query")
@blp.response(200, page_of(RegistrationSelfSchema))
def my_registrations(args: dict[str, Any]) -> Any:
    """The caller's registrations, newest first, with tickets and waitlist positions."""
    return services.list_my_registrations(user=current_caller(), **args)


@blp.route("/registrations/<registration_id>/ticket.png", methods=["GET"])
@requires(Role.CITIZEN, *MEETING_MANAGERS)
@blp.response(200, _PNG, content_type="image/png")
@blp.alt_response(409, "Conflict")
def ticket_png(registration_id: str) -> Any:
    """The ticket's QR code (the registrant's, or reprinted by the meeting's staff)."""
    png = services.ticket_png(viewer=current_caller(), registration_id=registration_id)
    response = Response(png, content_type="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@blp.route("/meetings/<meeting_id>/check-in", methods=["POST"])
@requires(*MEETING_MANAGERS)
@blp.arguments(CheckInSchema)
@blp.response(200, CheckInResultSchema)
def check_in(data: dict[str, Any], meeting_id: str) -> Any:
    """Check an attendee in from the scanned ticket text; a second scan is harmless.

    Attendance becomes a participation record of the meeting's project stage. 422
    `ticket_invalid`; 409 `ticket_wrong_meeting`, `registration_not_confirmed`,
    `registration_cancelled`, `meeting_cancelled`, `check_in_not_open` (open from two hours
    before the start until two hours after the end).
    """
    actor = current_caller()
    # The answer shows no seat counts: the meeting is read without them.
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id, with_seats=False)
    return services.check_in(actor=actor, meeting=meeting, **data)


@blp.route("/meetings/<meeting_id>/check-in-scans", methods=["POST"])
@requires(*MEETING_MANAGERS)
@blp.arguments(ScanUploadSchema)
@blp.response(200, CheckInScanListSchema)
def upload_check_in_scans(data: dict[str, Any], meeting_id: str) -> Any:
    """Send a door device's scans: live ones, or the queue kept while the network was down.

    Each scan goes through the same check-in as `/check-in`, judged at its `scanned_at`; a
    `scan_id` sent before answers its first outcome again and changes nothing, so a device may
    resend its whole queue. Conflicts it could not see offline come back as outcomes
    (`conflict_other_device`, `conflict_cancelled`) and stay listed in `/check-in-conflicts`.
    """
    actor = current_caller()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id, with_seats=False)
    scans = [services.ScanUpload(**scan) for scan in data["scans"]]
    items = services.upload_scans(
        actor=actor, meeting=meeting, scans=scans, device_id=data["device_id"]
    )
    return {"items": items}


@blp.route("/meetings/<meeting_id>/check-in-conflicts", methods=["GET"])
@requires(*MEETING_MANAGERS)
@blp.response(200, CheckInScanListSchema)
def check_in_conflicts(meeting_id: str) -> Any:
    """The meeting's door conflicts (same ticket admitted on two devices, a ticket cancelled
    while a device was offline), oldest first: the attendance list's to-check section."""
    viewer = current_caller()
    meeting = services.get_meeting(viewer=viewer, meeting_id=meeting_id)
    return {"items": services.list_conflicts(viewer=viewer, meeting=meeting)}


# ---- calendars --------------------------------------------------------------------------------


@blp.route("/me/calendar.ics", methods=["GET"])
@requires(Role.CITIZEN)
@blp.response(200, _ICS, content_type="text/calendar")
def my_calendar() -> Any:
    """The caller's meetings as iCalendar: those registered for and their committees'.

    Phone calendars usually cannot send a bearer token: subscribe them to the secret URL from
    `POST /me/calendar-feed` instead.
    """
    return _calendar(services.personal_calendar(user=current_caller()))


@blp.route("/committees/<committee_id>/calendar.ics", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, _ICS, content_type="text/calendar")
def committee_calendar(committee_id: str) -> Any:
    """The committee's meetings as iCalendar (changes and cancellations update the events)."""
    viewer = current_caller()
    committee = services.get_committee(viewer=viewer, committee_id=committee_id)
    return _calendar(services.committee_calendar(viewer=viewer, committee=committee))


@blp.route("/me/calendar-feed", methods=["POST"])
@requires(Role.CITIZEN)
@blp.response(201, CalendarFeedSchema)
def create_calendar_feed() -> Any:
    """Make a secret URL of the caller's calendar for phones (replaces any earlier one).

    Anyone with the URL can read the feed, so the app shows it only to its owner; calling this
    again or `DELETE /me/calendar-feed` makes the old URL stop working.
    """
    feed, token = services.create_calendar_feed(user=current_caller())
    url = url_for("meetings.calendar_feed", token=token, _external=True)
    webcal_url = "webcal://" + url.split("://", 1)[1]
    return {"url": url, "webcal_url": webcal_url, "created_at": feed.created_at}


@blp.route("/me/calendar-feed", methods=["DELETE"])
@requires(Role.CITIZEN)
@blp.response(204)
def revoke_calendar_feed() -> None:
    """Revoke the caller's secret calendar URL."""
    services.revoke_calendar_feed(user=current_caller())


@blp.route("/calendar-feeds/<token>.ics", methods=["GET"])
@public
@blp.response(200, _ICS, content_type="text/calendar")
def calendar_feed(token: str) -> Any:
    """A citizen's calendar behind its secret URL (no bearer token; the URL is the secret)."""
    if len(token) > _MAX_TOKEN_LENGTH:
        raise NotFound("Calendar feed not found.", code="calendar_feed_not_found")
    return _calendar(services.calendar_for_token(token=token))
