"""Participation: indicator records of a project."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import User
from backend.pagination import Page
from backend.participation.models import (
    ExchangePartner,
    IndicatorKind,
    IndicatorRecord,
    Project,
    PromotionChannel,
)
from backend.permissions import (
    Role,
)
from backend.rows import list_page

# ---- indicator records ----------------------------------------------------------------------


def record_indicator(
    *,
    actor: User,
    kind: IndicatorKind,
    title: str,
    occurred_on: date,
    channel: PromotionChannel | None = None,
    partner: ExchangePartner | None = None,
    project_id: str | None = None,
    note: str = "",
) -> IndicatorRecord:
    """An official records an indicator fact of their municipality."""
    if actor.role != Role.OFFICIAL or not actor.municipality_id:
        raise PermissionDenied("Only officials record indicator facts.")
    if kind == IndicatorKind.PROMOTION and channel is None:
        raise ValidationFailed(
            "A promotion needs its channel.",
            code="channel_required",
            fields={"channel": ["Required for promotions."]},
        )
    if kind == IndicatorKind.EXCHANGE and partner is None:
        raise ValidationFailed(
            "An exchange needs its partner.",
            code="partner_required",
            fields={"partner": ["Required for exchanges."]},
        )
    if kind != IndicatorKind.PROMOTION and channel is not None:
        raise ValidationFailed(
            "Only promotions have a channel.",
            code="channel_not_allowed",
            fields={"channel": ["Only for promotions."]},
        )
    if kind != IndicatorKind.EXCHANGE and partner is not None:
        raise ValidationFailed(
            "Only exchanges have a partner.",
            code="partner_not_allowed",
            fields={"partner": ["Only for exchanges."]},
        )
    if project_id is not None:
        project = db.session.get(Project, project_id)
        if project is None or project.municipality_id != actor.municipality_id:
            raise NotFound(
                "Project not found.",
                code="project_not_found",
                fields={"project_id": ["No such project here."]},
            )
    record = IndicatorRecord(
        municipality_id=actor.municipality_id,
        kind=kind,
        title=title.strip(),
        occurred_on=occurred_on,
        channel=channel,
        partner=partner,
        project_id=project_id,
        note=note,
        created_by=actor.id,
    )
    save_and_audit(
        record,
        actor=actor,
        action="indicator_record.create",
        target_type="indicator_record",
        details={"kind": kind.value, "title": record.title},
    )
    return record


def list_indicator_records(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    kind: IndicatorKind | None = None,
    year: int | None = None,
    municipality_id: str | None = None,
) -> Page:
    """Indicator facts the viewer may see, newest first."""
    query = sa.select(IndicatorRecord)
    if year is not None:
        query = query.where(
            IndicatorRecord.occurred_on.between(date(year, 1, 1), date(year, 12, 31))
        )
    return list_page(
        IndicatorRecord,
        query=query,
        viewer=viewer,
        filters={IndicatorRecord.kind: kind, IndicatorRecord.municipality_id: municipality_id},
        limit=limit,
        cursor=cursor,
    )
