"""Projects: the list, create and edit, the four stages on a timeline (dates, status, mode),
mode overrides with a reason, and the government work log."""

from __future__ import annotations

from functools import partial
from typing import Any

import marshmallow as ma
from flask import request

from backend.api import participation as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import form_page, submit
from backend.console.pages import done, page, page_args
from backend.participation import services
from backend.participation.models import (
    ProjectField,
    ProjectStatus,
    Stage,
    StageMode,
    StageStatus,
    Visibility,
)
from backend.participation.schemas import (
    GovernmentWorkCreateSchema,
    ModeOverrideSchema,
    ProjectCreateSchema,
    ProjectListArgsSchema,
    ProjectUpdateSchema,
    StageUpdateSchema,
)

CHOICES = {
    "fields": list(ProjectField),
    "statuses": list(ProjectStatus),
    "visibilities": list(Visibility),
    "stages": list(Stage),
    "modes": list(StageMode),
    "stage_statuses": list(StageStatus),
}


@bp.route("/projects")
@mirrors(api.list_projects)
def projects() -> Any:
    """The projects the user may see, newest first, filtered like the API's list."""
    raw = {k: v for k, v in request.args.items() if v and k in ("status", "field", "year", "q")}
    try:
        args = ProjectListArgsSchema().load({**raw, "limit": 20})
    except ma.ValidationError:  # a hand-typed filter that does not load: show everything
        args = {"limit": 20}
    args["cursor"] = request.args.get("cursor") or None
    result = services.list_projects(viewer=current_user(), **args)
    return page("projects.html", result=result, filters=raw, **CHOICES)


@bp.route("/projects/new", methods=["GET", "POST"])
@mirrors(api.create_project)
def project_new() -> Any:
    """Open a project; its four stages come with it."""
    return form_page(
        "project_form.html",
        ProjectCreateSchema(),
        partial(services.create_project, actor=current_user()),
        lambda project: done("console.project", project_id=project.id),
        project=None,
        **CHOICES,
    )


@bp.route("/projects/<project_id>/edit", methods=["GET", "POST"])
@mirrors(api.update_project)
def project_edit(project_id: str) -> Any:
    """Change a project's title, field, dates, status or visibility."""
    actor = current_user()
    project = services.project_with_stages(viewer=actor, project_id=project_id)
    return form_page(
        "project_form.html",
        ProjectUpdateSchema(),
        partial(services.update_project, actor=actor, project=project),
        lambda _: done("console.project", project_id=project.id),
        project=project,
        **CHOICES,
    )


def _project_page(project_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    project = services.project_with_stages(viewer=viewer, project_id=project_id)
    activities = services.list_activities(
        viewer=viewer, project_id=project.id, limit=100, cursor=None
    )
    work = None
    if viewer.role in api.list_government_work.access.roles:
        work = services.list_government_work(project=project, **page_args())
    return page(
        "project.html",
        status,
        project=project,
        activities=activities,
        work=work,
        **CHOICES,
        **context,
    )


@bp.route("/projects/<project_id>")
@mirrors(api.get_project)
def project(project_id: str) -> Any:
    """A project: its stage timeline with modes, its activities and its government work."""
    return _project_page(project_id)


def _stage_write(project_id: str, stage: str, schema: Any, write: Any) -> Any:
    actor = current_user()
    row = services.get_stage(viewer=actor, project_id=project_id, stage=stage)
    extra = {"mode": None} if schema is ModeOverrideSchema and not request.form.get("mode") else {}
    saved, errors = submit(
        schema(),
        partial(write, actor=actor, stage=row),
        lambda _: done("console.project", project_id=project_id),
        **extra,
    )
    return saved or _project_page(
        project_id, 422, errors={"stage_form": errors, "stage": row.stage.value}
    )


@bp.route("/projects/<project_id>/stages/<stage>", methods=["POST"])
@mirrors(api.update_stage)
def stage_update(project_id: str, stage: str) -> Any:
    """Set a stage's dates or status."""
    return _stage_write(project_id, stage, StageUpdateSchema, services.update_stage)


@bp.route("/projects/<project_id>/stages/<stage>/mode", methods=["POST"])
@mirrors(api.override_stage_mode)
def stage_mode(project_id: str, stage: str) -> Any:
    """Impose a stage's mode with a reason (blank mode: back to the derived one)."""
    return _stage_write(project_id, stage, ModeOverrideSchema, services.override_stage_mode)


@bp.route("/projects/<project_id>/government-work", methods=["POST"])
@mirrors(api.log_government_work)
def government_work(project_id: str) -> Any:
    """Log what the administration did alone in a stage."""
    actor = current_user()
    project = services.get_project(viewer=actor, project_id=project_id)
    saved, errors = submit(
        GovernmentWorkCreateSchema(),
        partial(services.log_government_work, actor=actor, project=project),
        lambda _: done("console.project", project_id=project_id),
    )
    return saved or _project_page(project_id, 422, errors={"work": errors})
