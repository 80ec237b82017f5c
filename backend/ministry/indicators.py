"""The evaluation indicators (평가지표) per municipality: the ministry's yearly view, read from
the participation records (trainings, promotions, exchanges, surveys) and the ministry's own
courses (completions and their ratings).

It lives in the ministry package because it reads both domains; the participation package reads
nothing of the ministry's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa

from backend.clock import SEOUL
from backend.errors import NotFound
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.ministry.capacity import course_capacity_by_municipality
from backend.participation.models import (
    Activity,
    ActivityKind,
    IndicatorKind,
    IndicatorRecord,
    Participation,
    ParticipationStatus,
    Project,
    ProjectStatus,
    Survey,
    TrainingLevel,
)
from backend.participation.reports import scope_municipality

# ---- evaluation indicators ------------------------------------------------------------------


@dataclass
class Satisfaction:
    """Aggregated 1-5 ratings."""

    responses: int = 0
    rating_sum: int = 0
    distribution: dict[str, int] = field(default_factory=lambda: {str(r): 0 for r in range(1, 6)})

    @property
    def mean(self) -> float | None:
        """Mean rating (two decimals), None without answers."""
        return round(self.rating_sum / self.responses, 2) if self.responses else None


@dataclass
class IndicatorRow:
    """The brief's evaluation indicators (평가지표) for one municipality."""

    municipality_id: str
    municipality_code: str
    municipality_name: str
    region: str
    year: int | None
    projects: int = 0
    # 행정지원
    ordinance_enacted: bool = False
    ordinances: int = 0
    dedicated_department: bool = False
    # 역량강화
    trainings_basic: int = 0
    trainings_advanced: int = 0
    participants_trained: int = 0
    #: Places completed on the ministry's courses by people of the municipality.
    course_completions: int = 0
    training_satisfaction: Satisfaction = field(default_factory=Satisfaction)
    # 사업홍보
    promotions: int = 0
    promotion_channels: list[str] = field(default_factory=list)
    # 투명성
    exchanges: int = 0
    exchange_partners: list[str] = field(default_factory=list)
    # 만족도 조사
    resident_satisfaction: Satisfaction = field(default_factory=Satisfaction)

    @property
    def promotion_channel_count(self) -> int:
        """Number of distinct promotion channels (the brief's "diversity")."""
        return len(self.promotion_channels)

    @property
    def exchanges_held(self) -> bool:
        """Whether the project was discussed with residents' bodies at all."""
        return self.exchanges > 0


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return (
        datetime.combine(date(year, 1, 1), time.min, tzinfo=SEOUL),
        datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=SEOUL),
    )


def _add_ratings(target: Satisfaction, row: sa.Row) -> None:
    target.responses += int(row.responses or 0)
    target.rating_sum += int(row.rating_sum or 0)
    for rating in range(1, 6):
        target.distribution[str(rating)] += int(getattr(row, f"r{rating}") or 0)


def _rating_columns() -> list[sa.ColumnElement]:
    return [
        sa.func.sum(Survey.response_count).label("responses"),
        sa.func.sum(Survey.rating_sum).label("rating_sum"),
        *[sa.func.sum(getattr(Survey, f"rating_{r}")).label(f"r{r}") for r in range(1, 6)],
    ]


def indicator_report(
    *, viewer: User, year: int | None = None, municipality_id: str | None = None
) -> list[IndicatorRow]:
    """One row of evaluation indicators per municipality in scope, for a year or all time."""
    municipality_id = scope_municipality(viewer, municipality_id)
    places = sa.select(Municipality).order_by(Municipality.code)
    if municipality_id is not None:
        places = places.where(Municipality.id == municipality_id)
    rows = {
        m.id: IndicatorRow(
            municipality_id=m.id,
            municipality_code=m.code,
            municipality_name=m.name,
            region=m.region,
            year=year,
        )
        for m in db.session.scalars(places)
    }
    if municipality_id is not None and not rows:
        raise NotFound("Municipality not found.", code="municipality_not_found")

    def scoped(query: sa.Select, column: sa.ColumnElement) -> sa.Select:
        """Limit a query to the one municipality asked for, if any."""
        return query.where(column == municipality_id) if municipality_id else query

    published = Project.status != ProjectStatus.DRAFT
    # Projects of the year (by start), as in the stage-mode table.
    projects = scoped(
        sa.select(Project.municipality_id, sa.func.count()).where(published),
        Project.municipality_id,
    ).group_by(Project.municipality_id)
    if year is not None:
        projects = projects.where(Project.starts_on.between(date(year, 1, 1), date(year, 12, 31)))
    for place, count in db.session.execute(projects):
        rows[place].projects = count

    # Recorded facts: ordinances and departments count when in force by the year's end.
    records = scoped(sa.select(IndicatorRecord), IndicatorRecord.municipality_id)
    if year is not None:
        records = records.where(IndicatorRecord.occurred_on <= date(year, 12, 31))
    channels: dict[str, set[str]] = defaultdict(set)
    partners: dict[str, set[str]] = defaultdict(set)
    for record in db.session.scalars(records):
        row = rows[record.municipality_id]
        in_year = year is None or record.occurred_on.year == year
        if record.kind == IndicatorKind.ORDINANCE:
            row.ordinances += 1
            row.ordinance_enacted = True
        elif record.kind == IndicatorKind.DEDICATED_DEPARTMENT:
            row.dedicated_department = True
        elif record.kind == IndicatorKind.PROMOTION and in_year:
            row.promotions += 1
            channels[record.municipality_id].add(record.channel.value)
        elif record.kind == IndicatorKind.EXCHANGE and in_year:
            row.exchanges += 1
            partners[record.municipality_id].add(record.partner.value)
    for place, found in channels.items():
        rows[place].promotion_channels = sorted(found)
    for place, found in partners.items():
        rows[place].exchange_partners = sorted(found)

    # Trainings held, people trained (confirmed), and the trainings' surveys.
    trainings = (
        sa.select(Activity.municipality_id, Activity.training_level, sa.func.count())
        .join(Activity.project)
        .where(Activity.kind == ActivityKind.TRAINING, published)
        .group_by(Activity.municipality_id, Activity.training_level)
    )
    trained = (
        sa.select(Activity.municipality_id, sa.func.count(sa.distinct(Participation.user_id)))
        .join(Participation, Participation.activity_id == Activity.id)
        .where(
            Activity.kind == ActivityKind.TRAINING,
            Participation.status == ParticipationStatus.CONFIRMED,
        )
        .group_by(Activity.municipality_id)
    )
    training_ratings = (
        sa.select(Activity.municipality_id, *_rating_columns())
        .join(Survey, Survey.activity_id == Activity.id)
        .where(Activity.kind == ActivityKind.TRAINING)
        .group_by(Activity.municipality_id)
    )
    if year is not None:
        start, end = _year_bounds(year)
        in_year = sa.and_(Activity.starts_at >= start, Activity.starts_at < end)
        trainings, trained, training_ratings = (
            q.where(in_year) for q in (trainings, trained, training_ratings)
        )
    for place, level, count in db.session.execute(scoped(trainings, Activity.municipality_id)):
        if level == TrainingLevel.ADVANCED:
            rows[place].trainings_advanced = count
        else:
            rows[place].trainings_basic = count
    for place, count in db.session.execute(scoped(trained, Activity.municipality_id)):
        rows[place].participants_trained = count
    for row in db.session.execute(scoped(training_ratings, Activity.municipality_id)):
        _add_ratings(rows[row.municipality_id].training_satisfaction, row)

    # The ministry's courses count too: completions, and their ratings as training satisfaction.
    courses = course_capacity_by_municipality(year=year, municipality_id=municipality_id)
    for place, capacity in courses.items():
        if place in rows:
            row = rows[place]
            row.course_completions = capacity.completions
            for rating, count in capacity.ratings.items():
                row.training_satisfaction.responses += count
                row.training_satisfaction.rating_sum += rating * count
                row.training_satisfaction.distribution[str(rating)] += count

    # Residents' satisfaction: the project surveys (not the activities').
    resident_ratings = (
        sa.select(Survey.municipality_id, *_rating_columns())
        .join(Project, Project.id == Survey.project_id)
        .where(Survey.activity_id.is_(None), published)
        .group_by(Survey.municipality_id)
    )
    if year is not None:
        resident_ratings = resident_ratings.where(
            Project.starts_on.between(date(year, 1, 1), date(year, 12, 31))
        )
    for row in db.session.execute(scoped(resident_ratings, Survey.municipality_id)):
        _add_ratings(rows[row.municipality_id].resident_satisfaction, row)
    return list(rows.values())
