"""A scheduler runs a meeting from the console: create, registrations, reminder, door."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import SEOUL, utcnow
from backend.committees import services
from backend.committees.models import Meeting
from backend.extensions import db
from backend.permissions import Role


def _local(moment) -> str:
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


def test_a_scheduler_runs_a_meeting_to_the_door(
    app, create_user, create_committee, console_login, form_token
):
    scheduler = create_user(Role.SCHEDULER)
    committee = create_committee()
    client = console_login(scheduler)
    token = form_token(client, "/console/meetings/new")
    now = utcnow()
    answer = client.post(
        "/console/meetings/new",
        data={
            "csrf_token": token,
            "committee_id": committee.id,
            "title": "제1차 정기회의",
            "place": "구청 3층 회의실",
            "starts_at": _local(now + timedelta(hours=1)),
            "ends_at": _local(now + timedelta(hours=3)),
            "capacity": "1",
            "reserved_seats": "0",
            "priority_opens_at": _local(now - timedelta(hours=1)),
            "general_opens_at": _local(now - timedelta(hours=1)),
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:3000]
    meeting = db.session.scalar(sa.select(Meeting))
    first, second = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    confirmed = services.register_for_meeting(actor=first, meeting=meeting)
    services.register_for_meeting(actor=second, meeting=meeting)
    db.session.commit()

    page = client.get(f"/console/meetings/{meeting.id}").get_data(as_text=True)
    assert page.count('data-status="confirmed"') == 1
    assert page.count('data-status="waitlisted"') == 1

    remind = client.post(f"/console/meetings/{meeting.id}/remind", data={"csrf_token": token})
    assert remind.status_code == 303 and "reminded=1" in remind.headers["Location"]

    door = client.get(f"/console/meetings/{meeting.id}/door").get_data(as_text=True)
    assert ">0 / 1<" in door
    checked = client.post(
        f"/console/meetings/{meeting.id}/check-in",
        data={"csrf_token": token, "registration_id": confirmed.id},
    )
    assert checked.status_code == 303
    assert client.get(f"/console/meetings/{meeting.id}/door/count").json == {
        "checked_in": 1,
        "confirmed": 1,
    }
    bad = client.post(
        f"/console/meetings/{meeting.id}/check-in", data={"csrf_token": token, "ticket": "nope"}
    )
    assert bad.status_code == 422
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"meeting.create", "meeting.remind"} <= actions


def test_meetings_of_another_municipality_are_not_found(
    app, create_user, create_committee, create_meeting, other_municipality, console_login
):
    meeting = create_meeting(create_committee())
    stranger = create_user(Role.SCHEDULER, municipality=other_municipality)
    client = console_login(stranger)
    assert client.get(f"/console/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/console/meetings/{meeting.id}/door/count").status_code == 404
    assert meeting.title not in client.get("/console/meetings").get_data(as_text=True)
