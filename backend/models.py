"""Imports every domain's models, so metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from pathlib import Path

from backend.audit.models import AuditEntry
from backend.committees.models import (
    Appointment,
    CalendarFeed,
    Committee,
    Meeting,
    Registration,
)
from backend.idempotency.models import IdempotencyRecord
from backend.identity.models import AuthSession, Municipality, User

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "Appointment",
    "AuditEntry",
    "AuthSession",
    "CalendarFeed",
    "Committee",
    "IdempotencyRecord",
    "Meeting",
    "Municipality",
    "Registration",
    "User",
]
