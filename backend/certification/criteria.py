"""Certification criteria as pure functions: progress from participation statistics, and dates.

Nothing here touches Flask or the database, so every rule can be tested with plain values. The
statistics come from the participation domain (`confirmed_participation_stats`); any object with
`total`, `by_stage` and `hours` will do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from backend.clock import add_months, as_utc, seoul_date, seoul_day_start

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


def window_start(now: datetime, months: int) -> datetime:
    """The start of "the last `months` months": midnight (Seoul) of the same day, months ago."""
    today = seoul_date(now)
    return seoul_day_start(add_months(today, -months))


def expiry_after(start: datetime, months: int) -> datetime:
    """When a certificate valid from `start` for `months` expires: a midnight in Seoul.

    Issued on 2026-03-02 for 24 months, it is valid through 2028-03-01 and expires at
    2028-03-02 00:00 +09:00, so it covers whole days.
    """
    day = seoul_date(start)
    return seoul_day_start(add_months(day, months))


def valid_on(*, issued_at: datetime, expires_at: datetime, day: date) -> bool:
    """Whether a certificate valid from issued_at until expires_at covers the (Seoul) day."""
    first = seoul_date(issued_at)
    last = seoul_date(as_utc(expires_at) - timedelta(microseconds=1))
    return first <= day <= last
