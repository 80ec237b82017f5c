"""Committees in the console: appoint, dismiss with a reason, the letter, tenancy."""

from __future__ import annotations

import sqlalchemy as sa

from backend.clock import seoul_today
from backend.committees.models import Appointment
from backend.extensions import db
from backend.permissions import Role


def test_appoint_then_dismiss_a_member(
    app, create_user, create_committee, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    committee = create_committee(seats=2)
    citizen = create_user(Role.CITIZEN)
    client = console_login(official)
    url = f"/console/committees/{committee.id}"
    token = form_token(client, url)
    appointed = client.post(
        f"{url}/appointments",
        data={
            "csrf_token": token,
            "user_id": citizen.id,
            "role": "member",
            "term_start": str(seoul_today()),
        },
    )
    assert appointed.status_code == 303, appointed.get_data(as_text=True)[:1500]
    page = client.get(url).get_data(as_text=True)
    assert ">1 / 2<" in page and 'data-appointment-status="active"' in page
    appointment = db.session.scalar(sa.select(Appointment))
    letter = client.get(f"/console/appointments/{appointment.id}/letter")
    assert letter.status_code == 200 and citizen.display_name in letter.get_data(as_text=True)
    dismissed = client.post(
        f"/console/appointments/{appointment.id}/dismiss",
        data={"csrf_token": token, "reason": "본인 사정"},
    )
    assert dismissed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).dismissal_reason == "본인 사정"


def test_committees_of_another_municipality_are_not_found(
    app, create_user, create_committee, other_municipality, console_login
):
    committee = create_committee()
    client = console_login(create_user(Role.OFFICIAL, municipality=other_municipality))
    assert client.get(f"/console/committees/{committee.id}").status_code == 404
    assert committee.name not in client.get("/console/committees").get_data(as_text=True)
