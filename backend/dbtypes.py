"""Column types and column helpers shared by every domain's models."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.clock import as_utc, utcnow
from backend.ids import new_id


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset; without this the same column would come back naive there and
    aware on PostgreSQL.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def id_column() -> Mapped[str]:
    """Primary key column holding an opaque ULID."""
    return mapped_column(sa.String(26), primary_key=True, default=new_id)


def created_at_column() -> Mapped[datetime]:
    """Creation time, set by the injectable clock."""
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow)


def enum_type(enum_class: type[enum.Enum], name: str, length: int = 16) -> sa.Enum:
    """A portable enum column stored as its value (VARCHAR, no native type to migrate)."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
