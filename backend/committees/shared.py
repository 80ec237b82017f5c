"""Committees: what the sub-domain modules share (the certification seam, visibility, locks)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from backend.certification.services import has_active_certificate
from backend.clock import SEOUL
from backend.committees.models import (
    Appointment,
)
from backend.extensions import db

T = TypeVar("T")


# ---- other domains ----------------------------------------------------------------------------


def _holds_active_certificate(user_id: str, on: date) -> bool:
    """Whether the user holds an active model-citizen certificate on a day (certification).

    Callers reach it as ``shared._holds_active_certificate`` so that tests can replace it here.
    """
    return has_active_certificate(user_id=user_id, on=on)


# ---- helpers ----------------------------------------------------------------------------------


def _lock(model: Any, row: T) -> T:
    """Serialise writers on one row and return it freshly read.

    PostgreSQL: ``SELECT ... FOR UPDATE`` waits for the other holders. SQLite has one writer at a
    time: a (no-op) UPDATE takes the write lock now, before anything is counted, so a second
    writer waits (busy_timeout) instead of failing later on a stale snapshot.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        query = (
            sa.select(model)
            .where(model.id == row.id)
            .with_for_update(of=model)
            .execution_options(populate_existing=True)
        )
        return db.session.scalars(query).one()
    db.session.execute(
        sa.update(model)
        .where(model.id == row.id)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SEOUL).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def _members_on(committee_id: str, day: date) -> list[str]:
    """Ids of the people who hold a term on a committee on a day."""
    return list(
        db.session.scalars(
            sa.select(Appointment.user_id).where(
                Appointment.committee_id == committee_id,
                Appointment.term_start <= day,
                Appointment.effective_end >= day,
            )
        )
    )
