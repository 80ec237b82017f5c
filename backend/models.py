"""Imports every domain's models, so metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from pathlib import Path

from backend.audit.models import AuditEntry
from backend.certification.models import (
    Certificate,
    CertificateSerialCounter,
    CertificateSigningKey,
    CertificationCriteria,
    CertificationState,
)
from backend.idempotency.models import IdempotencyRecord
from backend.identity.models import AuthSession, Municipality, User
from backend.rewards.models import RewardBudget, RewardLedgerEntry, RewardRule

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "AuditEntry",
    "AuthSession",
    "Certificate",
    "CertificateSerialCounter",
    "CertificateSigningKey",
    "CertificationCriteria",
    "CertificationState",
    "IdempotencyRecord",
    "Municipality",
    "RewardBudget",
    "RewardLedgerEntry",
    "RewardRule",
    "User",
]
