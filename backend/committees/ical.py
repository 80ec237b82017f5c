"""Meeting feeds that phone calendars subscribe to, written with the `icalendar` library.

The library writes the RFC 5545 structure: CRLF line ends and content lines folded at 75 octets
on character boundaries (3.1), dates and times with their TZID (3.2.19). This module decides
what goes in: one VEVENT per meeting whose UID never changes, whose SEQUENCE rises with each
change, and whose STATUS becomes CANCELLED on cancellation (3.8.4.7, 3.8.7.4, 3.8.1.11), so a
subscribed calendar updates the event it already shows instead of adding a second one; local
times in Asia/Seoul with the VTIMEZONE that defines it (3.6.5).

TEXT values are escaped here (`escape_text`, 3.3.11), not by the library: its escaping turns a
literal backslash-N into a line break and keeps control characters.

No METHOD property: the feed is a published calendar, not a scheduling message, and so DTSTAMP
is the time the event was last revised (3.8.7.2); the output is therefore the same bytes until
something changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

from backend.clock import SEOUL

TZID = "Asia/Seoul"
PRODID = "-//Co-production participation platform//Committee meetings//KO"
#: How often a subscribed calendar should fetch the feed again.
REFRESH = timedelta(hours=1)
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


class _Text(icalendar.vText):
    """A TEXT value escaped by `escape_text` instead of the library's escaping."""

    def to_ical(self) -> bytes:
        return escape_text(str(self)).encode("utf-8")


def _time_zone() -> icalendar.Timezone:
    # Korea has kept +09:00 without daylight saving since 1988; the one observance covers every
    # meeting this platform will hold.
    zone = icalendar.Timezone()
    zone.add("tzid", TZID)
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", timedelta(hours=9))
    standard.add("tzoffsetto", timedelta(hours=9))
    standard.add("tzname", "KST")
    zone.add_component(standard)
    return zone


def _event(event: CalendarEvent) -> icalendar.Event:
    item = icalendar.Event()
    item.add("uid", _Text(event.uid))
    item.add("dtstamp", event.modified_at.astimezone(UTC))
    item.add("created", event.created_at.astimezone(UTC))
    item.add("last-modified", event.modified_at.astimezone(UTC))
    item.add("sequence", event.sequence)
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    item.add("dtstart", event.starts_at.astimezone(SEOUL))
    item.add("dtend", event.ends_at.astimezone(SEOUL))
    item.add("summary", _Text(event.summary))
    if event.description:
        item.add("description", _Text(event.description))
    if event.location:
        item.add("location", _Text(event.location))
    if event.url:
        # A URI value, not TEXT: it is not escaped (the schemas refuse spaces and line breaks).
        item.add("url", icalendar.vUri(event.url))
    return item


def build_calendar(*, name: str, events: Iterable[CalendarEvent]) -> str:
    """A whole VCALENDAR with the Asia/Seoul time zone and one VEVENT per event."""
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _Text(name))
    calendar.add("x-wr-timezone", TZID)
    calendar.add("refresh-interval", icalendar.vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
    calendar.add_component(_time_zone())
    for event in events:
        calendar.add_component(_event(event))
    return calendar.to_ical().decode("utf-8")
