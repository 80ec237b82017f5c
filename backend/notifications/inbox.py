"""Notifications: the inbox a user reads (listing, unread count, marking read)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.clock import utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.identity.models import User
from backend.notifications import texts
from backend.notifications.models import (
    Category,
    Notification,
)
from backend.pagination import Page, paginate


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
