"""Notifications: who gets pushed what. A user's devices and the topics they subscribe to, and
their notification preferences (categories, quiet hours), which decide the topics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from backend.clock import SEOUL
from backend.database import read_for_update
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.notifications.models import (
    Category,
    Device,
    NotificationPreference,
    Platform,
)
from backend.pagination import Page, paginate
from backend.permissions import Role
from backend.privacy.consents import has_consent


@dataclass(frozen=True)
class Registration:
    """A registered device, whether it is new, and the FCM topics the app should subscribe to."""

    device: Device
    created: bool
    topics: list[str]


def municipality_topic(municipality_id: str) -> str:
    """The FCM topic of a municipality's announcements."""
    return f"municipality-{municipality_id}"


def topics_for(*, user: User) -> list[str]:
    """FCM topics the user's app subscribes to: their municipality's, unless they opted out."""
    if user.role != Role.CITIZEN or not user.municipality_id:
        return []
    if not get_preferences(user=user).announcements:
        return []
    return [municipality_topic(user.municipality_id)]


def register_device(
    *, user: User, session_id: str, token: str, platform: Platform, app_version: str, locale: str
) -> Registration:
    """Register the app's FCM token for this login, or refresh it (one device per login).

    A token seen before moves to this login; if it belonged to another user, that row and its
    pending pushes go first, so nothing meant for them reaches this phone.
    """
    _serialise_user(user.id)  # a retried registration finds the first one's row
    by_token = db.session.scalar(sa.select(Device).where(Device.token == token))
    if by_token is not None and by_token.user_id != user.id:
        db.session.delete(by_token)
        db.session.flush()
        by_token = None
    by_session = db.session.scalar(sa.select(Device).where(Device.session_id == session_id))
    device = by_token or by_session
    if by_token is not None and by_session is not None and by_session.id != by_token.id:
        # The login's previous token was replaced by one this user already registered.
        db.session.delete(by_session)
        db.session.flush()
    created = device is None
    if device is None:
        device = Device(user_id=user.id)
        db.session.add(device)
    device.session_id = session_id
    device.token = token
    device.platform = platform
    device.app_version = app_version
    device.locale = locale
    db.session.flush()
    return Registration(device=device, created=created, topics=topics_for(user=user))


def _serialise_user(user_id: str) -> None:
    """Changes to one user's devices and preferences read and write one at a time."""
    db.session.execute(read_for_update(sa.select(User.id).where(User.id == user_id)))


def list_devices(*, user: User, limit: int, cursor: str | None) -> Page:
    """The user's registered devices, newest first."""
    query = sa.select(Device).where(Device.user_id == user.id)
    return paginate(query, Device.id, limit=limit, cursor=cursor)


def delete_device(*, user: User, device_id: str) -> None:
    """Remove one of the user's devices and its pending pushes."""
    device = db.session.get(Device, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound("Device not found.", code="device_not_found")
    db.session.delete(device)
    db.session.flush()


def forget_session_devices(*, session_id: str) -> int:
    """Remove the devices registered in a login session (logout); returns how many."""
    result = db.session.execute(
        sa.delete(Device).where(Device.session_id == session_id),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def forget_user_devices(*, user_id: str) -> int:
    """Remove every device of a user (account deleted); returns how many."""
    result = db.session.execute(
        sa.delete(Device).where(Device.user_id == user_id),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def default_preferences(user_id: str) -> NotificationPreference:
    """Every category on, no quiet hours (not added to the session)."""
    return NotificationPreference(
        user_id=user_id,
        quiet_start_minute=None,
        quiet_end_minute=None,
        **{category.value: True for category in Category},
    )


def get_preferences(*, user: User) -> NotificationPreference:
    """The user's push settings (the defaults when they never changed them)."""
    stored = db.session.get(NotificationPreference, user.id)
    return stored if stored is not None else default_preferences(user.id)


@dataclass(frozen=True)
class PreferenceSettings:
    """A user's push settings as the app sees them, with the topics to subscribe to."""

    participation: bool
    rewards: bool
    certificates: bool
    committees: bool
    meetings: bool
    announcements: bool
    quiet_start_minute: int | None
    quiet_end_minute: int | None
    topics: list[str]


def preference_settings(*, user: User) -> PreferenceSettings:
    """The user's push settings and the FCM topics their app subscribes to."""
    preferences = get_preferences(user=user)
    return PreferenceSettings(
        **{category.value: preferences.allows(category) for category in Category},
        quiet_start_minute=preferences.quiet_start_minute,
        quiet_end_minute=preferences.quiet_end_minute,
        topics=topics_for(user=user),
    )


def update_preferences(*, user: User, changes: Mapping[str, Any]) -> PreferenceSettings:
    """Switch categories and set or clear quiet hours (minutes after midnight, Asia/Seoul)."""
    allowed = {category.value for category in Category} | {
        "quiet_start_minute",
        "quiet_end_minute",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown preference fields: {sorted(unknown)}")
    if changes.get("announcements") and not has_consent(user.id, "marketing_push", unknown=True):
        # Programme announcements are marketing pushes: they need the citizen's consent.
        raise Conflict("Consent to programme announcements first.", code="consent_missing")
    _serialise_user(user.id)  # the first change creates the row: once, however many at once
    preferences = db.session.get(NotificationPreference, user.id, populate_existing=True)
    if preferences is None:
        preferences = default_preferences(user.id)
        db.session.add(preferences)
    for name, value in changes.items():
        setattr(preferences, name, value)
    start, end = preferences.quiet_start_minute, preferences.quiet_end_minute
    if (start is None) != (end is None) or (start is not None and start == end):
        message = "Quiet hours need both a start and an end, and they must differ."
        raise ValidationFailed(
            message,
            code="quiet_hours_invalid",
            fields={"quiet_hours_start": [message], "quiet_hours_end": [message]},
        )
    db.session.flush()
    return preference_settings(user=user)


def push_due_at(*, preferences: NotificationPreference, now: datetime) -> datetime:
    """When a push may go: now, or the end of the quiet hours it falls into (Asia/Seoul)."""
    start, end = preferences.quiet_start_minute, preferences.quiet_end_minute
    if start is None or end is None:
        return now
    local = now.astimezone(SEOUL)
    minute = local.hour * 60 + local.minute
    if start < end:
        quiet, end_day = start <= minute < end, local.date()
    else:  # wraps past midnight, e.g. 22:00-07:00
        quiet = minute >= start or minute < end
        end_day = local.date() + timedelta(days=1) if minute >= start else local.date()
    if not quiet:
        return now
    return datetime.combine(end_day, time(end // 60, end % 60), tzinfo=SEOUL)
