"""The ministry's dispute mediation committee: who serves today, and (ministry staff) appoint a
member or the chair and end a membership. The chair rule and the qualifications are the
service's (`backend.ministry.mediation_committee`); the page only shows its refusals."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import request

from backend.api import ministry as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import domain_errors, submit
from backend.console.pages import done, page
from backend.errors import DomainError
from backend.ministry import services
from backend.ministry.models import MemberRole, Qualification
from backend.ministry.schemas import MediationMemberCreateSchema, MediationMemberSchema
from backend.ministry.shared import PRACTITIONER_MIN_YEARS


def _committee_page(status: int = 200, **context: Any) -> Any:
    return page(
        "mediation_committee.html",
        status,
        name=api.COMMITTEE_NAME,
        members=MediationMemberSchema(many=True).dump(services.committee_members()),
        roles=list(MemberRole),
        qualifications=list(Qualification),
        practitioner_years=PRACTITIONER_MIN_YEARS,
        form=request.form,
        **context,
    )


@bp.route("/ministry/committee")
@mirrors(api.get_committee)
def mediation_committee() -> Any:
    """The committee today: the chair first, then the members, with their qualifications."""
    return _committee_page()


@bp.route("/ministry/committee/members", methods=["POST"])
@mirrors(api.add_member)
def mediation_member_add() -> Any:
    """Appoint a member or the chair (ministry staff)."""
    saved, errors = submit(
        MediationMemberCreateSchema(),
        partial(services.add_committee_member, actor=current_user()),
        lambda _: done("console.mediation_committee"),
    )
    return saved or _committee_page(422, errors=errors)


@bp.route("/ministry/committee/members/<member_id>/end", methods=["POST"])
@mirrors(api.end_member)
def mediation_member_end(member_id: str) -> Any:
    """End a membership; yesterday is its last day (ministry staff)."""
    try:
        services.end_committee_member(actor=current_user(), member_id=member_id)
    except DomainError as error:
        return _committee_page(422, errors=domain_errors(error))
    return done("console.mediation_committee")
