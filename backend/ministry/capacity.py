"""Course completions and ratings per municipality: the ministry's courses' share of the
capacity-building indicator (역량강화), read by the participation indicator report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa

from backend.clock import SEOUL
from backend.extensions import db
from backend.ministry.models import Enrolment, EnrolmentStatus


@dataclass
class CourseCapacity:
    """One municipality's completed course places, and their ratings, in a period."""

    completions: int = 0
    people: int = 0
    ratings: dict[int, int] = field(default_factory=dict)


def course_capacity_by_municipality(
    *, year: int | None = None, municipality_id: str | None = None
) -> dict[str, CourseCapacity]:
    """Completions (by completion date, Asia/Seoul) grouped by the learner's municipality."""
    completed = sa.and_(
        Enrolment.status == EnrolmentStatus.COMPLETED, Enrolment.municipality_id.is_not(None)
    )
    counts = sa.select(
        Enrolment.municipality_id,
        sa.func.count(),
        sa.func.count(sa.distinct(Enrolment.user_id)),
    ).where(completed)
    ratings = (
        sa.select(Enrolment.municipality_id, Enrolment.rating, sa.func.count())
        .where(completed, Enrolment.rating.is_not(None))
        .group_by(Enrolment.municipality_id, Enrolment.rating)
    )
    if year is not None:
        start = datetime.combine(date(year, 1, 1), time.min, tzinfo=SEOUL)
        end = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=SEOUL)
        period = sa.and_(Enrolment.completed_at >= start, Enrolment.completed_at < end)
        counts, ratings = counts.where(period), ratings.where(period)
    if municipality_id is not None:
        counts = counts.where(Enrolment.municipality_id == municipality_id)
        ratings = ratings.where(Enrolment.municipality_id == municipality_id)
    result: dict[str, CourseCapacity] = {}
    for place, completions, people in db.session.execute(
        counts.group_by(Enrolment.municipality_id)
    ):
        result[place] = CourseCapacity(completions=completions, people=people)
    for place, rating, count in db.session.execute(ratings):
        result.setdefault(place, CourseCapacity()).ratings[int(rating)] = count
    return result
