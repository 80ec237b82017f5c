"""Notifications: announcements by officials, to their municipality's citizens."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from backend.audit.services import record_audit
from backend.clock import utcnow
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.identity.models import User
from backend.notifications import texts
from backend.notifications.models import (
    Announcement,
    Audience,
    Notification,
    OutboxMessage,
)
from backend.notifications.outbox import _outbox_row, notify_users
from backend.notifications.recipients import municipality_topic
from backend.pagination import Page, paginate
from backend.permissions import Role, is_municipal_official, scope_to_municipality


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
    if not is_municipal_official(actor):
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
