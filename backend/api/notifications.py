"""HTTP for notifications: devices, inbox and preferences of the caller; announcements; stats."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from backend.api.auth import current_caller, current_session, requires, signed_in
from backend.api.blueprint import Blueprint
from backend.api.messages import wants_english
from backend.notifications import services
from backend.notifications.fcm import push_is_configured
from backend.notifications.schemas import (
    AnnouncementCreateSchema,
    AnnouncementSchema,
    DeliveryStatsSchema,
    DeviceRegisterSchema,
    DeviceRegistrationSchema,
    DeviceSchema,
    InboxArgsSchema,
    NotificationSchema,
    PreferencesReplaceSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
    ReadAllSchema,
    StatsArgsSchema,
    UnreadCountSchema,
)
from backend.notifications.texts import is_english
from backend.participation import services as participation
from backend.permissions import Role
from backend.schemas import PageArgsSchema, page_of

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    description="Push devices, the inbox, preferences and announcements",
)


def _english() -> bool:
    """The reader's language: Accept-Language when sent, else the account's locale."""
    header = request.headers.get("Accept-Language")
    return wants_english(header) if header else is_english(current_caller().locale)


# ---- devices --------------------------------------------------------------------------------


@blp.route("/me/devices", methods=["GET"])
@signed_in
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(DeviceSchema))
def list_devices(args: dict[str, Any]) -> Any:
    """The caller's devices that receive push, newest first."""
    return services.list_devices(user=current_caller(), **args)


@blp.route("/me/devices", methods=["POST"])
@signed_in
@blp.arguments(DeviceRegisterSchema)
@blp.response(201, DeviceRegistrationSchema)
@blp.alt_response(
    200, schema=DeviceRegistrationSchema, description="Known token or login: the device updated."
)
def register_device(data: dict[str, Any]) -> Any:
    """Register this app's FCM token for this login, or refresh it (send it again whenever
    Firebase gives a new one). Logout removes the device. Subscribe to the answered `topics`."""
    registration = services.register_device(
        user=current_caller(), session_id=current_session().id, **data
    )
    return registration if registration.created else (registration, 200)


@blp.route("/me/devices/<device_id>", methods=["DELETE"])
@signed_in
@blp.response(204)
def delete_device(device_id: str) -> None:
    """Stop push to one of the caller's devices."""
    services.delete_device(user=current_caller(), device_id=device_id)


# ---- inbox ----------------------------------------------------------------------------------


@blp.route("/me/notifications", methods=["GET"])
@signed_in
@blp.arguments(InboxArgsSchema, location="query")
@blp.response(200, page_of(NotificationSchema))
def list_notifications(args: dict[str, Any]) -> Any:
    """The caller's notifications, newest first, in their language (Accept-Language)."""
    return services.list_inbox(user=current_caller(), english=_english(), **args)


@blp.route("/me/notifications/unread-count", methods=["GET"])
@signed_in
@blp.response(200, UnreadCountSchema)
def unread_count() -> Any:
    """How many of the caller's notifications are unread (for the badge)."""
    return {"unread_count": services.count_unread(user=current_caller())}


@blp.route("/me/notifications/<notification_id>/read", methods=["POST"])
@signed_in
@blp.response(200, NotificationSchema)
def mark_read(notification_id: str) -> Any:
    """Mark one notification read."""
    return services.mark_read(
        user=current_caller(), notification_id=notification_id, english=_english()
    )


@blp.route("/me/notifications/read-all", methods=["POST"])
@signed_in
@blp.response(200, ReadAllSchema)
def mark_all_read() -> Any:
    """Mark every notification of the caller read."""
    return {"marked": services.mark_all_read(user=current_caller()), "unread_count": 0}


# ---- preferences ----------------------------------------------------------------------------


@blp.route("/me/notification-preferences", methods=["GET"])
@signed_in
@blp.response(200, PreferencesSchema)
def get_preferences() -> Any:
    """Push on or off per category, and quiet hours (Asia/Seoul) when pushes wait."""
    return services.preference_settings(user=current_caller())


@blp.route("/me/notification-preferences", methods=["PUT"])
@signed_in
@blp.arguments(PreferencesReplaceSchema)
@blp.response(200, PreferencesSchema)
def replace_preferences(data: dict[str, Any]) -> Any:
    """Set every push preference. The inbox gets every notification whatever they say."""
    return services.update_preferences(user=current_caller(), changes=data)


@blp.route("/me/notification-preferences", methods=["PATCH"])
@signed_in
@blp.arguments(PreferencesUpdateSchema)
@blp.response(200, PreferencesSchema)
def update_preferences(data: dict[str, Any]) -> Any:
    """Change some push preferences; set both quiet-hour fields to null to clear them."""
    return services.update_preferences(user=current_caller(), changes=data)


# ---- announcements --------------------------------------------------------------------------


@blp.route("/announcements", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(AnnouncementCreateSchema)
@blp.response(201, AnnouncementSchema)
def create_announcement(data: dict[str, Any]) -> Any:
    """Announce to the municipality's citizens, or with `project_id` to a project's participants.

    Every citizen of the municipality gets an inbox entry and one push goes to its FCM topic.
    A project's participants are those registered, attended or confirmed in any of its
    activities; each gets an inbox entry and pushes as they chose. Another municipality's
    project is 404 `project_not_found`.
    """
    actor = current_caller()
    project_id = data.get("project_id")
    if project_id is not None:
        # The audience comes from the participation domain (NotFound unless the official's).
        participation.get_project(viewer=actor, project_id=project_id)
        data["participant_ids"] = participation.list_participant_ids(project_id=project_id)
    return services.create_announcement(actor=actor, **data)


@blp.route("/announcements", methods=["GET"])
@requires(Role.OFFICIAL, Role.ADMIN)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(AnnouncementSchema))
def list_announcements(args: dict[str, Any]) -> Any:
    """Announcements made, newest first (officials: their municipality's)."""
    return services.list_announcements(viewer=current_caller(), **args)


# ---- statistics -----------------------------------------------------------------------------


@blp.route("/admin/notifications/stats", methods=["GET"])
@requires(Role.ADMIN)
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(200, DeliveryStatsSchema)
def delivery_stats(args: dict[str, Any]) -> Any:
    """Delivery statistics (admin): the queue now, and sent, retried, dead, pruned per day."""
    configured = push_is_configured(current_app.config)
    return services.delivery_stats(push_configured=configured, **args)
