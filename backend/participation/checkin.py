"""Rotating check-in codes: derived, never stored, so a rotation writes nothing.

The code of an activity for a time window is an HMAC of the activity id and the window number
under a key derived from the app's secret; staff show it (as a QR) at the venue, citizens type
or scan it. The current and the previous window are accepted, so a code read just before it
rotates still works.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

DEFAULT_WINDOW_SECONDS = 60
DEFAULT_OPENS_BEFORE_MINUTES = 30
CODE_DIGITS = 6


@dataclass(frozen=True)
class CheckInCode:
    """The code to show now, and when it stops being shown."""

    activity_id: str
    code: str
    valid_from: datetime
    expires_at: datetime
    window_seconds: int
    check_in_opens_at: datetime
    check_in_closes_at: datetime

    @property
    def qr_payload(self) -> str:
        """What the venue QR encodes; the app sends `code` to the check-in endpoint."""
        return f"coprod:check-in:{self.activity_id}:{self.code}"


def window_seconds() -> int:
    """How long one code is shown (CHECK_IN_WINDOW_SECONDS, default 60)."""
    return int(current_app.config.get("CHECK_IN_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))


def opens_before() -> timedelta:
    """How long before the start check-in opens (CHECK_IN_OPENS_BEFORE_MINUTES, default 30)."""
    minutes = current_app.config.get("CHECK_IN_OPENS_BEFORE_MINUTES", DEFAULT_OPENS_BEFORE_MINUTES)
    return timedelta(minutes=int(minutes))


def _key() -> bytes:
    # A key of its own, so a check-in code never doubles as anything signed with SECRET_KEY.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"participation.check-in-code.v1", hashlib.sha256).digest()


def code_for_window(activity_id: str, window: int) -> str:
    """The code of one activity in one time window."""
    digest = hmac.new(_key(), f"{activity_id}:{window}".encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def _window_of(moment: datetime, seconds: int) -> int:
    return int(moment.timestamp()) // seconds


def current_code(
    *, activity_id: str, now: datetime, starts_at: datetime, ends_at: datetime
) -> CheckInCode:
    """The code valid at `now`, its window and the check-in period of the activity."""
    seconds = window_seconds()
    window = _window_of(now, seconds)
    valid_from = datetime.fromtimestamp(window * seconds, tz=UTC)
    return CheckInCode(
        activity_id=activity_id,
        code=code_for_window(activity_id, window),
        valid_from=valid_from,
        expires_at=valid_from + timedelta(seconds=seconds),
        window_seconds=seconds,
        check_in_opens_at=starts_at - opens_before(),
        check_in_closes_at=ends_at,
    )


def code_is_valid(*, activity_id: str, code: str, now: datetime) -> bool:
    """Whether `code` is the current or the previous window's code (constant-time compare)."""
    window = _window_of(now, window_seconds())
    matches = [
        hmac.compare_digest(code_for_window(activity_id, w), code) for w in (window, window - 1)
    ]
    return any(matches)
