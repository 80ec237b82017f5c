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

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "Activity",
    "Appointment",
    "AuditEntry",
    "AuthSession",
    "CalendarFeed",
    "CaseFunding",
    "Committee",
    "Course",
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
    "MediationMember",
    "Meeting",
    "Municipality",
    "Participation",
    "Project",
    "ProjectStage",
    "Registration",
    "SelectedCase",
    "Survey",
    "SurveyResponse",
    "User",
]
