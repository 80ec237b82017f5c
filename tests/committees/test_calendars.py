"""iCalendar feeds (RFC 5545): lines, folding, escaping, time zone, UID, SEQUENCE, STATUS.

The output is read back with the `icalendar` parser, and checked line by line where the RFC asks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.clock import SEOUL
from backend.committees import services
from backend.committees.ical import CalendarEvent, build_calendar, escape_text
from backend.committees.models import MeetingStatus
from backend.extensions import db
from backend.permissions import Role

START = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 14:00 in Seoul


def _event(**overrides):
    values = {
        "uid": "01JD8X7Q2M4N5P6R7S8T9V0W1X@meetings.coproduction",
        "summary": "제3차 정기회의",
        "starts_at": START,
        "ends_at": START + timedelta(hours=2),
        "sequence": 0,
        "created_at": START - timedelta(days=10),
        "modified_at": START - timedelta(days=10),
    }
    values.update(overrides)
    return CalendarEvent(**values)


def _octets(text: str) -> list[int]:
    return [len(line.encode("utf-8")) for line in text.split("\r\n")]


def test_lines_end_in_crlf_and_fold_at_75_octets_on_character_boundaries():
    agenda = "가나다라마바사아자차카타파하 " * 40 + "\n둘째 줄; 쉼표, 역슬래시 \\ 끝"
    text = build_calendar(name="위원회", events=[_event(description=agenda)])
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert max(_octets(text)) <= 75
    # Folding never splits a character: every physical line is valid UTF-8 on its own.
    for line in text.split("\r\n"):
        line.encode("utf-8").decode("utf-8")
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == agenda


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def _unescape(value: str) -> str:
    """RFC 5545 3.3.11, exactly (icalendar's own unescaping mistakes a literal backslash-n)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


@given(st.text(min_size=0, max_size=400))
def test_folding_and_escaping_round_trip_any_text(value):
    text = build_calendar(name="x", events=[_event(summary=value or "x", description=value)])
    assert max(_octets(text)) <= 75
    icalendar.Calendar.from_ical(text)  # an independent parser accepts it
    [line] = [line for line in _unfold(text) if line.startswith("DESCRIPTION:")] or ["DESCRIPTION:"]
    expected = "".join(
        c
        for c in value.replace("\r\n", "\n").replace("\r", "\n")
        if c in "\n\t" or not (ord(c) < 32 or ord(c) == 127)
    )
    assert _unescape(line.removeprefix("DESCRIPTION:")) == expected


def test_folding_leaves_short_lines_alone_and_continues_with_a_space():
    text = build_calendar(name="x", events=[_event(summary="short", description="x" * 200)])
    assert "\r\nSUMMARY:short\r\n" in text
    lines = text.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("DESCRIPTION:"))
    first, rest = lines[start], []
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        rest.append(line)
    # Lines are filled (the library folds at 74 octets, plus the space on continuations).
    assert len(first) == 74 and len(rest) == 2
    assert all(len(r) <= 75 for r in rest)
    assert first + "".join(r[1:] for r in rest) == "DESCRIPTION:" + "x" * 200


def test_escape_text():
    assert escape_text("a;b,c\\d\ne\r\nf\x00") == "a\\;b\\,c\\\\d\\ne\\nf"


def test_a_literal_backslash_n_stays_a_backslash_n():
    # The library's own TEXT escaping would turn it into a line break.
    text = build_calendar(name="x", events=[_event(description="C:\\New\\N")])
    assert "DESCRIPTION:C:\\\\New\\\\N\r\n" in text


def test_times_carry_the_seoul_time_zone_which_is_defined():
    text = build_calendar(name="위원회", events=[_event()])
    assert "DTSTART;TZID=Asia/Seoul:20260310T140000\r\n" in text
    assert "DTEND;TZID=Asia/Seoul:20260310T160000\r\n" in text
    calendar = icalendar.Calendar.from_ical(text)
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Asia/Seoul"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == START
    assert event.decoded("DTEND").utcoffset() == timedelta(hours=9)
    assert event["DTSTAMP"].to_ical() == b"20260228T050000Z"


def test_cancelled_events_say_so():
    text = build_calendar(name="x", events=[_event(cancelled=True, sequence=3)])
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert (event["STATUS"], event["SEQUENCE"]) == ("CANCELLED", 3)


def _events_by_uid(text):
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}


def test_a_committee_feed_updates_the_same_event_on_change_and_cancel(
    clock, create_user, create_committee, create_meeting
):
    scheduler = create_user(Role.SCHEDULER)
    committee = create_committee(name="공원, 조성; 위원회")
    meeting = create_meeting(committee, online_url="https://meet.example.kr/a?b=1,2")
    uid = f"{meeting.id}@meetings.coproduction"
    before = _events_by_uid(services.committee_calendar(viewer=scheduler, committee=committee))
    assert before[uid]["SEQUENCE"] == 0 and before[uid]["STATUS"] == "CONFIRMED"
    assert str(before[uid]["URL"]) == "https://meet.example.kr/a?b=1,2"

    services.update_meeting(actor=scheduler, meeting=meeting, place="시청 대회의실")
    db.session.commit()
    changed = _events_by_uid(services.committee_calendar(viewer=scheduler, committee=committee))
    assert list(changed) == [uid]
    assert changed[uid]["SEQUENCE"] == 1 and str(changed[uid]["LOCATION"]) == "시청 대회의실"

    services.cancel_meeting(actor=scheduler, meeting=meeting, reason="우천")
    db.session.commit()
    text = services.committee_calendar(viewer=scheduler, committee=committee)
    cancelled = _events_by_uid(text)
    assert cancelled[uid]["SEQUENCE"] == 2 and cancelled[uid]["STATUS"] == "CANCELLED"
    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["X-WR-CALNAME"]) == "공원, 조성; 위원회"
    assert meeting.status == MeetingStatus.CANCELLED


def test_the_personal_feed_has_registrations_and_member_committees(
    clock, create_user, create_committee, create_appointment, create_meeting, register
):
    citizen = create_user()
    own_committee, other_committee = create_committee(), create_committee()
    create_appointment(own_committee, citizen)
    committee_meeting = create_meeting(own_committee)
    registered = create_meeting(other_committee)
    cancelled_registration = create_meeting(other_committee)
    not_mine = create_meeting(other_committee)
    register(registered, citizen)
    dropped = register(cancelled_registration, citizen)
    services.cancel_registration(actor=citizen, registration=dropped)
    db.session.commit()
    uids = set(_events_by_uid(services.personal_calendar(user=citizen)))
    assert uids == {
        f"{committee_meeting.id}@meetings.coproduction",
        f"{registered.id}@meetings.coproduction",
    }
    assert f"{not_mine.id}@meetings.coproduction" not in uids


def test_feed_output_is_stable_until_something_changes(
    clock, create_user, create_committee, create_meeting
):
    viewer = create_user(Role.OFFICIAL)
    committee = create_committee()
    create_meeting(committee)
    first = services.committee_calendar(viewer=viewer, committee=committee)
    clock.advance(hours=3)
    assert services.committee_calendar(viewer=viewer, committee=committee) == first


@pytest.mark.parametrize("hours", [0, 9])
def test_local_times_are_written_in_seoul_whatever_offset_came_in(hours):
    from datetime import timezone

    start = START.astimezone(timezone(timedelta(hours=hours)))
    text = build_calendar(name="x", events=[_event(starts_at=start)])
    assert f"DTSTART;TZID=Asia/Seoul:{START.astimezone(SEOUL):%Y%m%dT%H%M%S}" in text
