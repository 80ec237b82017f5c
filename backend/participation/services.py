"""Participation services: projects and stages, government work, activities, check-in,
participations and their state machine, satisfaction surveys and indicator records.

Every service takes keyword arguments, is told who acts, flushes and never commits. State
changes that move a stage's counters update them here, in the same transaction, with one
atomic UPDATE (safe under concurrent writers), so the reports read counters, not history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, lazyload, make_transient_to_detached, selectinload

from backend import events
from backend.audit.services import record_audit
from backend.clock import seoul_date, seoul_day_start, utcnow
from backend.errors import (
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import User, account_usable
from backend.ids import new_id
from backend.pagination import Page, paginate, where_given
from backend.participation import checkin
from backend.participation.models import (
    SEAT_HOLDING,
    Activity,
    ActivityKind,
    ExchangePartner,
    GovernmentWork,
    IndicatorKind,
    IndicatorRecord,
    Participation,
    ParticipationStatus,
    Project,
    ProjectField,
    ProjectStage,
    ProjectStatus,
    PromotionChannel,
    Stage,
    StageMode,
    StageStatus,
    Survey,
    SurveyResponse,
    TrainingLevel,
    Visibility,
)
from backend.permissions import (
    Role,
    can_see_municipality,
    scope_to_municipality,
    sees_all_municipalities,
)

PS = ParticipationStatus
#: Project statuses citizens can see (with public visibility).
PUBLISHED = (ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)
#: Roles that see a municipality's drafts and private projects.
_SEES_UNPUBLISHED = frozenset({Role.OFFICIAL, Role.ANALYST, Role.ADMIN})

#: The participation state machine: from a status, the statuses it may move to.
TRANSITIONS: dict[ParticipationStatus, frozenset[ParticipationStatus]] = {
    PS.REGISTERED: frozenset({PS.ATTENDED, PS.CONFIRMED, PS.CANCELLED, PS.REJECTED, PS.NO_SHOW}),
    PS.ATTENDED: frozenset({PS.CONFIRMED, PS.REJECTED}),
    PS.CONFIRMED: frozenset(),
    PS.CANCELLED: frozenset({PS.REGISTERED}),
    PS.REJECTED: frozenset(),
    PS.NO_SHOW: frozenset(),
}
_STATUS_ORDER = list(PS)
MAX_HOURS = 100.0
_STAGE_COUNTERS = (
    "government_work_count",
    "confirmed_count",
    "confirmed_hours",
    "derived_mode",
    "mode",
)
_SURVEY_COUNTERS = ("response_count", "rating_sum", *(f"rating_{r}" for r in range(1, 6)))
MAX_HOURS_PER_DAY = 8.0


# ---- helpers --------------------------------------------------------------------------------


def _sees_unpublished(user: User) -> bool:
    return user.role in _SEES_UNPUBLISHED


def _ensure_manager(actor: User, row: Any) -> None:
    """Only an official of the row's municipality changes it."""
    if actor.role != Role.OFFICIAL or actor.municipality_id != row.municipality_id:
        raise PermissionDenied("Only an official of this municipality may do this.")


def _visible_projects(query: sa.Select, viewer: User) -> sa.Select:
    query = scope_to_municipality(query, Project, viewer)
    if _sees_unpublished(viewer):
        return query
    return query.where(Project.status.in_(PUBLISHED), Project.visibility == Visibility.PUBLIC)


def _check_dates(starts_on: date | None, ends_on: date | None, *, prefix: str = "") -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationFailed(
            "The end date is before the start date.",
            code="dates_out_of_order",
            fields={f"{prefix}ends_on": ["Must not be before starts_on."]},
        )


def _expire_cached(model: type, row_id: str, attributes: Sequence[str]) -> None:
    """Forget what a Core UPDATE changed behind the ORM's back (only those attributes, so the
    rest of the row is not read again)."""
    cached = db.session.identity_map.get(db.session.identity_key(model, row_id))
    if cached is not None:
        db.session.expire(cached, list(attributes))


def _mode_case(government_work: Any, confirmed: Any) -> sa.Case:
    """The derived mode, in SQL, from the (new) counter values."""
    return sa.case(
        (sa.and_(government_work > 0, confirmed > 0), StageMode.JOINT.value),
        (government_work > 0, StageMode.GOVERNMENT.value),
        (confirmed > 0, StageMode.CITIZEN.value),
        else_=StageMode.UNCLEAR.value,
    )


def derive_mode(*, government_work_count: int, confirmed_count: int) -> StageMode:
    """Who acted in a stage, from what was recorded (the same rule as the SQL above)."""
    if government_work_count and confirmed_count:
        return StageMode.JOINT
    if government_work_count:
        return StageMode.GOVERNMENT
    if confirmed_count:
        return StageMode.CITIZEN
    return StageMode.UNCLEAR


def _bump_stage(
    stage_id: str, *, government_work: int = 0, confirmed: int = 0, hours: float = 0.0
) -> None:
    """Move a stage's counters and its stored mode in one atomic UPDATE."""
    db.session.flush()
    table = ProjectStage.__table__
    government_expr = table.c.government_work_count + government_work
    confirmed_expr = table.c.confirmed_count + confirmed
    derived = _mode_case(government_expr, confirmed_expr)
    db.session.execute(
        sa.update(table)
        .where(table.c.id == stage_id)
        .values(
            government_work_count=government_expr,
            confirmed_count=confirmed_expr,
            confirmed_hours=table.c.confirmed_hours + hours,
            derived_mode=derived,
            mode=sa.func.coalesce(table.c.override_mode, derived),
        )
    )
    _expire_cached(ProjectStage, stage_id, _STAGE_COUNTERS)


_ACTIVITIES = Activity.__table__
#: Built once: the hot path of recording pays no statement construction.
TAKE_SEAT = (
    sa.update(_ACTIVITIES)
    .where(
        _ACTIVITIES.c.id == sa.bindparam("activity_id"),
        sa.or_(
            _ACTIVITIES.c.capacity.is_(None),
            _ACTIVITIES.c.registered_count < _ACTIVITIES.c.capacity,
        ),
    )
    .values(registered_count=_ACTIVITIES.c.registered_count + 1)
)
INSERT_PARTICIPATION = sa.insert(Participation.__table__)
_ACTIVITY_BY_ID = sa.select(Activity).where(Activity.id == sa.bindparam("activity_id"))


def _take_seat(activity: Activity) -> None:
    """Count one more seat taken, refusing atomically when the activity is full."""
    result = db.session.execute(TAKE_SEAT, {"activity_id": activity.id})
    _expire_cached(Activity, activity.id, ["registered_count"])
    if result.rowcount == 0:
        raise RuleViolation("This activity is full.", code="activity_full")


def _free_seat(activity_id: str) -> None:
    db.session.flush()
    table = Activity.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == activity_id)
        .values(registered_count=table.c.registered_count - 1)
    )
    _expire_cached(Activity, activity_id, ["registered_count"])


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
    db.session.flush()
    record_audit(
        actor=actor,
        action="project.create",
        target_type="project",
        target_id=project.id,
        municipality_id=project.municipality_id,
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
    db.session.flush()
    record_audit(
        actor=actor,
        action="project.update",
        target_type="project",
        target_id=project.id,
        municipality_id=project.municipality_id,
        details=done,
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
        db.session.flush()
        record_audit(
            actor=actor,
            action="stage.update",
            target_type="project_stage",
            target_id=stage.id,
            municipality_id=stage.municipality_id,
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
    db.session.flush()
    record_audit(
        actor=actor,
        action="stage.mode_override",
        target_type="project_stage",
        target_id=stage.id,
        municipality_id=stage.municipality_id,
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
    record_audit(
        actor=actor,
        action="government_work.create",
        target_type="government_work",
        target_id=work.id,
        municipality_id=project.municipality_id,
        details={"project_id": project.id, "stage": stage_row.stage.value},
    )
    return work


def list_government_work(
    *, project: Project, limit: int, cursor: str | None, stage: Stage | None = None
) -> Page:
    """Government work logged for a project, newest first."""
    query = sa.select(GovernmentWork).where(GovernmentWork.project_id == project.id)
    query = where_given(query, {GovernmentWork.stage: stage})
    return paginate(query, GovernmentWork.id, limit=limit, cursor=cursor)


# ---- activities -----------------------------------------------------------------------------


def _seoul_days(starts_at: datetime, ends_at: datetime) -> int:
    # An activity ending at midnight does not spill into the next day.
    last = ends_at - timedelta(microseconds=1)
    return (seoul_date(last) - seoul_date(starts_at)).days + 1


def _check_activity(
    *,
    stage: ProjectStage,
    project: Project,
    kind: ActivityKind,
    training_level: TrainingLevel | None,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    if ends_at <= starts_at:
        raise ValidationFailed(
            "The end is not after the start.",
            code="dates_out_of_order",
            fields={"ends_at": ["Must be after starts_at."]},
        )
    first = stage.starts_on or project.starts_on
    last = stage.ends_on or project.ends_on
    if seoul_date(starts_at) < first or seoul_date(ends_at - timedelta(microseconds=1)) > last:
        raise ValidationFailed(
            "The activity lies outside its stage's dates.",
            code="activity_outside_stage",
            fields={"starts_at": [f"Must lie within {first} - {last}."]},
        )
    if kind == ActivityKind.TRAINING:
        if training_level is None:
            raise ValidationFailed(
                "A training needs a level.",
                code="training_level_required",
                fields={"training_level": ["Required for trainings."]},
            )
        days = _seoul_days(starts_at, ends_at)
        allowed = (1, 1) if training_level == TrainingLevel.BASIC else (2, 3)
        if not allowed[0] <= days <= allowed[1]:
            raise ValidationFailed(
                "A basic training lasts 1 day, an advanced one 2-3 days.",
                code="training_duration",
                fields={
                    "ends_at": [
                        f"A {training_level.value} training lasts "
                        f"{'1 day' if allowed == (1, 1) else '2-3 days'}."
                    ]
                },
            )
    elif training_level is not None:
        raise ValidationFailed(
            "Only trainings have a level.",
            code="training_level_not_allowed",
            fields={"training_level": ["Only for trainings."]},
        )


def create_activity(
    *,
    actor: User,
    project: Project,
    stage: str | Stage,
    kind: ActivityKind,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    training_level: TrainingLevel | None = None,
    description: str = "",
    place: str | None = None,
    online_url: str | None = None,
    capacity: int | None = None,
) -> Activity:
    """An official adds an activity to a stage, inside the stage's dates."""
    _ensure_manager(actor, project)
    stage_row = get_stage(viewer=actor, project_id=project.id, stage=stage)
    _check_activity(
        stage=stage_row,
        project=project,
        kind=kind,
        training_level=training_level,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    activity = Activity(
        municipality_id=project.municipality_id,
        project_id=project.id,
        stage_id=stage_row.id,
        stage=stage_row.stage,
        kind=kind,
        training_level=training_level,
        title=title.strip(),
        description=description,
        place=place,
        online_url=online_url,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        registered_count=0,
        created_by=actor.id,
    )
    activity.project = project
    db.session.add(activity)
    db.session.flush()
    record_audit(
        actor=actor,
        action="activity.create",
        target_type="activity",
        target_id=activity.id,
        municipality_id=activity.municipality_id,
        details={"project_id": project.id, "stage": stage_row.stage.value, "kind": kind.value},
    )
    return activity


def _activity_query(viewer: User) -> sa.Select:
    query = sa.select(Activity).join(Activity.project).options(contains_eager(Activity.project))
    return _visible_projects(query, viewer)


def _may_see_project(viewer: User, project: Project) -> bool:
    """The row-level form of `_visible_projects`, for a project already loaded."""
    if not can_see_municipality(viewer, project.municipality_id):
        return False
    return _sees_unpublished(viewer) or (
        project.status in PUBLISHED and project.visibility == Visibility.PUBLIC
    )


def get_activity(*, viewer: User, activity_id: str) -> Activity:
    """An activity of a project the viewer may see."""
    # By primary key, its project joined in the same query (the hot path of recording). A
    # prebuilt SELECT: Session.get() costs ~45 us more when the row is not yet in the session.
    activity = db.session.execute(_ACTIVITY_BY_ID, {"activity_id": activity_id}).scalar()
    if activity is None or not _may_see_project(viewer, activity.project):
        raise NotFound("Activity not found.", code="activity_not_found")
    return activity


def list_activities(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    project_id: str | None = None,
    stage: Stage | None = None,
    kind: ActivityKind | None = None,
    field: ProjectField | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    open_seats: bool | None = None,
    q: str | None = None,
) -> Page:
    """Activities the viewer may see, newest first, filtered by stage, kind, field, date, seats."""
    query = _activity_query(viewer)
    query = where_given(
        query,
        {
            Activity.project_id: project_id,
            Activity.stage: stage,
            Activity.kind: kind,
            Project.field: field,
        },
    )
    if date_from is not None:
        query = query.where(Activity.ends_at >= seoul_day_start(date_from))
    if date_to is not None:
        query = query.where(Activity.starts_at < seoul_day_start(date_to + timedelta(days=1)))
    if open_seats:
        query = query.where(
            sa.or_(Activity.capacity.is_(None), Activity.registered_count < Activity.capacity)
        )
    elif open_seats is False:
        query = query.where(
            Activity.capacity.is_not(None), Activity.registered_count >= Activity.capacity
        )
    if q:
        query = query.where(Activity.title.icontains(q, autoescape=True))
    return paginate(query, Activity.id, limit=limit, cursor=cursor)


def update_activity(*, actor: User, activity: Activity, **changes: Any) -> Activity:
    """Change an activity; times stay inside the stage, capacity above the seats taken."""
    _ensure_manager(actor, activity)
    changes = {k: v for k, v in changes.items() if v is not None}
    stage = db.session.get(ProjectStage, activity.stage_id)
    _check_activity(
        stage=stage,
        project=activity.project,
        kind=activity.kind,
        training_level=changes.get("training_level", activity.training_level),
        starts_at=changes.get("starts_at", activity.starts_at),
        ends_at=changes.get("ends_at", activity.ends_at),
    )
    capacity = changes.get("capacity")
    if capacity is not None and capacity < activity.registered_count:
        raise RuleViolation(
            "More people have joined than this capacity.",
            code="capacity_below_registered",
            fields={"capacity": [f"At least {activity.registered_count}."]},
        )
    done: dict[str, Any] = {}
    for name, value in changes.items():
        if getattr(activity, name) != value:
            done[name] = (
                value.isoformat()
                if isinstance(value, datetime)
                else (value.value if hasattr(value, "value") else value)
            )
            setattr(activity, name, value)
    if "starts_at" in done:
        db.session.execute(
            sa.update(Participation.__table__)
            .where(Participation.__table__.c.activity_id == activity.id)
            .values(activity_starts_at=activity.starts_at)
        )
    if done:
        db.session.flush()
        record_audit(
            actor=actor,
            action="activity.update",
            target_type="activity",
            target_id=activity.id,
            municipality_id=activity.municipality_id,
            details=done,
        )
    return activity


def get_check_in_code(*, actor: User, activity: Activity) -> checkin.CheckInCode:
    """The code staff show at the venue now (rotates every window; nothing is stored)."""
    _ensure_manager(actor, activity)
    return checkin.current_code(
        activity_id=activity.id,
        now=utcnow(),
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
    )


# ---- participations -------------------------------------------------------------------------


def _illegal(participation: Participation, target: ParticipationStatus) -> RuleViolation:
    allowed = sorted(TRANSITIONS[participation.status], key=_STATUS_ORDER.index)
    named = ", ".join(s.value for s in allowed) or "none"
    return RuleViolation(
        f"A {participation.status.value} participation cannot become {target.value}; "
        f"allowed: {named}.",
        code="illegal_transition",
        fields={"status": [f"Allowed moves from {participation.status.value}: {named}."]},
        details={
            "from": participation.status.value,
            "to": target.value,
            "allowed": [s.value for s in allowed],
        },
    )


def _move(participation: Participation, target: ParticipationStatus) -> None:
    if target not in TRANSITIONS[participation.status]:
        raise _illegal(participation, target)
    participation.status = target


def _new_participation(
    activity: Activity, user_id: str, *, recorded_by: str | None, status: ParticipationStatus
) -> Participation:
    """Insert a participation (one Core INSERT, the hot path of recording) and attach it."""
    row = participation_row(activity, user_id, recorded_by=recorded_by, status=status)
    db.session.execute(INSERT_PARTICIPATION, row)
    participation = Participation(**row)
    # Known to the session as the stored row, without a unit-of-work INSERT.
    make_transient_to_detached(participation)
    db.session.add(participation)
    return participation


def participation_row_of(participation: Participation) -> dict[str, Any]:
    """The stored columns of a participation."""
    return {c.key: getattr(participation, c.key) for c in Participation.__table__.columns}


def participation_row(
    activity: Any, user_id: str, *, recorded_by: str | None, status: ParticipationStatus
) -> dict[str, Any]:
    """Every column of a new participation in an activity (an ORM object or a row)."""
    now = utcnow()
    return {
        "id": new_id(),
        "municipality_id": activity.municipality_id,
        "user_id": user_id,
        "activity_id": activity.id,
        "project_id": activity.project_id,
        "stage_id": activity.stage_id,
        "stage": activity.stage,
        "activity_starts_at": activity.starts_at,
        "status": status,
        "hours": None,
        "registered_at": now,
        "attended_at": now if status == PS.ATTENDED else None,
        "decided_at": None,
        "decided_by": None,
        "rejection_reason": None,
        "recorded_by": recorded_by,
    }


def _existing(activity_id: str, user_id: str) -> Participation | None:
    return db.session.scalar(
        sa.select(Participation).where(
            Participation.activity_id == activity_id, Participation.user_id == user_id
        )
    )


def _rejoin(existing: Participation, activity: Activity) -> Participation:
    if existing.status in (PS.REJECTED, PS.NO_SHOW):
        raise _illegal(existing, PS.REGISTERED)
    if existing.status != PS.CANCELLED:
        raise RuleViolation("Already taking part in this activity.", code="already_joined")
    _take_seat(activity)
    _move(existing, PS.REGISTERED)
    existing.registered_at = utcnow()
    existing.attended_at = existing.decided_at = existing.decided_by = None
    return existing


def join_activity(*, actor: User, activity: Activity) -> Participation:
    """A citizen joins an activity of their municipality (a seat is taken; full is a 409)."""
    if actor.role != Role.CITIZEN or actor.municipality_id != activity.municipality_id:
        raise NotFound("Activity not found.", code="activity_not_found")
    if activity.project.status != ProjectStatus.ACTIVE:
        raise RuleViolation("The project is not open for participation.", code="project_not_open")
    if utcnow() >= activity.ends_at:
        raise RuleViolation("The activity is over.", code="activity_ended")
    existing = _existing(activity.id, actor.id)
    if existing is not None:
        participation = _rejoin(existing, activity)
    else:
        _take_seat(activity)
        participation = _new_participation(
            activity, actor.id, recorded_by=None, status=PS.REGISTERED
        )
    db.session.flush()
    return participation


#: A citizen's columns and their record in an activity, if any (the raw path reads these).
CITIZEN_AND_RECORD = (
    sa.select(User.role, User.municipality_id, User.is_active, User.deleted_at, Participation.id)
    .outerjoin(
        Participation,
        sa.and_(
            Participation.user_id == User.id,
            Participation.activity_id == sa.bindparam("activity_id"),
        ),
    )
    .where(User.id == sa.bindparam("user_id"))
)
_statements: dict[str, sa.Select] = {}


def _citizen_and_record() -> sa.Select:
    """The same, loading the User and the Participation (built once, bound per call)."""
    if "citizen_and_record" not in _statements:
        _statements["citizen_and_record"] = CITIZEN_AND_RECORD.with_only_columns(
            User, Participation
        ).options(lazyload(User.municipality))
    return _statements["citizen_and_record"]


#: Projects whose participations officials may still record (a finished one: paper sheets).
RECORDABLE_PROJECTS = frozenset({ProjectStatus.ACTIVE, ProjectStatus.COMPLETED})


def recordable_citizen(citizen: Any, municipality_id: str) -> bool:
    """Whether an official may record this user (a User or a row with its columns) here."""
    return (
        citizen is not None
        and citizen.role == Role.CITIZEN
        and account_usable(citizen)
        and citizen.municipality_id == municipality_id
    )


def record_participation(
    *, actor: User, activity: Activity, user_id: str, attended: bool = False
) -> Participation:
    """An official records a citizen's participation (a walk-in, a paper sign-in sheet)."""
    _ensure_manager(actor, activity)
    if activity.project.status not in RECORDABLE_PROJECTS:
        raise RuleViolation("The project is not open for participation.", code="project_not_open")
    # The citizen and any earlier record of theirs here, in one round trip.
    row = db.session.execute(
        _citizen_and_record(), {"activity_id": activity.id, "user_id": user_id}
    ).first()
    citizen, existing = row if row is not None else (None, None)
    if not recordable_citizen(citizen, activity.municipality_id):
        raise NotFound(
            "No such citizen in this municipality.",
            code="user_not_found",
            fields={"user_id": ["No such citizen in this municipality."]},
        )
    if existing is not None:
        participation = _rejoin(existing, activity)
        participation.recorded_by = actor.id
        if attended:
            participation.status = PS.ATTENDED
            participation.attended_at = utcnow()
    else:
        _take_seat(activity)
        participation = _new_participation(
            activity,
            user_id,
            recorded_by=actor.id,
            status=PS.ATTENDED if attended else PS.REGISTERED,
        )
    record_audit(
        actor=actor,
        action="participation.record",
        target_type="participation",
        target_id=participation.id,
        municipality_id=activity.municipality_id,
        details={
            "activity_id": activity.id,
            "user_id": user_id,
            "status": participation.status.value,
        },
    )
    db.session.flush()
    events.publish(
        events.PARTICIPATION_RECORDED,
        **recorded_payload(participation_row_of(participation), activity),
    )
    return participation


def recorded_payload(participation: Mapping[str, Any], activity: Any) -> dict[str, Any]:
    """The `participation.recorded` event of an official's record (its stored columns)."""
    return {
        "participation_id": participation["id"],
        "user_id": participation["user_id"],
        "municipality_id": activity.municipality_id,
        "project_id": activity.project_id,
        "activity_id": activity.id,
        "activity_title": activity.title,
        "starts_at": activity.starts_at,
        "status": participation["status"].value,
        "actor_id": participation["recorded_by"],
    }


def check_in(*, actor: User, activity: Activity, code: str) -> Participation:
    """A registered citizen checks in at the venue with the code shown there (once)."""
    participation = _existing(activity.id, actor.id)
    if participation is None or participation.status in (PS.CANCELLED, PS.REJECTED, PS.NO_SHOW):
        raise RuleViolation("You have not joined this activity.", code="not_registered")
    if participation.status in (PS.ATTENDED, PS.CONFIRMED):
        raise RuleViolation("Already checked in.", code="already_checked_in")
    now = utcnow()
    if not activity.starts_at - checkin.opens_before() <= now <= activity.ends_at:
        raise RuleViolation(
            "Check-in is open from 30 minutes before the start to the end.", code="check_in_closed"
        )
    if not checkin.code_is_valid(activity_id=activity.id, code=code, now=now):
        raise ValidationFailed(
            "Wrong or expired check-in code.",
            code="check_in_code_invalid",
            fields={"code": ["Wrong or expired code."]},
        )
    _move(participation, PS.ATTENDED)
    participation.attended_at = now
    db.session.flush()
    return participation


def get_participation(*, viewer: User, participation_id: str) -> Participation:
    """A participation: the citizen's own, or one of the staff's municipality."""
    participation = db.session.get(Participation, participation_id)
    if participation is not None:
        if viewer.role == Role.CITIZEN:
            visible = participation.user_id == viewer.id
        else:
            visible = sees_all_municipalities(viewer) or (
                viewer.role == Role.OFFICIAL
                and viewer.municipality_id == participation.municipality_id
            )
        if visible:
            return participation
    raise NotFound("Participation not found.", code="participation_not_found")


def list_activity_participations(
    *,
    activity: Activity,
    limit: int,
    cursor: str | None,
    status: ParticipationStatus | None = None,
) -> Page:
    """The participations of an activity (staff), newest first."""
    query = sa.select(Participation).where(Participation.activity_id == activity.id)
    query = where_given(query, {Participation.status: status})
    return paginate(query, Participation.id, limit=limit, cursor=cursor)


def default_hours(activity: Activity) -> float:
    """Hours credited when the official gives none: the duration, to the half hour, ≤ 8 a day."""
    hours = (activity.ends_at - activity.starts_at).total_seconds() / 3600
    cap = MAX_HOURS_PER_DAY * _seoul_days(activity.starts_at, activity.ends_at)
    return min(round(hours * 2) / 2, cap, MAX_HOURS)


def _confirm_one(
    participation: Participation, activity: Activity, *, actor: User, hours: float | None
) -> bool:
    """Confirm in memory; False when it already was (confirming twice changes nothing)."""
    if participation.status == PS.CONFIRMED:
        return False
    if participation.status not in (PS.REGISTERED, PS.ATTENDED):
        raise _illegal(participation, PS.CONFIRMED)
    if utcnow() < activity.starts_at:
        raise RuleViolation("The activity has not started yet.", code="activity_not_started")
    participation.status = PS.CONFIRMED
    participation.hours = float(hours if hours is not None else default_hours(activity))
    participation.decided_at = utcnow()
    participation.decided_by = actor.id
    return True


def _announce_confirmed(participation: Participation, activity: Activity, actor: User) -> None:
    record_audit(
        actor=actor,
        action="participation.confirm",
        target_type="participation",
        target_id=participation.id,
        municipality_id=participation.municipality_id,
        details={
            "activity_id": activity.id,
            "user_id": participation.user_id,
            "hours": participation.hours,
        },
    )
    events.publish(
        events.PARTICIPATION_CONFIRMED,
        participation_id=participation.id,
        user_id=participation.user_id,
        municipality_id=participation.municipality_id,
        project_id=participation.project_id,
        activity_id=activity.id,
        stage=participation.stage.value,
        activity_kind=activity.kind.value,
        hours=float(participation.hours or 0.0),
        confirmed_at=participation.decided_at,
        actor_id=actor.id,
    )


def confirm_participation(
    *, actor: User, participation: Participation, hours: float | None = None
) -> Participation:
    """An official confirms a participation with its hours; the stage counters follow."""
    _ensure_manager(actor, participation)
    activity = participation.activity
    if not _confirm_one(participation, activity, actor=actor, hours=hours):
        return participation
    _bump_stage(participation.stage_id, confirmed=1, hours=participation.hours)
    _announce_confirmed(participation, activity, actor)
    db.session.flush()
    return participation


def confirm_activity_participations(
    *,
    actor: User,
    activity: Activity,
    hours: float | None = None,
    participation_ids: Sequence[str] | None = None,
) -> list[Participation]:
    """Confirm many at once: the listed ones, or every attended one; all or nothing."""
    _ensure_manager(actor, activity)
    query = sa.select(Participation).where(Participation.activity_id == activity.id)
    if participation_ids is not None:
        wanted = list(dict.fromkeys(participation_ids))
        rows = list(db.session.scalars(query.where(Participation.id.in_(wanted))))
        missing = set(wanted) - {p.id for p in rows}
        if missing:
            raise NotFound(
                "Some participations are not in this activity.",
                code="participation_not_found",
                fields={"participation_ids": sorted(missing)},
            )
    else:
        rows = list(db.session.scalars(query.where(Participation.status == PS.ATTENDED)))
    rows.sort(key=lambda p: p.id)
    changed = [p for p in rows if _confirm_one(p, activity, actor=actor, hours=hours)]
    if changed:
        _bump_stage(
            activity.stage_id, confirmed=len(changed), hours=sum(p.hours or 0.0 for p in changed)
        )
        for participation in changed:
            _announce_confirmed(participation, activity, actor)
        db.session.flush()
    return rows


def record_meeting_attendance(
    *,
    meeting_id: str,
    user_id: str,
    municipality_id: str,
    project_id: str | None,
    stage: str | None,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    actor_id: str | None,
    **_payload: Any,
) -> Participation | None:
    """MEETING_ATTENDED: a checked-in meeting of a project's stage becomes a confirmed
    participation there (its activity, kind `meeting`, is made once per meeting)."""
    if project_id is None or stage is None:
        return None
    project = db.session.get(Project, project_id)
    citizen = db.session.get(User, user_id)
    if (
        project is None
        or project.municipality_id != municipality_id
        or citizen is None
        or citizen.role != Role.CITIZEN
    ):
        return None
    stage_row = db.session.scalar(
        sa.select(ProjectStage).where(
            ProjectStage.project_id == project.id, ProjectStage.stage == Stage(stage)
        )
    )
    source_key = f"meeting:{meeting_id}"
    activity = db.session.scalar(sa.select(Activity).where(Activity.source_key == source_key))
    if activity is None:
        # The meeting happened: it is recorded as it was, not checked against the stage dates.
        activity = Activity(
            municipality_id=project.municipality_id,
            project_id=project.id,
            stage_id=stage_row.id,
            stage=stage_row.stage,
            kind=ActivityKind.MEETING,
            title=title[:200],
            starts_at=starts_at,
            ends_at=ends_at,
            registered_count=0,
            source_key=source_key,
            created_by=actor_id,
        )
        activity.project = project
        db.session.add(activity)
        db.session.flush()
    participation = _existing(activity.id, user_id)
    if participation is None:
        _take_seat(activity)
        participation = _new_participation(
            activity, user_id, recorded_by=actor_id, status=PS.ATTENDED
        )
    elif participation.status not in (PS.REGISTERED, PS.ATTENDED):
        return participation  # confirmed already (a second delivery), or decided otherwise
    actor = db.session.get(User, actor_id) if actor_id else None
    participation.status = PS.CONFIRMED
    participation.hours = default_hours(activity)
    participation.decided_at = utcnow()
    participation.decided_by = actor_id
    db.session.flush()
    _bump_stage(stage_row.id, confirmed=1, hours=participation.hours)
    record_audit(
        actor=actor,
        action="participation.confirm",
        target_type="participation",
        target_id=participation.id,
        municipality_id=participation.municipality_id,
        details={
            "activity_id": activity.id,
            "user_id": user_id,
            "hours": participation.hours,
            "meeting_id": meeting_id,
        },
    )
    events.publish(
        events.PARTICIPATION_CONFIRMED,
        participation_id=participation.id,
        user_id=user_id,
        municipality_id=participation.municipality_id,
        project_id=project.id,
        activity_id=activity.id,
        stage=stage_row.stage.value,
        activity_kind=ActivityKind.MEETING.value,
        hours=float(participation.hours),
        confirmed_at=participation.decided_at,
        actor_id=actor_id,
    )
    return participation


def reject_participation(
    *, actor: User, participation: Participation, reason: str
) -> Participation:
    """An official rejects a participation (it frees its seat); rejecting twice is a no-op."""
    _ensure_manager(actor, participation)
    if participation.status == PS.REJECTED:
        return participation
    _move(participation, PS.REJECTED)
    participation.rejection_reason = reason.strip()
    participation.decided_at = utcnow()
    participation.decided_by = actor.id
    _free_seat(participation.activity_id)
    record_audit(
        actor=actor,
        action="participation.reject",
        target_type="participation",
        target_id=participation.id,
        municipality_id=participation.municipality_id,
        details={"activity_id": participation.activity_id, "reason": reason.strip()},
    )
    events.publish(
        events.PARTICIPATION_REJECTED,
        participation_id=participation.id,
        user_id=participation.user_id,
        municipality_id=participation.municipality_id,
        project_id=participation.project_id,
        activity_id=participation.activity_id,
        reason=participation.rejection_reason,
        actor_id=actor.id,
    )
    db.session.flush()
    return participation


def cancel_participation(*, actor: User, participation: Participation) -> Participation:
    """The citizen (or an official) cancels a registration before attending; frees the seat."""
    own = actor.id == participation.user_id
    if not own:
        _ensure_manager(actor, participation)
    if participation.status == PS.CANCELLED:
        return participation
    _move(participation, PS.CANCELLED)
    _free_seat(participation.activity_id)
    if not own:
        record_audit(
            actor=actor,
            action="participation.cancel",
            target_type="participation",
            target_id=participation.id,
            municipality_id=participation.municipality_id,
            details={"activity_id": participation.activity_id},
        )
    db.session.flush()
    return participation


def mark_no_show(*, actor: User, participation: Participation) -> Participation:
    """An official marks a registered citizen who never came, once the activity is over."""
    _ensure_manager(actor, participation)
    if participation.status == PS.NO_SHOW:
        return participation
    if participation.status in TRANSITIONS and PS.NO_SHOW not in TRANSITIONS[participation.status]:
        raise _illegal(participation, PS.NO_SHOW)
    if utcnow() < participation.activity.ends_at:
        raise RuleViolation("The activity is not over yet.", code="activity_not_ended")
    _move(participation, PS.NO_SHOW)
    participation.decided_at = utcnow()
    participation.decided_by = actor.id
    _free_seat(participation.activity_id)
    record_audit(
        actor=actor,
        action="participation.no_show",
        target_type="participation",
        target_id=participation.id,
        municipality_id=participation.municipality_id,
        details={"activity_id": participation.activity_id},
    )
    db.session.flush()
    return participation


def list_my_participations(
    *,
    user: User,
    limit: int,
    cursor: str | None,
    stage: Stage | None = None,
    status: ParticipationStatus | None = None,
) -> Page:
    """A citizen's own history, newest first, with each activity and project."""
    query = (
        sa.select(Participation)
        .join(Participation.activity)
        .join(Activity.project)
        .options(contains_eager(Participation.activity).contains_eager(Activity.project))
        .where(Participation.user_id == user.id)
    )
    query = where_given(
        query,
        {
            Participation.stage: stage,
            Participation.status: status,
        },
    )
    return paginate(query, Participation.id, limit=limit, cursor=cursor)


@dataclass
class StageSummary:
    """One stage of a citizen's summary."""

    stage: Stage
    total: int = 0
    confirmed: int = 0
    hours: float = 0.0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in PS})


@dataclass
class ParticipationSummary:
    """A citizen's participations per stage: counts by status and confirmed hours."""

    total: int
    confirmed: int
    hours: float
    stages: list[StageSummary]


def participation_summary(*, user: User) -> ParticipationSummary:
    """Per-stage counts and hours of the citizen's own participations (one grouped query)."""
    rows = db.session.execute(
        sa.select(
            Participation.stage,
            Participation.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Participation.hours), 0.0),
        )
        .where(Participation.user_id == user.id)
        .group_by(Participation.stage, Participation.status)
    )
    stages = {stage: StageSummary(stage=stage) for stage in Stage}
    for stage, status, count, hours in rows:
        summary = stages[stage]
        summary.total += count
        summary.by_status[status.value] = count
        if status == PS.CONFIRMED:
            summary.confirmed += count
            summary.hours = round(summary.hours + float(hours), 2)
    ordered = list(stages.values())
    return ParticipationSummary(
        total=sum(s.total for s in ordered),
        confirmed=sum(s.confirmed for s in ordered),
        hours=round(sum(s.hours for s in ordered), 2),
        stages=ordered,
    )


@dataclass
class ParticipationStats:
    """A citizen's confirmed participations since a moment (for certification criteria)."""

    total: int
    by_stage: dict[str, int]
    hours: float


def confirmed_participation_stats(*, user_id: str, since: datetime) -> ParticipationStats:
    """Count the user's confirmed participations whose activity started at or after `since`."""
    rows = db.session.execute(
        sa.select(
            Participation.stage,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Participation.hours), 0.0),
        )
        .where(
            Participation.user_id == user_id,
            Participation.status == PS.CONFIRMED,
            Participation.activity_starts_at >= since,
        )
        .group_by(Participation.stage)
    )
    by_stage = {stage.value: 0 for stage in Stage}
    hours = 0.0
    for stage, count, stage_hours in rows:
        by_stage[stage.value] = count
        hours += float(stage_hours)
    return ParticipationStats(
        total=sum(by_stage.values()), by_stage=by_stage, hours=round(hours, 2)
    )


def list_participant_ids(*, project_id: str) -> list[str]:
    """The distinct users taking part in any activity of the project (for announcements).

    Taking part means a participation that holds a seat: registered, attended or confirmed.
    Cancelled, rejected and no-show participations are left out: those people are not, or no
    longer, expected at the project's activities, so its announcements are not theirs.
    The caller checks that the project is the actor's to see.
    """
    return list(
        db.session.scalars(
            sa.select(Participation.user_id)
            .where(
                Participation.project_id == project_id,
                Participation.status.in_(SEAT_HOLDING),
            )
            .distinct()
            .order_by(Participation.user_id)
        )
    )


# ---- surveys --------------------------------------------------------------------------------


def create_survey(
    *,
    actor: User,
    project: Project,
    title: str,
    activity_id: str | None = None,
    closes_at: datetime | None = None,
) -> Survey:
    """An official opens the satisfaction survey of a project or of one of its activities."""
    _ensure_manager(actor, project)
    if activity_id is not None:
        activity = db.session.get(Activity, activity_id)
        if activity is None or activity.project_id != project.id:
            raise NotFound(
                "Activity not found in this project.",
                code="activity_not_found",
                fields={"activity_id": ["Not an activity of this project."]},
            )
    target = activity_id or project.id
    if db.session.scalar(sa.select(Survey.id).where(Survey.target_key == target)):
        raise RuleViolation("This already has a survey.", code="survey_exists")
    if closes_at is not None and closes_at <= utcnow():
        raise ValidationFailed(
            "The closing time is in the past.",
            code="closes_in_past",
            fields={"closes_at": ["Must be in the future."]},
        )
    survey = Survey(
        municipality_id=project.municipality_id,
        project_id=project.id,
        activity_id=activity_id,
        target_key=target,
        title=title.strip(),
        closes_at=closes_at,
        created_by=actor.id,
    )
    db.session.add(survey)
    db.session.flush()
    record_audit(
        actor=actor,
        action="survey.create",
        target_type="survey",
        target_id=survey.id,
        municipality_id=survey.municipality_id,
        details={"project_id": project.id, "activity_id": activity_id},
    )
    return survey


def get_survey(*, viewer: User, survey_id: str) -> Survey:
    """A survey of a project the viewer may see."""
    survey = db.session.get(Survey, survey_id)
    if survey is not None:
        try:
            get_project(viewer=viewer, project_id=survey.project_id)
        except NotFound:
            survey = None
    if survey is None:
        raise NotFound("Survey not found.", code="survey_not_found")
    return survey


def list_project_surveys(*, project: Project, limit: int, cursor: str | None) -> Page:
    """The surveys of a project (its own and its activities'), newest first."""
    query = sa.select(Survey).where(Survey.project_id == project.id)
    return paginate(query, Survey.id, limit=limit, cursor=cursor)


def answer_survey(*, actor: User, survey: Survey, rating: int, comment: str = "") -> SurveyResponse:
    """A participant answers once (1-5 and a comment); the survey's aggregates follow."""
    if survey.closes_at is not None and utcnow() >= survey.closes_at:
        raise RuleViolation("This survey is closed.", code="survey_closed")
    took_part = (
        sa.select(Participation.id)
        .where(
            Participation.user_id == actor.id,
            Participation.status.in_((PS.ATTENDED, PS.CONFIRMED)),
            (Participation.activity_id == survey.activity_id)
            if survey.activity_id
            else (Participation.project_id == survey.project_id),
        )
        .limit(1)
    )
    if db.session.scalar(took_part) is None:
        raise PermissionDenied(
            "Only participants answer this survey.", code="survey_not_participant"
        )
    if db.session.scalar(
        sa.select(SurveyResponse.id).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.user_id == actor.id
        )
    ):
        raise RuleViolation(
            "You have already answered this survey.", code="survey_already_answered"
        )
    response = SurveyResponse(
        survey_id=survey.id, user_id=actor.id, rating=rating, comment=comment.strip()
    )
    db.session.add(response)
    db.session.flush()
    table = Survey.__table__
    bucket = f"rating_{rating}"
    db.session.execute(
        sa.update(table)
        .where(table.c.id == survey.id)
        .values(
            {
                table.c.response_count: table.c.response_count + 1,
                table.c.rating_sum: table.c.rating_sum + rating,
                table.c[bucket]: table.c[bucket] + 1,
            }
        )
    )
    _expire_cached(Survey, survey.id, _SURVEY_COUNTERS)
    return response


def list_survey_responses(*, survey: Survey, limit: int, cursor: str | None) -> Page:
    """Answers to a survey with their comments (staff), newest first."""
    query = sa.select(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
    return paginate(query, SurveyResponse.id, limit=limit, cursor=cursor)


# ---- indicator records ----------------------------------------------------------------------


def record_indicator(
    *,
    actor: User,
    kind: IndicatorKind,
    title: str,
    occurred_on: date,
    channel: PromotionChannel | None = None,
    partner: ExchangePartner | None = None,
    project_id: str | None = None,
    note: str = "",
) -> IndicatorRecord:
    """An official records an indicator fact of their municipality."""
    if actor.role != Role.OFFICIAL or not actor.municipality_id:
        raise PermissionDenied("Only officials record indicator facts.")
    if kind == IndicatorKind.PROMOTION and channel is None:
        raise ValidationFailed(
            "A promotion needs its channel.",
            code="channel_required",
            fields={"channel": ["Required for promotions."]},
        )
    if kind == IndicatorKind.EXCHANGE and partner is None:
        raise ValidationFailed(
            "An exchange needs its partner.",
            code="partner_required",
            fields={"partner": ["Required for exchanges."]},
        )
    if kind != IndicatorKind.PROMOTION and channel is not None:
        raise ValidationFailed(
            "Only promotions have a channel.",
            code="channel_not_allowed",
            fields={"channel": ["Only for promotions."]},
        )
    if kind != IndicatorKind.EXCHANGE and partner is not None:
        raise ValidationFailed(
            "Only exchanges have a partner.",
            code="partner_not_allowed",
            fields={"partner": ["Only for exchanges."]},
        )
    if project_id is not None:
        project = db.session.get(Project, project_id)
        if project is None or project.municipality_id != actor.municipality_id:
            raise NotFound(
                "Project not found.",
                code="project_not_found",
                fields={"project_id": ["No such project here."]},
            )
    record = IndicatorRecord(
        municipality_id=actor.municipality_id,
        kind=kind,
        title=title.strip(),
        occurred_on=occurred_on,
        channel=channel,
        partner=partner,
        project_id=project_id,
        note=note,
        created_by=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    record_audit(
        actor=actor,
        action="indicator_record.create",
        target_type="indicator_record",
        target_id=record.id,
        municipality_id=record.municipality_id,
        details={"kind": kind.value, "title": record.title},
    )
    return record


def list_indicator_records(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    kind: IndicatorKind | None = None,
    year: int | None = None,
    municipality_id: str | None = None,
) -> Page:
    """Indicator facts the viewer may see, newest first."""
    query = scope_to_municipality(sa.select(IndicatorRecord), IndicatorRecord, viewer)
    query = where_given(query, {IndicatorRecord.kind: kind})
    if year is not None:
        query = query.where(
            IndicatorRecord.occurred_on.between(date(year, 1, 1), date(year, 12, 31))
        )
    query = where_given(query, {IndicatorRecord.municipality_id: municipality_id})
    return paginate(query, IndicatorRecord.id, limit=limit, cursor=cursor)


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
