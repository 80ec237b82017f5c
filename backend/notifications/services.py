"""Notification services: devices, preferences, the inbox, announcements, the outbox, statistics.

Every notification is written to the recipient's inbox and, for each of their devices whose
category is switched on, to the push outbox, in the caller's transaction: a change and the
notifications it causes commit or roll back together. Nothing here talks to Firebase; the
delivery worker (`backend.notifications.worker`) sends the outbox after commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from backend.audit.services import record_audit
from backend.clock import SEOUL, utcnow
from backend.database import read_for_update
from backend.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.identity.models import AuthSession, User
from backend.ids import new_id
from backend.notifications import texts
from backend.notifications.models import (
    Announcement,
    Audience,
    Category,
    DeliveryCounter,
    Device,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    Platform,
)
from backend.operations.request_log import current_request_id
from backend.pagination import Page, paginate
from backend.permissions import Role, scope_to_municipality
from backend.privacy.consents import has_consent

#: Counters the workers keep per day (see backend.notifications.worker).
METRICS = ("sent", "retried", "dead", "tokens_pruned", "inbox_only")
#: Users handled per query when fanning out (keeps IN lists short on every database).
_CHUNK = 500


# ---- devices --------------------------------------------------------------------------------


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


# ---- preferences ----------------------------------------------------------------------------


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


# ---- inbox ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    """An inbox entry as its reader sees it: in one language."""

    id: str
    kind: str
    category: Category
    title: str
    body: str
    link: str | None
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


def _item(notification: Notification, *, english: bool) -> InboxItem:
    title, body = texts.pick(
        english=english,
        title_ko=notification.title_ko,
        body_ko=notification.body_ko,
        title_en=notification.title_en,
        body_en=notification.body_en,
    )
    return InboxItem(
        id=notification.id,
        kind=notification.kind,
        category=notification.category,
        title=title,
        body=body,
        link=notification.link,
        data=dict(notification.data or {}),
        read_at=notification.read_at,
        created_at=notification.created_at,
    )


def list_inbox(
    *, user: User, limit: int, cursor: str | None, english: bool, unread_only: bool = False
) -> Page:
    """The user's notifications, newest first, in their language."""
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    page = paginate(query, Notification.id, limit=limit, cursor=cursor)
    return Page(items=[_item(n, english=english) for n in page.items], next_cursor=page.next_cursor)


def count_unread(*, user: User) -> int:
    """How many of the user's notifications are unread."""
    query = sa.select(sa.func.count()).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return db.session.scalar(query) or 0


def mark_read(*, user: User, notification_id: str, english: bool) -> InboxItem:
    """Mark one of the user's notifications read (again is fine)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("Notification not found.", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return _item(notification, english=english)


def mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


# ---- the outbox -----------------------------------------------------------------------------


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notify_users(
    *, user_ids: Iterable[str], content: texts.Content, municipality_id: str | None
) -> list[str]:
    """Put a notification in each user's inbox and queue its pushes; returns the new ids.

    Users that do not exist or were deleted are skipped. A push is queued for every device of
    a live login of an active user who has the category on, due at once or when their quiet
    hours end.
    """
    wanted = list(dict.fromkeys(user_ids))
    now = utcnow()
    created: list[str] = []
    for chunk in _chunks(wanted, _CHUNK):
        recipients = db.session.execute(
            sa.select(User.id, User.is_active, NotificationPreference)
            .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
            .where(User.id.in_(chunk), User.deleted_at.is_(None))
        ).all()
        if not recipients:
            continue
        devices: dict[str, list[str]] = {}
        for device_id, user_id in db.session.execute(
            sa.select(Device.id, Device.user_id)
            .join(AuthSession, AuthSession.id == Device.session_id)
            .where(
                Device.user_id.in_([user_id for user_id, active, _ in recipients if active]),
                *_live_login(now),
            )
        ):
            devices.setdefault(user_id, []).append(device_id)
        position = {user_id: index for index, user_id in enumerate(chunk)}
        inbox_rows, outbox_rows = _notification_rows(
            sorted(recipients, key=lambda row: position[row[0]]),
            devices,
            content,
            municipality_id,
            now,
        )
        created.extend(row["id"] for row in inbox_rows)
        db.session.execute(sa.insert(Notification), inbox_rows)
        if outbox_rows:
            db.session.execute(sa.insert(OutboxMessage), outbox_rows)
    return created


def _live_login(now: Any) -> tuple[sa.ColumnElement[bool], ...]:
    """A device receives pushes while the login that registered it lasts."""
    return (AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)


def _notification_rows(
    recipients: Iterable[tuple[str, bool, NotificationPreference | None]],
    devices: Mapping[str, Sequence[str]],
    content: texts.Content,
    municipality_id: str | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inbox rows for the recipients and outbox rows for the devices whose category is on."""
    inbox_rows, outbox_rows = [], []
    for user_id, _active, stored in recipients:
        notification_id = new_id()
        inbox_rows.append(_inbox_row(notification_id, user_id, content, municipality_id, now))
        # No stored settings: every category on, no quiet hours (the defaults).
        if stored is not None and not stored.allows(content.category):
            continue
        due_at = now if stored is None else push_due_at(preferences=stored, now=now)
        outbox_rows.extend(
            _outbox_row(due_at, now, notification_id=notification_id, device_id=device_id)
            for device_id in devices.get(user_id, ())
        )
    return inbox_rows, outbox_rows


def _inbox_row(
    notification_id: str,
    user_id: str,
    content: texts.Content,
    municipality_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": notification_id,
        "user_id": user_id,
        "municipality_id": municipality_id,
        "kind": content.kind,
        "category": content.category,
        "title_ko": content.title_ko,
        "body_ko": content.body_ko,
        "title_en": content.title_en,
        "body_en": content.body_en,
        "link": content.link,
        "data": dict(content.data),
        "created_at": now,
    }


def _outbox_row(due_at: datetime, now: datetime, **target: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "due_at": due_at,
        "created_at": now,
        # The request being served, or the one whose event the fan-out is handling (it binds
        # the event's id): the worker's lines about this push then name that request.
        "request_id": current_request_id(),
        **target,
    }


def count_queued_pushes() -> int:
    """Pushes waiting to be sent (pending in the outbox)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )


def purge_outbox(*, older_than: timedelta) -> int:
    """Delete finished outbox rows (sent, dead, skipped) older than this; returns how many."""
    result = db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.status != OutboxStatus.PENDING,
            OutboxMessage.created_at < utcnow() - older_than,
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


# ---- announcements --------------------------------------------------------------------------


def create_announcement(
    *,
    actor: User,
    title: str,
    body: str,
    title_en: str | None = None,
    body_en: str | None = None,
    project_id: str | None = None,
    participant_ids: Sequence[str] | None = None,
) -> Announcement:
    """An official tells all citizens of their municipality (one FCM topic push) or a project's
    participants (a push per device, as they chose); every recipient gets an inbox entry.

    For a project the caller hands over its participants (`participant_ids`): the participation
    domain knows who they are and whether the official may see the project; notifications
    depend on no other domain.
    """
    if actor.role != Role.OFFICIAL or not actor.municipality_id:
        raise PermissionDenied("Only a municipality's officials make announcements.")
    if (project_id is None) != (participant_ids is None):
        raise ValueError("a project announcement needs its participants, and only it")
    announcement = Announcement(
        municipality_id=actor.municipality_id,
        audience=Audience.PROJECT if project_id else Audience.MUNICIPALITY,
        project_id=project_id,
        author_id=actor.id,
        title=title,
        body=body,
        title_en=title_en,
        body_en=body_en,
        recipient_count=0,
    )
    db.session.add(announcement)
    db.session.flush()
    content = texts.announcement_content(
        announcement_id=announcement.id,
        title=title,
        body=body,
        title_en=title_en,
        body_en=body_en,
    )
    if participant_ids is not None:
        announcement.recipient_count = len(
            notify_users(
                user_ids=participant_ids, content=content, municipality_id=actor.municipality_id
            )
        )
    else:
        announcement.recipient_count = _announce_to_municipality(announcement, content)
    db.session.flush()
    record_audit(
        actor=actor,
        action="announcement.create",
        target_type="announcement",
        target_id=announcement.id,
        municipality_id=announcement.municipality_id,
        details={
            "audience": announcement.audience.value,
            "project_id": project_id,
            "recipients": announcement.recipient_count,
        },
    )
    return announcement


def _announce_to_municipality(announcement: Announcement, content: texts.Content) -> int:
    """Inbox entries for every citizen in one INSERT ... SELECT, and one topic push."""
    now = utcnow()
    table = Notification.__table__
    dialect = db.session.get_bind().dialect.name
    data_json = json.dumps(dict(content.data))
    data: Any = sa.literal(data_json, sa.Text)
    if dialect == "postgresql":
        data = sa.cast(data, sa.JSON)
    # Ids made in SQL: the announcement's time part and the citizen id's random part, so each is
    # a unique, time-ordered id like the ones new_id() makes (inbox pages are ordered by id).
    row_id = sa.literal(announcement.id[:10], sa.String).concat(
        sa.func.substr(User.id, 11, 16, type_=sa.String)
    )
    citizens = sa.select(
        row_id,
        User.id,
        sa.literal(announcement.municipality_id, sa.String),
        sa.literal(content.kind, sa.String),
        sa.literal(content.category.value, sa.String),
        sa.literal(content.title_ko, sa.String),
        sa.literal(content.body_ko, sa.String),
        sa.literal(content.title_en, sa.String),
        sa.literal(content.body_en, sa.String),
        sa.literal(content.link, sa.String),
        data,
        sa.literal(now, table.c.created_at.type),
    ).where(
        User.municipality_id == announcement.municipality_id,
        User.role == Role.CITIZEN,
        User.deleted_at.is_(None),
    )
    columns = [
        "id",
        "user_id",
        "municipality_id",
        "kind",
        "category",
        "title_ko",
        "body_ko",
        "title_en",
        "body_en",
        "link",
        "data",
        "created_at",
    ]
    result = db.session.execute(sa.insert(table).from_select(columns, citizens))
    db.session.execute(
        sa.insert(OutboxMessage),
        [
            _outbox_row(
                now,
                now,
                announcement_id=announcement.id,
                topic=municipality_topic(announcement.municipality_id),
            )
        ],
    )
    return result.rowcount or 0


def list_announcements(*, viewer: User, limit: int, cursor: str | None) -> Page:
    """Announcements the viewer may see (officials: their municipality's), newest first."""
    query = scope_to_municipality(sa.select(Announcement), Announcement, viewer)
    return paginate(query, Announcement.id, limit=limit, cursor=cursor)


# ---- statistics -----------------------------------------------------------------------------


def delivery_stats(*, days: int, push_configured: bool) -> dict[str, Any]:
    """The outbox now (queued, due, in flight) and the workers' totals, overall and per day."""
    now = utcnow()
    pending = OutboxMessage.status == OutboxStatus.PENDING
    claimed = sa.and_(OutboxMessage.claimed_until.is_not(None), OutboxMessage.claimed_until > now)
    queued, due, in_flight = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.case((sa.and_(OutboxMessage.due_at <= now, ~claimed), 1))),
            sa.func.count(sa.case((claimed, 1))),
        ).where(pending)
    ).one()
    totals = dict.fromkeys(METRICS, 0)
    for metric, count in db.session.execute(
        sa.select(DeliveryCounter.metric, sa.func.sum(DeliveryCounter.count)).group_by(
            DeliveryCounter.metric
        )
    ):
        totals[metric] = int(count or 0)
    today = now.astimezone(SEOUL).date()
    first = today - timedelta(days=days - 1)
    by_day: dict[date, dict[str, Any]] = {
        first + timedelta(days=n): dict.fromkeys(METRICS, 0) for n in range(days)
    }
    for day, metric, count in db.session.execute(
        sa.select(DeliveryCounter.day, DeliveryCounter.metric, DeliveryCounter.count).where(
            DeliveryCounter.day >= first
        )
    ):
        if day in by_day:
            by_day[day][metric] = int(count)
    return {
        "push_configured": push_configured,
        "devices": db.session.scalar(sa.select(sa.func.count()).select_from(Device)) or 0,
        "queued": queued,
        "due": due,
        "in_flight": in_flight,
        "totals": totals,
        "days": [{"date": day, **counts} for day, counts in sorted(by_day.items(), reverse=True)],
    }
