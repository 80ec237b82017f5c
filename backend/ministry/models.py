"""Ministry models (행정안전부): selected good cases and their yearly follow-ups and central
funding, the dispute mediation committee and its cases, and the training courses.

These are the ministry's own records. Rows about one municipality (a selected case, a dispute,
an official's enrolment) carry its `municipality_id` so tenancy scoping needs no join.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db
from backend.identity.models import User
from backend.participation.models import Project, TrainingLevel


def _fk(target: str, *, nullable: bool = False, ondelete: str | None = None) -> Mapped:
    return mapped_column(sa.String(26), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


# ---- follow-up of good cases (사업관리) ------------------------------------------------------


class Source(enum.StrEnum):
    """Where a follow-up value came from."""

    PLATFORM = "platform"
    MUNICIPALITY = "municipality"


class SelectedCase(db.Model):
    """A project the ministry picked as a good case (우수사례) in a contest year."""

    __tablename__ = "selected_cases"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "contest_year"),
        sa.Index("ix_selected_cases_municipality", "municipality_id", "id"),
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = _fk("projects.id")
    #: Copied from the project.
    municipality_id: Mapped[str] = _fk("municipalities.id")
    contest_year: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    #: The award as the contest named it (대상, 최우수상, 우수상 ...).
    award: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: The contest's category (분야), free text since it changed over the years.
    category: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    note: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()

    project: Mapped[Project] = relationship(lazy="joined", innerjoin=True)


class CaseFunding(db.Model):
    """Central multi-year funding (다년간 예산지원) granted to a selected case for one year."""

    __tablename__ = "case_fundings"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_case_fundings_case", "case_id", "year"),
    )

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = _fk("selected_cases.id", ondelete="CASCADE")
    year: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    #: In won (KRW).
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    purpose: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()


class FollowUp(db.Model):
    """A selected case's yearly follow-up: the evaluation indicators as of that year.

    Filled from live data when it is made; the municipality supplies only what the platform
    lacks (whether the project ran on off the platform, a satisfaction figure without surveys).
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "year"),
        sa.Index("ix_follow_ups_municipality", "municipality_id", "year"),
    )

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = _fk("selected_cases.id", ondelete="CASCADE")
    municipality_id: Mapped[str] = _fk("municipalities.id")
    year: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    still_running: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    still_running_source: Mapped[Source] = mapped_column(enum_type(Source, "value_source"))
    # 행정지원
    ordinance_enacted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    dedicated_department: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # 역량강화
    trainings: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    participants_trained: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    course_completions: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    training_satisfaction: Mapped[float | None] = mapped_column(sa.Float)
    # 사업홍보
    promotions: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    promotion_channel_count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # 투명성
    exchanges: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # 만족도 조사
    resident_satisfaction: Mapped[float | None] = mapped_column(sa.Float)
    resident_satisfaction_responses: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    resident_satisfaction_source: Mapped[Source | None] = mapped_column(
        enum_type(Source, "value_source")
    )
    note: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()


# ---- dispute mediation (분쟁조정위원회) --------------------------------------------------------


class MemberRole(enum.StrEnum):
    CHAIR = "chair"
    MEMBER = "member"


class Qualification(enum.StrEnum):
    """The brief's three kinds of members."""

    SENIOR_OFFICIAL = "senior_official"  # 행정안전부 소속 고위공무원
    ACADEMIC = "academic"  # 대학 및 연구기관의 교수, 연구원
    PRACTITIONER = "practitioner"  # 공동생산·시민참여 분야 10년 이상 종사자


class MediationMember(db.Model):
    """A member (or the chair) of the ministry's dispute mediation committee."""

    __tablename__ = "mediation_members"
    __table_args__ = (sa.Index("ix_mediation_members_user", "user_id"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = _fk("users.id")
    role: Mapped[MemberRole] = mapped_column(enum_type(MemberRole, "mediation_role"))
    qualification: Mapped[Qualification] = mapped_column(
        enum_type(Qualification, "qualification", 20)
    )
    affiliation: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    years_of_experience: Mapped[int | None] = mapped_column(sa.SmallInteger)
    appointed_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: The last day of membership; NULL while serving.
    ended_on: Mapped[date | None] = mapped_column(sa.Date)
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def display_name(self) -> str:
        """The member's name."""
        return self.user.display_name


class DisputeState(enum.StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    IN_MEDIATION = "in_mediation"
    SETTLED = "settled"
    NOT_SETTLED = "not_settled"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_DS = DisputeState
#: The dispute state machine: from a state, the states it may move to, in order.
DISPUTE_TRANSITIONS: dict[DisputeState, tuple[DisputeState, ...]] = {
    _DS.FILED: (_DS.ACCEPTED, _DS.REJECTED, _DS.WITHDRAWN),
    _DS.ACCEPTED: (_DS.IN_MEDIATION, _DS.WITHDRAWN),
    _DS.IN_MEDIATION: (_DS.SETTLED, _DS.NOT_SETTLED, _DS.WITHDRAWN),
    _DS.SETTLED: (),
    _DS.NOT_SETTLED: (),
    _DS.REJECTED: (),
    _DS.WITHDRAWN: (),
}


class Side(enum.StrEnum):
    GOVERNMENT = "government"
    PRIVATE = "private"


class PartyKind(enum.StrEnum):
    MUNICIPALITY = "municipality"
    CITIZEN = "citizen"
    RESIDENTS_GROUP = "residents_group"
    COMPANY = "company"


class Dispute(db.Model):
    """A dispute between a municipality and its private partner about a project."""

    __tablename__ = "disputes"
    __table_args__ = (
        sa.Index("ix_disputes_municipality", "municipality_id", "id"),
        sa.Index("ix_disputes_deadline", "state", "deadline"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = _fk("municipalities.id")
    project_id: Mapped[str] = _fk("projects.id")
    filed_by_id: Mapped[str] = _fk("users.id")
    filer_side: Mapped[Side] = mapped_column(enum_type(Side, "dispute_side"))
    subject: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    claims: Mapped[str] = mapped_column(sa.Text, nullable=False)
    state: Mapped[DisputeState] = mapped_column(
        enum_type(DisputeState, "dispute_state"), nullable=False, default=DisputeState.FILED
    )
    #: The date by which mediation should conclude; set on acceptance.
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    #: The deadline the near-deadline reminder was sent for (once per deadline).
    deadline_reminded_for: Mapped[date | None] = mapped_column(sa.Date)
    #: The settlement terms, the reason of a rejection, a withdrawal or a failed mediation.
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    project: Mapped[Project] = relationship(lazy="joined", innerjoin=True)
    parties: Mapped[list[DisputeParty]] = relationship(
        lazy="selectin", order_by="DisputeParty.position"
    )
    documents: Mapped[list[DisputeDocument]] = relationship(
        lazy="selectin", order_by="DisputeDocument.id"
    )
    mediators: Mapped[list[DisputeMediator]] = relationship(
        lazy="selectin", order_by="DisputeMediator.id"
    )
    hearings: Mapped[list[DisputeHearing]] = relationship(
        lazy="selectin", order_by="DisputeHearing.starts_at"
    )

    @property
    def allowed_moves(self) -> list[str]:
        """The states the case may move to next."""
        return [s.value for s in DISPUTE_TRANSITIONS[self.state]]

    @property
    def party_user_ids(self) -> set[str]:
        """The users who are parties."""
        return {p.user_id for p in self.parties if p.user_id}

    @property
    def mediator_user_ids(self) -> set[str]:
        """The users assigned to mediate."""
        return {m.user_id for m in self.mediators}


class DisputeParty(db.Model):
    """A party to a dispute: a user of the platform, or an outside body named only."""

    __tablename__ = "dispute_parties"
    __table_args__ = (sa.Index("ix_dispute_parties_user", "user_id", "dispute_id"),)

    id: Mapped[str] = id_column()
    dispute_id: Mapped[str] = _fk("disputes.id", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    user_id: Mapped[str | None] = _fk("users.id", nullable=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    side: Mapped[Side] = mapped_column(enum_type(Side, "dispute_side"))
    kind: Mapped[PartyKind] = mapped_column(enum_type(PartyKind, "party_kind"))


class DisputeDocument(db.Model):
    """A document of a case, by reference (title and address)."""

    __tablename__ = "dispute_documents"

    id: Mapped[str] = id_column()
    dispute_id: Mapped[str] = _fk("disputes.id", ondelete="CASCADE")
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    url: Mapped[str | None] = mapped_column(sa.String(500))
    added_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()


class DisputeMediator(db.Model):
    """A committee member assigned to mediate a case."""

    __tablename__ = "dispute_mediators"
    __table_args__ = (sa.UniqueConstraint("dispute_id", "member_id"),)

    id: Mapped[str] = id_column()
    dispute_id: Mapped[str] = _fk("disputes.id", ondelete="CASCADE")
    member_id: Mapped[str] = _fk("mediation_members.id")
    user_id: Mapped[str] = _fk("users.id")
    assigned_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()

    member: Mapped[MediationMember] = relationship(lazy="joined", innerjoin=True)


class DisputeHearing(db.Model):
    """A hearing (조정회의) of the mediation committee on a case."""

    __tablename__ = "dispute_hearings"

    id: Mapped[str] = id_column()
    dispute_id: Mapped[str] = _fk("disputes.id", ondelete="CASCADE")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    place: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    agenda: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()


# ---- training courses (교육프로그램) ----------------------------------------------------------


class CourseAudience(enum.StrEnum):
    OFFICIALS = "officials"
    RESIDENTS = "residents"
    ALL = "all"


class CourseHost(enum.StrEnum):
    """Held by the ministry, or in a region (권역별)."""

    MINISTRY = "ministry"
    REGION = "region"


class Course(db.Model):
    """A course of the ministry's co-production education programme."""

    __tablename__ = "courses"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("enrolled_count <= capacity", name="within_capacity"),
        sa.CheckConstraint("days BETWEEN 1 AND 3", name="days_range"),
        sa.Index("ix_courses_starts_on", "starts_on"),
    )

    id: Mapped[str] = id_column()
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    level: Mapped[TrainingLevel] = mapped_column(enum_type(TrainingLevel, "training_level", 10))
    audience: Mapped[CourseAudience] = mapped_column(enum_type(CourseAudience, "course_audience"))
    host: Mapped[CourseHost] = mapped_column(enum_type(CourseHost, "course_host"))
    #: The region for a regional course (e.g. 경기도), else NULL.
    region: Mapped[str | None] = mapped_column(sa.String(50))
    place: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    days: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    capacity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Enrolments holding a seat (not cancelled); kept by the services with an atomic UPDATE.
    enrolled_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def open_seats(self) -> int:
        """Seats left."""
        return max(0, self.capacity - self.enrolled_count)


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"


class Enrolment(db.Model):
    """One person's place on a course: attendance per day, completion and a rating."""

    __tablename__ = "enrolments"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "user_id"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        sa.Index("ix_enrolments_user", "user_id", "id"),
        # The capacity-building indicator counts completions per municipality and year.
        sa.Index("ix_enrolments_completions", "municipality_id", "status", "completed_at"),
    )

    id: Mapped[str] = id_column()
    course_id: Mapped[str] = _fk("courses.id", ondelete="CASCADE")
    user_id: Mapped[str] = _fk("users.id", ondelete="CASCADE")
    #: The person's municipality when enrolling (NULL for national staff).
    municipality_id: Mapped[str | None] = _fk("municipalities.id", nullable=True)
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_type(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ENROLLED
    )
    #: Day numbers (1..course.days) attended, as a sorted list.
    attended_days: Mapped[list[int]] = mapped_column(sa.JSON, nullable=False, default=list)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rating_comment: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    created_at: Mapped[datetime] = created_at_column()

    course: Mapped[Course] = relationship(lazy="joined", innerjoin=True)
