"""Activities: create and edit, the check-in code full screen for a projector, the participant
list and the attendance queue (confirm or reject one by one or in bulk, walk-ins)."""

from __future__ import annotations

from functools import partial
from typing import Any

import marshmallow as ma
import qrcode
import qrcode.image.svg
from flask import Response, request

from backend.api import participation as api
from backend.api.access_log import user_ids
from backend.console import bp
from backend.console.auth import current_user, may_open, mirrors
from backend.console.forms import form_page, submit
from backend.console.jobs import job_answer, new_job_token, request_key
from backend.console.pages import done, page, page_args
from backend.console.privacy import log_access
from backend.errors import ValidationFailed
from backend.jobs import services as jobs
from backend.jobs.models import ConsoleJob, JobKind
from backend.participation import services
from backend.participation.models import ActivityKind, ParticipationStatus, Stage, TrainingLevel
from backend.participation.schemas import (
    ActivityCreateSchema,
    ActivityUpdateSchema,
    BulkConfirmSchema,
    ConfirmSchema,
    JoinSchema,
    ParticipationListArgsSchema,
    RejectSchema,
)
from backend.participation.sheets import find_user
from backend.privacy.models import AccessAction

CHOICES = {
    "stages": list(Stage),
    "kinds": list(ActivityKind),
    "levels": list(TrainingLevel),
    "participation_statuses": list(ParticipationStatus),
}


@bp.route("/projects/<project_id>/activities/new", methods=["GET", "POST"])
@mirrors(api.create_activity)
def activity_new(project_id: str) -> Any:
    """Add an activity to a stage of the project."""
    actor = current_user()
    project = services.get_project(viewer=actor, project_id=project_id)
    return form_page(
        "activity_form.html",
        ActivityCreateSchema(),
        partial(services.create_activity, actor=actor, project=project),
        lambda activity: done("console.activity", activity_id=activity.id),
        project=project,
        activity=None,
        **CHOICES,
    )


@bp.route("/activities/<activity_id>/edit", methods=["GET", "POST"])
@mirrors(api.update_activity)
def activity_edit(activity_id: str) -> Any:
    """Change an activity's times, place, capacity or description."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    return form_page(
        "activity_form.html",
        ActivityUpdateSchema(),
        partial(services.update_activity, actor=actor, activity=activity),
        lambda _: done("console.activity", activity_id=activity.id),
        project=activity.project,
        activity=activity,
        **CHOICES,
    )


def _activity_page(activity_id: str, status: int = 200, **context: Any) -> Response:
    viewer = current_user()
    activity = services.get_activity(viewer=viewer, activity_id=activity_id)
    participants = None
    status_filter = request.args.get("status") or None
    if viewer.role in api.list_activity_participations.access.roles:
        try:
            args = ParticipationListArgsSchema().load(
                {"status": status_filter} if status_filter else {}
            )
        except ma.ValidationError:
            args = {}
        args.update(page_args(limit=100))
        participants = services.list_activity_participations(activity=activity, **args)
        # The same record as the API's participant list writes.
        log_access(
            AccessAction.VIEW,
            "activity.participations",
            user_ids(participants.items),
            resource_id=activity.id,
        )
    # Jobs still running here are linked from the page (officials: those who may open a job).
    running = (
        jobs.unfinished_jobs(viewer=viewer, activity=activity) if may_open("console.job") else []
    )
    return page(
        "activity.html",
        status,
        activity=activity,
        participants=participants,
        status_filter=status_filter,
        default_hours=services.default_hours(activity),
        job_token=new_job_token(),
        running_jobs=running,
        **CHOICES,
        **context,
    )


@bp.route("/activities/<activity_id>")
@mirrors(api.get_activity)
def activity(activity_id: str) -> Any:
    """An activity with its participants and the attendance queue."""
    return _activity_page(
        activity_id,
        confirmed=request.args.get("confirmed"),
        imported=request.args.get("imported"),
        job_id=request.args.get("job"),
    )


@bp.route("/activities/<activity_id>/code")
@mirrors(api.get_check_in_code)
def activity_code(activity_id: str) -> Any:
    """The rotating check-in code, full screen (QR and digits) for a projector at the venue."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    code = services.get_check_in_code(actor=actor, activity=activity)
    return page("activity_code.html", activity=activity, code=code)


@bp.route("/activities/<activity_id>/code.svg")
@mirrors(api.get_check_in_code)
def activity_code_qr(activity_id: str) -> Any:
    """The QR of the current code (what the app scans), as SVG."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    code = services.get_check_in_code(actor=actor, activity=activity)
    image = qrcode.make(code.qr_payload, image_factory=qrcode.image.svg.SvgPathFillImage)
    response = Response(image.to_string(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


def _participation_write(participation_id: str, schema: Any, write: Any) -> Any:
    actor = current_user()
    participation = services.get_participation(viewer=actor, participation_id=participation_id)
    saved, errors = submit(
        schema(),
        partial(write, actor=actor, participation=participation),
        lambda _: done("console.activity", activity_id=participation.activity_id),
    )
    return saved or _activity_page(participation.activity_id, 422, errors=errors)


@bp.route("/participations/<participation_id>/confirm", methods=["POST"])
@mirrors(api.confirm_participation)
def participation_confirm(participation_id: str) -> Any:
    """Confirm one participation with hours."""
    return _participation_write(participation_id, ConfirmSchema, services.confirm_participation)


@bp.route("/participations/<participation_id>/reject", methods=["POST"])
@mirrors(api.reject_participation)
def participation_reject(participation_id: str) -> Any:
    """Reject one participation with a reason (frees its seat)."""
    return _participation_write(participation_id, RejectSchema, services.reject_participation)


@bp.route("/activities/<activity_id>/confirm", methods=["POST"])
@mirrors(api.confirm_activity_participations)
def activity_confirm(activity_id: str) -> Any:
    """Confirm the ticked participations, or every attended one, with hours: a job, run at once
    when small, else by the worker with a progress page; refused rows are reported, the others
    confirmed."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    extra = {} if request.form.getlist("participation_ids") else {"participation_ids": None}
    if request.form.get("all_attended"):
        extra = {"participation_ids": None}
    saved, errors = submit(
        BulkConfirmSchema(),
        partial(_start_bulk_confirm, actor=actor, activity=activity, key=request_key()),
        lambda job: job_answer(job, confirmed=job.total),
        lists=("participation_ids",),
        **extra,
    )
    return saved or _activity_page(activity_id, 422, errors=errors)


def _start_bulk_confirm(
    *,
    actor: Any,
    activity: Any,
    key: str,
    hours: float | None = None,
    participation_ids: list[str] | None = None,
) -> ConsoleJob:
    ids = participation_ids
    if ids is None:
        ids = jobs.attended_participation_ids(activity=activity)
    return jobs.start_job(
        actor=actor,
        kind=JobKind.BULK_CONFIRM,
        activity=activity,
        items=list(dict.fromkeys(ids)),
        request_key=key,
        params={"hours": hours},
    )


@bp.route("/activities/<activity_id>/walk-ins", methods=["POST"])
@mirrors(api.join_activity)
def activity_walk_in(activity_id: str) -> Any:
    """Record a citizen who came without registering (officials only, as in the API)."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    who = request.form.get("user_id", "").strip()
    found = find_user(who) if who else None
    extra = {"user_id": found[0]} if found else {}
    saved, errors = submit(
        JoinSchema(),
        partial(_record_walk_in, actor=actor, activity=activity),
        lambda _: done("console.activity", activity_id=activity.id),
        attended=bool(request.form.get("attended")),
        **extra,
    )
    return saved or _activity_page(activity_id, 422, errors=errors)


def _record_walk_in(
    *, actor: Any, activity: Any, user_id: str | None = None, attended: bool
) -> Any:
    # The API's JoinSchema lets a citizen leave user_id out (themselves); an official names one.
    if user_id is None:
        raise ValidationFailed("Required.", fields={"user_id": ["Required."]})
    return services.record_participation(
        actor=actor, activity=activity, user_id=user_id, attended=attended
    )
