"""The injectable clock: services ask it for the time so tests can fix it."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

SEOUL = ZoneInfo("Asia/Seoul")
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """The current time in UTC, from the app's clock when one is installed."""
    if has_app_context():
        clock: Clock = current_app.extensions.get("clock", system_clock)
        return clock()
    return system_clock()


def seoul_today() -> date:
    """Today's date in Asia/Seoul, where the platform's days begin and end."""
    return utcnow().astimezone(SEOUL).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def seoul_date(moment: datetime) -> date:
    """The Asia/Seoul calendar date of an instant (naive values are taken as UTC)."""
    return as_utc(moment).astimezone(SEOUL).date()


def seoul_day_start(day: date) -> datetime:
    """The instant (in UTC) at which a day begins in Asia/Seoul."""
    return datetime.combine(day, time.min, tzinfo=SEOUL).astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Make a datetime aware and UTC; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
