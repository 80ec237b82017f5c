"""Committees: creating, reading and listing committees."""

from __future__ import annotations

from backend.audit.services import save_and_audit
from backend.committees.models import (
    Committee,
)
from backend.errors import PermissionDenied
from backend.identity.models import User
from backend.pagination import Page
from backend.participation.services import get_project
from backend.permissions import (
    Role,
)
from backend.rows import get_visible, list_page

# ---- committees -------------------------------------------------------------------------------


def create_committee(
    *,
    actor: User,
    name: str,
    seats: int,
    term_months: int,
    purpose: str = "",
    requires_certificate: bool = False,
    project_id: str | None = None,
) -> Committee:
    """An official sets up a committee of their municipality (optionally of a project)."""
    if actor.role != Role.OFFICIAL or actor.municipality_id is None:
        raise PermissionDenied("Only officials of a municipality create committees.")
    if project_id is not None:
        # Another municipality's project is "not found", as everywhere else (tenancy).
        get_project(viewer=actor, project_id=project_id)
    committee = Committee(
        municipality_id=actor.municipality_id,
        project_id=project_id,
        name=name.strip(),
        purpose=purpose,
        seats=seats,
        term_months=term_months,
        requires_certificate=requires_certificate,
        created_by_id=actor.id,
    )
    save_and_audit(
        committee,
        actor=actor,
        action="committee.create",
        target_type="committee",
        details={
            "name": committee.name,
            "seats": seats,
            "term_months": term_months,
            "requires_certificate": requires_certificate,
            "project_id": project_id,
        },
    )
    return committee


def get_committee(*, viewer: User, committee_id: str) -> Committee:
    """One committee, if the viewer may see its municipality."""
    return get_visible(
        Committee,
        committee_id,
        viewer=viewer,
        message="Committee not found.",
        code="committee_not_found",
    )


def list_committees(
    *, viewer: User, limit: int, cursor: str | None, project_id: str | None = None
) -> Page:
    """Committees the viewer may see, newest first."""
    return list_page(
        Committee,
        viewer=viewer,
        filters={Committee.project_id: project_id},
        limit=limit,
        cursor=cursor,
    )
