"""Ministry services: selected cases, follow-ups and funding; the mediation committee and
dispute cases; training courses, enrolments, attendance, completion and ratings.

Keyword-only arguments, the actor passed in, flush and never commit; every change is audited,
and every step of a dispute is announced to its parties with a domain event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend import events
from backend.audit.services import record_audit
from backend.clock import seoul_today, utcnow
from backend.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.ministry.models import (
    DISPUTE_TRANSITIONS,
    CaseFunding,
    Course,
    CourseAudience,
    CourseHost,
    Dispute,
    DisputeDocument,
    DisputeHearing,
    DisputeMediator,
    DisputeParty,
    DisputeState,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    MediationMember,
    MemberRole,
    PartyKind,
    Qualification,
    SelectedCase,
    Side,
    Source,
)
from backend.pagination import Page, paginate, where_given
from backend.participation import services as participation
from backend.participation.models import Project, ProjectStatus, TrainingLevel
from backend.participation.reports import indicator_report
from backend.permissions import (
    Role,
    can_see_dispute,
    can_see_municipality,
    is_ministry_staff,
    scope_to_municipality,
)

#: The ministry has picked good cases every year since 2015.
FIRST_CONTEST_YEAR = 2015
#: Days a case has for mediation once accepted, unless the committee sets another deadline.
DEFAULT_DEADLINE_DAYS = 60
#: Experience the brief asks of a practitioner member.
PRACTITIONER_MIN_YEARS = 10


def _ensure_ministry(actor: User) -> None:
    if not is_ministry_staff(actor):
        raise PermissionDenied("Only ministry staff may do this.")


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
    db.session.add(case)
    db.session.flush()
    record_audit(
        actor=actor,
        action="selected_case.create",
        target_type="selected_case",
        target_id=case.id,
        municipality_id=case.municipality_id,
        details={"project_id": project.id, "contest_year": contest_year, "award": case.award},
    )
    return case


def get_selected_case(*, viewer: User, case_id: str) -> SelectedCase:
    """A selected case: ministry staff see all, officials their municipality's."""
    case = db.session.get(SelectedCase, case_id)
    if case is None or not can_see_municipality(viewer, case.municipality_id):
        raise NotFound("Selected case not found.", code="selected_case_not_found")
    return case


def list_selected_cases(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    contest_year: int | None = None,
    municipality_id: str | None = None,
) -> Page:
    """Selected cases in the viewer's scope, newest first."""
    query = scope_to_municipality(sa.select(SelectedCase), SelectedCase, viewer)
    query = where_given(
        query,
        {
            SelectedCase.contest_year: contest_year,
            SelectedCase.municipality_id: municipality_id,
        },
    )
    return paginate(query, SelectedCase.id, limit=limit, cursor=cursor)


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
    db.session.flush()
    record_audit(
        actor=actor,
        action="selected_case.funding",
        target_type="selected_case",
        target_id=case.id,
        municipality_id=case.municipality_id,
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
    if not (
        is_ministry_staff(actor)
        or (actor.role == Role.OFFICIAL and actor.municipality_id == case.municipality_id)
    ):
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
    db.session.flush()
    record_audit(
        actor=actor,
        action="selected_case.follow_up",
        target_type="selected_case",
        target_id=case.id,
        municipality_id=case.municipality_id,
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


# ---- the mediation committee ----------------------------------------------------------------


def _active_members_query(day: date) -> sa.Select:
    return sa.select(MediationMember).where(
        MediationMember.appointed_on <= day,
        sa.or_(MediationMember.ended_on.is_(None), MediationMember.ended_on >= day),
    )


def committee_members(*, day: date | None = None) -> list[MediationMember]:
    """The committee on a day (today by default): the chair first, then members."""
    members = db.session.scalars(
        _active_members_query(day or seoul_today()).order_by(MediationMember.id)
    )
    return sorted(members, key=lambda m: m.role != MemberRole.CHAIR)


def committee_user_ids() -> set[str]:
    """The users serving on the committee today."""
    return {m.user_id for m in committee_members()}


def add_committee_member(
    *,
    actor: User,
    user_id: str,
    role: MemberRole,
    qualification: Qualification,
    affiliation: str,
    years_of_experience: int | None = None,
    appointed_on: date | None = None,
) -> MediationMember:
    """Ministry staff appoint a member (or the chair) with the qualification the brief asks."""
    _ensure_ministry(actor)
    user = db.session.get(User, user_id)
    if user is None or not user.is_usable:
        raise NotFound("User not found.", code="user_not_found")
    if (
        qualification == Qualification.PRACTITIONER
        and (years_of_experience or 0) < PRACTITIONER_MIN_YEARS
    ):
        raise ValidationFailed(
            "A practitioner member needs 10 or more years in the field.",
            code="qualification_unmet",
            fields={"years_of_experience": [f"At least {PRACTITIONER_MIN_YEARS}."]},
        )
    if qualification == Qualification.SENIOR_OFFICIAL and user.role not in (
        Role.ANALYST,
        Role.ADMIN,
    ):
        raise ValidationFailed(
            "A senior official member must be a ministry staff account.",
            code="qualification_unmet",
            fields={"qualification": ["The user is not ministry staff."]},
        )
    day = appointed_on or seoul_today()
    serving = db.session.scalars(_active_members_query(day)).all()
    if any(m.user_id == user.id for m in serving):
        raise RuleViolation("The person already serves on the committee.", code="member_exists")
    if role == MemberRole.CHAIR and any(m.role == MemberRole.CHAIR for m in serving):
        raise RuleViolation("The committee already has a chair.", code="chair_taken")
    member = MediationMember(
        user_id=user.id,
        role=role,
        qualification=qualification,
        affiliation=affiliation.strip(),
        years_of_experience=years_of_experience,
        appointed_on=day,
        created_by=actor.id,
    )
    db.session.add(member)
    db.session.flush()
    record_audit(
        actor=actor,
        action="mediation.member_add",
        target_type="mediation_member",
        target_id=member.id,
        details={"user_id": user.id, "role": role.value, "qualification": qualification.value},
    )
    return member


def end_committee_member(*, actor: User, member_id: str) -> MediationMember:
    """Ministry staff end a membership; yesterday is the last day."""
    _ensure_ministry(actor)
    member = db.session.get(MediationMember, member_id)
    if member is None:
        raise NotFound("Committee member not found.", code="mediation_member_not_found")
    today = seoul_today()
    if member.ended_on is not None and member.ended_on < today:
        raise RuleViolation("The membership has ended already.", code="member_ended")
    member.ended_on = max(member.appointed_on, today - timedelta(days=1))
    record_audit(
        actor=actor,
        action="mediation.member_end",
        target_type="mediation_member",
        target_id=member.id,
        details={"ended_on": member.ended_on.isoformat()},
    )
    return member


# ---- dispute cases --------------------------------------------------------------------------

DS = DisputeState
OPEN_STATES = (DS.FILED, DS.ACCEPTED, DS.IN_MEDIATION)


def _sees(viewer: User, dispute: Dispute) -> bool:
    return can_see_dispute(
        viewer,
        dispute,
        party_user_ids=dispute.party_user_ids,
        mediator_user_ids=dispute.mediator_user_ids,
        committee_user_ids=committee_user_ids(),
    )


def _runs_mediation(actor: User) -> bool:
    """Ministry staff (the secretariat) and the committee's chair decide on cases."""
    if is_ministry_staff(actor):
        return True
    return any(m.user_id == actor.id and m.role == MemberRole.CHAIR for m in committee_members())


def _notify(dispute: Dispute, action: str) -> None:
    events.publish(
        events.DISPUTE_UPDATED,
        dispute_id=dispute.id,
        user_ids=sorted(dispute.party_user_ids),
        municipality_id=dispute.municipality_id,
        state=dispute.state.value,
        action=action,
    )


def _audit(actor: User, dispute: Dispute, action: str, **details: Any) -> None:
    record_audit(
        actor=actor,
        action=f"dispute.{action}",
        target_type="dispute",
        target_id=dispute.id,
        municipality_id=dispute.municipality_id,
        details={"state": dispute.state.value, **details},
    )


def file_dispute(
    *,
    actor: User,
    project_id: str,
    subject: str,
    claims: str,
    partner_user_ids: list[str] | None = None,
    external_parties: list[dict[str, Any]] | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> Dispute:
    """A municipality's official, or its private partner (a citizen), files a case about one of
    the municipality's projects; the other side is named by user or, outside the platform, by
    name (a residents' group, a company)."""
    if actor.role not in (Role.OFFICIAL, Role.CITIZEN) or not actor.municipality_id:
        raise PermissionDenied("Only officials and citizens file dispute cases.")
    project = participation.get_project(viewer=actor, project_id=project_id)
    if project.municipality_id != actor.municipality_id:
        raise NotFound("Project not found.", code="project_not_found")
    filer_side = Side.GOVERNMENT if actor.role == Role.OFFICIAL else Side.PRIVATE
    parties = [
        DisputeParty(
            position=0,
            user_id=actor.id,
            name=actor.display_name,
            side=filer_side,
            kind=PartyKind.MUNICIPALITY if filer_side == Side.GOVERNMENT else PartyKind.CITIZEN,
        )
    ]
    if filer_side == Side.PRIVATE:
        place = db.session.get(Municipality, project.municipality_id)
        parties.append(
            DisputeParty(
                position=1,
                user_id=None,
                name=place.name if place else project.municipality_id,
                side=Side.GOVERNMENT,
                kind=PartyKind.MUNICIPALITY,
            )
        )
    partner_ids = list(dict.fromkeys(partner_user_ids or []))
    if partner_ids:
        found = {
            u.id: u
            for u in db.session.scalars(sa.select(User).where(User.id.in_(partner_ids)))
            if u.is_usable
            and u.role == Role.CITIZEN
            and u.municipality_id == project.municipality_id
        }
        unknown = [uid for uid in partner_ids if uid not in found or uid == actor.id]
        if unknown:
            raise ValidationFailed(
                "Partners must be citizens of the project's municipality.",
                code="party_invalid",
                fields={"partner_user_ids": [f"Not a citizen of this municipality: {unknown[0]}"]},
            )
        for uid in partner_ids:
            parties.append(
                DisputeParty(
                    position=len(parties),
                    user_id=uid,
                    name=found[uid].display_name,
                    side=Side.PRIVATE,
                    kind=PartyKind.CITIZEN,
                )
            )
    for external in external_parties or []:
        parties.append(
            DisputeParty(
                position=len(parties),
                user_id=None,
                name=external["name"].strip(),
                side=Side.PRIVATE,
                kind=external["kind"],
            )
        )
    if not any(p.side != filer_side for p in parties):
        raise ValidationFailed(
            "Name the private partner the case is against.",
            code="party_missing",
            fields={"partner_user_ids": ["Name a partner user or an external party."]},
        )
    now = utcnow()
    dispute = Dispute(
        municipality_id=project.municipality_id,
        project_id=project.id,
        filed_by_id=actor.id,
        filer_side=filer_side,
        subject=subject.strip(),
        claims=claims,
        state=DS.FILED,
        created_at=now,
        updated_at=now,
    )
    dispute.parties = parties
    dispute.documents = [
        DisputeDocument(title=d["title"].strip(), url=d.get("url"), added_by=actor.id)
        for d in documents or []
    ]
    db.session.add(dispute)
    db.session.flush()
    _audit(actor, dispute, "file", project_id=project.id, parties=len(parties))
    _notify(dispute, "filed")
    return dispute


def get_dispute(*, viewer: User, dispute_id: str) -> Dispute:
    """A case, for its parties, mediators and the committee only."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not _sees(viewer, dispute):
        raise NotFound("Dispute not found.", code="dispute_not_found")
    return dispute


def list_disputes(
    *, viewer: User, limit: int, cursor: str | None, state: DisputeState | None = None
) -> Page:
    """The cases the viewer may see, newest first."""
    query = sa.select(Dispute)
    query = where_given(query, {Dispute.state: state})
    if not is_ministry_staff(viewer) and viewer.id not in committee_user_ids():
        as_party = sa.select(DisputeParty.dispute_id).where(DisputeParty.user_id == viewer.id)
        as_mediator = sa.select(DisputeMediator.dispute_id).where(
            DisputeMediator.user_id == viewer.id
        )
        visible = sa.or_(Dispute.id.in_(as_party), Dispute.id.in_(as_mediator))
        if viewer.role == Role.OFFICIAL:
            visible = sa.or_(visible, Dispute.municipality_id == viewer.municipality_id)
        query = query.where(visible)
    return paginate(query, Dispute.id, limit=limit, cursor=cursor)


def _move(dispute: Dispute, target: DisputeState) -> None:
    allowed = DISPUTE_TRANSITIONS[dispute.state]
    if target not in allowed:
        named = ", ".join(s.value for s in allowed) or "none"
        raise RuleViolation(
            f"A {dispute.state.value} case cannot become {target.value}; allowed: {named}.",
            code="dispute_illegal_transition",
            fields={"state": [f"Allowed moves from {dispute.state.value}: {named}."]},
            details={"from": dispute.state.value, "to": target.value},
        )
    dispute.state = target
    dispute.updated_at = utcnow()


def _ensure_runs_mediation(actor: User) -> None:
    if not _runs_mediation(actor):
        raise PermissionDenied("Only the committee's chair or the ministry may decide on cases.")


def accept_dispute(*, actor: User, dispute: Dispute, deadline: date | None = None) -> Dispute:
    """The committee takes the case up, with a deadline (60 days by default)."""
    _ensure_runs_mediation(actor)
    today = seoul_today()
    if deadline is not None and deadline <= today:
        raise ValidationFailed(
            "The deadline must be in the future.",
            code="deadline_invalid",
            fields={"deadline": ["Must be after today."]},
        )
    _move(dispute, DS.ACCEPTED)
    dispute.deadline = deadline or today + timedelta(days=DEFAULT_DEADLINE_DAYS)
    _audit(actor, dispute, "accept", deadline=dispute.deadline.isoformat())
    _notify(dispute, "accepted")
    return dispute


def reject_dispute(*, actor: User, dispute: Dispute, reason: str) -> Dispute:
    """The committee declines the case, with a reason."""
    _ensure_runs_mediation(actor)
    _move(dispute, DS.REJECTED)
    dispute.outcome = reason
    _audit(actor, dispute, "reject")
    _notify(dispute, "rejected")
    return dispute


def start_mediation(*, actor: User, dispute: Dispute) -> Dispute:
    """Mediation begins; it needs a mediator assigned."""
    _ensure_runs_mediation(actor)
    if dispute.state == DS.ACCEPTED and not dispute.mediators:
        raise RuleViolation("Assign a mediator first.", code="mediator_required")
    _move(dispute, DS.IN_MEDIATION)
    _audit(actor, dispute, "start_mediation")
    _notify(dispute, "in_mediation")
    return dispute


def _ensure_decides(actor: User, dispute: Dispute) -> None:
    if not (_runs_mediation(actor) or actor.id in dispute.mediator_user_ids):
        raise PermissionDenied("Only the case's mediators or the committee may do this.")


def settle_dispute(*, actor: User, dispute: Dispute, terms: str) -> Dispute:
    """The parties agreed: the settlement terms are recorded."""
    _ensure_decides(actor, dispute)
    _move(dispute, DS.SETTLED)
    dispute.outcome = terms
    _audit(actor, dispute, "settle")
    _notify(dispute, "settled")
    return dispute


def close_unsettled(*, actor: User, dispute: Dispute, reason: str) -> Dispute:
    """Mediation failed: the case closes without a settlement."""
    _ensure_decides(actor, dispute)
    _move(dispute, DS.NOT_SETTLED)
    dispute.outcome = reason
    _audit(actor, dispute, "close_unsettled")
    _notify(dispute, "not_settled")
    return dispute


def withdraw_dispute(*, actor: User, dispute: Dispute, reason: str = "") -> Dispute:
    """The filing side withdraws the case (the filer, or an official for the municipality)."""
    on_filing_side = actor.id == dispute.filed_by_id or (
        dispute.filer_side == Side.GOVERNMENT
        and actor.role == Role.OFFICIAL
        and actor.municipality_id == dispute.municipality_id
    )
    if not on_filing_side:
        raise PermissionDenied("Only the filing side may withdraw a case.")
    _move(dispute, DS.WITHDRAWN)
    dispute.outcome = reason or None
    _audit(actor, dispute, "withdraw")
    _notify(dispute, "withdrawn")
    return dispute


def _ensure_open_for_work(dispute: Dispute) -> None:
    if dispute.state not in (DS.ACCEPTED, DS.IN_MEDIATION):
        raise RuleViolation(
            "Only an accepted case or one in mediation can take this.",
            code="dispute_not_open",
            fields={"state": [f"The case is {dispute.state.value}."]},
        )


def _is_party(user: User, dispute: Dispute) -> bool:
    """Parties are the party users and, for the government side, the municipality's officials."""
    return user.id in dispute.party_user_ids or (
        user.role == Role.OFFICIAL and user.municipality_id == dispute.municipality_id
    )


def assign_mediator(*, actor: User, dispute: Dispute, member_id: str) -> Dispute:
    """Assign a serving committee member who is not a party to the case."""
    _ensure_runs_mediation(actor)
    _ensure_open_for_work(dispute)
    member = db.session.scalar(
        _active_members_query(seoul_today()).where(MediationMember.id == member_id)
    )
    if member is None:
        raise NotFound("Committee member not found.", code="mediation_member_not_found")
    if _is_party(member.user, dispute):
        raise RuleViolation(
            "A party to the case cannot mediate it.",
            code="mediator_is_party",
            fields={"member_id": ["This member is a party to the case."]},
        )
    if any(m.member_id == member.id for m in dispute.mediators):
        raise RuleViolation("The member already mediates this case.", code="mediator_exists")
    dispute.mediators.append(
        DisputeMediator(member_id=member.id, user_id=member.user_id, assigned_by=actor.id)
    )
    dispute.updated_at = utcnow()
    db.session.flush()
    _audit(actor, dispute, "assign_mediator", member_id=member.id, user_id=member.user_id)
    _notify(dispute, "mediator_assigned")
    return dispute


def schedule_hearing(
    *,
    actor: User,
    dispute: Dispute,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    agenda: str = "",
) -> DisputeHearing:
    """The committee schedules a hearing of the case; the parties are told."""
    _ensure_decides(actor, dispute)
    _ensure_open_for_work(dispute)
    if ends_at <= starts_at:
        raise ValidationFailed(
            "The hearing ends before it starts.",
            code="hearing_times_invalid",
            fields={"ends_at": ["Must be after starts_at."]},
        )
    if starts_at <= utcnow():
        raise ValidationFailed(
            "The hearing must be in the future.",
            code="hearing_times_invalid",
            fields={"starts_at": ["Must be in the future."]},
        )
    hearing = DisputeHearing(
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        agenda=agenda,
        created_by=actor.id,
    )
    dispute.hearings.append(hearing)
    dispute.updated_at = utcnow()
    db.session.flush()
    _audit(
        actor, dispute, "schedule_hearing", hearing_id=hearing.id, starts_at=starts_at.isoformat()
    )
    events.publish(
        events.DISPUTE_HEARING_SCHEDULED,
        dispute_id=dispute.id,
        hearing_id=hearing.id,
        user_ids=sorted(dispute.party_user_ids | dispute.mediator_user_ids),
        municipality_id=dispute.municipality_id,
        starts_at=starts_at,
        place=hearing.place,
    )
    return hearing


def remind_deadlines(*, within_days: int) -> int:
    """Announce, once per deadline, the open cases whose deadline falls within the days."""
    today = seoul_today()
    due = db.session.scalars(
        sa.select(Dispute).where(
            Dispute.state.in_((DS.ACCEPTED, DS.IN_MEDIATION)),
            Dispute.deadline.is_not(None),
            Dispute.deadline >= today,
            Dispute.deadline <= today + timedelta(days=within_days),
            sa.or_(
                Dispute.deadline_reminded_for.is_(None),
                Dispute.deadline_reminded_for != Dispute.deadline,
            ),
        )
    ).all()
    for dispute in due:
        dispute.deadline_reminded_for = dispute.deadline
        record_audit(
            actor=None,
            action="dispute.deadline_reminder",
            target_type="dispute",
            target_id=dispute.id,
            municipality_id=dispute.municipality_id,
            details={"deadline": dispute.deadline.isoformat()},
        )
        events.publish(
            events.DISPUTE_DEADLINE_NEAR,
            dispute_id=dispute.id,
            user_ids=sorted(dispute.party_user_ids | dispute.mediator_user_ids),
            municipality_id=dispute.municipality_id,
            deadline=dispute.deadline,
        )
    db.session.flush()
    return len(due)


# ---- training courses -----------------------------------------------------------------------


def _check_course_schedule(level: TrainingLevel, starts_on: date, days: int) -> None:
    """The brief's programme: basic is 1 day in the first half, advanced 2-3 in the second."""
    if level == TrainingLevel.BASIC and (days != 1 or starts_on.month > 6):
        raise ValidationFailed(
            "A basic course lasts one day in the first half of the year.",
            code="course_schedule_invalid",
            fields={"days": ["A basic course is 1 day, January to June."]},
        )
    if level == TrainingLevel.ADVANCED and (days not in (2, 3) or starts_on.month < 7):
        raise ValidationFailed(
            "An advanced course lasts two or three days in the second half of the year.",
            code="course_schedule_invalid",
            fields={"days": ["An advanced course is 2-3 days, July to December."]},
        )


def create_course(
    *,
    actor: User,
    title: str,
    level: TrainingLevel,
    audience: CourseAudience,
    host: CourseHost,
    place: str,
    starts_on: date,
    days: int,
    capacity: int,
    region: str | None = None,
    description: str = "",
) -> Course:
    """Ministry staff add a course to the catalogue."""
    _ensure_ministry(actor)
    _check_course_schedule(level, starts_on, days)
    if (host == CourseHost.REGION) != bool(region and region.strip()):
        raise ValidationFailed(
            "A regional course names its region; a ministry course does not.",
            code="course_region_invalid",
            fields={"region": ["Required exactly when host is region."]},
        )
    course = Course(
        title=title.strip(),
        level=level,
        audience=audience,
        host=host,
        region=region.strip() if region else None,
        place=place.strip(),
        description=description,
        starts_on=starts_on,
        days=days,
        capacity=capacity,
        enrolled_count=0,
        created_by=actor.id,
    )
    db.session.add(course)
    db.session.flush()
    record_audit(
        actor=actor,
        action="course.create",
        target_type="course",
        target_id=course.id,
        details={"title": course.title, "level": level.value, "starts_on": starts_on.isoformat()},
    )
    return course


def get_course(*, course_id: str) -> Course:
    """A course of the catalogue (everyone signed in may read it)."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("Course not found.", code="course_not_found")
    return course


def list_courses(
    *,
    limit: int,
    cursor: str | None,
    level: TrainingLevel | None = None,
    year: int | None = None,
) -> Page:
    """The catalogue, newest first."""
    query = sa.select(Course)
    query = where_given(query, {Course.level: level})
    if year is not None:
        query = query.where(Course.starts_on.between(date(year, 1, 1), date(year, 12, 31)))
    return paginate(query, Course.id, limit=limit, cursor=cursor)


_COURSES = Course.__table__
_TAKE_COURSE_SEAT = (
    sa.update(_COURSES)
    .where(
        _COURSES.c.id == sa.bindparam("course_id"), _COURSES.c.enrolled_count < _COURSES.c.capacity
    )
    .values(enrolled_count=_COURSES.c.enrolled_count + 1)
)


def enrol(*, actor: User, course: Course) -> Enrolment:
    """The caller takes a place on a course, refused atomically when it is full."""
    audience_ok = (
        course.audience == CourseAudience.ALL
        or (course.audience == CourseAudience.OFFICIALS and actor.role != Role.CITIZEN)
        or (course.audience == CourseAudience.RESIDENTS and actor.role == Role.CITIZEN)
    )
    if not audience_ok:
        raise RuleViolation(
            f"This course is for {course.audience.value}.", code="course_audience_mismatch"
        )
    if course.starts_on <= seoul_today():
        raise RuleViolation("The course has started.", code="course_started")
    exists = db.session.scalar(
        sa.select(Enrolment.id).where(
            Enrolment.course_id == course.id, Enrolment.user_id == actor.id
        )
    )
    if exists:
        raise RuleViolation("You are enrolled already.", code="already_enrolled")
    result = db.session.execute(_TAKE_COURSE_SEAT, {"course_id": course.id})
    if result.rowcount == 0:
        raise RuleViolation("The course is full.", code="course_full")
    db.session.expire(course, ["enrolled_count"])
    enrolment = Enrolment(
        course_id=course.id,
        user_id=actor.id,
        municipality_id=actor.municipality_id,
        status=EnrolmentStatus.ENROLLED,
        attended_days=[],
    )
    db.session.add(enrolment)
    db.session.flush()
    record_audit(
        actor=actor,
        action="course.enrol",
        target_type="enrolment",
        target_id=enrolment.id,
        municipality_id=actor.municipality_id,
        details={"course_id": course.id},
    )
    return enrolment


def _may_see_person(viewer: User, user_id: str, municipality_id: str | None) -> bool:
    if viewer.id == user_id or is_ministry_staff(viewer):
        return True
    return viewer.role == Role.OFFICIAL and municipality_id == viewer.municipality_id


def get_enrolment(*, viewer: User, enrolment_id: str) -> Enrolment:
    """An enrolment: the learner, the ministry, and officials of the learner's municipality."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or not _may_see_person(
        viewer, enrolment.user_id, enrolment.municipality_id
    ):
        raise NotFound("Enrolment not found.", code="enrolment_not_found")
    return enrolment


def list_course_enrolments(*, actor: User, course: Course, limit: int, cursor: str | None) -> Page:
    """A course's roll (ministry staff), in enrolment order."""
    _ensure_ministry(actor)
    query = sa.select(Enrolment).where(Enrolment.course_id == course.id)
    return paginate(query, Enrolment.id, limit=limit, cursor=cursor, newest_first=False)


def record_attendance(*, actor: User, enrolment: Enrolment, day: int) -> Enrolment:
    """Ministry staff mark a learner present on one day of the course."""
    _ensure_ministry(actor)
    course = enrolment.course
    if not 1 <= day <= course.days:
        raise ValidationFailed(
            "No such day of the course.",
            code="course_day_invalid",
            fields={"day": [f"Between 1 and {course.days}."]},
        )
    if course.starts_on + timedelta(days=day - 1) > seoul_today():
        raise RuleViolation("That day of the course has not come yet.", code="course_day_ahead")
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise RuleViolation("The enrolment is completed.", code="enrolment_completed")
    if day not in enrolment.attended_days:
        enrolment.attended_days = sorted([*enrolment.attended_days, day])
        record_audit(
            actor=actor,
            action="course.attendance",
            target_type="enrolment",
            target_id=enrolment.id,
            municipality_id=enrolment.municipality_id,
            details={"day": day},
        )
    return enrolment


def complete_enrolment(*, actor: User, enrolment: Enrolment) -> Enrolment:
    """Ministry staff mark the course completed: every day must have been attended."""
    _ensure_ministry(actor)
    if enrolment.status == EnrolmentStatus.COMPLETED:
        raise RuleViolation("The enrolment is completed.", code="enrolment_completed")
    missing = [d for d in range(1, enrolment.course.days + 1) if d not in enrolment.attended_days]
    if missing:
        raise RuleViolation(
            "Attendance is missing for some days.",
            code="attendance_incomplete",
            fields={"attended_days": [f"Missing days: {', '.join(map(str, missing))}."]},
        )
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.completed_at = utcnow()
    record_audit(
        actor=actor,
        action="course.complete",
        target_type="enrolment",
        target_id=enrolment.id,
        municipality_id=enrolment.municipality_id,
        details={"course_id": enrolment.course_id, "user_id": enrolment.user_id},
    )
    return enrolment


def rate_enrolment(
    *, actor: User, enrolment: Enrolment, rating: int, comment: str = ""
) -> Enrolment:
    """The learner rates a completed course, once (the indicator's training satisfaction)."""
    if actor.id != enrolment.user_id:
        raise PermissionDenied("Only the learner rates the course.")
    if enrolment.status != EnrolmentStatus.COMPLETED:
        raise RuleViolation("Rate the course once completed.", code="enrolment_not_completed")
    if enrolment.rating is not None:
        raise RuleViolation("You rated this course already.", code="already_rated")
    enrolment.rating = rating
    enrolment.rating_comment = comment
    record_audit(
        actor=actor,
        action="course.rate",
        target_type="enrolment",
        target_id=enrolment.id,
        municipality_id=enrolment.municipality_id,
        details={"rating": rating},
    )
    return enrolment


def training_record(*, viewer: User, user_id: str, limit: int, cursor: str | None) -> Page:
    """A person's enrolments and completions, newest first."""
    user = db.session.get(User, user_id)
    if user is None or not _may_see_person(viewer, user.id, user.municipality_id):
        raise NotFound("User not found.", code="user_not_found")
    query = sa.select(Enrolment).where(Enrolment.user_id == user.id)
    return paginate(query, Enrolment.id, limit=limit, cursor=cursor)
