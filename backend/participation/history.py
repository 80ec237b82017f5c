"""Participation: a citizen's participations, summaries and statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from backend.extensions import db
from backend.identity.models import User
from backend.pagination import Page, paginate, where_given
from backend.participation.models import (
    SEAT_HOLDING,
    Activity,
    Participation,
    ParticipationStatus,
    Stage,
)
from backend.participation.shared import PS


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
