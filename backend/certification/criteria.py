"""Certification criteria as pure functions: progress from participation statistics, and dates.

Nothing here touches Flask or the database, so every rule can be tested with plain values. The
statistics come from the participation domain (`confirmed_participation_stats`); any object with
`total`, `by_stage` and `hours` will do.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from backend.clock import SEOUL, as_utc

#: The stages of a co-production project, in order (the participation domain's names).
STAGES = ("plan", "decide", "implement", "evaluate")


@dataclass(frozen=True)
class ParticipationStats:
    """Confirmed participations of one citizen since a moment (mirrors the participation type)."""

    total: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    hours: float = 0.0


class StatsLike(Protocol):
    """What evaluate_criteria reads from participation statistics."""

    total: int
    by_stage: dict[str, int]
    hours: float


class CriteriaLike(Protocol):
    """What evaluate_criteria reads from criteria (a CertificationCriteria row will do)."""

    min_participations: int
    min_stages: int
    min_hours: int | None


@dataclass(frozen=True)
class Requirement:
    """One condition: what is required, what the citizen has, and what is missing."""

    name: str
    required: float
    actual: float
    met: bool
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    """Every requirement, and whether all are met."""

    requirements: tuple[Requirement, ...]

    @property
    def met(self) -> bool:
        """True when every requirement is met."""
        return all(requirement.met for requirement in self.requirements)


def stages_covered(stats: StatsLike) -> tuple[str, ...]:
    """The stages (in project order) with at least one confirmed participation."""
    by_stage = stats.by_stage or {}
    return tuple(stage for stage in STAGES if (by_stage.get(stage) or 0) > 0)


def evaluate_criteria(criteria: CriteriaLike, stats: StatsLike) -> Progress:
    """What is met and what is missing of the criteria, given a citizen's statistics."""
    covered = stages_covered(stats)
    missing_stages = tuple(stage for stage in STAGES if stage not in covered)
    requirements = [
        Requirement(
            name="participations",
            required=criteria.min_participations,
            actual=stats.total,
            met=stats.total >= criteria.min_participations,
        ),
        Requirement(
            name="stages",
            required=criteria.min_stages,
            actual=len(covered),
            met=len(covered) >= criteria.min_stages,
            # Only worth showing while the requirement is open: which stages would count.
            missing=missing_stages if len(covered) < criteria.min_stages else (),
        ),
    ]
    if criteria.min_hours is not None:
        requirements.append(
            Requirement(
                name="hours",
                required=criteria.min_hours,
                actual=round(float(stats.hours or 0.0), 2),
                met=float(stats.hours or 0.0) >= criteria.min_hours,
            )
        )
    return Progress(requirements=tuple(requirements))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def seoul_midnight(day: date) -> datetime:
    """The first moment of a day in Asia/Seoul, in UTC."""
    return datetime.combine(day, time(0), tzinfo=SEOUL).astimezone(UTC)


def window_start(now: datetime, months: int) -> datetime:
    """The start of "the last `months` months": midnight (Seoul) of the same day, months ago."""
    today = as_utc(now).astimezone(SEOUL).date()
    return seoul_midnight(add_months(today, -months))


def expiry_after(start: datetime, months: int) -> datetime:
    """When a certificate valid from `start` for `months` expires: a midnight in Seoul.

    Issued on 2026-03-02 for 24 months, it is valid through 2028-03-01 and expires at
    2028-03-02 00:00 +09:00, so it covers whole days.
    """
    day = as_utc(start).astimezone(SEOUL).date()
    return seoul_midnight(add_months(day, months))


def valid_on(*, issued_at: datetime, expires_at: datetime, day: date) -> bool:
    """Whether a certificate valid from issued_at until expires_at covers the (Seoul) day."""
    first = as_utc(issued_at).astimezone(SEOUL).date()
    last = (as_utc(expires_at) - timedelta(microseconds=1)).astimezone(SEOUL).date()
    return first <= day <= last
