"""Demo rows of the ministry's side for `flask seed-demo`: the mediation committee, a dispute
case in mediation with a hearing scheduled (and one just filed), a selected good case with a
follow-up and central funding, a course that took place (with its roll, attendance and a
completion) and one open for enrolment.

Everything goes through the domain services, so the rows are audited and announced as real
ones are. A course's learners must enrol before it starts and be marked present after: the
seeder runs those steps with the app's clock set back to before the course (`_clock_at`).
Each part is skipped when its rows exist, so `seed-demo` stays safe to run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from backend.clock import SEOUL, seoul_today, utcnow
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.ministry import services
from backend.ministry.models import (
    Course,
    CourseAudience,
    CourseHost,
    Dispute,
    MediationMember,
    MemberRole,
    Qualification,
    SelectedCase,
)
from backend.participation.models import Project, TrainingLevel

ANALYST = "analyst@mois.example"
ADMIN = "admin@demo.example"
GANGNAM_OFFICIAL = "official@gangnam.example"
GANGNAM_CITIZENS = ("citizen1@gangnam.example", "citizen2@gangnam.example")
SUWON_OFFICIAL = "official@suwon.example"
SUWON_CITIZEN = "citizen1@suwon.example"

DISPUTE_IN_HEARING = "안심 귀갓길 시설 개선 협약 이행 분쟁"
DISPUTE_FILED = "청년 기획단 활동비 정산 이견"
PAST_COURSE = "공동생산 이해 과정 (행정안전부)"
OPEN_COURSE = "공동생산 실무 과정 (권역)"


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _first_project(municipality: Municipality) -> Project | None:
    return db.session.scalar(
        sa.select(Project).where(Project.municipality_id == municipality.id).order_by(Project.id)
    )


@contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    """Run the services as if it were `moment` (rows and audit entries dated then)."""
    extensions = current_app.extensions
    had, previous = "clock" in extensions, extensions.get("clock")
    extensions["clock"] = lambda: moment
    try:
        yield
        db.session.flush()  # creation times are filled at flush: date them while it is `moment`
    finally:
        if had:
            extensions["clock"] = previous
        else:
            extensions.pop("clock", None)


def _course_schedule(starts_on: date) -> tuple[TrainingLevel, int]:
    """The brief's programme: basic courses are one day (January-June), advanced two (July-)."""
    return (TrainingLevel.BASIC, 1) if starts_on.month <= 6 else (TrainingLevel.ADVANCED, 2)


def seed_committee(analyst: User, suwon_citizen: User) -> list[MediationMember]:
    """The chair (a senior ministry official) and an academic member, serving since 3 months."""
    if db.session.scalar(sa.select(MediationMember.id).limit(1)):
        return services.committee_members()
    since = seoul_today() - timedelta(days=90)
    return [
        services.add_committee_member(
            actor=analyst,
            user_id=analyst.id,
            role=MemberRole.CHAIR,
            qualification=Qualification.SENIOR_OFFICIAL,
            affiliation="행정안전부 지역공동체과",
            appointed_on=since,
        ),
        services.add_committee_member(
            actor=analyst,
            user_id=suwon_citizen.id,
            role=MemberRole.MEMBER,
            qualification=Qualification.ACADEMIC,
            affiliation="한국지방행정연구원",
            years_of_experience=15,
            appointed_on=since,
        ),
    ]


def seed_disputes(
    analyst: User, official: User, partner: User, project: Project, mediator: MediationMember
) -> None:
    """A case accepted, in mediation with a mediator and a hearing next week; one just filed."""
    if db.session.scalar(sa.select(Dispute.id).where(Dispute.subject == DISPUTE_IN_HEARING)):
        return
    case = services.file_dispute(
        actor=official,
        project_id=project.id,
        subject=DISPUTE_IN_HEARING,
        claims=(
            "협약에 따라 주민 순찰대가 맡기로 한 야간 순찰 구간과 구청이 설치하기로 한 "
            "보안등의 범위에 대해 양측의 해석이 다릅니다."
        ),
        partner_user_ids=[partner.id],
        documents=[{"title": "공동생산 협약서 (2025)"}],
    )
    services.accept_dispute(actor=analyst, dispute=case)
    services.assign_mediator(actor=analyst, dispute=case, member_id=mediator.id)
    services.start_mediation(actor=analyst, dispute=case)
    starts_at = datetime.combine(seoul_today() + timedelta(days=7), time(14), tzinfo=SEOUL)
    services.schedule_hearing(
        actor=analyst,
        dispute=case,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        place="정부세종청사 조정회의실",
        agenda="1. 양측 의견 청취\n2. 조정안 검토",
    )
    services.file_dispute(
        actor=official,
        project_id=project.id,
        subject=DISPUTE_FILED,
        claims="주민 기획단에 지급한 활동비의 정산 범위를 두고 이견이 있습니다.",
        external_parties=[{"name": "역삼동 주민자치회", "kind": "residents_group"}],
    )


def seed_selected_case(analyst: User, official: User, project: Project) -> None:
    """A good case of two years ago, with last year's follow-up and central funding."""
    if db.session.scalar(sa.select(SelectedCase.id).where(SelectedCase.project_id == project.id)):
        return
    last_year = seoul_today().year - 1
    case = services.create_selected_case(
        actor=analyst,
        project_id=project.id,
        contest_year=last_year - 1,
        award="최우수상",
        category="안전",
        note="주민 순찰대와 구청이 함께 위험 구간을 고친 사례",
    )
    # The project ran on paper before it came to the platform: the municipality says so.
    services.create_follow_up(
        actor=official, case=case, year=last_year, still_running=True, note="종이 기록으로 운영"
    )
    services.add_case_funding(
        actor=analyst, case=case, year=last_year, amount=50_000_000, purpose="우수사례 확산 지원"
    )


def seed_courses(analyst: User, learners: list[User], early_bird: User) -> None:
    """A course three weeks ago (enrolled before, attendance after, one completion and its
    rating) and a course in two weeks with one learner enrolled."""
    if db.session.scalar(sa.select(Course.id).where(Course.title == PAST_COURSE)):
        return
    today = seoul_today()
    starts_on = today - timedelta(days=21)
    level, days = _course_schedule(starts_on)
    with _clock_at(utcnow() - timedelta(days=35)):
        past = services.create_course(
            actor=analyst,
            title=PAST_COURSE,
            level=level,
            audience=CourseAudience.ALL,
            host=CourseHost.MINISTRY,
            place="지방자치인재개발원",
            description="공동생산의 개념과 단계별 참여 방법을 배웁니다.",
            starts_on=starts_on,
            days=days,
            capacity=30,
        )
        enrolments = [services.enrol(actor=learner, course=past) for learner in learners]
    finisher, partial, *_ = enrolments
    for day in range(1, days + 1):
        services.record_attendance(actor=analyst, enrolment=finisher, day=day)
    services.complete_enrolment(actor=analyst, enrolment=finisher)
    services.rate_enrolment(actor=learners[0], enrolment=finisher, rating=5, comment="유익했습니다")
    services.record_attendance(actor=analyst, enrolment=partial, day=1)
    opens_on = today + timedelta(days=14)
    level, days = _course_schedule(opens_on)
    upcoming = services.create_course(
        actor=analyst,
        title=OPEN_COURSE,
        level=level,
        audience=CourseAudience.ALL,
        host=CourseHost.REGION,
        region="경기도",
        place="경기도인재개발원",
        starts_on=opens_on,
        days=days,
        capacity=25,
    )
    services.enrol(actor=early_bird, course=upcoming)


def seed_ministry_demo(by_code: dict[str, Municipality]) -> None:
    """The ministry's demo rows (after the demo projects exist)."""
    gangnam = by_code.get("11680")
    analyst, official, suwon_official, suwon_citizen = (
        _user(e) for e in (ANALYST, GANGNAM_OFFICIAL, SUWON_OFFICIAL, SUWON_CITIZEN)
    )
    citizens = [_user(e) for e in GANGNAM_CITIZENS]
    people = [analyst, official, suwon_official, suwon_citizen, *citizens]
    project = _first_project(gangnam) if gangnam else None
    if project is None or None in people:
        return
    members = seed_committee(analyst, suwon_citizen)
    mediator = next((m for m in members if m.user_id == suwon_citizen.id), None)
    if mediator is not None:
        seed_disputes(analyst, official, citizens[0], project, mediator)
    seed_selected_case(analyst, official, project)
    seed_courses(analyst, [official, suwon_official, citizens[1]], early_bird=citizens[0])
    db.session.flush()


def register(app: Flask) -> None:
    """Add the ministry's demo seeder (it needs the participation demo's projects first)."""
    app.extensions.setdefault("demo_seeders", []).append(seed_ministry_demo)
