"""Projects, their four stages and the maintained stage mode; activities and their rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import seoul_date
from backend.errors import NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.participation import services
from backend.participation.models import (
    ActivityKind,
    ProjectField,
    ProjectStage,
    Stage,
    StageMode,
    TrainingLevel,
)
from backend.permissions import Role


def _stage(project, stage="plan") -> ProjectStage:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(ProjectStage).where(
            ProjectStage.project_id == project.id, ProjectStage.stage == Stage(stage)
        )
    )


def test_a_new_project_has_four_unclear_stages_and_an_audit_entry(official, clock):
    project = services.create_project(
        actor=official,
        title="청년 공간",
        field=ProjectField.YOUTH,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    db.session.commit()
    stages = db.session.scalars(
        sa.select(ProjectStage)
        .where(ProjectStage.project_id == project.id)
        .order_by(ProjectStage.position)
    ).all()
    assert [s.stage for s in stages] == list(Stage)
    assert {s.mode for s in stages} == {StageMode.UNCLEAR}
    assert {(s.year, s.field, s.municipality_id) for s in stages} == {
        (2026, ProjectField.YOUTH, official.municipality_id)
    }
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.target_id == project.id))
    assert entry.action == "project.create" and entry.actor_id == official.id


def test_only_officials_create_projects(create_user):
    citizen = create_user(Role.CITIZEN)
    with pytest.raises(PermissionDenied):
        services.create_project(
            actor=citizen,
            title="x",
            field=ProjectField.OTHER,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 2, 1),
        )


def test_project_dates_out_of_order_are_refused(official):
    with pytest.raises(ValidationFailed) as error:
        services.create_project(
            actor=official,
            title="x",
            field=ProjectField.OTHER,
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 2, 1),
        )
    assert error.value.code == "dates_out_of_order"


def test_mode_follows_government_work_and_confirmed_citizens(
    official, create_project, create_activity, create_user, clock
):
    project = create_project()
    assert _stage(project).mode == StageMode.UNCLEAR

    services.log_government_work(
        actor=official, project=project, stage="plan", title="기본계획 수립"
    )
    db.session.commit()
    assert _stage(project).mode == StageMode.GOVERNMENT
    assert _stage(project).government_work_count == 1

    activity = create_activity(project, stage="plan", starts_at=clock.now - timedelta(hours=3))
    citizen = create_user(Role.CITIZEN)
    participation = services.record_participation(
        actor=official, activity=activity, user_id=citizen.id, attended=True
    )
    assert _stage(project).mode == StageMode.GOVERNMENT  # attended is not yet confirmed
    services.confirm_participation(actor=official, participation=participation, hours=1.5)
    db.session.commit()
    stage = _stage(project)
    assert (stage.mode, stage.derived_mode) == (StageMode.JOINT, StageMode.JOINT)
    assert (stage.confirmed_count, stage.confirmed_hours) == (1, 1.5)

    # A stage with only confirmed citizens is citizen-led.
    other = create_activity(project, stage="decide", starts_at=clock.now - timedelta(hours=3))
    second = services.record_participation(actor=official, activity=other, user_id=citizen.id)
    services.confirm_participation(actor=official, participation=second)
    db.session.commit()
    assert _stage(project, "decide").mode == StageMode.CITIZEN
    assert _stage(project, "implement").mode == StageMode.UNCLEAR


def test_override_keeps_its_reason_in_the_audit_log_and_can_be_undone(official, create_project):
    project = create_project()
    stage = services.get_stage(viewer=official, project_id=project.id, stage="evaluate")
    services.override_stage_mode(
        actor=official, stage=stage, mode=StageMode.JOINT, reason="주민 평가단 회의록 확인"
    )
    db.session.commit()
    assert (_stage(project, "evaluate").mode, _stage(project, "evaluate").derived_mode) == (
        StageMode.JOINT,
        StageMode.UNCLEAR,
    )
    # Counters still move the derived mode, not the imposed one.
    services.log_government_work(actor=official, project=project, stage="evaluate", title="평가")
    db.session.commit()
    assert (_stage(project, "evaluate").mode, _stage(project, "evaluate").derived_mode) == (
        StageMode.JOINT,
        StageMode.GOVERNMENT,
    )
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "stage.mode_override")
    )
    assert entry.details["reason"] == "주민 평가단 회의록 확인"
    assert entry.details["to"] == "joint"

    stage = services.get_stage(viewer=official, project_id=project.id, stage="evaluate")
    services.override_stage_mode(actor=official, stage=stage, mode=None, reason="착오")
    db.session.commit()
    assert _stage(project, "evaluate").mode == StageMode.GOVERNMENT
    assert _stage(project, "evaluate").override_reason is None


def test_another_municipalitys_official_cannot_see_or_change_the_project(
    create_project, create_user, other_municipality
):
    project = create_project()
    stranger = create_user(Role.OFFICIAL, municipality=other_municipality)
    with pytest.raises(NotFound):
        services.get_project(viewer=stranger, project_id=project.id)
    with pytest.raises(PermissionDenied):
        services.update_project(actor=stranger, project=project, title="탈취")


def test_citizens_do_not_see_drafts_or_private_projects(create_project, create_user):
    citizen = create_user(Role.CITIZEN)
    visible = create_project(status="active")
    draft = create_project(status="draft")
    private = create_project(status="active", visibility="private")
    page = services.list_projects(viewer=citizen, limit=20, cursor=None)
    assert [p.id for p in page.items] == [visible.id]
    for hidden in (draft, private):
        with pytest.raises(NotFound):
            services.get_project(viewer=citizen, project_id=hidden.id)


def test_project_update_moves_the_reported_copies(official, create_project):
    project = create_project(status="draft")
    services.update_project(
        actor=official,
        project=project,
        status=None,
        field=ProjectField.WELFARE,
        starts_on=project.starts_on.replace(year=project.starts_on.year - 1),
    )
    db.session.commit()
    stage = _stage(project)
    assert stage.field == ProjectField.WELFARE
    assert stage.year == project.starts_on.year


def test_stage_dates_stay_inside_the_project(official, create_project):
    project = create_project(starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30))
    stage = services.get_stage(viewer=official, project_id=project.id, stage="plan")
    with pytest.raises(ValidationFailed) as error:
        services.update_stage(actor=official, stage=stage, starts_on=date(2025, 12, 1))
    assert error.value.code == "stage_outside_project"
    services.update_stage(
        actor=official, stage=stage, starts_on=date(2026, 1, 1), ends_on=date(2026, 2, 28)
    )
    assert (stage.starts_on, stage.ends_on) == (date(2026, 1, 1), date(2026, 2, 28))


def test_activity_outside_its_stage_dates_is_refused(official, create_project, clock):
    project = create_project(starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    stage = services.get_stage(viewer=official, project_id=project.id, stage="plan")
    services.update_stage(
        actor=official, stage=stage, starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)
    )
    inside = datetime(2026, 3, 31, 5, 0, tzinfo=UTC)  # 14:00 KST on the last day
    services.create_activity(
        actor=official,
        project=project,
        stage=Stage.PLAN,
        kind=ActivityKind.WORKSHOP,
        title="ok",
        starts_at=inside,
        ends_at=inside + timedelta(hours=2),
    )
    late = datetime(2026, 3, 31, 14, 0, tzinfo=UTC)  # 23:00 KST, ends on 1 April KST
    with pytest.raises(ValidationFailed) as error:
        services.create_activity(
            actor=official,
            project=project,
            stage=Stage.PLAN,
            kind=ActivityKind.WORKSHOP,
            title="late",
            starts_at=late,
            ends_at=late + timedelta(hours=2),
        )
    assert error.value.code == "activity_outside_stage"
    # The stage cannot shrink away from an existing activity either.
    with pytest.raises(ValidationFailed) as error:
        services.update_stage(actor=official, stage=stage, ends_on=date(2026, 3, 30))
    assert error.value.code == "activities_outside_dates"


@pytest.mark.parametrize(
    ("level", "days", "ok"),
    [
        (TrainingLevel.BASIC, 1, True),
        (TrainingLevel.BASIC, 2, False),
        (TrainingLevel.ADVANCED, 1, False),
        (TrainingLevel.ADVANCED, 2, True),
        (TrainingLevel.ADVANCED, 3, True),
        (TrainingLevel.ADVANCED, 4, False),
        (None, 1, False),
    ],
)
def test_training_levels_follow_the_brief_programme(official, create_project, level, days, ok):
    project = create_project(starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    start = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)  # 09:00 KST
    end = start + timedelta(days=days - 1, hours=8)
    create = lambda: services.create_activity(  # noqa: E731
        actor=official,
        project=project,
        stage=Stage.IMPLEMENT,
        kind=ActivityKind.TRAINING,
        training_level=level,
        title="공동생산 교육",
        starts_at=start,
        ends_at=end,
    )
    if ok:
        assert create().training_level == level
    else:
        with pytest.raises(ValidationFailed) as error:
            create()
        assert error.value.code in ("training_duration", "training_level_required")


def test_activity_search_filters(create_project, create_activity, create_user, clock):
    citizen = create_user(Role.CITIZEN)
    safety = create_project(field="safety")
    youth = create_project(field="youth")
    full = create_activity(safety, stage="plan", capacity=1, title="안전 순찰")
    services.join_activity(actor=create_user(Role.CITIZEN), activity=full)
    db.session.commit()
    open_one = create_activity(safety, stage="decide", kind="deliberation", title="토론회")
    later = create_activity(
        youth,
        stage="plan",
        kind="training",
        training_level="basic",
        starts_at=clock.now + timedelta(days=40),
        title="기초 교육",
    )

    def ids(**filters):
        page = services.list_activities(viewer=citizen, limit=20, cursor=None, **filters)
        return {a.id for a in page.items}

    assert ids() == {full.id, open_one.id, later.id}
    assert ids(stage=Stage.PLAN) == {full.id, later.id}
    assert ids(kind=ActivityKind.DELIBERATION) == {open_one.id}
    assert ids(field=ProjectField.YOUTH) == {later.id}
    assert ids(open_seats=True) == {open_one.id, later.id}
    assert ids(open_seats=False) == {full.id}
    assert ids(date_from=seoul_date(clock.now + timedelta(days=30))) == {later.id}
    assert ids(q="토론") == {open_one.id}
