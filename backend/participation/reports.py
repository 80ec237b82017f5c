"""The policy brief's reports from live data: the stage-mode table and a project's co-production
profile. (The evaluation indicators per municipality, which read the ministry's courses too, are
in `backend/ministry/indicators.py`.)

The stage-mode table reads only the maintained stage rows (four per project, with their stored
mode and the project fields copied onto them), never the participations, so it answers in
milliseconds at a million participations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from backend.errors import NotFound
from backend.extensions import db
from backend.identity.models import User
from backend.participation.models import (
    Activity,
    Participation,
    ParticipationStatus,
    Project,
    ProjectField,
    ProjectStage,
    ProjectStatus,
    Stage,
    StageMode,
)
from backend.participation.services import project_with_stages
from backend.permissions import sees_all_municipalities


def percent(part: int, whole: int) -> float:
    """A share in percent with one decimal, rounded half up (as the brief prints it)."""
    if not whole:
        return 0.0
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return float(value)


def scope_municipality(viewer: User, municipality_id: str | None) -> str | None:
    """Officials report on their own municipality only; national roles on any or all."""
    if sees_all_municipalities(viewer):
        return municipality_id
    if municipality_id is not None and municipality_id != viewer.municipality_id:
        raise NotFound("Municipality not found.", code="municipality_not_found")
    return viewer.municipality_id


# ---- the stage-mode table -------------------------------------------------------------------


@dataclass
class StageModeRow:
    """One stage (a column of the brief's table): projects per mode and their shares."""

    stage: Stage
    total: int
    counts: dict[str, int]
    percents: dict[str, float]

    def __getattr__(self, name: str) -> float:
        # government, government_percent, ... for the schema and the CSV.
        if name.endswith("_percent") and name[:-8] in StageMode._value2member_map_:
            return self.percents[name[:-8]]
        if name in StageMode._value2member_map_:
            return self.counts[name]
        raise AttributeError(name)


@dataclass
class StageModeReport:
    """The brief's first table for a year, municipality and field (each optional)."""

    year: int | None
    municipality_id: str | None
    field: ProjectField | None
    project_count: int
    stages: list[StageModeRow]


def stage_mode_report(
    *,
    viewer: User,
    year: int | None = None,
    municipality_id: str | None = None,
    field: ProjectField | None = None,
) -> StageModeReport:
    """For each stage, how many projects were government-only, citizen-only, joint, unclear."""
    municipality_id = scope_municipality(viewer, municipality_id)
    query = (
        sa.select(ProjectStage.stage, ProjectStage.mode, sa.func.count())
        .where(ProjectStage.project_status != ProjectStatus.DRAFT)
        .group_by(ProjectStage.stage, ProjectStage.mode)
    )
    if year is not None:
        query = query.where(ProjectStage.year == year)
    if municipality_id is not None:
        query = query.where(ProjectStage.municipality_id == municipality_id)
    if field is not None:
        query = query.where(ProjectStage.field == field)
    counts: dict[Stage, dict[str, int]] = {s: {m.value: 0 for m in StageMode} for s in Stage}
    for stage, mode, count in db.session.execute(query):
        counts[stage][mode.value] = count
    rows = []
    for stage in Stage:
        total = sum(counts[stage].values())
        rows.append(
            StageModeRow(
                stage=stage,
                total=total,
                counts=counts[stage],
                percents={mode: percent(n, total) for mode, n in counts[stage].items()},
            )
        )
    return StageModeReport(
        year=year,
        municipality_id=municipality_id,
        field=field,
        project_count=max(row.total for row in rows),
        stages=rows,
    )


# ---- one project's profile ------------------------------------------------------------------


@dataclass
class StageProfile:
    """A stage of a project: who acted, how many citizens, how many hours."""

    stage: Stage
    starts_on: date | None
    ends_on: date | None
    status: str
    mode: StageMode
    derived_mode: StageMode
    mode_overridden: bool
    override_reason: str | None
    government_work_count: int
    activity_count: int
    confirmed_participations: int
    confirmed_citizens: int
    hours: float


@dataclass
class ProjectProfile:
    """The co-production profile of one project: its four stages."""

    project: Project
    stages: list[StageProfile] = field(default_factory=list)


def project_profile(*, viewer: User, project_id: str) -> ProjectProfile:
    """A project's four stages with mode, citizens, participations and hours."""
    project = project_with_stages(viewer=viewer, project_id=project_id)
    activities = dict(
        db.session.execute(
            sa.select(Activity.stage, sa.func.count())
            .where(Activity.project_id == project.id)
            .group_by(Activity.stage)
        ).all()
    )
    citizens = dict(
        db.session.execute(
            sa.select(Participation.stage, sa.func.count(sa.distinct(Participation.user_id)))
            .where(
                Participation.project_id == project.id,
                Participation.status == ParticipationStatus.CONFIRMED,
            )
            .group_by(Participation.stage)
        ).all()
    )
    profile = ProjectProfile(project=project)
    for row in project.stages:
        profile.stages.append(
            StageProfile(
                stage=row.stage,
                starts_on=row.starts_on,
                ends_on=row.ends_on,
                status=row.status.value,
                mode=row.mode,
                derived_mode=row.derived_mode,
                mode_overridden=row.override_mode is not None,
                override_reason=row.override_reason,
                government_work_count=row.government_work_count,
                activity_count=activities.get(row.stage, 0),
                confirmed_participations=row.confirmed_count,
                confirmed_citizens=citizens.get(row.stage, 0),
                hours=round(row.confirmed_hours, 2),
            )
        )
    return profile
