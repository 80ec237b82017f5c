"""HTTP for citizen committees and appointments (위촉, 해촉) and the appointment letter."""

from __future__ import annotations

from typing import Any

from flask import Response

from backend.api.access_log import log_access, user_ids
from backend.api.auth import current_caller, requires
from backend.api.blueprint import Blueprint
from backend.committees import services
from backend.committees.schemas import (
    AppointmentCreateSchema,
    AppointmentDismissSchema,
    AppointmentListArgsSchema,
    AppointmentSchema,
    CommitteeCreateSchema,
    CommitteeListArgsSchema,
    CommitteeSchema,
    MyAppointmentSchema,
)
from backend.permissions import ALL_ROLES, COMMITTEE_STAFF_READERS, Role, access_is_recorded
from backend.privacy.assurance import ensure_level
from backend.privacy.models import AccessAction
from backend.schemas import page_of

blp = Blueprint(
    "committees",
    __name__,
    url_prefix="/api/v1",
    description="Citizen committees (시민위원회) and appointments",
)

_HTML = {"type": "string", "description": "A printable HTML document."}


@blp.route("/committees", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(CommitteeCreateSchema)
@blp.response(201, CommitteeSchema)
def create_committee(data: dict[str, Any]) -> Any:
    """Set up a committee of the official's municipality, optionally of one of its projects.

    Another municipality's project, or an unknown one, is 404 `project_not_found`.
    """
    return services.create_committee(actor=current_caller(), **data)


@blp.route("/committees", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(CommitteeListArgsSchema, location="query")
@blp.response(200, page_of(CommitteeSchema))
def list_committees(args: dict[str, Any]) -> Any:
    """Committees of the caller's municipality (all of them for national roles), newest first."""
    return services.list_committees(viewer=current_caller(), **args)


@blp.route("/committees/<committee_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, CommitteeSchema)
def get_committee(committee_id: str) -> Any:
    """One committee."""
    return services.get_committee(viewer=current_caller(), committee_id=committee_id)


@blp.route("/committees/<committee_id>/appointments", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(AppointmentCreateSchema)
@blp.response(201, AppointmentSchema)
def appoint_member(data: dict[str, Any], committee_id: str) -> Any:
    """Appoint (위촉) a citizen of the municipality for a term.

    409 `committee_full` when the seats would be over-filled on any day of the term,
    `appointment_overlaps` when the person already holds an overlapping term here, `role_taken`
    when a chair or vice-chair would be doubled, `certificate_required` when the committee asks
    for an active model-citizen certificate on the first day and there is none. A reappointment
    is a new appointment for a later term.
    """
    actor = current_caller()
    committee = services.get_committee(viewer=actor, committee_id=committee_id)
    ensure_level(user_id=data["user_id"], target_type="committee", target_id=committee.id)
    return services.appoint_member(actor=actor, committee=committee, **data)


@blp.route("/committees/<committee_id>/appointments", methods=["GET"])
@requires(*COMMITTEE_STAFF_READERS)
@blp.arguments(AppointmentListArgsSchema, location="query")
@blp.response(200, page_of(AppointmentSchema))
def list_appointments(args: dict[str, Any], committee_id: str) -> Any:
    """The committee's members past, present and future: its appointment history."""
    viewer = current_caller()
    committee = services.get_committee(viewer=viewer, committee_id=committee_id)
    page = services.list_appointments(viewer=viewer, committee=committee, **args)
    log_access(
        AccessAction.VIEW, "committee.appointments", user_ids(page.items), resource_id=committee_id
    )
    return page


@blp.route("/appointments/<appointment_id>", methods=["GET"])
@requires(Role.CITIZEN, *COMMITTEE_STAFF_READERS)
@blp.response(200, AppointmentSchema)
def get_appointment(appointment_id: str) -> Any:
    """One appointment: citizens see their own, staff those of their municipality."""
    appointment = services.get_appointment(viewer=current_caller(), appointment_id=appointment_id)
    log_access(AccessAction.VIEW, "appointment", [appointment.user_id], resource_id=appointment_id)
    return appointment


@blp.route("/appointments/<appointment_id>/dismiss", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(AppointmentDismissSchema)
@blp.response(200, AppointmentSchema)
def dismiss_appointment(data: dict[str, Any], appointment_id: str) -> Any:
    """Dismiss (해촉) a member with a reason; membership ends today (the day before is the last)."""
    actor = current_caller()
    appointment = services.get_appointment(viewer=actor, appointment_id=appointment_id)
    return services.dismiss_appointment(actor=actor, appointment=appointment, **data)


@blp.route("/appointments/<appointment_id>/letter", methods=["GET"])
@requires(Role.CITIZEN, Role.OFFICIAL)
@blp.response(200, _HTML, content_type="text/html")
@blp.alt_response(409, "Conflict")
def appointment_letter(appointment_id: str) -> Any:
    """The printable appointment letter (위촉장) as HTML: for the member or the officials."""
    viewer = current_caller()
    html = services.appointment_letter(viewer=viewer, appointment_id=appointment_id)
    if access_is_recorded(viewer):
        # The letter is an official document naming the member in full (not masked: it is
        # printed for them); an official's reading of it is recorded like any other.
        appointment = services.get_appointment(viewer=viewer, appointment_id=appointment_id)
        log_access(
            AccessAction.VIEW,
            "appointment.letter",
            [appointment.user_id],
            resource_id=appointment_id,
        )
    return Response(html, content_type="text/html; charset=utf-8")


@blp.route("/me/appointments", methods=["GET"])
@requires(Role.CITIZEN)
@blp.arguments(AppointmentListArgsSchema, location="query")
@blp.response(200, page_of(MyAppointmentSchema))
def my_appointments(args: dict[str, Any]) -> Any:
    """The caller's committees, roles and terms, newest first."""
    return services.list_my_appointments(user=current_caller(), **args)
