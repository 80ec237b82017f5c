"""Personal-data tables: consents, guardian consents, access records, data exports, dormancy
policies and identity assurance results."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db


def _enum(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    return enum_type(enum_class, name, 20)


class ConsentChannel(enum.StrEnum):
    """How a consent was given or withdrawn."""

    APP = "app"
    WEB = "web"
    PAPER = "paper"  #: a signed form an official entered


class Consent(db.Model):
    """One decision of a person about one purpose, for one version of its text.

    Rows are only added: the current state of a purpose is its newest row, and the history
    shows what the person agreed to, when and how. A withdrawal is a row with `granted` false.
    """

    __tablename__ = "consents"
    __table_args__ = (sa.Index("ix_consents_user_purpose", "user_id", "purpose", "id"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    #: The version of the text the person was shown (backend.privacy.consents.CONSENT_TEXTS).
    version: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    granted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    channel: Mapped[ConsentChannel] = mapped_column(
        _enum(ConsentChannel, "consent_channel"), nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()


class GuardianMethod(enum.StrEnum):
    """How a legal guardian's consent for a child under 14 was obtained."""

    PAPER_FORM = "paper_form"  #: a signed form with a copy of the guardian's ID, seen and returned
    IN_PERSON = "in_person"  #: the guardian came to the office
    PHONE_CALL = "phone_call"  #: an official called the guardian back on a known number
    IDENTITY_PROVIDER = "identity_provider"  #: the guardian passed a carrier / 간편인증 check


class GuardianConsent(db.Model):
    """A legal guardian's consent for a citizen under 14, as an official recorded it.

    The guardian's own name and number are not kept: what matters later is that consent was
    obtained, how, and by whom it was checked.
    """

    __tablename__ = "guardian_consents"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    method: Mapped[GuardianMethod] = mapped_column(
        _enum(GuardianMethod, "guardian_method"), nullable=False
    )
    #: 부, 모, 법정대리인 ... as the guardian stated it.
    relation: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    recorded_by: Mapped[str | None] = mapped_column(sa.String(26))
    created_at: Mapped[datetime] = created_at_column()


class AccessAction(enum.StrEnum):
    """What a staff member did with personal data (개인정보 접속기록의 수행업무)."""

    VIEW = "view"
    EXPORT = "export"
    CHANGE = "change"
    DELETE = "delete"


class AccessRecord(db.Model):
    """One read, export, change or deletion of citizens' personal data by staff.

    Append-only: nothing in the platform updates or deletes a row before its retention
    (`ACCESS_RECORD_RETENTION_DAYS`) has passed; `flask privacy purge` removes older ones.
    """

    __tablename__ = "access_records"
    __table_args__ = (
        sa.Index("ix_access_records_actor", "actor_id", "created_at"),
        sa.Index("ix_access_records_created", "created_at"),
    )

    id: Mapped[str] = id_column()
    actor_id: Mapped[str | None] = mapped_column(sa.String(26))
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    #: The actor's municipality (NULL for national staff).
    municipality_id: Mapped[str | None] = mapped_column(sa.String(26))
    #: The client address as the trusted proxies report it.
    address: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[AccessAction] = mapped_column(
        _enum(AccessAction, "access_action"), nullable=False
    )
    #: What was read: "users.list", "activity.participations", "certificates.list" ...
    resource: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: The list's or the thing's id (an activity, a committee ...), when there is one.
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: How many people's data the answer held.
    subject_count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Why, for exports (required there).
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()


class AccessRecordSubject(db.Model):
    """A citizen whose data an access record's answer held ("who looked at me" is one join)."""

    __tablename__ = "access_record_subjects"
    __table_args__ = (sa.Index("ix_access_record_subjects_user", "user_id", "record_id"),)

    record_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("access_records.id", ondelete="CASCADE"), primary_key=True
    )
    #: No foreign key: the record outlives the account's anonymisation (the id stays opaque).
    user_id: Mapped[str] = mapped_column(sa.String(26), primary_key=True)


class ExportStatus(enum.StrEnum):
    """Where a citizen's data export is."""

    PENDING = "pending"
    READY = "ready"
    EXPIRED = "expired"


class DataExport(db.Model):
    """A citizen's download of everything held about them, made by `flask privacy exports`
    (or at once when small) and kept until `expires_at`."""

    __tablename__ = "data_exports"
    __table_args__ = (sa.Index("ix_data_exports_status", "status", "id"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[ExportStatus] = mapped_column(
        _enum(ExportStatus, "export_status"), nullable=False, default=ExportStatus.PENDING
    )
    #: The JSON document (participations and rewards also as CSV inside it); NULL once expired.
    content: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DormancyPolicy(db.Model):
    """A municipality's rule for accounts without use (휴면): notify, then restrict or delete."""

    __tablename__ = "dormancy_policies"

    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id", ondelete="CASCADE"), primary_key=True
    )
    #: Months without a login after which the account is made dormant.
    inactive_months: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=12)
    #: "restrict" (logins stop until the person asks) or "delete".
    action: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="restrict")
    #: Days before the action that the notice goes out.
    notice_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=30)
    updated_at: Mapped[datetime] = created_at_column()


class IdentityAssurance(db.Model):
    """The latest identity check of an account by a plugged-in provider (PASS, i-PIN, 간편인증).

    CI and DI are stored encrypted (AES-256-GCM, a key derived from `SECRET_KEY`); a resident
    registration number is never stored.
    """

    __tablename__ = "identity_assurances"

    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: 1 self-asserted, 2 one factor checked (carrier, 간편인증), 3 in person / two factors.
    level: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    ci_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    di_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class AssuranceRequirement(db.Model):
    """The identity assurance level an activity or a committee requires of its citizens."""

    __tablename__ = "assurance_requirements"

    #: "activity" or "committee".
    target_type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    target_id: Mapped[str] = mapped_column(sa.String(26), primary_key=True)
    level: Mapped[int] = mapped_column(sa.Integer, nullable=False)
