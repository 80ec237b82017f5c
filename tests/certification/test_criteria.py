"""Certification criteria as pure functions: what is met, what is missing, and the dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.certification.criteria import (
    STAGES,
    ParticipationStats,
    evaluate_criteria,
    expiry_after,
    stages_covered,
    valid_on,
    window_start,
)
from backend.clock import add_months


@dataclass
class Criteria:
    min_participations: int = 5
    min_stages: int = 3
    min_hours: int | None = None


def by_name(progress):
    return {requirement.name: requirement for requirement in progress.requirements}


def test_nothing_done_yet_shows_every_stage_missing():
    progress = evaluate_criteria(Criteria(), ParticipationStats())
    found = by_name(progress)
    assert not progress.met
    assert (found["participations"].required, found["participations"].actual) == (5, 0)
    assert found["stages"].missing == STAGES
    assert "hours" not in found


def test_enough_participations_but_too_few_stages_names_the_missing_ones():
    stats = ParticipationStats(total=7, by_stage={"decide": 4, "implement": 3}, hours=14)
    progress = evaluate_criteria(Criteria(), stats)
    found = by_name(progress)
    assert found["participations"].met
    assert not found["stages"].met
    assert found["stages"].actual == 2
    # Planning and evaluation are where the brief finds citizens missing: they are named.
    assert found["stages"].missing == ("plan", "evaluate")
    assert not progress.met


def test_all_met():
    stats = ParticipationStats(total=5, by_stage={"plan": 1, "decide": 2, "evaluate": 2}, hours=9)
    progress = evaluate_criteria(Criteria(min_hours=8), stats)
    assert progress.met
    assert by_name(progress)["stages"].missing == ()
    assert by_name(progress)["hours"].actual == 9


def test_hours_requirement_when_set():
    stats = ParticipationStats(total=5, by_stage=dict.fromkeys(STAGES, 2), hours=7.5)
    progress = evaluate_criteria(Criteria(min_hours=8), stats)
    assert not progress.met
    assert not by_name(progress)["hours"].met


def test_unknown_stages_and_zero_counts_do_not_count():
    stats = ParticipationStats(total=3, by_stage={"plan": 0, "lunch": 3, "decide": 1})
    assert stages_covered(stats) == ("decide",)


@given(
    total=st.integers(0, 50),
    counts=st.dictionaries(st.sampled_from(STAGES), st.integers(0, 10)),
    minimum=st.integers(0, 50),
    stages=st.integers(0, 4),
)
def test_met_exactly_when_both_minimums_are_reached(total, counts, minimum, stages):
    stats = ParticipationStats(total=total, by_stage=counts)
    covered = sum(1 for count in counts.values() if count > 0)
    progress = evaluate_criteria(Criteria(minimum, stages), stats)
    assert progress.met == (total >= minimum and covered >= stages)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 3, 2), 24, date(2028, 3, 2)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_a_certificate_covers_whole_days_in_seoul():
    issued = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 10:00 KST
    expires = expiry_after(issued, 24)
    assert expires == datetime(2028, 3, 1, 15, 0, tzinfo=UTC)  # 2028-03-02 00:00 KST
    assert valid_on(issued_at=issued, expires_at=expires, day=date(2026, 3, 2))
    assert valid_on(issued_at=issued, expires_at=expires, day=date(2028, 3, 1))
    assert not valid_on(issued_at=issued, expires_at=expires, day=date(2028, 3, 2))
    assert not valid_on(issued_at=issued, expires_at=expires, day=date(2026, 3, 1))


def test_window_start_is_seoul_midnight_months_ago():
    # 2026-03-01 23:30 UTC is already 2026-03-02 in Seoul.
    now = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert window_start(now, 12) == datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
