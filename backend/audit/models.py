"""The audit log table: rows are only ever inserted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import created_at_column, id_column
from backend.extensions import db


class AuditEntry(db.Model):
    """Who did what to which thing, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_target", "target_type", "target_id"),
        sa.Index("ix_audit_log_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    actor_id: Mapped[str | None] = mapped_column(sa.String(26), index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    #: Municipality the target belongs to (NULL for national objects).
    municipality_id: Mapped[str | None] = mapped_column(sa.String(26))
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at_column()
