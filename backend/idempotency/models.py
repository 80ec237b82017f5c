"""Stored first answers of POST requests that carried an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import created_at_column, id_column
from backend.extensions import db


class IdempotencyRecord(db.Model):
    """The first successful answer to (caller, key); the unique index stops a double action."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: Mapped[str] = id_column()
    #: "user:<id>" for a signed-in caller, "anonymous" otherwise.
    scope: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    #: SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    location: Mapped[str | None] = mapped_column(sa.String(500))
    body: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
