"""Notification services: devices, preferences, the inbox, announcements, the outbox, statistics.

Every notification is written to the recipient's inbox and, for each of their devices whose
category is switched on, to the push outbox, in the caller's transaction: a change and the
notifications it causes commit or roll back together. Nothing here talks to Firebase; the
delivery worker (`backend.notifications.worker`) sends the outbox after commit.

The services live in sub-modules named after what they hold; this module re-exports their
public names, so `from backend.notifications.services import X` keeps working.
"""

from __future__ import annotations

from backend.notifications.announcements import (
    create_announcement,
    list_announcements,
)
from backend.notifications.inbox import (
    InboxItem,
    count_unread,
    list_inbox,
    mark_all_read,
    mark_read,
)
from backend.notifications.outbox import (
    count_queued_pushes,
    notify_users,
    purge_outbox,
)
from backend.notifications.recipients import (
    PreferenceSettings,
    Registration,
    default_preferences,
    delete_device,
    forget_session_devices,
    forget_user_devices,
    get_preferences,
    list_devices,
    municipality_topic,
    preference_settings,
    push_due_at,
    register_device,
    topics_for,
    update_preferences,
)
from backend.notifications.statistics import (
    METRICS,
    delivery_stats,
)

__all__ = [
    "Registration",
    "municipality_topic",
    "topics_for",
    "register_device",
    "list_devices",
    "delete_device",
    "forget_session_devices",
    "forget_user_devices",
    "default_preferences",
    "get_preferences",
    "PreferenceSettings",
    "preference_settings",
    "update_preferences",
    "push_due_at",
    "InboxItem",
    "list_inbox",
    "count_unread",
    "mark_read",
    "mark_all_read",
    "notify_users",
    "count_queued_pushes",
    "purge_outbox",
    "create_announcement",
    "list_announcements",
    "METRICS",
    "delivery_stats",
]
