"""HTTP: meetings, registration with priority, tickets, check-in, calendars; parallel seats."""

from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from backend import events
from backend.clock import utcnow
from backend.committees.models import Registration, RegistrationStatus
from backend.extensions import db
from backend.permissions import Role
from tests.fixtures.identity import auth_headers_for


@pytest.fixture
def scheduler(as_role):
    return as_role(Role.SCHEDULER)


@pytest.fixture
def committee(create_committee):
    return create_committee()


def _iso(value):
    return value.isoformat()


def _plan(**change):
    now = utcnow()
    plan = {
        "title": "제1차 정기회의",
        "agenda": "1. 보고\n2. 심의",
        "place": "구청 3층 회의실",
        "starts_at": _iso(now + timedelta(days=10)),
        "ends_at": _iso(now + timedelta(days=10, hours=2)),
        "capacity": 10,
        "reserved_seats": 2,
        "priority_opens_at": _iso(now + timedelta(days=1)),
        "general_opens_at": _iso(now + timedelta(days=3)),
        "stage": "evaluate",
    }
    plan.update(change)
    return plan


def _create(client, headers, committee_id, **change):
    return client.post(
        f"/api/v1/committees/{committee_id}/meetings", json=_plan(**change), headers=headers
    )


def _register(client, meeting_id, user):
    return client.post(
        f"/api/v1/meetings/{meeting_id}/registrations", headers=auth_headers_for(user)
    )


def test_a_scheduler_plans_a_meeting_that_everyone_of_the_municipality_sees(
    client, clock, scheduler, committee, as_role
):
    _, headers = scheduler
    created = _create(client, headers, committee.id)
    assert created.status_code == 201, created.json
    meeting = created.json
    assert meeting["starts_at"].endswith("+09:00")
    assert (meeting["status"], meeting["sequence"], meeting["seats_left"]) == ("scheduled", 0, 10)
    assert (meeting["confirmed_count"], meeting["waitlisted_count"]) == (0, 0)
    _, citizen = as_role(Role.CITIZEN)
    assert client.get(f"/api/v1/meetings/{meeting['id']}", headers=citizen).json == meeting
    listed = client.get(f"/api/v1/committees/{committee.id}/meetings", headers=citizen).json
    assert [m["id"] for m in listed["items"]] == [meeting["id"]]
    upcoming = client.get("/api/v1/meetings?upcoming=true", headers=citizen).json
    assert [m["id"] for m in upcoming["items"]] == [meeting["id"]]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ends_at": "2026-03-12T09:00:00+09:00"}, "meeting_times_invalid"),
        ({"priority_opens_at": "2026-03-06T10:00:00+09:00"}, "registration_windows_invalid"),
        ({"general_opens_at": "2026-03-13T10:00:00+09:00"}, "registration_windows_invalid"),
        ({"reserved_seats": 11}, "reserved_seats_exceed_capacity"),
        ({"place": None, "online_url": None}, "meeting_location_required"),
        ({"starts_at": "2026-03-12T13:00:00+09:00"}, "meeting_times_invalid"),
        ({"starts_at": "2026-03-12T10:00:00"}, "validation_failed"),
        ({"capacity": 0}, "validation_failed"),
        ({"online_url": "javascript:alert(1)"}, "validation_failed"),
        ({"starts_at": "9999-12-31T23:59:00-14:00"}, "validation_failed"),
    ],
)
def test_bad_plans_are_422_and_write_nothing(
    client, clock, scheduler, committee, table_counts, change, code
):
    _, headers = scheduler
    before = table_counts()
    response = _create(client, headers, committee.id, **change)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["fields"]
    assert table_counts() == before


def test_a_scheduler_of_another_municipality_is_refused_with_404(
    client, clock, as_role, committee, create_meeting, other_municipality, table_counts
):
    _, foreign = as_role(Role.SCHEDULER, municipality=other_municipality)
    meeting = create_meeting(committee)
    before = table_counts()
    for response in (
        _create(client, foreign, committee.id),
        client.patch(f"/api/v1/meetings/{meeting.id}", json={"title": "x"}, headers=foreign),
        client.post(f"/api/v1/meetings/{meeting.id}/cancel", json={"reason": "x"}, headers=foreign),
        client.post(
            f"/api/v1/meetings/{meeting.id}/check-in", json={"ticket": "x"}, headers=foreign
        ),
    ):
        assert response.status_code == 404
        assert response.json["error"]["code"] in ("committee_not_found", "meeting_not_found")
    assert table_counts() == before


def test_registration_ticket_check_in_and_participation(
    client, clock, scheduler, committee, create_user, create_meeting, published
):
    scheduler_user, headers = scheduler
    meeting = create_meeting(committee, capacity=1, stage="implement")
    citizen, second = create_user(), create_user()
    registered = _register(client, meeting.id, citizen)
    assert registered.status_code == 201
    body = registered.json
    assert (body["status"], body["tier"], body["waitlist_position"]) == (
        "confirmed",
        "general",
        None,
    )
    assert body["meeting"]["id"] == meeting.id and body["ticket"].startswith("MT2:")
    twice = _register(client, meeting.id, citizen)
    assert (twice.status_code, twice.json["error"]["code"]) == (409, "already_registered")
    waiting = _register(client, meeting.id, second).json
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)

    mine = client.get("/api/v1/me/registrations", headers=auth_headers_for(citizen)).json
    assert [r["id"] for r in mine["items"]] == [body["id"]]
    png = client.get(
        f"/api/v1/registrations/{body['id']}/ticket.png", headers=auth_headers_for(citizen)
    )
    assert png.status_code == 200 and png.mimetype == "image/png"
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert decoded.text == body["ticket"]
    stranger = client.get(
        f"/api/v1/registrations/{body['id']}/ticket.png", headers=auth_headers_for(second)
    )
    assert stranger.status_code == 404

    clock.set(meeting.starts_at - timedelta(minutes=30))
    headers = auth_headers_for(scheduler_user)  # a login of the meeting day
    url = f"/api/v1/meetings/{meeting.id}/check-in"
    first = client.post(url, json={"ticket": decoded.text}, headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["already_checked_in"] is False
    assert first.json["registration"]["attendee"]["id"] == citizen.id
    again = client.post(url, json={"ticket": decoded.text}, headers=headers)
    assert again.status_code == 200 and again.json["already_checked_in"] is True
    [attended] = published.of(events.MEETING_ATTENDED)
    assert attended["user_id"] == citizen.id and attended["stage"] == "implement"
    assert attended["actor_id"] == scheduler_user.id
    waitlisted = client.post(url, json={"ticket": waiting["ticket"]}, headers=headers)
    assert waitlisted.json["error"]["code"] == "registration_not_confirmed"
    forged = client.post(url, json={"ticket": "MT1:not-a-ticket"}, headers=headers)
    assert (forged.status_code, forged.json["error"]["code"]) == (422, "ticket_invalid")


def test_cancelling_promotes_the_best_placed_and_tells_them(
    client, clock, committee, create_user, create_meeting, published
):
    meeting = create_meeting(committee, capacity=1)
    holder, waiting = create_user(), create_user()
    held = _register(client, meeting.id, holder).json
    queued = _register(client, meeting.id, waiting).json
    cancelled = client.post(
        f"/api/v1/registrations/{held['id']}/cancel", headers=auth_headers_for(holder)
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["ticket"] is None
    promoted = client.get(
        f"/api/v1/registrations/{queued['id']}", headers=auth_headers_for(waiting)
    ).json
    assert (promoted["status"], promoted["waitlist_position"]) == ("confirmed", None)
    assert promoted["promoted_at"] is not None
    assert [p["user_id"] for p in published.of(events.REGISTRATION_PROMOTED)] == [waiting.id]
    again = client.post(
        f"/api/v1/registrations/{held['id']}/cancel", headers=auth_headers_for(holder)
    )
    assert (again.status_code, again.json["error"]["code"]) == (409, "registration_cancelled")


def test_a_dismissed_member_cannot_use_member_priority(
    client, clock, committee, as_role, create_user, create_meeting
):
    official, official_headers = as_role(Role.OFFICIAL)
    member = create_user()
    appointment = client.post(
        f"/api/v1/committees/{committee.id}/appointments",
        json={"user_id": member.id, "term_start": "2026-01-01", "term_end": "2026-12-31"},
        headers=official_headers,
    ).json
    now = utcnow()
    meeting = create_meeting(
        committee,
        priority_opens_at=now - timedelta(hours=1),
        general_opens_at=now + timedelta(days=1),
    )
    client.post(
        f"/api/v1/appointments/{appointment['id']}/dismiss",
        json={"reason": "해촉"},
        headers=official_headers,
    )
    refused = _register(client, meeting.id, member)
    assert (refused.status_code, refused.json["error"]["code"]) == (
        409,
        "registration_priority_only",
    )


def test_a_change_is_visible_and_the_staff_list_shows_positions(
    client, clock, scheduler, committee, create_user, create_meeting
):
    _, headers = scheduler
    meeting = create_meeting(committee, capacity=1)
    _register(client, meeting.id, create_user())
    _register(client, meeting.id, create_user())
    changed = client.patch(
        f"/api/v1/meetings/{meeting.id}", json={"capacity": 2, "place": "시청"}, headers=headers
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["status"], changed.json["sequence"]) == ("changed", 1)
    assert (changed.json["confirmed_count"], changed.json["waitlisted_count"]) == (2, 0)
    below = client.patch(f"/api/v1/meetings/{meeting.id}", json={"capacity": 1}, headers=headers)
    assert (below.status_code, below.json["error"]["code"]) == (409, "capacity_below_confirmed")
    listed = client.get(f"/api/v1/meetings/{meeting.id}/registrations", headers=headers).json
    assert [r["status"] for r in listed["items"]] == ["confirmed", "confirmed"]
    assert "ticket" not in listed["items"][0]


def test_calendars_for_the_citizen_with_a_secret_feed_url(
    client, clock, committee, create_user, create_meeting, scheduler
):
    _, staff = scheduler
    citizen = create_user()
    meeting = create_meeting(committee)
    _register(client, meeting.id, citizen)
    headers = auth_headers_for(citizen)
    own = client.get("/api/v1/me/calendar.ics", headers=headers)
    assert own.status_code == 200 and own.mimetype == "text/calendar"
    [event] = icalendar.Calendar.from_ical(own.data).walk("VEVENT")
    assert str(event["UID"]) == f"{meeting.id}@meetings.coproduction"

    feed = client.post("/api/v1/me/calendar-feed", headers=headers)
    assert feed.status_code == 201
    url, webcal = feed.json["url"], feed.json["webcal_url"]
    assert url.startswith("http://localhost/api/v1/calendar-feeds/") and url.endswith(".ics")
    assert webcal == "webcal://" + url.removeprefix("http://")
    path = url.removeprefix("http://localhost")
    anonymous = client.get(path)
    assert anonymous.status_code == 200 and anonymous.data == own.data

    client.post(f"/api/v1/meetings/{meeting.id}/cancel", json={"reason": "우천"}, headers=staff)
    [cancelled] = icalendar.Calendar.from_ical(client.get(path).data).walk("VEVENT")
    assert (cancelled["STATUS"], cancelled["SEQUENCE"]) == ("CANCELLED", 1)

    rotated = client.post("/api/v1/me/calendar-feed", headers=headers).json["url"]
    assert client.get(path).status_code == 404
    new_path = rotated.removeprefix("http://localhost")
    assert client.get(new_path).status_code == 200
    assert client.delete("/api/v1/me/calendar-feed", headers=headers).status_code == 204
    gone = client.get(new_path)
    assert (gone.status_code, gone.json["error"]["code"]) == (404, "calendar_feed_not_found")

    committee_feed = client.get(f"/api/v1/committees/{committee.id}/calendar.ics", headers=staff)
    assert committee_feed.status_code == 200
    assert b"STATUS:CANCELLED" in committee_feed.data


def test_minutes_make_a_meeting_held(client, clock, scheduler, committee, create_meeting):
    user, headers = scheduler
    meeting = create_meeting(committee)
    url = f"/api/v1/meetings/{meeting.id}/minutes"
    early = client.post(url, json={"minutes": "회의록"}, headers=headers)
    assert (early.status_code, early.json["error"]["code"]) == (409, "meeting_not_started")
    clock.set(meeting.ends_at + timedelta(hours=1))
    headers = auth_headers_for(user)
    held = client.post(url, json={"minutes": "회의록\n- 결정 1"}, headers=headers)
    assert held.status_code == 200 and held.json["status"] == "held"
    assert held.json["minutes"] == "회의록\n- 결정 1"


# ---- concurrency ------------------------------------------------------------------------------

THREADS = 16


def _in_parallel(app, calls):
    """Run each call(client) in its own thread and test client, all released at once."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        client = app.test_client()
        barrier.wait()
        results[index] = call(client)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.real_commits  # threads: each has its own connection
def test_parallel_registrations_for_the_last_seats_never_overbook(
    app, committee, create_user, create_meeting, register
):
    capacity = 5
    meeting = create_meeting(committee, capacity=capacity)
    for _ in range(capacity - 2):
        register(meeting, create_user())
    citizens = [create_user() for _ in range(THREADS)]
    headers = [auth_headers_for(citizen) for citizen in citizens]
    url = f"/api/v1/meetings/{meeting.id}/registrations"
    db.session.remove()  # the test's own session holds nothing while the requests run

    def attempt(index):
        def call(client):
            response = client.post(url, headers=headers[index])
            return response.status_code, response.get_json()

        return call

    results = _in_parallel(app, [attempt(i) for i in range(THREADS)])
    assert [status for status, _body in results] == [201] * THREADS, results
    outcome = Counter(body["status"] for _status, body in results)
    assert outcome == {"confirmed": 2, "waitlisted": THREADS - 2}
    positions = sorted(
        body["waitlist_position"] for _s, body in results if body["waitlist_position"]
    )
    assert positions == list(range(1, THREADS - 1))
    confirmed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.meeting_id == meeting.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )
    assert confirmed == capacity


@pytest.mark.real_commits  # threads: each has its own connection
def test_parallel_scans_of_one_ticket_check_in_once(
    app, clock, committee, create_user, create_meeting, register, as_role, published
):
    meeting = create_meeting(committee)
    ticket = register(meeting, create_user()).ticket
    clock.set(meeting.starts_at)
    _, headers = as_role(Role.SCHEDULER)
    url = f"/api/v1/meetings/{meeting.id}/check-in"
    db.session.remove()

    def scan(client):
        response = client.post(url, json={"ticket": ticket}, headers=headers)
        return response.status_code, response.get_json()

    results = _in_parallel(app, [scan] * 8)
    assert [status for status, _body in results] == [200] * 8, results
    assert sorted(body["already_checked_in"] for _s, body in results) == [False] + [True] * 7
    assert len(published.of(events.MEETING_ATTENDED)) == 1
