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
from backend.committees.models import (
    Appointment,
    CalendarFeed,
    Committee,
    Meeting,
    Registration,
)
from backend.idempotency.models import IdempotencyRecord
from backend.identity.models import AuthSession, Municipality, User
from backend.participation.models import (
    Activity,
    GovernmentWork,
    IndicatorRecord,
    Participation,
    Project,
    ProjectStage,
    Survey,
    SurveyResponse,
)
from backend.rewards.models import RewardBudget, RewardLedgerEntry, RewardRule

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "Activity",
    "Appointment",
    "AuditEntry",
    "AuthSession",
    "CalendarFeed",
    "Committee",
    "GovernmentWork",
    "Certificate",
    "CertificateSerialCounter",
    "CertificateSigningKey",
    "CertificationCriteria",
    "CertificationState",
    "IdempotencyRecord",
    "IndicatorRecord",
    "Meeting",
    "Municipality",
    "Participation",
    "Project",
    "ProjectStage",
    "Registration",
    "Survey",
    "SurveyResponse",
    "RewardBudget",
    "RewardLedgerEntry",
    "RewardRule",
    "User",
]
