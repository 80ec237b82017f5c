"""Selected cases, yearly follow-ups filled from live data, funding and the follow-up report."""

from __future__ import annotations

from datetime import date

import pytest

from backend.audit.models import AuditEntry
from backend.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.ministry import services
from backend.ministry.models import Source
from backend.participation import services as participation
from backend.participation.models import IndicatorKind
from backend.permissions import Role


@pytest.fixture
def old_project(create_project):
    """A project of 2023-2025 (over by the clock's 2026)."""
    return create_project(starts_on=date(2023, 3, 1), ends_on=date(2025, 12, 31))


def test_analyst_marks_a_selected_case_and_it_is_audited(clock, analyst, old_project):
    case = services.create_selected_case(
        actor=analyst, project_id=old_project.id, contest_year=2023, award="대상", category="안전"
    )
    db.session.commit()
    assert case.municipality_id == old_project.municipality_id
    assert db.session.query(AuditEntry).filter_by(action="selected_case.create").count() == 1
    with pytest.raises(RuleViolation) as caught:
        services.create_selected_case(
            actor=analyst, project_id=old_project.id, contest_year=2023, award="대상", category="x"
        )
    assert caught.value.code == "case_exists"


def test_officials_cannot_mark_cases_and_see_only_their_own(
    clock, official, create_selected_case, create_project, other_municipality, create_user
):
    with pytest.raises(PermissionDenied):
        services.create_selected_case(
            actor=official,
            project_id=create_project().id,
            contest_year=2024,
            award="a",
            category="b",
        )
    mine = create_selected_case()
    theirs = create_selected_case(create_project(other_municipality))
    assert services.get_selected_case(viewer=official, case_id=mine.id) == mine
    with pytest.raises(NotFound):
        services.get_selected_case(viewer=official, case_id=theirs.id)
    page = services.list_selected_cases(viewer=official, limit=10, cursor=None)
    assert [c.id for c in page.items] == [mine.id]


def test_follow_up_is_prefilled_from_the_indicator_report(
    clock, official, analyst, old_project, create_selected_case
):
    participation.record_indicator(
        actor=official,
        kind=IndicatorKind.ORDINANCE,
        title="공동생산 조례",
        occurred_on=date(2024, 5, 1),
    )
    db.session.commit()
    case = create_selected_case(old_project, contest_year=2023)
    follow_up = services.create_follow_up(actor=official, case=case, year=2025)
    db.session.commit()
    assert follow_up.ordinance_enacted is True
    assert follow_up.dedicated_department is False
    assert follow_up.still_running is True
    assert follow_up.still_running_source == Source.PLATFORM
    assert follow_up.resident_satisfaction is None
    # Once a year only.
    with pytest.raises(RuleViolation) as caught:
        services.create_follow_up(actor=analyst, case=case, year=2025)
    assert caught.value.code == "follow_up_exists"


def test_the_municipality_supplies_only_what_the_platform_lacks(
    clock, official, old_project, create_selected_case
):
    case = create_selected_case(old_project, contest_year=2023)
    # 2026: the platform thinks the project ended in 2025; the municipality says it runs on.
    follow_up = services.create_follow_up(
        actor=official, case=case, year=2026, still_running=True, resident_satisfaction=4.5
    )
    assert follow_up.still_running is True
    assert follow_up.still_running_source == Source.MUNICIPALITY
    assert follow_up.resident_satisfaction == 4.5
    assert follow_up.resident_satisfaction_source == Source.MUNICIPALITY


def test_follow_up_years_and_other_municipalities_are_refused(
    clock, old_project, create_selected_case, create_user, other_municipality
):
    case = create_selected_case(old_project, contest_year=2024)
    stranger = create_user(Role.OFFICIAL, municipality=other_municipality)
    with pytest.raises(PermissionDenied):
        services.create_follow_up(actor=stranger, case=case, year=2025)
    official = create_user(Role.OFFICIAL)
    for year in (2024, 2027):
        with pytest.raises(ValidationFailed) as caught:
            services.create_follow_up(actor=official, case=case, year=year)
        assert caught.value.code == "follow_up_year_invalid"


def test_report_has_trends_funding_and_the_cases_missing_last_year(
    clock, official, analyst, old_project, create_project, create_selected_case
):
    followed = create_selected_case(old_project, contest_year=2023)
    forgotten = create_selected_case(create_project(starts_on=date(2022, 1, 1)), contest_year=2022)
    recent = create_selected_case(create_project(), contest_year=2025)
    services.create_follow_up(actor=official, case=followed, year=2024)
    services.create_follow_up(actor=official, case=followed, year=2025)
    services.add_case_funding(
        actor=analyst, case=followed, year=2024, amount=50_000_000, purpose="확산 지원"
    )
    services.add_case_funding(
        actor=analyst, case=followed, year=2025, amount=30_000_000, purpose="확산 지원"
    )
    db.session.commit()
    report = services.follow_up_report(viewer=analyst)
    assert report.last_year == 2025
    by_id = {t.case.id: t for t in report.cases}
    assert [f.year for f in by_id[followed.id].follow_ups] == [2024, 2025]
    assert by_id[followed.id].funding_total == 80_000_000
    # Selected in 2025: no record is due for 2025 yet.
    assert [t.case.id for t in report.missing_last_year] == [forgotten.id]
    assert not by_id[recent.id].missing_last_year


def test_funding_is_the_ministrys_to_record(clock, official, old_project, create_selected_case):
    case = create_selected_case(old_project, contest_year=2023)
    with pytest.raises(PermissionDenied):
        services.add_case_funding(actor=official, case=case, year=2024, amount=1, purpose="x")
