"""Ministry: selected cases, their funding, follow-ups and the follow-up report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.clock import seoul_today
from backend.errors import PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ministry.indicators import indicator_report
from backend.ministry.models import (
    CaseFunding,
    FollowUp,
    SelectedCase,
    Source,
)
from backend.ministry.shared import _ensure_ministry
from backend.pagination import Page, where_given
from backend.participation import services as participation
from backend.participation.models import Project, ProjectStatus
from backend.permissions import (
    can_write_follow_up,
    scope_to_municipality,
)
from backend.rows import get_visible, list_page

# ---- selected cases and follow-ups ----------------------------------------------------------


def create_selected_case(
    *,
    actor: User,
    project_id: str,
    contest_year: int,
    award: str,
    category: str,
    note: str = "",
) -> SelectedCase:
    """Ministry staff mark a project as a good case of a contest year."""
    _ensure_ministry(actor)
    project = participation.get_project(viewer=actor, project_id=project_id)
    if project.status == ProjectStatus.DRAFT:
        raise RuleViolation("A draft project cannot be a selected case.", code="project_is_draft")
    if contest_year > seoul_today().year:
        raise ValidationFailed(
            "The contest year is in the future.",
            code="contest_year_invalid",
            fields={"contest_year": ["Must not be in the future."]},
        )
    exists = db.session.scalar(
        sa.select(SelectedCase.id).where(
            SelectedCase.project_id == project.id, SelectedCase.contest_year == contest_year
        )
    )
    if exists:
        raise RuleViolation(
            "The project is already a selected case of that year.", code="case_exists"
        )
    case = SelectedCase(
        project_id=project.id,
        municipality_id=project.municipality_id,
        contest_year=contest_year,
        award=award.strip(),
        category=category.strip(),
        note=note,
        created_by=actor.id,
    )
    save_and_audit(
        case,
        actor=actor,
        action="selected_case.create",
        target_type="selected_case",
        details={"project_id": project.id, "contest_year": contest_year, "award": case.award},
    )
    return case


def update_selected_case(
    *,
    actor: User,
    case: SelectedCase,
    award: str | None = None,
    category: str | None = None,
    note: str | None = None,
) -> SelectedCase:
    """Ministry staff correct what the contest named (award, category) or the note; the
    project and the contest year stay, as the follow-ups and funding hang on them."""
    _ensure_ministry(actor)
    given = {"award": award, "category": category, "note": note}
    changed: dict[str, str] = {}
    for name, value in given.items():
        if value is None:
            continue
        value = value if name == "note" else value.strip()
        if getattr(case, name) != value:
            setattr(case, name, value)
            changed[name] = value
    if changed:
        save_and_audit(
            case,
            actor=actor,
            action="selected_case.update",
            target_type="selected_case",
            details=changed,
        )
    return case


def get_selected_case(*, viewer: User, case_id: str) -> SelectedCase:
    """A selected case: ministry staff see all, officials their municipality's."""
    return get_visible(SelectedCase, case_id, viewer, "selected_case_not_found")


def list_selected_cases(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    contest_year: int | None = None,
    municipality_id: str | None = None,
) -> Page:
    """Selected cases in the viewer's scope, newest first."""
    return list_page(
        SelectedCase,
        viewer=viewer,
        filters={
            SelectedCase.contest_year: contest_year,
            SelectedCase.municipality_id: municipality_id,
        },
        limit=limit,
        cursor=cursor,
    )


def add_case_funding(
    *, actor: User, case: SelectedCase, year: int, amount: int, purpose: str
) -> CaseFunding:
    """Ministry staff record central funding granted to a case for a year."""
    _ensure_ministry(actor)
    if year < case.contest_year:
        raise ValidationFailed(
            "Funding cannot precede the selection.",
            code="funding_year_invalid",
            fields={"year": [f"Must be {case.contest_year} or later."]},
        )
    funding = CaseFunding(
        case_id=case.id, year=year, amount=amount, purpose=purpose.strip(), created_by=actor.id
    )
    db.session.add(funding)
    save_and_audit(
        case,
        actor=actor,
        action="selected_case.funding",
        target_type="selected_case",
        details={"funding_id": funding.id, "year": year, "amount": amount},
    )
    return funding


def list_case_fundings(*, case: SelectedCase) -> list[CaseFunding]:
    """A case's fundings by year."""
    return list(
        db.session.scalars(
            sa.select(CaseFunding)
            .where(CaseFunding.case_id == case.id)
            .order_by(CaseFunding.year, CaseFunding.id)
        )
    )


def _platform_says_running(project: Project, year: int) -> bool:
    """Whether live data shows the project running in that year."""
    return (
        project.status in (ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)
        and project.starts_on <= date(year, 12, 31)
        and project.ends_on >= date(year, 1, 1)
    )


def create_follow_up(
    *,
    actor: User,
    case: SelectedCase,
    year: int,
    still_running: bool | None = None,
    resident_satisfaction: float | None = None,
    note: str = "",
) -> FollowUp:
    """The yearly follow-up of a case: indicators from live data for that year, plus only what
    the platform lacks (whether the project ran on off the platform, a satisfaction figure when
    no survey was answered), asked once a year of the municipality."""
    if not can_write_follow_up(actor, case):
        raise PermissionDenied("Only the municipality's officials or ministry staff may do this.")
    if not case.contest_year < year <= seoul_today().year:
        raise ValidationFailed(
            "Follow-ups are for the years after the selection, up to this year.",
            code="follow_up_year_invalid",
            fields={"year": [f"Must be between {case.contest_year + 1} and this year."]},
        )
    exists = db.session.scalar(
        sa.select(FollowUp.id).where(FollowUp.case_id == case.id, FollowUp.year == year)
    )
    if exists:
        raise RuleViolation(
            "The case already has a follow-up for that year.", code="follow_up_exists"
        )
    (row,) = indicator_report(viewer=actor, year=year, municipality_id=case.municipality_id)
    if resident_satisfaction is not None and row.resident_satisfaction.responses:
        raise ValidationFailed(
            "The platform already has residents' satisfaction for that year.",
            code="follow_up_value_known",
            fields={"resident_satisfaction": ["Known from the project surveys; leave it out."]},
        )
    running = _platform_says_running(case.project, year)
    follow_up = FollowUp(
        case_id=case.id,
        municipality_id=case.municipality_id,
        year=year,
        still_running=running if still_running is None else still_running,
        still_running_source=(
            Source.PLATFORM
            if still_running is None or still_running == running
            else Source.MUNICIPALITY
        ),
        ordinance_enacted=row.ordinance_enacted,
        dedicated_department=row.dedicated_department,
        trainings=row.trainings_basic + row.trainings_advanced,
        participants_trained=row.participants_trained,
        course_completions=row.course_completions,
        training_satisfaction=row.training_satisfaction.mean,
        promotions=row.promotions,
        promotion_channel_count=row.promotion_channel_count,
        exchanges=row.exchanges,
        resident_satisfaction=(
            row.resident_satisfaction.mean
            if row.resident_satisfaction.responses
            else resident_satisfaction
        ),
        resident_satisfaction_responses=row.resident_satisfaction.responses,
        resident_satisfaction_source=(
            Source.PLATFORM
            if row.resident_satisfaction.responses
            else Source.MUNICIPALITY
            if resident_satisfaction is not None
            else None
        ),
        note=note,
        created_by=actor.id,
    )
    db.session.add(follow_up)
    save_and_audit(
        case,
        actor=actor,
        action="selected_case.follow_up",
        target_type="selected_case",
        details={"follow_up_id": follow_up.id, "year": year},
    )
    return follow_up


def list_follow_ups(*, case: SelectedCase) -> list[FollowUp]:
    """A case's follow-ups by year."""
    return list(
        db.session.scalars(
            sa.select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.year)
        )
    )


@dataclass
class CaseTrend:
    """One case in the follow-up report: its yearly records and funding."""

    case: SelectedCase
    follow_ups: list[FollowUp] = field(default_factory=list)
    fundings: list[CaseFunding] = field(default_factory=list)
    missing_last_year: bool = False

    @property
    def funding_total(self) -> int:
        """All central funding granted to the case, in won."""
        return sum(f.amount for f in self.fundings)


@dataclass
class FollowUpReport:
    """Every selected case in scope with its trend, and those without last year's record."""

    last_year: int
    cases: list[CaseTrend]

    @property
    def missing_last_year(self) -> list[CaseTrend]:
        """Cases selected before last year that have no follow-up for it (one-off showcases)."""
        return [trend for trend in self.cases if trend.missing_last_year]


def follow_up_report(
    *, viewer: User, municipality_id: str | None = None, contest_year: int | None = None
) -> FollowUpReport:
    """Per case, indicators by year and funding; and the cases missing last year's record."""
    last_year = seoul_today().year - 1
    query = scope_to_municipality(sa.select(SelectedCase), SelectedCase, viewer)
    query = where_given(
        query,
        {
            SelectedCase.municipality_id: municipality_id,
            SelectedCase.contest_year: contest_year,
        },
    )
    trends = {
        case.id: CaseTrend(case=case)
        for case in db.session.scalars(query.order_by(SelectedCase.contest_year, SelectedCase.id))
    }
    ids = list(trends)
    if ids:
        for follow_up in db.session.scalars(
            sa.select(FollowUp).where(FollowUp.case_id.in_(ids)).order_by(FollowUp.year)
        ):
            trends[follow_up.case_id].follow_ups.append(follow_up)
        for funding in db.session.scalars(
            sa.select(CaseFunding).where(CaseFunding.case_id.in_(ids)).order_by(CaseFunding.year)
        ):
            trends[funding.case_id].fundings.append(funding)
    for trend in trends.values():
        trend.missing_last_year = trend.case.contest_year < last_year and not any(
            f.year == last_year for f in trend.follow_ups
        )
    return FollowUpReport(last_year=last_year, cases=list(trends.values()))
