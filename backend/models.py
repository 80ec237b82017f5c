"""Imports every domain's models, so metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from pathlib import Path

from backend.audit.models import AuditEntry
from backend.idempotency.models import IdempotencyRecord
from backend.identity.models import AuthSession, Municipality, User
from backend.notifications.models import (
    Announcement,
    DeliveryCounter,
    Device,
    Notification,
    NotificationPreference,
    OutboxMessage,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "Announcement",
    "AuditEntry",
    "AuthSession",
    "DeliveryCounter",
    "Device",
    "IdempotencyRecord",
    "Municipality",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "User",
]
