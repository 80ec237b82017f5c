"""Notification schemas: devices, the inbox, preferences, announcements, delivery statistics."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from backend.notifications.models import Audience, Category, Platform
from backend.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageArgsSchema,
    SeoulDate,
    SeoulDateTime,
    Text,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Control characters are not allowed.")


def _plain_text(max_length: int, **kwargs: Any) -> fields.String:
    """Text a person reads: bounded, no control characters (line breaks are fine)."""
    field = Text(max_length, **kwargs)
    field.validators.append(_no_control_characters)
    return field


class ClockTime(fields.String):
    """A time of day "HH:MM" (Asia/Seoul), held as minutes after midnight."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "22:00")
        kwargs["metadata"].setdefault("pattern", _CLOCK.pattern)
        super().__init__(**kwargs)

    def _serialize(self, value: int | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value // 60:02d}:{value % 60:02d}"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _CLOCK.match(text):
            raise ValidationError("Use HH:MM (00:00-23:59).")
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)


# ---- devices --------------------------------------------------------------------------------


class DeviceRegisterSchema(InputSchema):
    token = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=1024),
            validate.Regexp(r"^[\x21-\x7e]+$", error="Not an FCM registration token."),
        ],
        metadata={"description": "The FCM registration token (getToken()).", "example": "fcm:1"},
    )
    platform = fields.Enum(Platform, by_value=True, required=True)
    app_version = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=32),
            validate.Regexp(r"^[\x21-\x7e]+$", error="Not a version."),
        ],
        metadata={"example": "1.4.2"},
    )
    locale = fields.String(
        load_default="ko",
        validate=[
            validate.Length(max=16),
            validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", error="Not a locale."),
        ],
        metadata={
            "description": "Device language (BCP 47); en* gets English pushes.",
            "example": "ko-KR",
        },
    )


class DeviceSchema(OutputSchema):
    id = Id(required=True)
    platform = fields.Enum(Platform, by_value=True, required=True)
    app_version = fields.String(required=True)
    locale = fields.String(required=True)
    created_at = SeoulDateTime(required=True)
    updated_at = SeoulDateTime(required=True)


class DeviceRegistrationSchema(OutputSchema):
    device = fields.Nested(DeviceSchema, required=True)
    topics = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "FCM topics the app subscribes to (municipality announcements)."},
    )


# ---- inbox ----------------------------------------------------------------------------------


class InboxArgsSchema(PageArgsSchema):
    unread_only = fields.Boolean(load_default=False)


class NotificationSchema(OutputSchema):
    id = Id(required=True)
    kind = fields.String(required=True, metadata={"example": "participation.confirmed"})
    category = fields.Enum(Category, by_value=True, required=True)
    title = fields.String(required=True, metadata={"description": "In the reader's language."})
    body = fields.String(required=True)
    link = fields.String(
        allow_none=True,
        metadata={"example": "coproduction://participations/01JD8X7Q2M4N5P6R7S8T9V0W1X"},
    )
    data = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    read_at = SeoulDateTime(allow_none=True)
    created_at = SeoulDateTime(required=True)


class UnreadCountSchema(OutputSchema):
    unread_count = fields.Integer(required=True)


class ReadAllSchema(OutputSchema):
    marked = fields.Integer(required=True, metadata={"description": "How many were unread."})
    unread_count = fields.Integer(required=True)


# ---- preferences ----------------------------------------------------------------------------


class PreferencesSchema(OutputSchema):
    participation = fields.Boolean(required=True)
    rewards = fields.Boolean(required=True)
    certificates = fields.Boolean(required=True)
    committees = fields.Boolean(required=True)
    meetings = fields.Boolean(required=True)
    announcements = fields.Boolean(required=True)
    quiet_hours_start = ClockTime(attribute="quiet_start_minute", allow_none=True)
    quiet_hours_end = ClockTime(attribute="quiet_end_minute", allow_none=True)
    timezone = fields.Constant("Asia/Seoul", dump_only=True)
    topics = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "FCM topics the app subscribes to (municipality announcements)."},
    )


def _preference_fields(required: bool) -> dict[str, fields.Field]:
    found: dict[str, fields.Field] = {
        category.value: fields.Boolean(required=required) for category in Category
    }
    for name in ("quiet_hours_start", "quiet_hours_end"):
        found[name] = ClockTime(
            required=required,
            allow_none=True,
            data_key=name,
            attribute=name.replace("hours_", "") + "_minute",
            metadata={"description": "HH:MM, Asia/Seoul; null for no quiet hours."},
        )
    return found


PreferencesReplaceSchema = type(
    "PreferencesReplaceSchema", (InputSchema,), _preference_fields(required=True)
)
PreferencesReplaceSchema.__doc__ = "Every setting (PUT)."
PreferencesUpdateSchema = type(
    "PreferencesUpdateSchema", (InputSchema,), _preference_fields(required=False)
)
PreferencesUpdateSchema.__doc__ = "Only the settings to change (PATCH)."


# ---- announcements --------------------------------------------------------------------------


class AnnouncementCreateSchema(InputSchema):
    title = _plain_text(100, min_length=1, required=True, metadata={"example": "주민 설명회 안내"})
    body = _plain_text(1000, min_length=1, required=True)
    title_en = _plain_text(100, min_length=1, load_default=None, allow_none=True)
    body_en = _plain_text(1000, min_length=1, load_default=None, allow_none=True)
    project_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "Tell this project's participants only (else every citizen)."},
    )

    @validates_schema
    def _english_pair(self, data: dict, **_kwargs: object) -> None:
        if (data.get("title_en") is None) != (data.get("body_en") is None):
            raise ValidationError("Give both the English title and body, or neither.", "title_en")


class AnnouncementSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    audience = fields.Enum(Audience, by_value=True, required=True)
    project_id = Id(allow_none=True)
    author_id = Id(allow_none=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    title_en = fields.String(allow_none=True)
    body_en = fields.String(allow_none=True)
    recipient_count = fields.Integer(required=True)
    created_at = SeoulDateTime(required=True)


# ---- delivery statistics --------------------------------------------------------------------


class StatsArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    days = fields.Integer(load_default=7, validate=validate.Range(min=1, max=90))


class _MetricsFields(OutputSchema):
    sent = fields.Integer(required=True)
    retried = fields.Integer(required=True, metadata={"description": "Retries scheduled."})
    dead = fields.Integer(required=True, metadata={"description": "Given up."})
    tokens_pruned = fields.Integer(required=True)
    inbox_only = fields.Integer(required=True, metadata={"description": "Skipped: push off."})


class DeliveryTotalsSchema(_MetricsFields):
    pass


class DeliveryDaySchema(_MetricsFields):
    date = SeoulDate(required=True)


class DeliveryStatsSchema(OutputSchema):
    push_configured = fields.Boolean(
        required=True, metadata={"description": "Whether this server's config has credentials."}
    )
    devices = fields.Integer(required=True)
    queued = fields.Integer(required=True, metadata={"description": "Pushes not yet sent."})
    due = fields.Integer(required=True, metadata={"description": "Queued and due now."})
    in_flight = fields.Integer(required=True, metadata={"description": "Claimed by a worker."})
    totals = fields.Nested(DeliveryTotalsSchema, required=True)
    days = fields.List(fields.Nested(DeliveryDaySchema), required=True)
