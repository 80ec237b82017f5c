"""Door devices send their scans, also a queue kept through a network outage: each scan counts
once, and what a device could not see offline comes back as a conflict."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from backend.permissions import Role
from backend.privacy.masking import mask_name_or_blank
from tests.api.test_meetings import _register
from tests.fixtures.identity import auth_headers_for


@pytest.fixture
def door(client, clock, as_role, create_committee, create_meeting, create_user):
    """A meeting under way, three confirmed registrants' tickets, a scheduler's headers."""
    scheduler, _ = as_role(Role.SCHEDULER)
    meeting = create_meeting(create_committee(), capacity=5)
    people = [create_user() for _ in range(3)]
    registrations = [_register(client, meeting.id, person).json for person in people]
    clock.set(meeting.starts_at + timedelta(minutes=5))
    return {
        "meeting": meeting,
        "people": people,
        "registrations": registrations,
        "headers": auth_headers_for(scheduler),
        "url": f"/api/v1/meetings/{meeting.id}/check-in-scans",
    }


def _scan(ticket, clock, *, offline=True, minutes_ago=1, scan_id=None):
    return {
        "scan_id": scan_id or str(uuid.uuid4()),
        "ticket": ticket,
        "scanned_at": (clock() - timedelta(minutes=minutes_ago)).isoformat(),
        "offline": offline,
    }


def test_a_queue_counts_once_however_often_it_is_sent(client, clock, door, count_rows):
    from backend.committees.models import CheckInScan

    queue = [_scan(r["ticket"], clock) for r in door["registrations"][:2]]
    body = {"device_id": "door-1", "scans": queue}
    first = client.post(door["url"], json=body, headers=door["headers"])
    assert first.status_code == 200, first.json
    assert [item["outcome"] for item in first.json["items"]] == ["admitted", "admitted"]
    assert all(item["offline"] for item in first.json["items"])
    again = client.post(door["url"], json=body, headers=door["headers"])
    assert again.json == first.json
    assert count_rows(CheckInScan) == 2
    staff = client.get(
        f"/api/v1/meetings/{door['meeting'].id}/registrations", headers=door["headers"]
    ).json["items"]
    assert sum(1 for r in staff if r["checked_in_at"]) == 2


def test_two_devices_admitting_one_person_is_a_conflict(client, clock, door):
    ticket = door["registrations"][0]["ticket"]
    one = {"device_id": "door-1", "scans": [_scan(ticket, clock, minutes_ago=3)]}
    two = {"device_id": "door-2", "scans": [_scan(ticket, clock, minutes_ago=2)]}
    assert (
        client.post(door["url"], json=one, headers=door["headers"]).json["items"][0]["outcome"]
        == "admitted"
    )
    answer = client.post(door["url"], json=two, headers=door["headers"]).json["items"][0]
    assert answer["outcome"] == "conflict_other_device"
    # The same device scanning its own admitted person again is no conflict.
    same = {"device_id": "door-1", "scans": [_scan(ticket, clock)]}
    assert (
        client.post(door["url"], json=same, headers=door["headers"]).json["items"][0]["outcome"]
        == "already_checked_in"
    )
    conflicts = client.get(
        f"/api/v1/meetings/{door['meeting'].id}/check-in-conflicts", headers=door["headers"]
    )
    assert [c["outcome"] for c in conflicts.json["items"]] == ["conflict_other_device"]
    assert conflicts.json["items"][0]["device_id"] == "door-2"
    # Staff see the attendee's name masked (the one masking rule).
    assert conflicts.json["items"][0]["attendee_name"] == mask_name_or_blank(
        door["people"][0].display_name
    )


def test_a_ticket_cancelled_while_offline_is_a_conflict(client, clock, door):
    registration = door["registrations"][1]
    started = clock()
    clock.set(door["meeting"].starts_at - timedelta(hours=1))  # cancelled before it started
    cancelled = client.post(
        f"/api/v1/registrations/{registration['id']}/cancel",
        headers=auth_headers_for(door["people"][1]),
    )
    assert cancelled.status_code == 200
    clock.set(started)
    body = {"device_id": "door-1", "scans": [_scan(registration["ticket"], clock)]}
    answer = client.post(door["url"], json=body, headers=door["headers"]).json["items"][0]
    assert answer["outcome"] == "conflict_cancelled"
    online = {"scans": [_scan(registration["ticket"], clock, offline=False)]}
    answer = client.post(door["url"], json=online, headers=door["headers"]).json["items"][0]
    assert answer["outcome"] == "registration_cancelled"


def test_a_refused_scan_does_not_undo_the_others(client, clock, door):
    scans = [
        _scan("MT1:not-a-ticket", clock),
        _scan(door["registrations"][2]["ticket"], clock),
    ]
    answer = client.post(door["url"], json={"scans": scans}, headers=door["headers"])
    assert [i["outcome"] for i in answer.json["items"]] == ["ticket_invalid", "admitted"]


def test_scans_sent_after_the_meeting_count_at_their_scan_time(client, clock, door):
    scan = _scan(door["registrations"][0]["ticket"], clock)
    clock.set(door["meeting"].ends_at + timedelta(hours=5))
    answer = client.post(door["url"], json={"scans": [scan]}, headers=door["headers"])
    assert answer.json["items"][0]["outcome"] == "admitted"


def test_bad_uploads_and_strangers(client, clock, door, as_role, create_municipality):
    bad = [
        {"scans": []},
        {"scans": [{"scan_id": "x", "ticket": "t", "scanned_at": clock().isoformat()}]},
        {"scans": [_scan("t", clock)] * 501},
    ]
    for body in bad:
        answer = client.post(door["url"], json=body, headers=door["headers"])
        assert (answer.status_code, answer.json["error"]["code"]) == (422, "validation_failed")
    _, citizen = as_role(Role.CITIZEN)
    assert (
        client.post(door["url"], json={"scans": [_scan("t", clock)]}, headers=citizen).status_code
        == 403
    )
    _, foreign = as_role(Role.SCHEDULER, municipality=create_municipality())
    assert (
        client.post(door["url"], json={"scans": [_scan("t", clock)]}, headers=foreign).status_code
        == 404
    )
