"""Certification: a citizen's progress towards each criteria."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backend.certification.certificates import _current_certificate
from backend.certification.criteria import (
    Progress,
    StatsLike,
    evaluate_criteria,
    window_start,
)
from backend.certification.models import (
    Certificate,
    CertificateKind,
    CertificationCriteria,
)
from backend.clock import utcnow
from backend.extensions import db
from backend.identity.models import User
from backend.participation.services import confirmed_participation_stats

# ---- progress -------------------------------------------------------------------------------


def _participation_stats(user_id: str, since: datetime) -> StatsLike:
    """The citizen's confirmed participations since a moment: the one call into participation."""
    return confirmed_participation_stats(user_id=user_id, since=since)


@dataclass(frozen=True)
class CriteriaProgress:
    """A citizen's progress toward one kind of certificate."""

    criteria: CertificationCriteria
    window_start: datetime
    progress: Progress
    certificate: Certificate | None

    @property
    def met(self) -> bool:
        """True when every requirement is met."""
        return self.progress.met

    @property
    def requirements(self) -> tuple:
        """What is required, what the citizen has, and what is missing."""
        return self.progress.requirements

    @property
    def kind(self) -> CertificateKind:
        """The kind of certificate."""
        return self.criteria.kind


def progress_for(*, user: User) -> list[CriteriaProgress]:
    """A citizen's progress toward every certificate of their municipality with criteria."""
    now = utcnow()
    criteria_rows = db.session.scalars(
        sa.select(CertificationCriteria)
        .where(
            CertificationCriteria.municipality_id == user.municipality_id,
            CertificationCriteria.is_active.is_(True),
        )
        .order_by(CertificationCriteria.kind)
    )
    found = []
    for criteria in criteria_rows:
        since = window_start(now, criteria.window_months)
        stats = _participation_stats(user.id, since)
        found.append(
            CriteriaProgress(
                criteria=criteria,
                window_start=since,
                progress=evaluate_criteria(criteria, stats),
                certificate=_current_certificate(user.id, criteria.kind, mark_expired=False),
            )
        )
    return found


def _criteria_met(user: User, criteria: CertificationCriteria) -> bool:
    stats = _participation_stats(user.id, window_start(utcnow(), criteria.window_months))
    return evaluate_criteria(criteria, stats).met
