"""Certification: criteria records of a municipality (list, read, create, change)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.certification.models import (
    Benefit,
    CertificateKind,
    CertificationCriteria,
)
from backend.clock import utcnow
from backend.errors import Conflict
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.pagination import Page
from backend.permissions import ensure_same_municipality
from backend.rows import get_visible, list_page

# ---- criteria -------------------------------------------------------------------------------


def list_criteria(*, viewer: User, limit: int, cursor: str | None) -> Page:
    """Certification criteria the viewer may see."""
    return list_page(CertificationCriteria, viewer=viewer, limit=limit, cursor=cursor)


def get_criteria(*, viewer: User, criteria_id: str) -> CertificationCriteria:
    """One set of criteria, if the viewer may see it."""
    return get_visible(
        CertificationCriteria,
        criteria_id,
        viewer=viewer,
        message="Criteria not found.",
        code="certification_criteria_not_found",
    )


def create_criteria(
    *,
    actor: User,
    kind: CertificateKind,
    min_participations: int,
    min_stages: int,
    window_months: int,
    validity_months: int,
    min_hours: int | None = None,
    auto_issue: bool = True,
    nomination_allowed: bool = True,
    benefits: list[Benefit] | None = None,
    is_active: bool = True,
) -> CertificationCriteria:
    """An official sets the criteria of one kind of certificate for their municipality."""
    exists = db.session.scalar(
        sa.select(CertificationCriteria.id).where(
            CertificationCriteria.municipality_id == actor.municipality_id,
            CertificationCriteria.kind == kind,
        )
    )
    if exists is not None:
        raise Conflict(
            "Criteria for this kind exist; change them instead.",
            code="criteria_exist",
            details={"criteria_id": exists},
        )
    criteria = CertificationCriteria(
        id=new_id(),
        municipality_id=actor.municipality_id,
        kind=kind,
        min_participations=min_participations,
        min_stages=min_stages,
        min_hours=min_hours,
        window_months=window_months,
        validity_months=validity_months,
        auto_issue=auto_issue,
        nomination_allowed=nomination_allowed,
        benefits=_benefit_values(benefits),
        is_active=is_active,
        created_by_id=actor.id,
    )
    save_and_audit(
        criteria,
        actor=actor,
        action="certification_criteria.create",
        target_type="certification_criteria",
        details={"kind": kind.value},
    )
    return criteria


def update_criteria(
    *, actor: User, criteria: CertificationCriteria, **changes: Any
) -> CertificationCriteria:
    """Change criteria; certificates already issued keep their dates and benefits."""
    ensure_same_municipality(actor, criteria)
    if "benefits" in changes:
        changes["benefits"] = _benefit_values(changes["benefits"])
    changed = {}
    for name, value in changes.items():
        if getattr(criteria, name) != value:
            setattr(criteria, name, value)
            changed[name] = value
    if changed:
        criteria.updated_at = utcnow()
        save_and_audit(
            criteria,
            actor=actor,
            action="certification_criteria.update",
            target_type="certification_criteria",
            details=changed,
        )
    return criteria


def _benefit_values(benefits: list[Benefit] | list[str] | None) -> list[str]:
    values = {Benefit(benefit).value for benefit in benefits or ()}
    return [benefit.value for benefit in Benefit if benefit.value in values]


def active_criteria(*, municipality_id: str, kind: CertificateKind) -> CertificationCriteria | None:
    """The active criteria of a kind in a municipality, if any."""
    return db.session.scalar(
        sa.select(CertificationCriteria).where(
            CertificationCriteria.municipality_id == municipality_id,
            CertificationCriteria.kind == kind,
            CertificationCriteria.is_active.is_(True),
        )
    )
