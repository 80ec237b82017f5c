"""Meetings (schedulers and officials): create with seats and registration windows, the
registrations with the waitlist, cancellation, reminders, and today's door list with a live
check-in count."""

from __future__ import annotations

from functools import partial
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import jsonify, request

from backend.api import meetings as api
from backend.api.access_log import user_ids
from backend.committees import services, tickets
from backend.committees.models import MeetingStatus, Registration, RegistrationStatus
from backend.committees.schemas import (
    CheckInSchema,
    MeetingCancelSchema,
    MeetingCreateSchema,
    RegistrationListArgsSchema,
)
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import domain_errors, form_page, submit
from backend.console.pages import done, page, page_args
from backend.console.privacy import log_access
from backend.errors import DomainError
from backend.extensions import db
from backend.ids import is_valid_id
from backend.participation.models import Stage
from backend.privacy.models import AccessAction


@bp.route("/meetings")
@mirrors(api.list_meetings, api.create_meeting)
def meetings() -> Any:
    """Meetings of the user's municipality, newest first (upcoming only on request)."""
    upcoming = request.args.get("upcoming") == "1"
    result = services.list_meetings(viewer=current_user(), upcoming=upcoming, **page_args())
    return page("meetings.html", result=result, upcoming=upcoming)


@bp.route("/meetings/new", methods=["GET", "POST"])
@mirrors(api.create_meeting)
def meeting_new() -> Any:
    """Schedule a committee meeting: capacity, reserved seats, priority and general opening."""
    actor = current_user()
    committees = services.list_committees(viewer=actor, limit=100, cursor=None).items

    # The committee is the form's own choice: read (and scoped, 404 if not the user's) on POST.
    committee = (
        services.get_committee(viewer=actor, committee_id=request.form.get("committee_id", ""))
        if request.method == "POST"
        else None
    )
    return form_page(
        "meeting_form.html",
        MeetingCreateSchema(),
        partial(services.create_meeting, actor=actor, committee=committee),
        lambda meeting: done("console.meeting", meeting_id=meeting.id),
        committees=committees,
        stages=list(Stage),
    )


def _record_view(meeting_id: str, registrations: list[Any]) -> None:
    # The same record as the API's registration list writes.
    log_access(
        AccessAction.VIEW, "meeting.registrations", user_ids(registrations), resource_id=meeting_id
    )


def _meeting_page(meeting_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    meeting = services.get_meeting(viewer=viewer, meeting_id=meeting_id)
    raw = request.args.get("status")
    try:
        args = RegistrationListArgsSchema().load({"status": raw} if raw else {})
    except ma.ValidationError:
        args = {}
    args.update(page_args(limit=100))
    registrations = services.list_meeting_registrations(viewer=viewer, meeting=meeting, **args)
    _record_view(meeting.id, registrations.items)
    return page(
        "meeting.html",
        status,
        meeting=meeting,
        registrations=registrations,
        status_filter=raw,
        statuses=list(RegistrationStatus),
        open_for_changes=meeting.status in (MeetingStatus.SCHEDULED, MeetingStatus.CHANGED),
        reminded=request.args.get("reminded"),
        **context,
    )


@bp.route("/meetings/<meeting_id>")
@mirrors(api.list_registrations)
def meeting(meeting_id: str) -> Any:
    """A meeting: its seats, the registrations by tier with the waitlist, and its actions."""
    return _meeting_page(meeting_id)


@bp.route("/meetings/<meeting_id>/cancel", methods=["POST"])
@mirrors(api.cancel_meeting)
def meeting_cancel(meeting_id: str) -> Any:
    """Cancel the meeting with a reason (registrants and members are told)."""
    actor = current_user()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id)
    saved, errors = submit(
        MeetingCancelSchema(),
        partial(services.cancel_meeting, actor=actor, meeting=meeting),
        lambda _: done("console.meeting", meeting_id=meeting_id),
    )
    return saved or _meeting_page(meeting_id, 422, errors=errors)


@bp.route("/meetings/<meeting_id>/remind", methods=["POST"])
@mirrors(api.update_meeting)
def meeting_remind(meeting_id: str) -> Any:
    """Remind the confirmed registrants now."""
    actor = current_user()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id)
    try:
        told = services.send_meeting_reminder(actor=actor, meeting=meeting)
    except DomainError as error:
        return _meeting_page(meeting_id, 409, errors=domain_errors(error))
    return done("console.meeting", meeting_id=meeting_id, reminded=told)


def _door_counts(meeting_id: str) -> dict[str, int]:
    # The meeting was loaded through get_meeting (scoped) before this is called.
    checked_in, confirmed = db.session.execute(
        sa.select(
            sa.func.count(Registration.checked_in_at),
            sa.func.count(),
        ).where(
            Registration.meeting_id == meeting_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).one()
    return {"checked_in": checked_in, "confirmed": confirmed}


def _door_page(meeting_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    meeting = services.get_meeting(viewer=viewer, meeting_id=meeting_id)
    registrations = services.list_meeting_registrations(
        viewer=viewer,
        meeting=meeting,
        status=RegistrationStatus.CONFIRMED,
        **page_args(limit=100),
    )
    _record_view(meeting.id, registrations.items)
    return page(
        "meeting_door.html",
        status,
        meeting=meeting,
        registrations=registrations,
        counts=_door_counts(meeting.id),
        **context,
    )


@bp.route("/meetings/<meeting_id>/door")
@mirrors(api.check_in)
def meeting_door(meeting_id: str) -> Any:
    """Today's door list: confirmed registrants, who is in, and a ticket field for the scanner."""
    return _door_page(meeting_id, checked=request.args.get("checked"))


@bp.route("/meetings/<meeting_id>/door/count")
@mirrors(api.check_in)
def meeting_door_count(meeting_id: str) -> Any:
    """The live check-in count (the door page polls it)."""
    meeting = services.get_meeting(viewer=current_user(), meeting_id=meeting_id)
    return jsonify(_door_counts(meeting.id))


@bp.route("/meetings/<meeting_id>/check-in", methods=["POST"])
@mirrors(api.check_in)
def meeting_check_in(meeting_id: str) -> Any:
    """Check an attendee in: a scanned ticket, or a name ticked on the door list."""
    actor = current_user()
    meeting = services.get_meeting(viewer=actor, meeting_id=meeting_id)
    registration_id = request.form.get("registration_id", "")
    if registration_id and not is_valid_id(registration_id):
        registration_id = ""  # then the ticket field is empty and the schema says so
    # A ticked name stands for the ticket staff could print for it (as ticket.png does); an
    # unknown id goes in as it is, and the check-in refuses it as not a ticket.
    ticked = db.session.get(Registration, registration_id) if registration_id else None
    extra = {"ticket": tickets.make_ticket(ticked) if ticked else registration_id}
    extra = extra if registration_id else {}
    saved, errors = submit(
        CheckInSchema(),
        partial(services.check_in, actor=actor, meeting=meeting),
        lambda result: done(
            "console.meeting_door",
            meeting_id=meeting_id,
            checked="again" if result.already_checked_in else result.registration.id,
        ),
        **extra,
    )
    return saved or _door_page(meeting_id, 422, errors=errors)
