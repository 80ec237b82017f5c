"""Identity models: municipalities, users and login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UTCDateTime, created_at_column, enum_type, id_column
from backend.extensions import db
from backend.permissions import Role


class Municipality(db.Model):
    """A local government: the tenant boundary for officials and their data."""

    __tablename__ = "municipalities"

    id: Mapped[str] = id_column()
    #: Short public code (the administrative district code), printed on certificates.
    code: Mapped[str] = mapped_column(sa.String(16), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    name_en: Mapped[str | None] = mapped_column(sa.String(100))
    #: Province or metropolitan city, for the ministry's reports by region.
    region: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class User(db.Model):
    """A person with an account: a citizen, or staff of a municipality or the ministry."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),
        sa.Index("ix_users_municipality_role", "municipality_id", "role"),
    )

    id: Mapped[str] = id_column()
    #: NULL only for national roles (analyst, admin).
    municipality_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), index=False
    )
    role: Mapped[Role] = mapped_column(
        enum_type(Role, "user_role"),
        nullable=False,
    )
    #: Stored lower-case so that logins are case-insensitive.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: Digits only, e.g. 01012345678.
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    locale: Mapped[str] = mapped_column(sa.String(8), nullable=False, default="ko")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Asked at sign-up: a citizen who may be under 14 needs a guardian's consent (PIPA art. 22-2).
    birth_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    #: When a legal guardian's consent was recorded (backend.privacy.models.GuardianConsent).
    guardian_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the dormancy notice went out (cleared by the next login).
    dormancy_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    municipality: Mapped[Municipality | None] = relationship(lazy="joined")

    @property
    def needs_guardian_consent(self) -> bool:
        """Whether the account is limited until a legal guardian's consent is recorded."""
        from backend.privacy.consents import needs_guardian_consent

        return needs_guardian_consent(self)

    @property
    def is_usable(self) -> bool:
        """Whether the account may act at all (not deactivated, not deleted)."""
        return account_usable(self)


def account_usable(account: Any) -> bool:
    """Whether an account (a User, or a row with its `is_active` and `deleted_at`) may act."""
    return bool(account.is_active) and account.deleted_at is None


class LoginThrottle(db.Model):
    """Failed logins of an identifier that names no account (known accounts count on `users`).

    Unknown and known logins must be refused alike (401, then 429 after the same number of
    failures), or the lock-out would tell which accounts exist. The key is an HMAC of the
    normalised identifier, so the table holds no e-mail address or phone number.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class AuthSession(db.Model):
    """One login: both tokens of a login carry its id, so logout revokes them together.

    Revocation lives in the database, so it survives a restart and is seen by every worker.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))


class AuthState(db.Model):
    """One row whose version moves with every change to a user, a login session or a
    municipality, in the changing transaction.

    Each worker keeps the session checks it made in memory (`backend.identity.session_cache`)
    and reads only this number per request: a logout, a demotion or a deactivation done on any
    worker is seen by every other on its very next request.
    """

    __tablename__ = "auth_state"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
