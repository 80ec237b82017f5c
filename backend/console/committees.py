"""Committees (officials): members and seats, appoint, dismiss with a reason, terms ending soon,
appointment letters."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import marshmallow as ma
from flask import Response, request

from backend.api import committees as api
from backend.api.access_log import user_ids
from backend.clock import seoul_today
from backend.committees import services
from backend.committees.models import AppointmentRole, AppointmentStatus
from backend.committees.schemas import (
    AppointmentCreateSchema,
    AppointmentDismissSchema,
    AppointmentListArgsSchema,
    CommitteeCreateSchema,
)
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import submit
from backend.console.pages import done, page, page_args
from backend.console.privacy import log_access
from backend.privacy.models import AccessAction

#: "Terms ending soon": active terms whose last day is within this many days.
ENDING_SOON_DAYS = 60


def _committees_page(status: int = 200, **context: Any) -> Any:
    result = services.list_committees(viewer=current_user(), **page_args())
    return page("committees.html", status, result=result, form=request.form, **context)


@bp.route("/committees")
@mirrors(api.list_committees, api.create_committee)
def committees() -> Any:
    """The municipality's committees."""
    return _committees_page()


@bp.route("/committees", methods=["POST"])
@mirrors(api.create_committee)
def committee_new() -> Any:
    """Create a committee with its seats and term length."""
    saved, errors = submit(
        CommitteeCreateSchema(),
        partial(services.create_committee, actor=current_user()),
        lambda committee: done("console.committee", committee_id=committee.id),
    )
    return saved or _committees_page(422, errors=errors)


def _committee_page(committee_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    committee = services.get_committee(viewer=viewer, committee_id=committee_id)
    raw = request.args.get("status")
    try:
        args = AppointmentListArgsSchema().load({"status": raw} if raw else {})
    except ma.ValidationError:
        args = {}
    args.update(page_args(limit=100))
    appointments = services.list_appointments(viewer=viewer, committee=committee, **args)
    today = seoul_today()
    active = services.list_appointments(
        viewer=viewer, committee=committee, status=AppointmentStatus.ACTIVE, limit=100, cursor=None
    ).items
    soon = today + timedelta(days=ENDING_SOON_DAYS)
    # The same record as the API's appointment list writes.
    log_access(
        AccessAction.VIEW,
        "committee.appointments",
        user_ids([*appointments.items, *active]),
        resource_id=committee.id,
    )
    return page(
        "committee.html",
        status,
        committee=committee,
        appointments=appointments,
        seats_taken=len(active),
        ending_soon=[a for a in active if a.effective_end <= soon],
        status_filter=raw,
        statuses=list(AppointmentStatus),
        roles=list(AppointmentRole),
        today=today,
        form=request.form,
        **context,
    )


@bp.route("/committees/<committee_id>")
@mirrors(api.list_appointments)
def committee(committee_id: str) -> Any:
    """A committee: seats, members past and present, terms ending soon."""
    return _committee_page(committee_id)


@bp.route("/committees/<committee_id>/appointments", methods=["POST"])
@mirrors(api.appoint_member)
def committee_appoint(committee_id: str) -> Any:
    """Appoint a citizen for a term (seats, overlaps and certificates are the service's)."""
    actor = current_user()
    committee = services.get_committee(viewer=actor, committee_id=committee_id)
    saved, errors = submit(
        AppointmentCreateSchema(),
        partial(services.appoint_member, actor=actor, committee=committee),
        lambda _: done("console.committee", committee_id=committee_id),
    )
    return saved or _committee_page(committee_id, 422, errors=errors)


@bp.route("/appointments/<appointment_id>/dismiss", methods=["POST"])
@mirrors(api.dismiss_appointment)
def appointment_dismiss(appointment_id: str) -> Any:
    """Dismiss a member with a reason."""
    actor = current_user()
    appointment = services.get_appointment(viewer=actor, appointment_id=appointment_id)
    saved, errors = submit(
        AppointmentDismissSchema(),
        partial(services.dismiss_appointment, actor=actor, appointment=appointment),
        lambda _: done("console.committee", committee_id=appointment.committee_id),
    )
    return saved or _committee_page(appointment.committee_id, 422, errors=errors)


@bp.route("/appointments/<appointment_id>/letter")
@mirrors(api.appointment_letter)
def appointment_letter(appointment_id: str) -> Any:
    """The printable appointment letter (the API's HTML)."""
    html = services.appointment_letter(viewer=current_user(), appointment_id=appointment_id)
    response = Response(html, mimetype="text/html")
    # The letter carries its own print styles; it runs no script and loads nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
