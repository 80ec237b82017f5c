"""The brief's reports from live data: the stage-mode table (the brief's 235 projects), a
project's profile, surveys and the evaluation indicators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.errors import NotFound, PermissionDenied, RuleViolation
from backend.extensions import db
from backend.ministry.indicators import indicator_report
from backend.participation import reports, services
from backend.participation.models import (
    ExchangePartner,
    IndicatorKind,
    ProjectField,
    ProjectStatus,
    PromotionChannel,
)
from backend.permissions import Role
from tests.fixtures.participation import BRIEF, MODES, build_brief_projects


def test_the_stage_mode_table_gives_back_the_brief(official, create_user, create_project, clock):
    citizen = create_user(Role.CITIZEN)
    build_brief_projects(official, citizen)
    create_project(status="draft")  # drafts are not counted
    analyst = create_user(Role.ANALYST)

    report = reports.stage_mode_report(viewer=analyst, year=2018)
    assert report.project_count == 235
    for row in report.stages:
        counts, percents = BRIEF[row.stage.value]
        assert tuple(row.counts[m] for m in MODES) == counts, row.stage
        assert tuple(row.percents[m] for m in MODES) == percents, row.stage
        assert row.total == 235
    # Another year, another field: nothing.
    assert reports.stage_mode_report(viewer=analyst, year=2019).project_count == 0
    assert reports.stage_mode_report(viewer=analyst, field=ProjectField.YOUTH).project_count == 0


def test_percent_rounds_half_up_to_one_decimal():
    assert reports.percent(89, 235) == 37.9
    assert reports.percent(45, 235) == 19.1
    assert reports.percent(1, 8) == 12.5
    assert reports.percent(1, 16) == 6.3  # 6.25 -> 6.3, not banker's 6.2
    assert reports.percent(0, 0) == 0.0


def test_officials_report_on_their_own_municipality_only(
    official, create_project, create_user, other_municipality
):
    create_project(status="active")
    create_project(other_municipality, status="active")
    mine = reports.stage_mode_report(viewer=official)
    assert mine.project_count == 1 and mine.municipality_id == official.municipality_id
    with pytest.raises(NotFound):
        reports.stage_mode_report(viewer=official, municipality_id=other_municipality.id)
    analyst = create_user(Role.ANALYST)
    assert reports.stage_mode_report(viewer=analyst).project_count == 2
    assert (
        reports.stage_mode_report(
            viewer=analyst, municipality_id=other_municipality.id
        ).project_count
        == 1
    )


def test_project_profile_counts_distinct_citizens_and_hours(
    official, create_project, create_activity, create_user, clock
):
    project = create_project()
    first = create_activity(project, stage="implement", starts_at=clock.now - timedelta(hours=3))
    second = create_activity(project, stage="implement", starts_at=clock.now - timedelta(hours=2))
    alice, bob = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    for activity, person, hours in ((first, alice, 2), (second, alice, 1), (second, bob, 1.5)):
        p = services.record_participation(actor=official, activity=activity, user_id=person.id)
        services.confirm_participation(actor=official, participation=p, hours=hours)
    services.log_government_work(actor=official, project=project, stage="plan", title="계획")
    db.session.commit()

    profile = reports.project_profile(viewer=official, project_id=project.id)
    stages = {s.stage.value: s for s in profile.stages}
    assert stages["implement"].mode.value == "citizen"
    assert (
        stages["implement"].confirmed_participations,
        stages["implement"].confirmed_citizens,
        stages["implement"].hours,
        stages["implement"].activity_count,
    ) == (3, 2, 4.5, 2)
    assert stages["plan"].mode.value == "government"
    assert stages["evaluate"].mode.value == "unclear"


def test_surveys_take_one_answer_per_participant_and_aggregate(
    official, create_project, create_activity, create_user, clock
):
    project = create_project()
    activity = create_activity(project, starts_at=clock.now - timedelta(hours=3))
    survey = services.create_survey(actor=official, project=project, title="만족도")
    with pytest.raises(RuleViolation):
        services.create_survey(actor=official, project=project, title="두번째")
    people = [create_user(Role.CITIZEN) for _ in range(3)]
    for person in people:
        services.record_participation(
            actor=official, activity=activity, user_id=person.id, attended=True
        )
    db.session.commit()
    for person, rating in zip(people, (5, 4, 5), strict=True):
        services.answer_survey(actor=person, survey=survey, rating=rating, comment="좋아요")
    db.session.commit()
    with pytest.raises(RuleViolation) as error:
        services.answer_survey(actor=people[0], survey=survey, rating=1)
    assert error.value.code == "survey_already_answered"
    with pytest.raises(PermissionDenied) as error:
        services.answer_survey(actor=create_user(Role.CITIZEN), survey=survey, rating=3)
    assert error.value.code == "survey_not_participant"
    db.session.rollback()
    survey = services.get_survey(viewer=people[0], survey_id=survey.id)
    assert survey.response_count == 3
    assert survey.mean_rating == 4.67
    assert survey.distribution == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}


def test_indicator_report(
    official, create_project, create_activity, create_user, clock, other_municipality
):
    def fact(kind, day, **extra):
        services.record_indicator(
            actor=official, kind=kind, title=kind.value, occurred_on=day, **extra
        )

    fact(IndicatorKind.ORDINANCE, date(2025, 6, 1))
    fact(IndicatorKind.DEDICATED_DEPARTMENT, date(2026, 1, 10))
    fact(IndicatorKind.PROMOTION, date(2026, 2, 1), channel=PromotionChannel.SNS)
    fact(IndicatorKind.PROMOTION, date(2026, 2, 2), channel=PromotionChannel.SNS)
    fact(IndicatorKind.PROMOTION, date(2026, 2, 3), channel=PromotionChannel.PRESS)
    fact(IndicatorKind.PROMOTION, date(2025, 2, 3), channel=PromotionChannel.EVENT)  # last year
    fact(IndicatorKind.EXCHANGE, date(2026, 2, 5), partner=ExchangePartner.VILLAGE_COMMUNITY)

    project = create_project(starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    past = clock.now - timedelta(days=1)
    basic = create_activity(
        project, stage="plan", kind="training", training_level="basic", starts_at=past, hours=6
    )
    create_activity(
        project,
        stage="implement",
        kind="training",
        training_level="advanced",
        starts_at=clock.now + timedelta(days=30),
        hours=50,
    )
    trainees = [create_user(Role.CITIZEN) for _ in range(2)]
    for person in trainees:
        p = services.record_participation(
            actor=official, activity=basic, user_id=person.id, attended=True
        )
        services.confirm_participation(actor=official, participation=p)
    training_survey = services.create_survey(
        actor=official, project=project, title="교육 만족도", activity_id=basic.id
    )
    project_survey = services.create_survey(actor=official, project=project, title="사업 만족도")
    db.session.commit()
    services.answer_survey(actor=trainees[0], survey=training_survey, rating=4)
    services.answer_survey(actor=trainees[1], survey=training_survey, rating=5)
    services.answer_survey(actor=trainees[0], survey=project_survey, rating=3)
    db.session.commit()

    analyst = create_user(Role.ANALYST)
    rows = {r.municipality_id: r for r in indicator_report(viewer=analyst, year=2026)}
    mine = rows[official.municipality_id]
    assert (mine.ordinance_enacted, mine.dedicated_department) == (True, True)
    assert (mine.trainings_basic, mine.trainings_advanced, mine.participants_trained) == (1, 1, 2)
    assert (mine.training_satisfaction.responses, mine.training_satisfaction.mean) == (2, 4.5)
    assert (mine.promotions, mine.promotion_channel_count) == (3, 2)
    assert (mine.exchanges, mine.exchanges_held) == (1, True)
    assert (mine.resident_satisfaction.responses, mine.resident_satisfaction.mean) == (1, 3.0)
    assert mine.resident_satisfaction.distribution["3"] == 1
    theirs = rows[other_municipality.id]
    assert (theirs.ordinance_enacted, theirs.promotions, theirs.projects) == (False, 0, 0)

    before = {r.municipality_id: r for r in indicator_report(viewer=analyst, year=2024)}
    assert before[official.municipality_id].ordinance_enacted is False
    assert indicator_report(viewer=official)[0].municipality_id == official.municipality_id


def test_a_draft_counts_once_it_is_published(official, create_project, create_user):
    draft = create_project(status="draft", field="welfare")
    analyst = create_user(Role.ANALYST)
    assert reports.stage_mode_report(viewer=analyst).project_count == 0
    services.update_project(actor=official, project=draft, status=ProjectStatus.ACTIVE)
    db.session.commit()
    report = reports.stage_mode_report(viewer=analyst, field=ProjectField.WELFARE)
    assert report.project_count == 1
    assert {row.counts["unclear"] for row in report.stages} == {1}
