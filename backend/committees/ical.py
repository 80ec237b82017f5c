"""A small iCalendar (RFC 5545) writer for meeting feeds that phone calendars subscribe to.

What the RFC asks and this does: CRLF line ends (3.1); content lines folded at 75 octets, never
inside a UTF-8 character, continued with one space (3.1); TEXT values escaped (3.3.11) and freed
of control characters; local times with a TZID that a VTIMEZONE defines (3.2.19, 3.6.5); one
VEVENT per meeting whose UID never changes, whose SEQUENCE rises with each change, and whose
STATUS becomes CANCELLED on cancellation (3.8.4.7, 3.8.7.4, 3.8.1.11), so a subscribed calendar
updates the event it already shows instead of adding a second one.

No METHOD property: the feed is a published calendar, not a scheduling message, and so DTSTAMP
is the time the event was last revised (3.8.7.2); the output is therefore the same bytes until
something changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.clock import SEOUL

CRLF = "\r\n"
MAX_LINE_OCTETS = 75
TZID = "Asia/Seoul"
PRODID = "-//Co-production participation platform//Committee meetings//KO"
# Korea has kept +09:00 without daylight saving since 1988; the one observance covers every
# meeting this platform will hold.
VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0900",
    "TZOFFSETTO:+0900",
    "TZNAME:KST",
    "END:STANDARD",
    "END:VTIMEZONE",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class CalendarEvent:
    """One meeting as a calendar event."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    sequence: int
    created_at: datetime
    modified_at: datetime
    cancelled: bool = False
    description: str = ""
    location: str = ""
    url: str | None = None


def escape_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks; drop control chars."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = _NEWLINE.sub("\\\\n", value)
    return _CONTROL.sub("", value)


def fold(line: str) -> str:
    """Fold one content line into pieces of at most 75 octets, joined by CRLF and a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_LINE_OCTETS:
        return line
    pieces: list[str] = []
    current, size, limit = [], 0, MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            # A continuation line starts with a space, which counts towards its 75 octets.
            current, size, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return (CRLF + " ").join(pieces)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime) -> str:
    return value.astimezone(SEOUL).strftime("%Y%m%dT%H%M%S")


def _event_lines(event: CalendarEvent) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{_utc(event.modified_at)}",
        f"CREATED:{_utc(event.created_at)}",
        f"LAST-MODIFIED:{_utc(event.modified_at)}",
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        f"DTSTART;TZID={TZID}:{_local(event.starts_at)}",
        f"DTEND;TZID={TZID}:{_local(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        # A URI value, not TEXT: it is not escaped (the schemas refuse spaces and line breaks).
        lines.append(f"URL:{event.url}")
    lines.append("END:VEVENT")
    return lines


def build_calendar(*, name: str, events: Iterable[CalendarEvent]) -> str:
    """A whole VCALENDAR with the Asia/Seoul time zone and one VEVENT per event."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{TZID}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        *VTIMEZONE,
    ]
    for event in events:
        lines.extend(_event_lines(event))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
