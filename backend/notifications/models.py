"""Notification models: devices, preferences, the inbox, announcements and the push outbox."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.clock import utcnow
from backend.dbtypes import UTCDateTime, created_at_column, id_column
from backend.extensions import db
from backend.operations.request_log import REQUEST_ID_MAX_LENGTH


class Platform(enum.StrEnum):
    """The mobile platform of a device."""

    IOS = "ios"
    ANDROID = "android"


class Category(enum.StrEnum):
    """What a notification is about; citizens switch push on or off per category."""

    PARTICIPATION = "participation"
    REWARDS = "rewards"
    CERTIFICATES = "certificates"
    COMMITTEES = "committees"
    MEETINGS = "meetings"
    ANNOUNCEMENTS = "announcements"


class OutboxStatus(enum.StrEnum):
    """Where a push message stands; only `pending` rows are ever claimed."""

    PENDING = "pending"
    SENT = "sent"
    #: Given up: an invalid payload, too many failed attempts, or too old to be worth sending.
    DEAD = "dead"
    #: Not sent because push is off (no Firebase credentials): the inbox has it.
    SKIPPED = "skipped"


class Audience(enum.StrEnum):
    """Who an announcement is for."""

    MUNICIPALITY = "municipality"
    PROJECT = "project"


def _enum(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    return sa.Enum(
        enum_class,
        name=name,
        values_callable=lambda e: [member.value for member in e],
        native_enum=False,
        length=16,
    )


class Device(db.Model):
    """An app installation that receives push: its FCM registration token, tied to a login.

    A device belongs to the login session that registered it, so logging out (or the account
    being deleted) removes it, and a push never reaches a phone whose user has signed out.
    """

    __tablename__ = "devices"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    session_id: Mapped[str] = mapped_column(
        sa.String(26),
        sa.ForeignKey("auth_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    #: The FCM registration token; one row per token (a refreshed token replaces the old one).
    token: Mapped[str] = mapped_column(sa.String(1024), nullable=False, unique=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "device_platform"), nullable=False)
    app_version: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    #: The device's language (BCP 47, e.g. ko-KR, en-US): English pushes when it starts with en.
    locale: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )


class NotificationPreference(db.Model):
    """A user's push settings; no row means the defaults (every category on, no quiet hours)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        sa.CheckConstraint(
            "(quiet_start_minute IS NULL) = (quiet_end_minute IS NULL)", name="quiet_hours_pair"
        ),
        sa.CheckConstraint(
            "quiet_start_minute IS NULL OR (quiet_start_minute BETWEEN 0 AND 1439 "
            "AND quiet_end_minute BETWEEN 0 AND 1439 AND quiet_start_minute <> quiet_end_minute)",
            name="quiet_hours_range",
        ),
    )

    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    participation: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    rewards: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    certificates: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    committees: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    meetings: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    announcements: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    #: Quiet hours in minutes after midnight, Asia/Seoul; start > end wraps past midnight.
    quiet_start_minute: Mapped[int | None] = mapped_column(sa.Integer)
    quiet_end_minute: Mapped[int | None] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    def allows(self, category: Category) -> bool:
        """Whether pushes of this category are on."""
        return bool(getattr(self, category.value))


class Notification(db.Model):
    """One inbox entry of one user, in Korean and (when there is one) English."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    #: The municipality the event happened in (NULL for national ones).
    municipality_id: Mapped[str | None] = mapped_column(sa.String(26))
    #: The event kind, e.g. participation.confirmed or announcement.
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    category: Mapped[Category] = mapped_column(
        _enum(Category, "notification_category"), nullable=False
    )
    title_ko: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    body_ko: Mapped[str] = mapped_column(sa.String(2000), nullable=False)
    title_en: Mapped[str | None] = mapped_column(sa.String(200))
    body_en: Mapped[str | None] = mapped_column(sa.String(2000))
    #: Deep link the app opens, e.g. coproduction://participations/<id>.
    link: Mapped[str | None] = mapped_column(sa.String(300))
    #: Ids the app may need (string values only: they travel in the push's data too).
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class Announcement(db.Model):
    """A message from a municipality's officials to all its citizens or a project's participants."""

    __tablename__ = "announcements"
    __table_args__ = (sa.Index("ix_announcements_municipality_id_id", "municipality_id", "id"),)

    id: Mapped[str] = id_column()
    municipality_id: Mapped[str] = mapped_column(
        sa.String(26), sa.ForeignKey("municipalities.id"), nullable=False
    )
    audience: Mapped[Audience] = mapped_column(
        _enum(Audience, "announcement_audience"), nullable=False
    )
    #: The project whose participants are told (audience `project`), one of the author's
    #: municipality (checked by `create_announcement`).
    project_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("projects.id"))
    author_id: Mapped[str | None] = mapped_column(sa.String(26), sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    body: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    title_en: Mapped[str | None] = mapped_column(sa.String(100))
    body_en: Mapped[str | None] = mapped_column(sa.String(1000))
    #: How many inbox entries it made.
    recipient_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()


class OutboxMessage(db.Model):
    """One push to send: a notification to one device, or an announcement to an FCM topic.

    Written in the transaction of the change that causes it; the delivery worker claims due
    rows (`claimed_until` is its lease: a killed worker's rows come back when it runs out)
    and records each outcome.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "device_id"),
        sa.CheckConstraint(
            "(notification_id IS NOT NULL AND device_id IS NOT NULL AND topic IS NULL) OR "
            "(announcement_id IS NOT NULL AND topic IS NOT NULL AND device_id IS NULL)",
            name="one_target",
        ),
        sa.Index("ix_notification_outbox_status_due_at", "status", "due_at"),
    )

    id: Mapped[str] = id_column()
    notification_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("notifications.id", ondelete="CASCADE")
    )
    announcement_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("announcements.id", ondelete="CASCADE")
    )
    #: Deleting a device (logout, a pruned token) deletes its pending pushes with it.
    device_id: Mapped[str | None] = mapped_column(
        sa.String(26), sa.ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), nullable=False, default=OutboxStatus.PENDING
    )
    #: Claims so far (a claim counts even if the worker dies before it records an outcome).
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Not before this time: now, the end of the user's quiet hours, or the next retry.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Which claim holds the row; outcomes are recorded only by the claim that sent it.
    claim_id: Mapped[str | None] = mapped_column(sa.String(26))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_code: Mapped[str | None] = mapped_column(sa.String(40))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: The request that caused this push (its X-Request-ID), for the worker's log lines.
    request_id: Mapped[str | None] = mapped_column(sa.String(REQUEST_ID_MAX_LENGTH))
    created_at: Mapped[datetime] = created_at_column()


class DeliveryCounter(db.Model):
    """Delivery totals per Seoul day, kept by the workers (the outbox itself gets purged)."""

    __tablename__ = "notification_delivery_counters"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    #: sent, retried, dead, tokens_pruned or inbox_only.
    metric: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    count: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)


class NotificationEvent(db.Model):
    """A domain event waiting to become inbox entries and pushes (the worker's job).

    The request that caused it writes this one row; the notification worker claims it (a
    DELETE ... RETURNING), writes the inbox entries and queued pushes of its recipients and
    commits both together, so an event is fanned out exactly once. See
    `backend.notifications.fanout`.
    """

    __tablename__ = "notification_events"

    #: Time-ordered: events are fanned out in the order they were published.
    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: The event's payload, dates and decimals tagged so they read back as they were.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    #: The request that published it; the fan-out stamps its log lines and pushes with it.
    request_id: Mapped[str | None] = mapped_column(sa.String(REQUEST_ID_MAX_LENGTH))
    created_at: Mapped[datetime] = created_at_column()
