"""Participation models: projects, their four stages, activities, participations, surveys and
the municipality's indicator records.

The reports never aggregate participations: each stage row keeps its own counters (government
work logged, confirmed participations, their hours) and its stored mode, updated in the same
transaction as the change that moves them, and carries copies of the project fields the reports
filter on (municipality, year, field, status).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db


class Stage(enum.StrEnum):
    """The four stages of the policy process (계획, 결정, 집행, 평가), in order."""

    PLAN = "plan"
    DECIDE = "decide"
    IMPLEMENT = "implement"
    EVALUATE = "evaluate"


class StageMode(enum.StrEnum):
    """Who acted in a stage: the brief's rows (정부독자적, 시민독자적, 공동참여, 불명확)."""

    GOVERNMENT = "government"
    CITIZEN = "citizen"
    JOINT = "joint"
    UNCLEAR = "unclear"


class StageStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ProjectStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class ProjectField(enum.StrEnum):
    """Policy field of a project."""

    SAFETY = "safety"
    YOUTH = "youth"
    WELFARE = "welfare"
    ENVIRONMENT = "environment"
    LOCAL_ECONOMY = "local_economy"
    CULTURE = "culture"
    HEALTH = "health"
    EDUCATION = "education"
    TRANSPORT = "transport"
    OTHER = "other"


class ActivityKind(enum.StrEnum):
    WORKSHOP = "workshop"
    DELIBERATION = "deliberation"
    SURVEY = "survey"
    FIELD_WORK = "field_work"
    MEETING = "meeting"
    MONITORING = "monitoring"
    TRAINING = "training"


class TrainingLevel(enum.StrEnum):
    """The brief's education programme: a basic 1-day course, an advanced 2-3 day course."""

    BASIC = "basic"
    ADVANCED = "advanced"


class ParticipationStatus(enum.StrEnum):
    REGISTERED = "registered"
    ATTENDED = "attended"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    NO_SHOW = "no_show"


#: Statuses that hold a seat of the activity (count against its capacity).
SEAT_HOLDING = frozenset(
    {ParticipationStatus.REGISTERED, ParticipationStatus.ATTENDED, ParticipationStatus.CONFIRMED}
)


class IndicatorKind(enum.StrEnum):
    """Facts officials record for the brief's evaluation indicators."""

    ORDINANCE = "ordinance"  # 조례 정비
    DEDICATED_DEPARTMENT = "dedicated_department"  # 전담부서 설립
    PROMOTION = "promotion"  # 사업 홍보 (with a channel)
    EXCHANGE = "exchange"  # 주민자치회·마을공동체와의 교류 (with a partner)


class PromotionChannel(enum.StrEnum):
    PRESS = "press"
    WEBSITE = "website"
    SNS = "sns"
    BROADCAST = "broadcast"
    PRINT = "print"
    OUTDOOR = "outdoor"
    EVENT = "event"
    NEWSLETTER = "newsletter"
    APP = "app"
    OTHER = "other"


class ExchangePartner(enum.StrEnum):
    RESIDENTS_ASSOCIATION = "residents_association"  # 주민자치회
    VILLAGE_COMMUNITY = "village_community"  # 마을공동체
    PRIVATE_PARTNER = "private_partner"  # 사업에 참여하는 민간 주체


def _municipality_fk() -> Mapped[str]:
    return mapped_column(sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False)


class Project(db.Model):
    """A co-production project (사업) of a municipality."""

    __tablename__ = "projects"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.Index("ix_projects_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _municipality_fk()
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    field: Mapped[ProjectField] = mapped_column(
        enum_type(ProjectField, "project_field", 20), nullable=False
    )
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[ProjectStatus] = mapped_column(
        enum_type(ProjectStatus, "project_status"), nullable=False, default=ProjectStatus.DRAFT
    )
    visibility: Mapped[Visibility] = mapped_column(
        enum_type(Visibility, "project_visibility"), nullable=False, default=Visibility.PUBLIC
    )
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()

    stages: Mapped[list[ProjectStage]] = relationship(
        back_populates="project", order_by="ProjectStage.position", lazy="select"
    )


class ProjectStage(db.Model):
    """One of a project's four stages, with the counters its mode is derived from."""

    __tablename__ = "project_stages"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "stage"),
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"
        ),
        # The stage-mode report groups these rows (a few per project), never participations.
        sa.Index("ix_project_stages_report", "stage", "mode", "project_status", "year"),
        sa.Index("ix_project_stages_municipality", "municipality_id", "year", "stage", "mode"),
        sa.Index("ix_project_stages_project_mode", "project_id", "stage", "mode"),
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, "stage", 10), nullable=False)
    #: 1-4, the order of the stages.
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[StageStatus] = mapped_column(
        enum_type(StageStatus, "stage_status"), nullable=False, default=StageStatus.PLANNED
    )
    #: The mode the counters say; `mode` is this unless an official overrode it.
    derived_mode: Mapped[StageMode] = mapped_column(
        enum_type(StageMode, "stage_mode", 12), nullable=False, default=StageMode.UNCLEAR
    )
    override_mode: Mapped[StageMode | None] = mapped_column(enum_type(StageMode, "stage_mode", 12))
    override_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: The effective mode, what the reports count: override_mode if set, else derived_mode.
    mode: Mapped[StageMode] = mapped_column(
        enum_type(StageMode, "stage_mode", 12), nullable=False, default=StageMode.UNCLEAR
    )
    government_work_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Confirmed participations in the stage's activities.
    confirmed_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    confirmed_hours: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    # Copies of project columns, kept in step by the services, so the report needs no join.
    municipality_id: Mapped[str] = _municipality_fk()
    year: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    field: Mapped[ProjectField] = mapped_column(
        enum_type(ProjectField, "project_field", 20), nullable=False
    )
    project_status: Mapped[ProjectStatus] = mapped_column(
        enum_type(ProjectStatus, "project_status"), nullable=False
    )

    project: Mapped[Project] = relationship(back_populates="stages")

    @property
    def mode_overridden(self) -> bool:
        """Whether an official imposed the mode."""
        return self.override_mode is not None


class GovernmentWork(db.Model):
    """Something the administration did alone in a stage (so "government" ≠ "no one")."""

    __tablename__ = "government_work"
    __table_args__ = (sa.Index("ix_government_work_project", "project_id", "id"),)

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _municipality_fk()
    project_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    stage_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("project_stages.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, "stage", 10), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    performed_on: Mapped[date | None] = mapped_column(sa.Date)
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()


class Activity(db.Model):
    """Something citizens take part in within a stage: a workshop, a survey, a training..."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="times_in_order"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "capacity IS NULL OR registered_count <= capacity", name="within_capacity"
        ),
        sa.Index("ix_activities_project", "project_id", "stage", "id"),
        sa.Index("ix_activities_municipality", "municipality_id", "id"),
        sa.Index("ix_activities_municipality_kind", "municipality_id", "kind", "starts_at"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _municipality_fk()
    project_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    stage_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("project_stages.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, "stage", 10), nullable=False)
    kind: Mapped[ActivityKind] = mapped_column(
        enum_type(ActivityKind, "activity_kind"), nullable=False
    )
    #: Only for trainings.
    training_level: Mapped[TrainingLevel | None] = mapped_column(
        enum_type(TrainingLevel, "training_level", 10)
    )
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    place: Mapped[str | None] = mapped_column(sa.String(200))
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: NULL: no limit.
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    #: Participations holding a seat (registered, attended, confirmed); kept by the services.
    registered_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Set when another domain's event made the activity, e.g. "meeting:<meeting id>".
    source_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()

    project: Mapped[Project] = relationship(lazy="joined", innerjoin=True)

    @property
    def open_seats(self) -> int | None:
        """Seats left, or None when the activity has no limit."""
        return None if self.capacity is None else max(0, self.capacity - self.registered_count)


class Participation(db.Model):
    """One citizen's record in one activity: registered → attended → confirmed."""

    __tablename__ = "participations"
    __table_args__ = (
        sa.UniqueConstraint("activity_id", "user_id"),
        sa.CheckConstraint("hours IS NULL OR hours >= 0", name="hours_not_negative"),
        # A citizen's history, newest first, and the certification statistics.
        sa.Index("ix_participations_user", "user_id", "id"),
        sa.Index("ix_participations_user_status_start", "user_id", "status", "activity_starts_at"),
        sa.Index("ix_participations_activity_status", "activity_id", "status"),
        sa.Index("ix_participations_project_stage", "project_id", "stage", "status", "user_id"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _municipality_fk()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    activity_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("activities.id", ondelete="CASCADE"), nullable=False
    )
    project_id: Mapped[str] = mapped_column(sa.String(26), nullable=False)
    stage_id: Mapped[str] = mapped_column(sa.String(26), nullable=False)
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, "stage", 10), nullable=False)
    #: Copy of the activity's start, for "participations since" without a join.
    activity_starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[ParticipationStatus] = mapped_column(
        enum_type(ParticipationStatus, "participation_status"),
        nullable=False,
        default=ParticipationStatus.REGISTERED,
    )
    #: Set when confirmed.
    hours: Mapped[float | None] = mapped_column(sa.Float)
    registered_at: Mapped[datetime] = created_at_column()
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(sa.String(26))
    rejection_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: Who wrote the record: NULL when the citizen joined, else the official who recorded it.
    recorded_by: Mapped[str | None] = mapped_column(sa.String(26))

    activity: Mapped[Activity] = relationship(lazy="select")
    user = relationship("User", lazy="select")


class Survey(db.Model):
    """A satisfaction survey (1-5 and a comment) of a project or of one of its activities."""

    __tablename__ = "surveys"
    __table_args__ = (
        sa.Index("ix_surveys_project", "project_id", "id"),
        sa.Index("ix_surveys_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _municipality_fk()
    project_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    activity_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("activities.id", ondelete="CASCADE")
    )
    #: The activity id, or the project id for a project survey: one survey per target.
    target_key: Mapped[str] = mapped_column(sa.String(26), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()
    # Aggregates kept as answers arrive.
    response_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_sum: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_1: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_2: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_3: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_4: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_5: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    activity: Mapped[Activity | None] = relationship(lazy="select")

    @property
    def mean_rating(self) -> float | None:
        """The mean rating, two decimals; None before the first answer."""
        if not self.response_count:
            return None
        return round(self.rating_sum / self.response_count, 2)

    @property
    def distribution(self) -> dict[str, int]:
        """How many answers gave each rating, "1" to "5"."""
        return {str(r): getattr(self, f"rating_{r}") for r in range(1, 6)}


class SurveyResponse(db.Model):
    """One citizen's answer to a survey (one per citizen)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "user_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        sa.Index("ix_survey_responses_survey", "survey_id", "id"),
    )

    id: Mapped[str] = id_column()
    survey_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    rating: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    comment: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    created_at: Mapped[datetime] = created_at_column()


class IndicatorRecord(db.Model):
    """A fact behind the evaluation indicators: an ordinance, a department, a promotion..."""

    __tablename__ = "indicator_records"
    __table_args__ = (
        sa.Index("ix_indicator_records_municipality", "municipality_id", "kind", "occurred_on"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _municipality_fk()
    kind: Mapped[IndicatorKind] = mapped_column(
        enum_type(IndicatorKind, "indicator_kind", 24), nullable=False
    )
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    occurred_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: For promotions.
    channel: Mapped[PromotionChannel | None] = mapped_column(
        enum_type(PromotionChannel, "promotion_channel")
    )
    #: For exchanges.
    partner: Mapped[ExchangePartner | None] = mapped_column(
        enum_type(ExchangePartner, "exchange_partner", 24)
    )
    project_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("projects.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()
