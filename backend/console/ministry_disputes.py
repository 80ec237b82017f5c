"""Dispute cases in the console: a case with its parties, mediators and hearings; the moves its
state allows; assigning a mediator and scheduling a hearing.

Every write is the API view's service call (who may decide, which state takes which step, who
may mediate are the service's rules); the page only hides the forms its user could not use.
"""

from __future__ import annotations

from typing import Any

from flask import request

from backend.api import ministry as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import domain_errors, load_form
from backend.console.pages import done, page
from backend.errors import DomainError, PermissionDenied
from backend.identity.models import User
from backend.ministry import services
from backend.ministry.disputes import runs_mediation
from backend.ministry.models import Dispute, DisputeState, Side
from backend.ministry.schemas import (
    DisputeAcceptSchema,
    DisputeHearingCreateSchema,
    DisputeReasonSchema,
    DisputeSchema,
    DisputeSettleSchema,
    DisputeWithdrawSchema,
    MediationMemberSchema,
    MediatorAssignSchema,
)
from backend.permissions import can_withdraw_dispute

#: The state a move leads to (DISPUTE_TRANSITIONS names states), its API view, service and form.
DISPUTE_MOVES: dict[str, tuple[str, Any, Any, Any]] = {
    "accepted": ("accept", api.accept_dispute, services.accept_dispute, DisputeAcceptSchema),
    "rejected": ("reject", api.reject_dispute, services.reject_dispute, DisputeReasonSchema),
    "in_mediation": ("start-mediation", api.start_mediation, services.start_mediation, None),
    "settled": ("settle", api.settle_dispute, services.settle_dispute, DisputeSettleSchema),
    "not_settled": (
        "close-unsettled",
        api.close_unsettled,
        services.close_unsettled,
        DisputeReasonSchema,
    ),
    "withdrawn": (
        "withdraw",
        api.withdraw_dispute,
        services.withdraw_dispute,
        DisputeWithdrawSchema,
    ),
}
#: Moves the committee takes (its chair or the ministry); settle and close are also the case's
#: mediators'; withdrawing is the filing side's.
_COMMITTEE_MOVES = frozenset({"accepted", "rejected", "in_mediation"})
#: Where mediators and hearings can be added (the service refuses any other state itself).
_WORKING_STATES = frozenset({DisputeState.ACCEPTED, DisputeState.IN_MEDIATION})


def _may_move(viewer: User, dispute: Dispute, state: str, runs: bool) -> bool:
    """Whether to offer a move: the service's own checks, read without acting."""
    if state == "withdrawn":
        government = dispute.filer_side == Side.GOVERNMENT
        return can_withdraw_dispute(viewer, dispute, government_side=government)
    if state in _COMMITTEE_MOVES:
        return runs
    return runs or viewer.id in dispute.mediator_user_ids


def _dispute_page(dispute_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    dispute = services.get_dispute(viewer=viewer, dispute_id=dispute_id)
    runs = runs_mediation(viewer)
    decides = runs or viewer.id in dispute.mediator_user_ids
    working = dispute.state in _WORKING_STATES
    assigned = {m.member_id for m in dispute.mediators}
    candidates = [m for m in services.committee_members() if m.id not in assigned]
    return page(
        "dispute.html",
        status,
        dispute=DisputeSchema().dump(dispute),
        moves=[
            (state, DISPUTE_MOVES[state])
            for state in dispute.allowed_moves
            if _may_move(viewer, dispute, state, runs)
        ],
        may_assign=runs and working,
        may_schedule=decides and working,
        candidates=MediationMemberSchema(many=True).dump(candidates),
        form=request.form,
        **context,
    )


@bp.route("/disputes/<dispute_id>")
@mirrors(api.get_dispute)
def dispute(dispute_id: str) -> Any:
    """A dispute case: parties, claims, mediators, hearings and the moves allowed now."""
    return _dispute_page(dispute_id)


def _dispute_write(write: Any, schema: Any) -> Any:
    def view(dispute_id: str) -> Any:
        actor = current_user()
        case = services.get_dispute(viewer=actor, dispute_id=dispute_id)
        data, errors = load_form(schema()) if schema is not None else ({}, {})
        if data is not None:
            try:
                write(actor=actor, dispute=case, **data)
                return done("console.dispute", dispute_id=dispute_id)
            except PermissionDenied:
                raise  # the refusal page (403), as the API answers
            except DomainError as error:
                errors = domain_errors(error)
        return _dispute_page(dispute_id, 422, errors=errors)

    return view


def _add_dispute_rule(path: str, endpoint: str, api_view: Any, write: Any, schema: Any) -> None:
    view = _dispute_write(write, schema)
    view.__name__ = view.__qualname__ = endpoint
    view.__doc__ = f"{api_view.__doc__.splitlines()[0]} (the service checks who may)."
    bp.add_url_rule(
        f"/disputes/<dispute_id>/{path}",
        endpoint=endpoint,
        view_func=mirrors(api_view)(view),
        methods=["POST"],
    )


for _state, (_path, _api_view, _write, _schema) in DISPUTE_MOVES.items():
    _add_dispute_rule(_path, f"dispute_{_state}", _api_view, _write, _schema)
_add_dispute_rule(
    "mediators",
    "dispute_assign_mediator",
    api.assign_mediator,
    services.assign_mediator,
    MediatorAssignSchema,
)
_add_dispute_rule(
    "hearings",
    "dispute_schedule_hearing",
    api.schedule_hearing,
    services.schedule_hearing,
    DisputeHearingCreateSchema,
)
