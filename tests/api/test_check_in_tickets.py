"""MT2 meeting tickets: ES256 signed with the published certificate keys, so a door device can
check them offline; the server's check-in verifies them (and, for a transition, MT1 tickets).
Also: the attendance list carries door conflicts, and a 200-person door survives an outage."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.certification.keys import public_keys_from_jwks
from backend.certification.token import b64url_decode, b64url_encode, verify_es256
from backend.committees import tickets
from backend.extensions import db
from backend.permissions import Role
from backend.privacy.masking import mask_name_or_blank
from tests.api.test_meetings import _register
from tests.fixtures.identity import auth_headers_for


def _jws_parts(ticket: str) -> tuple[dict, dict, str]:
    assert ticket.startswith("MT2:")
    header, payload, signature = ticket[4:].split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def _with_payload(ticket: str, **changes: object) -> str:
    """The ticket with changed claims and the original signature (a forgery)."""
    header, payload, signature = ticket[4:].split(".")
    claims = json.loads(b64url_decode(payload)) | changes
    encoded = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    return f"MT2:{header}.{encoded}.{signature}"


@pytest.fixture
def door(client, clock, as_role, create_committee, create_meeting, create_user):
    scheduler, _ = as_role(Role.SCHEDULER)
    meeting = create_meeting(create_committee(), capacity=3)
    other = create_meeting(create_committee(), capacity=3)
    people = [create_user() for _ in range(2)]
    registrations = [_register(client, meeting.id, person).json for person in people]
    elsewhere = _register(client, other.id, create_user()).json
    clock.set(meeting.starts_at + timedelta(minutes=5))
    return {
        "meeting": meeting,
        "scheduler": scheduler,
        "other": other,
        "people": people,
        "registrations": registrations,
        "elsewhere": elsewhere,
        "headers": auth_headers_for(scheduler),  # after the clock moved: a fresh token
        "url": f"/api/v1/meetings/{meeting.id}/check-in",
    }


def _check_in(client, door, ticket):
    return client.post(door["url"], json={"ticket": ticket}, headers=door["headers"])


def test_a_ticket_verifies_with_the_published_jwks_alone(client, door):
    ticket = door["registrations"][0]["ticket"]
    header, claims, signature = _jws_parts(ticket)
    assert set(header) == {"alg", "kid", "typ"} and header["typ"] == "mt"
    meeting = door["meeting"]
    assert claims == {
        "m": meeting.id,
        "r": door["registrations"][0]["id"],
        "s": "c",
        "nb": int((meeting.starts_at - timedelta(hours=2)).timestamp()),
        "e": int((meeting.ends_at + timedelta(hours=2)).timestamp()),
    }
    # What a phone does offline: the key from the JWKS, the signature over header.payload.
    keys = public_keys_from_jwks(client.get("/.well-known/jwks.json").json)
    signing_input = ticket[4:].rsplit(".", 1)[0].encode()
    assert verify_es256(signing_input, b64url_decode(signature), keys[header["kid"]])
    answer = _check_in(client, door, ticket)
    assert answer.status_code == 200, answer.json
    assert answer.json["already_checked_in"] is False
    assert _check_in(client, door, ticket).json["already_checked_in"] is True


def test_the_same_registration_gets_the_same_ticket_at_every_fetch(client, door):
    person = door["people"][0]
    mine = client.get("/api/v1/me/registrations", headers=auth_headers_for(person)).json
    assert mine["items"][0]["ticket"] == door["registrations"][0]["ticket"]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda t, d: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), id="signature"),
        pytest.param(
            lambda t, d: _with_payload(t, r=d["registrations"][1]["id"]), id="other-person"
        ),
        pytest.param(lambda t, d: _with_payload(t, e=4102444800), id="longer-validity"),
        pytest.param(lambda t, d: _with_payload(t, s="c", x=1), id="extra-claim"),
        pytest.param(lambda t, d: t.replace("MT2:", "MT1:"), id="prefix"),
        pytest.param(lambda t, d: t.lower(), id="case"),
    ],
)
def test_a_tampered_ticket_is_not_valid(client, door, forge, count_rows):
    from backend.committees.models import Registration

    answer = _check_in(client, door, forge(door["registrations"][0]["ticket"], door))
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "ticket_invalid")
    db_checked = [r for r in door["registrations"] if _checked_in(client, door, r["id"])]
    assert db_checked == [] and count_rows(Registration) == 3


def _checked_in(client, door, registration_id):
    items = client.get(
        f"/api/v1/meetings/{door['meeting'].id}/registrations", headers=door["headers"]
    ).json["items"]
    return next(r for r in items if r["id"] == registration_id)["checked_in_at"]


def test_a_ticket_of_another_meeting_is_refused(client, door):
    answer = _check_in(client, door, door["elsewhere"]["ticket"])
    assert (answer.status_code, answer.json["error"]["code"]) == (409, "ticket_wrong_meeting")
    # Re-signing is impossible, and re-labelling the meeting breaks the signature.
    relabelled = _with_payload(door["elsewhere"]["ticket"], m=door["meeting"].id)
    assert _check_in(client, door, relabelled).json["error"]["code"] == "ticket_invalid"


def test_a_ticket_of_another_municipalitys_meeting_is_refused(
    client, door, clock, create_committee, create_meeting, create_user, other_municipality
):
    meeting = create_meeting(create_committee(municipality=other_municipality), capacity=2)
    citizen = create_user(municipality=other_municipality)
    theirs = _register(client, meeting.id, citizen).json
    assert theirs["ticket"].startswith("MT2:")
    # Both meetings under way at once (the other one a week later than `door`'s is moved).
    clock.set(meeting.starts_at + timedelta(minutes=5))
    door["meeting"].starts_at = meeting.starts_at
    door["meeting"].ends_at = meeting.ends_at
    db.session.commit()
    door["headers"] = auth_headers_for(door["scheduler"])
    answer = _check_in(client, door, theirs["ticket"])
    assert answer.json["error"]["code"] == "ticket_wrong_meeting"
    # Nor may this municipality's scheduler check in at the other municipality's door.
    there = client.post(
        f"/api/v1/meetings/{meeting.id}/check-in",
        json={"ticket": theirs["ticket"]},
        headers=door["headers"],
    )
    assert there.status_code in (403, 404)


def test_expired_cancelled_and_waitlisted_tickets(client, clock, door, create_user):
    meeting = door["meeting"]
    first, second = door["registrations"]
    # Cancelled: the signature is still good, the registration is not.
    started = clock()
    clock.set(meeting.starts_at - timedelta(hours=1))
    cancelled = client.post(
        f"/api/v1/registrations/{second['id']}/cancel",
        headers=auth_headers_for(door["people"][1]),
    )
    assert cancelled.status_code == 200, cancelled.json
    # Waitlisted: two seats were left, the third newcomer waits.
    waiting = [_register(client, meeting.id, create_user()).json for _ in range(3)][-1]
    clock.set(started)
    answer = _check_in(client, door, second["ticket"])
    assert answer.json["error"]["code"] == "registration_cancelled"
    # Waitlisted: the ticket says so (s = "w"), and the server refuses it.
    assert waiting["status"] == "waitlisted"
    assert _jws_parts(waiting["ticket"])[1]["s"] == "w"
    assert _check_in(client, door, waiting["ticket"]).json["error"]["code"] == (
        "registration_not_confirmed"
    )
    # Expired: after the check-in window a genuine ticket no longer checks in.
    clock.set(meeting.ends_at + timedelta(hours=2, minutes=1))
    answer = _check_in(client, door, first["ticket"])
    assert answer.json["error"]["code"] == "check_in_not_open"


def test_tickets_signed_with_a_retired_key_still_check_in(client, door):
    from backend.certification import signing

    before = door["registrations"][0]["ticket"]
    signing.rotate_signing_keys()
    db.session.commit()
    again = client.get("/api/v1/me/registrations", headers=auth_headers_for(door["people"][0]))
    assert _jws_parts(again.json["items"][0]["ticket"])[0]["kid"] != _jws_parts(before)[0]["kid"]
    assert _check_in(client, door, before).status_code == 200


def test_legacy_mt1_tickets_are_accepted_during_the_transition(app, client, door):
    registration = door["registrations"][0]
    with app.app_context():
        legacy = tickets.make_legacy_ticket(registration["id"], door["meeting"].id)
    app.config["TICKETS_ACCEPT_MT1"] = False
    try:
        assert _check_in(client, door, legacy).json["error"]["code"] == "ticket_invalid"
    finally:
        app.config["TICKETS_ACCEPT_MT1"] = True
    assert _check_in(client, door, legacy).status_code == 200


def test_the_attendance_list_carries_the_door_conflicts(client, clock, door):
    first, second = door["registrations"]
    scans_url = f"/api/v1/meetings/{door['meeting'].id}/check-in-scans"

    def send(device, registration, offline=True):
        scan = {
            "scan_id": str(uuid.uuid4()),
            "ticket": registration["ticket"],
            "scanned_at": (clock() - timedelta(minutes=1)).isoformat(),
            "offline": offline,
        }
        body = {"device_id": device, "scans": [scan]}
        return client.post(scans_url, json=body, headers=door["headers"]).json["items"][0]

    assert send("door-1", first)["outcome"] == "admitted"
    conflict = send("door-2", first)
    assert conflict["outcome"] == "conflict_other_device"
    listed = client.get(
        f"/api/v1/meetings/{door['meeting'].id}/registrations", headers=door["headers"]
    ).json["items"]
    by_id = {r["id"]: r for r in listed}
    assert by_id[first["id"]]["check_in_conflict"] == {
        "scan_id": conflict["scan_id"],
        "outcome": "conflict_other_device",
        "device_id": "door-2",
        "scanned_at": conflict["scanned_at"],
    }
    assert by_id[second["id"]]["check_in_conflict"] is None
    # The list shows names masked, as everywhere staff see attendees.
    assert by_id[first["id"]]["attendee"]["display_name"] == mask_name_or_blank(
        door["people"][0].display_name
    )


def test_a_door_of_200_people_through_an_outage_loses_nothing_and_counts_once(
    client,
    clock,
    as_role,
    create_committee,
    create_meeting,
    create_user,
    create_project,
    count_rows,
):
    """Two door devices go offline, admit 200 people between them (5 of them on both), and send
    their queues in chunks when the network returns; lost answers make them resend chunks."""
    from backend.committees.models import CheckInScan, Registration
    from backend.participation.models import Participation

    scheduler, _ = as_role(Role.SCHEDULER)
    project = create_project()
    meeting = create_meeting(
        create_committee(project_id=project.id), capacity=200, stage="decide", project_id=project.id
    )
    registered = [_register(client, meeting.id, create_user()).json for _ in range(200)]
    assert {r["status"] for r in registered} == {"confirmed"}
    clock.set(meeting.starts_at - timedelta(minutes=20))
    url = f"/api/v1/meetings/{meeting.id}/check-in-scans"

    def queue(registrations, minute):
        return [
            {
                "scan_id": str(uuid.uuid4()),
                "ticket": r["ticket"],
                "scanned_at": (clock() + timedelta(minutes=minute, seconds=i)).isoformat(),
                "offline": True,
            }
            for i, r in enumerate(registrations)
        ]

    # Device 1 admits the first 150, device 2 the last 50 and, again, five of device 1's.
    one = queue(registered[:150], 0)
    two = queue(registered[150:] + registered[:5], 5)
    clock.set(meeting.starts_at + timedelta(minutes=30))  # the network is back
    headers = auth_headers_for(scheduler)
    outcomes: dict[str, str] = {}
    for device, scans in (("door-1", one), ("door-2", two)):
        for start in range(0, len(scans), 40):
            body = {"device_id": device, "scans": scans[start : start + 40]}
            lost = client.post(url, json=body, headers=headers)  # the answer is lost...
            resent = client.post(url, json=body, headers=headers)  # ...so it is sent again
            assert resent.status_code == 200 and resent.json == lost.json
            outcomes |= {item["scan_id"]: item["outcome"] for item in resent.json["items"]}
        # A whole queue resent at the end changes nothing either.
        again = client.post(url, json={"device_id": device, "scans": scans}, headers=headers)
        assert {i["scan_id"]: i["outcome"] for i in again.json["items"]}.items() <= outcomes.items()
    assert len(outcomes) == 205
    counts = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    assert counts == {"admitted": 200, "conflict_other_device": 5}
    assert count_rows(CheckInScan) == 205
    checked_in = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(Registration.meeting_id == meeting.id, Registration.checked_in_at.is_not(None))
    )
    assert checked_in == 200
    # Attendance became participation exactly once per person.
    assert count_rows(Participation) == 200
    conflicts = client.get(f"/api/v1/meetings/{meeting.id}/check-in-conflicts", headers=headers)
    assert sorted(c["registration_id"] for c in conflicts.json["items"]) == sorted(
        r["id"] for r in registered[:5]
    )
