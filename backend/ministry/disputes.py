"""Ministry: dispute cases, their state machine, mediators, hearings and deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend import events
from backend.audit.services import save_and_audit
from backend.clock import seoul_today, utcnow
from backend.database import lock_row
from backend.errors import (
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
    illegal_transition,
)
from backend.extensions import db
from backend.identity.models import Municipality, User
from backend.ministry.mediation_committee import (
    _active_members_query,
    committee_members,
    committee_user_ids,
)
from backend.ministry.models import (
    DISPUTE_TRANSITIONS,
    Dispute,
    DisputeDocument,
    DisputeHearing,
    DisputeMediator,
    DisputeParty,
    DisputeState,
    MediationMember,
    MemberRole,
    PartyKind,
    Side,
)
from backend.ministry.shared import DEFAULT_DEADLINE_DAYS
from backend.pagination import Page, paginate, where_given
from backend.participation import services as participation
from backend.permissions import (
    Role,
    can_decide_dispute,
    can_file_dispute,
    can_run_mediation,
    can_see_dispute,
    can_withdraw_dispute,
    is_dispute_party,
    is_ministry_staff,
    is_municipal_official,
    is_official_of,
)
from backend.rows import get_visible

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


def _chair_user_ids() -> set[str]:
    return {m.user_id for m in committee_members() if m.role == MemberRole.CHAIR}


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
    save_and_audit(
        dispute,
        actor=actor,
        action=f"dispute.{action}",
        target_type="dispute",
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
    if not can_file_dispute(actor):
        raise PermissionDenied("Only officials and citizens file dispute cases.")
    project = participation.get_project(viewer=actor, project_id=project_id)
    if project.municipality_id != actor.municipality_id:
        raise NotFound("Project not found.", code="project_not_found")
    filer_side = Side.GOVERNMENT if is_official_of(actor, project.municipality_id) else Side.PRIVATE
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
    return get_visible(Dispute, dispute_id, viewer, "dispute_not_found", _sees)


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
        if is_municipal_official(viewer):  # the query form of can_see_dispute's government side
            visible = sa.or_(visible, Dispute.municipality_id == viewer.municipality_id)
        query = query.where(visible)
    return paginate(query, Dispute.id, limit=limit, cursor=cursor)


def _move(dispute: Dispute, target: DisputeState) -> None:
    # Decided on the current state: of two parallel identical moves one wins, the other is
    # refused, and the case is audited and announced once.
    lock_row(Dispute, dispute)
    allowed = DISPUTE_TRANSITIONS[dispute.state]
    if target not in allowed:
        raise illegal_transition(
            what="case",
            field="state",
            current=dispute.state,
            target=target,
            allowed=allowed,
            code="dispute_illegal_transition",
        )
    dispute.state = target
    dispute.updated_at = utcnow()


def runs_mediation(actor: User) -> bool:
    """Whether this user decides on cases (the console offers the moves only to them)."""
    return can_run_mediation(actor, chair_user_ids=_chair_user_ids())


def _ensure_runs_mediation(actor: User) -> None:
    if not runs_mediation(actor):
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
    if not can_decide_dispute(actor, dispute, chair_user_ids=_chair_user_ids()):
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
    government_side = dispute.filer_side == Side.GOVERNMENT
    if not can_withdraw_dispute(actor, dispute, government_side=government_side):
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


def assign_mediator(*, actor: User, dispute: Dispute, member_id: str) -> Dispute:
    """Assign a serving committee member who is not a party to the case."""
    _ensure_runs_mediation(actor)
    _ensure_open_for_work(dispute)
    member = db.session.scalar(
        _active_members_query(seoul_today()).where(MediationMember.id == member_id)
    )
    if member is None:
        raise NotFound("Committee member not found.", code="mediation_member_not_found")
    if is_dispute_party(member.user, dispute):
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
        save_and_audit(
            dispute,
            actor=None,
            action="dispute.deadline_reminder",
            target_type="dispute",
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
