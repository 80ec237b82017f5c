"""A request's id travels with the pushes it causes: from its event row through the fan-out
onto the outbox rows, into the lines the delivery worker writes about them."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from backend.extensions import db
from backend.notifications.models import NotificationEvent
from backend.operations.request_log import JsonFormatter
from backend.permissions import Role
from tests.fakes.fake_fcm import Reply
from tests.fixtures.identity import auth_headers_for


def _worker_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "backend.notifications.worker"
    ]


def _record_participation(client, official, activity, citizen, request_id: str):
    response = client.post(
        f"/api/v1/activities/{activity.id}/participations",
        json={"user_id": citizen.id},
        headers={**auth_headers_for(official), "X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.json
    assert response.headers["X-Request-ID"] == request_id
    return response


def test_the_workers_lines_for_a_push_carry_the_id_of_the_request_that_caused_it(
    client,
    official,
    create_activity,
    create_user,
    create_device,
    deliver,
    fake_fcm,
    outbox_rows,
    caplog,
):
    caplog.set_level(logging.INFO, logger="backend.notifications")
    citizen, other = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    device = create_device(citizen)
    create_device(other)
    activity = create_activity()
    _record_participation(client, official, activity, citizen, "abc")
    _record_participation(client, official, activity, other, "other-request")
    db.session.rollback()
    assert sorted(db.session.scalars(sa.select(NotificationEvent.request_id))) == [
        "abc",
        "other-request",
    ]

    report = deliver()

    assert (report.events, report.claimed, report.sent) == (2, 2, 2)
    assert len(fake_fcm.requests_for(device.token)) == 1
    assert sorted(row.request_id for row in outbox_rows()) == ["abc", "other-request"]
    lines = [line for line in _worker_lines(caplog) if line.get("claim_id")]
    by_request = {line.get("request_id"): line for line in lines}
    assert len(lines) == 2, lines  # one line per request in the batch, not one for both
    assert by_request["abc"]["pushes_sent"] == 1
    assert by_request["other-request"]["pushes_sent"] == 1


def test_a_dead_pushs_warning_names_its_request(
    client, official, create_activity, create_user, create_device, deliver, fake_fcm, caplog
):
    caplog.set_level(logging.INFO, logger="backend.notifications")
    citizen = create_user(Role.CITIZEN)
    device = create_device(citizen)
    fake_fcm.script(device.token, Reply.UNAVAILABLE)
    _record_participation(client, official, create_activity(), citizen, "abc")

    report = deliver(max_attempts=1)  # its first failure is its last

    assert report.dead == 1
    (warning,) = [line for line in _worker_lines(caplog) if line["level"] == "warning"]
    assert "dead" in warning["message"]
    assert warning["request_id"] == "abc"


def test_pushes_queued_outside_a_request_carry_no_id(
    ctx, create_user, create_device, notify, deliver, outbox_rows, caplog
):
    caplog.set_level(logging.INFO, logger="backend.notifications")
    user = create_user()
    create_device(user)
    notify(user)  # published by no request (as a scheduled reminder is)

    assert deliver().sent == 1

    assert [row.request_id for row in outbox_rows()] == [None]
    (line,) = [line for line in _worker_lines(caplog) if line.get("claim_id")]
    assert "request_id" not in line and line["pushes_sent"] == 1
