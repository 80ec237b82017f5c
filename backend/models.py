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
from backend.jobs.models import ConsoleJob, ConsoleJobRow
from backend.ministry.models import (
    CaseFunding,
    Course,
    Dispute,
    DisputeDocument,
    DisputeHearing,
    DisputeMediator,
    DisputeParty,
    Enrolment,
    FollowUp,
    MediationMember,
    SelectedCase,
)
from backend.notifications.models import (
    Announcement,
    DeliveryCounter,
    Device,
    Notification,
    NotificationPreference,
    OutboxMessage,
)
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
from backend.privacy.models import (
    AccessRecord,
    AccessRecordSubject,
    AssuranceRequirement,
    Consent,
    DataExport,
    DormancyPolicy,
    GuardianConsent,
    IdentityAssurance,
)
from backend.rewards.models import RewardBudget, RewardLedgerEntry, RewardRule

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "AssuranceRequirement",
    "IdentityAssurance",
    "GuardianConsent",
    "DormancyPolicy",
    "DataExport",
    "Consent",
    "AccessRecordSubject",
    "AccessRecord",
    "Activity",
    "Announcement",
    "Appointment",
    "AuditEntry",
    "AuthSession",
    "CalendarFeed",
    "CaseFunding",
    "Certificate",
    "CertificateSerialCounter",
    "CertificateSigningKey",
    "CertificationCriteria",
    "CertificationState",
    "Committee",
    "ConsoleJob",
    "ConsoleJobRow",
    "Course",
    "DeliveryCounter",
    "Device",
    "Dispute",
    "DisputeDocument",
    "DisputeHearing",
    "DisputeMediator",
    "DisputeParty",
    "Enrolment",
    "FollowUp",
    "GovernmentWork",
    "IdempotencyRecord",
    "IndicatorRecord",
    "MIGRATIONS_DIR",
    "MediationMember",
    "Meeting",
    "Municipality",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "Participation",
    "Project",
    "ProjectStage",
    "Registration",
    "RewardBudget",
    "RewardLedgerEntry",
    "RewardRule",
    "SelectedCase",
    "Survey",
    "SurveyResponse",
    "User",
]
