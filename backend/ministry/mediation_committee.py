"""Ministry: the members of the mediation committee."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.clock import seoul_today
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ministry.models import (
    MediationMember,
    MemberRole,
    Qualification,
)
from backend.ministry.shared import PRACTITIONER_MIN_YEARS, _ensure_ministry
from backend.permissions import (
    is_ministry_staff,
)

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
    if qualification == Qualification.SENIOR_OFFICIAL and not is_ministry_staff(user):
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
    save_and_audit(
        member,
        actor=actor,
        action="mediation.member_add",
        target_type="mediation_member",
        municipality_id=None,
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
    save_and_audit(
        member,
        actor=actor,
        action="mediation.member_end",
        target_type="mediation_member",
        municipality_id=None,
        details={"ended_on": member.ended_on.isoformat()},
    )
    return member
