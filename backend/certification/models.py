"""Certification models: criteria, certificates, signing keys, serial counters, the state row."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.clock import SEOUL, utcnow
from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db
from backend.identity.models import Municipality, User


class CertificateKind(enum.StrEnum):
    """Kinds of certificate; each has a permanent wire code in tokens (token.KIND_CODES)."""

    MODEL_CITIZEN = "model_citizen"
    COMMITTEE_MEMBER = "committee_member"


class CertificateStatus(enum.StrEnum):
    """Lifecycle of a certificate (`expired` is also derived from the time, see current_status)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Benefit(enum.StrEnum):
    """What holding a certificate entitles a citizen to."""

    PRIORITY_MEETING_ACCESS = "priority_meeting_access"
    COMMITTEE_ELIGIBILITY = "committee_eligibility"


class IssueReason(enum.StrEnum):
    """How a certificate came to be issued."""

    CRITERIA = "criteria"
    NOMINATION = "nomination"
    REISSUE = "reissue"


class KeyStatus(enum.StrEnum):
    """A signing key signs new certificates while active; retired keys only verify."""

    ACTIVE = "active"
    RETIRED = "retired"


class CertificationCriteria(db.Model):
    """What a citizen of a municipality must do to be certified, and what the certificate gives."""

    __tablename__ = "certification_criteria"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "kind"),
        sa.CheckConstraint(
            "min_participations >= 0 AND min_stages >= 0 AND min_stages <= 4", name="minimums"
        ),
        sa.CheckConstraint("window_months > 0 AND validity_months > 0", name="periods"),
    )

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    kind: Mapped[CertificateKind] = mapped_column(
        enum_type(CertificateKind, "certificate_kind", 24)
    )
    #: At least this many confirmed participations ...
    min_participations: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: ... covering at least this many different stages ...
    min_stages: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: ... and at least these many hours (NULL: no minimum) ...
    min_hours: Mapped[int | None] = mapped_column(sa.Integer)
    #: ... within the last this many months.
    window_months: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    validity_months: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Issue on the confirming transaction as soon as the criteria are met.
    auto_issue: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    #: Officials may issue (nominate) although the criteria are not met.
    nomination_allowed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    #: Benefit values (see Benefit) that certificates issued under these criteria grant.
    benefits: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Certificate(db.Model):
    """A signed model-citizen certificate (모범시민증) held by one citizen.

    `public_id` is the random `c` claim of the token, `revocation_index` its bit in the issuer's
    status list; neither reveals the internal id, the holder or the order of issue. The signed
    token is stored: ECDSA signatures are randomised, so signing again would change the QR.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "revocation_index"),
        # One active certificate of a kind per citizen: two workers confirming two
        # participations at once cannot both auto-issue.
        sa.Index(
            "uq_certificates_one_active",
            "user_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
        sa.Index(
            "ix_certificates_revoked",
            "municipality_id",
            "revocation_index",
            postgresql_where=sa.text("status = 'revoked'"),
            sqlite_where=sa.text("status = 'revoked'"),
        ),
        sa.Index("ix_certificates_municipality", "municipality_id", "id"),
        sa.Index("ix_certificates_user", "user_id", "id"),
        sa.Index("ix_certificates_status_expiry", "status", "expires_at"),
        sa.Index("ix_certificates_key_expiry", "key_kid", "expires_at"),
    )

    id: Mapped[str] = id_column()
    #: The token's `c` claim: random, 16 base64url characters.
    public_id: Mapped[str] = mapped_column(sa.String(24), nullable=False, unique=True)
    #: Printed on paper certificates, e.g. 11680-2026-000042 (never in the QR).
    serial_number: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(sa.String(26), sa.ForeignKey("users.id"), nullable=False)
    kind: Mapped[CertificateKind] = mapped_column(
        enum_type(CertificateKind, "certificate_kind", 24)
    )
    status: Mapped[CertificateStatus] = mapped_column(
        enum_type(CertificateStatus, "certificate_status", 16), nullable=False
    )
    issue_reason: Mapped[IssueReason] = mapped_column(
        enum_type(IssueReason, "certificate_issue_reason", 16), nullable=False
    )
    benefits: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    #: The masked name signed into the token (e.g. 홍*동).
    holder_masked: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: The first moment the certificate is no longer valid (a midnight in Asia/Seoul).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(200))
    revoked_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    #: The official who issued it; NULL when issued automatically on meeting the criteria.
    issued_by_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    revocation_index: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    key_kid: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    token: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: The token's QR as a level-M PNG, drawn once when signed: any worker serves it at once.
    qr_png: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    #: The certificate this one replaces (re-issue after loss).
    replaces_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("certificates.id"))
    #: When CERTIFICATE_EXPIRING was published for the current expiry (once per expiry).
    expiring_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    holder: Mapped[User] = relationship(foreign_keys=[user_id], lazy="selectin")
    municipality: Mapped[Municipality] = relationship(lazy="selectin")

    @property
    def current_status(self) -> CertificateStatus:
        """The status now: an active certificate past its expiry is expired."""
        if self.status == CertificateStatus.ACTIVE and self.expires_at <= utcnow():
            return CertificateStatus.EXPIRED
        return self.status

    @property
    def issued_on(self) -> date:
        """The day (Asia/Seoul) the certificate was issued."""
        return self.issued_at.astimezone(SEOUL).date()

    @property
    def valid_until(self) -> date:
        """The last day (Asia/Seoul) the certificate is valid."""
        return (self.expires_at - timedelta(microseconds=1)).astimezone(SEOUL).date()

    @property
    def qr_text(self) -> str:
        """The text a QR code of this certificate holds."""
        from backend.certification.token import encode_qr_text

        return encode_qr_text(self.token)


class CertificateSigningKey(db.Model):
    """A deployment-wide ES256 signing key; the private half only encrypted (see keys.py)."""

    __tablename__ = "certificate_signing_keys"
    __table_args__ = (
        sa.Index(
            "uq_certificate_signing_keys_one_active",
            "status",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[str] = id_column()
    kid: Mapped[str] = mapped_column(sa.String(8), nullable=False, unique=True)
    status: Mapped[KeyStatus] = mapped_column(enum_type(KeyStatus, "signing_key_status", 16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    #: AES-256-GCM blob from keys.encrypt_private_key; the master key is never stored.
    encrypted_private_key: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"CertificateSigningKey(kid={self.kid!r}, status={self.status!s})"


class CertificateSerialCounter(db.Model):
    """The last serial number given out per municipality and year."""

    __tablename__ = "certificate_serial_counters"

    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), primary_key=True
    )
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)


class CertificationState(db.Model):
    """One row whose version changes on every revocation or key rotation.

    Each worker reads only this number every couple of seconds and reloads keys and revoked
    indices when it changed, so verification needs no database round trip per scan.
    """

    __tablename__ = "certification_state"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
