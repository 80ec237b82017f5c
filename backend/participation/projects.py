"""Participation: projects and their stages, stage modes and government work."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from backend.audit.services import save_and_audit
from backend.clock import seoul_day_start
from backend.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import User
from backend.pagination import Page, paginate, where_given
from backend.participation.models import (
    Activity,
    GovernmentWork,
    Project,
    ProjectField,
    ProjectStage,
    ProjectStatus,
    Stage,
    StageMode,
    StageStatus,
    Visibility,
)
from backend.participation.shared import (
    _bump_stage,
    _check_dates,
    _ensure_manager,
    _visible_projects,
)
from backend.permissions import (
    Role,
)
from backend.rows import list_page

# ---- projects and stages --------------------------------------------------------------------


def create_project(
    *,
    actor: User,
    title: str,
    field: ProjectField,
    starts_on: date,
    ends_on: date,
    summary: str = "",
    status: ProjectStatus = ProjectStatus.DRAFT,
    visibility: Visibility = Visibility.PUBLIC,
) -> Project:
    """An official opens a project of their municipality, with its four stages."""
    if actor.role != Role.OFFICIAL or not actor.municipality_id:
        raise PermissionDenied("Only officials create projects.")
    _check_dates(starts_on, ends_on)
    project = Project(
        municipality_id=actor.municipality_id,
        title=title.strip(),
        summary=summary,
        field=field,
        starts_on=starts_on,
        ends_on=ends_on,
        status=status,
        visibility=visibility,
        created_by=actor.id,
    )
    db.session.add(project)
    for position, stage in enumerate(Stage, start=1):
        db.session.add(
            ProjectStage(
                project=project,
                stage=stage,
                position=position,
                municipality_id=project.municipality_id,
                year=starts_on.year,
                field=field,
                project_status=status,
                derived_mode=StageMode.UNCLEAR,
                mode=StageMode.UNCLEAR,
            )
        )
    save_and_audit(
        project,
        actor=actor,
        action="project.create",
        target_type="project",
        details={"title": project.title, "status": status.value},
    )
    return project


def get_project(*, viewer: User, project_id: str) -> Project:
    """A project the viewer may see (drafts and private ones only for staff)."""
    project = db.session.scalar(
        _visible_projects(sa.select(Project).where(Project.id == project_id), viewer)
    )
    if project is None:
        raise NotFound("Project not found.", code="project_not_found")
    return project


def list_projects(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    status: ProjectStatus | None = None,
    field: ProjectField | None = None,
    year: int | None = None,
    q: str | None = None,
    municipality_id: str | None = None,
) -> Page:
    """Projects the viewer may see, newest first, filtered."""
    query = _visible_projects(sa.select(Project), viewer)
    query = where_given(
        query,
        {
            Project.status: status,
            Project.field: field,
        },
    )
    if year is not None:
        query = query.where(
            Project.starts_on <= date(year, 12, 31), Project.ends_on >= date(year, 1, 1)
        )
    if q:
        query = query.where(Project.title.icontains(q, autoescape=True))
    query = where_given(query, {Project.municipality_id: municipality_id})
    return paginate(query, Project.id, limit=limit, cursor=cursor)


def _stages_outside(project: Project, starts_on: date, ends_on: date) -> list[str]:
    return [
        s.stage.value
        for s in project.stages
        if (s.starts_on and s.starts_on < starts_on) or (s.ends_on and s.ends_on > ends_on)
    ]


def update_project(*, actor: User, project: Project, **changes: Any) -> Project:
    """Change a project's fields; stage copies of the reported fields follow."""
    _ensure_manager(actor, project)
    changes = {k: v for k, v in changes.items() if v is not None}
    starts_on = changes.get("starts_on", project.starts_on)
    ends_on = changes.get("ends_on", project.ends_on)
    _check_dates(starts_on, ends_on)
    outside = _stages_outside(project, starts_on, ends_on)
    if outside:
        raise ValidationFailed(
            "Some stages would fall outside the project's dates.",
            code="stage_outside_project",
            fields={"starts_on": [f"Stages outside: {', '.join(outside)}."]},
        )
    if "starts_on" in changes or "ends_on" in changes:
        _ensure_activities_within(
            project_id=project.id, stage_id=None, starts_on=starts_on, ends_on=ends_on
        )
    done: dict[str, Any] = {}
    for name, value in changes.items():
        if getattr(project, name) != value:
            done[name] = value.value if hasattr(value, "value") else str(value)
            setattr(project, name, value)
    if not done:
        return project
    for stage in project.stages:
        stage.year, stage.field, stage.project_status = (
            project.starts_on.year,
            project.field,
            project.status,
        )
    save_and_audit(
        project, actor=actor, action="project.update", target_type="project", details=done
    )
    return project


def _parse_stage(stage: str | Stage) -> Stage:
    try:
        return Stage(stage)
    except ValueError:
        raise NotFound("No such stage.", code="stage_not_found") from None


def get_stage(*, viewer: User, project_id: str, stage: str | Stage) -> ProjectStage:
    """One stage of a project the viewer may see."""
    stage = _parse_stage(stage)
    project = get_project(viewer=viewer, project_id=project_id)
    for row in project.stages:
        if row.stage == stage:
            return row
    raise NotFound("No such stage.", code="stage_not_found")


def _ensure_activities_within(
    *, project_id: str, stage_id: str | None, starts_on: date | None, ends_on: date | None
) -> None:
    query = (
        sa.select(sa.func.count()).select_from(Activity).where(Activity.project_id == project_id)
    )
    query = where_given(query, {Activity.stage_id: stage_id})
    bounds = []
    if starts_on is not None:
        bounds.append(Activity.starts_at < seoul_day_start(starts_on))
    if ends_on is not None:
        bounds.append(Activity.ends_at > seoul_day_start(ends_on + timedelta(days=1)))
    if bounds and db.session.scalar(query.where(sa.or_(*bounds))):
        raise ValidationFailed(
            "Some activities would fall outside these dates.",
            code="activities_outside_dates",
            fields={"starts_on": ["Activities fall outside these dates."]},
        )


def update_stage(
    *,
    actor: User,
    stage: ProjectStage,
    starts_on: date | None = None,
    ends_on: date | None = None,
    status: StageStatus | None = None,
) -> ProjectStage:
    """Set a stage's dates or status; the dates stay inside the project's and its activities'."""
    project = stage.project
    _ensure_manager(actor, project)
    new_start = starts_on if starts_on is not None else stage.starts_on
    new_end = ends_on if ends_on is not None else stage.ends_on
    _check_dates(new_start, new_end)
    for name, value in (("starts_on", new_start), ("ends_on", new_end)):
        if value is not None and not project.starts_on <= value <= project.ends_on:
            raise ValidationFailed(
                "Stage dates must lie within the project's dates.",
                code="stage_outside_project",
                fields={name: ["Outside the project's dates."]},
            )
    _ensure_activities_within(
        project_id=project.id, stage_id=stage.id, starts_on=new_start, ends_on=new_end
    )
    done: dict[str, Any] = {}
    for name, value in (("starts_on", starts_on), ("ends_on", ends_on), ("status", status)):
        if value is not None and getattr(stage, name) != value:
            done[name] = value.value if hasattr(value, "value") else value.isoformat()
            setattr(stage, name, value)
    if done:
        save_and_audit(
            stage,
            actor=actor,
            action="stage.update",
            target_type="project_stage",
            details={"stage": stage.stage.value, **done},
        )
    return stage


def override_stage_mode(
    *, actor: User, stage: ProjectStage, mode: StageMode | None, reason: str
) -> ProjectStage:
    """An official sets a stage's mode by hand (None: back to the derived one), with a reason."""
    _ensure_manager(actor, stage)
    before = stage.mode
    stage.override_mode = mode
    stage.override_reason = reason.strip() if mode is not None else None
    stage.mode = mode or stage.derived_mode
    save_and_audit(
        stage,
        actor=actor,
        action="stage.mode_override",
        target_type="project_stage",
        details={
            "stage": stage.stage.value,
            "project_id": stage.project_id,
            "from": before.value,
            "to": stage.mode.value,
            "override": mode.value if mode else None,
            "reason": reason.strip(),
        },
    )
    return stage


def log_government_work(
    *,
    actor: User,
    project: Project,
    stage: str | Stage,
    title: str,
    description: str = "",
    performed_on: date | None = None,
) -> GovernmentWork:
    """Record what the administration did alone in a stage; the stage's mode follows."""
    _ensure_manager(actor, project)
    stage_row = get_stage(viewer=actor, project_id=project.id, stage=stage)
    if performed_on is not None and not project.starts_on <= performed_on <= project.ends_on:
        raise ValidationFailed(
            "The date lies outside the project's dates.",
            code="date_outside_project",
            fields={"performed_on": ["Outside the project's dates."]},
        )
    work = GovernmentWork(
        municipality_id=project.municipality_id,
        project_id=project.id,
        stage_id=stage_row.id,
        stage=stage_row.stage,
        title=title.strip(),
        description=description,
        performed_on=performed_on,
        created_by=actor.id,
    )
    db.session.add(work)
    _bump_stage(stage_row.id, government_work=1)
    save_and_audit(
        work,
        actor=actor,
        action="government_work.create",
        target_type="government_work",
        municipality_id=project.municipality_id,
        details={"project_id": project.id, "stage": stage_row.stage.value},
    )
    return work


def list_government_work(
    *, project: Project, limit: int, cursor: str | None, stage: Stage | None = None
) -> Page:
    """Government work logged for a project, newest first."""
    return list_page(
        GovernmentWork,
        filters={GovernmentWork.project_id: project.id, GovernmentWork.stage: stage},
        limit=limit,
        cursor=cursor,
    )


def project_with_stages(*, viewer: User, project_id: str) -> Project:
    """A visible project with its stages loaded in the same round trip budget."""
    project = db.session.scalar(
        _visible_projects(sa.select(Project).where(Project.id == project_id), viewer).options(
            selectinload(Project.stages)
        )
    )
    if project is None:
        raise NotFound("Project not found.", code="project_not_found")
    return project
