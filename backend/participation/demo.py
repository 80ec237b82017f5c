"""Demo projects for `flask seed-demo`: two projects per demo municipality, with stages,
government work, activities (one each stage, a basic training) and a few participations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from backend.clock import SEOUL, seoul_today
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.participation import services
from backend.participation.models import (
    ActivityKind,
    ExchangePartner,
    IndicatorKind,
    IndicatorRecord,
    Project,
    ProjectField,
    ProjectStatus,
    PromotionChannel,
    Stage,
    TrainingLevel,
)
from backend.permissions import Role

#: (title, field, summary, activities: (stage, kind, title, days from today, hours))
DEMO_PROJECTS = [
    (
        "안심 귀갓길 함께 만들기",
        ProjectField.SAFETY,
        "주민이 직접 위험 구간을 찾고, 순찰 경로와 시설 개선을 함께 결정하는 사업입니다.",
        [
            (Stage.PLAN, ActivityKind.WORKSHOP, "위험 구간 찾기 워크숍", -20, 2),
            (Stage.DECIDE, ActivityKind.DELIBERATION, "개선 우선순위 주민 토론회", 7, 3),
            (Stage.IMPLEMENT, ActivityKind.FIELD_WORK, "야간 안심 순찰", 30, 2),
            (Stage.EVALUATE, ActivityKind.MONITORING, "개선 효과 모니터링", 90, 2),
        ],
    ),
    (
        "청년 정책 공동 기획단",
        ProjectField.YOUTH,
        "청년이 기획하고 참여하는 정책을 공무원과 함께 만듭니다.",
        [
            (Stage.PLAN, ActivityKind.TRAINING, "공동생산 기초 교육", -10, 6),
            (Stage.PLAN, ActivityKind.SURVEY, "청년 생활 실태 설문", 3, 1),
            (Stage.DECIDE, ActivityKind.MEETING, "정책 제안 심의 회의", 45, 2),
        ],
    ),
]


def _official_of(municipality: Municipality) -> User | None:
    return db.session.scalar(
        sa.select(User)
        .where(User.municipality_id == municipality.id, User.role == Role.OFFICIAL)
        .order_by(User.id)
    )


def _citizens_of(municipality: Municipality) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.municipality_id == municipality.id, User.role == Role.CITIZEN)
            .order_by(User.id)
        )
    )


def seed_participation_demo(by_code: dict[str, Municipality]) -> None:
    """Add the demo projects to each demo municipality that lacks them (safe to run again)."""
    today = seoul_today()
    for municipality in by_code.values():
        official = _official_of(municipality)
        if official is None:
            continue
        citizens = _citizens_of(municipality)
        for title, field, summary, activities in DEMO_PROJECTS:
            exists = db.session.scalar(
                sa.select(Project.id).where(
                    Project.municipality_id == municipality.id, Project.title == title
                )
            )
            if exists:
                continue
            project = services.create_project(
                actor=official,
                title=title,
                field=field,
                summary=summary,
                starts_on=today - timedelta(days=60),
                ends_on=today + timedelta(days=300),
                status=ProjectStatus.ACTIVE,
            )
            services.log_government_work(
                actor=official,
                project=project,
                stage=Stage.PLAN,
                title="사업 기본계획 수립",
                performed_on=today - timedelta(days=50),
            )
            for stage, kind, name, days, hours in activities:
                start = datetime.combine(today + timedelta(days=days), time(14), tzinfo=SEOUL)
                activity = services.create_activity(
                    actor=official,
                    project=project,
                    stage=stage,
                    kind=kind,
                    title=name,
                    starts_at=start,
                    ends_at=start + timedelta(hours=hours),
                    capacity=30,
                    place=f"{municipality.name} 주민센터",
                    training_level=TrainingLevel.BASIC if kind == ActivityKind.TRAINING else None,
                )
                for citizen in citizens[:2]:
                    participation = services.record_participation(
                        actor=official, activity=activity, user_id=citizen.id, attended=days < 0
                    )
                    if days < 0:
                        services.confirm_participation(actor=official, participation=participation)
            services.create_survey(actor=official, project=project, title=f"{title} 만족도 조사")
        _seed_indicator_facts(official, today)


def _seed_indicator_facts(official: User, today: date) -> None:
    """A few recorded facts so the indicator report has something to show."""
    if db.session.scalar(
        sa.select(IndicatorRecord.id)
        .where(IndicatorRecord.municipality_id == official.municipality_id)
        .limit(1)
    ):
        return
    facts = [
        (IndicatorKind.ORDINANCE, "행정서비스 공동생산 지원 조례 제정", {}),
        (IndicatorKind.DEDICATED_DEPARTMENT, "공동생산팀 신설", {}),
        (IndicatorKind.PROMOTION, "사업 안내 보도자료", {"channel": PromotionChannel.PRESS}),
        (IndicatorKind.PROMOTION, "구청 SNS 홍보", {"channel": PromotionChannel.SNS}),
        (
            IndicatorKind.EXCHANGE,
            "주민자치회 사업 설명회",
            {"partner": ExchangePartner.RESIDENTS_ASSOCIATION},
        ),
    ]
    for days, (kind, title, extra) in enumerate(facts):
        services.record_indicator(
            actor=official,
            kind=kind,
            title=title,
            occurred_on=today - timedelta(days=40 - days),
            **extra,
        )
