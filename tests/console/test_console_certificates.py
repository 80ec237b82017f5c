"""Certificates in the console: criteria, holders, issue, keys."""

from __future__ import annotations

import sqlalchemy as sa

from backend.certification.models import Certificate, CertificationCriteria
from backend.extensions import db
from backend.permissions import Role


def test_change_the_criteria_and_issue_a_certificate(
    app, create_user, create_criteria, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    criteria = create_criteria()
    client = console_login(official)
    token = form_token(client, "/console/certificates")
    changed = client.post(
        f"/console/certification-criteria/{criteria.id}",
        data={
            "csrf_token": token,
            "min_participations": "0",
            "min_stages": "0",
            "window_months": "12",
            "validity_months": "24",
            "auto_issue": "1",
            "is_active": "1",
        },
    )
    assert changed.status_code == 303, changed.get_data(as_text=True)[:1500]
    db.session.expire_all()
    assert db.session.get(CertificationCriteria, criteria.id).min_participations == 0
    citizen = create_user(Role.CITIZEN)
    issued = client.post("/console/certificates", data={"csrf_token": token, "user_id": citizen.id})
    assert issued.status_code == 303, issued.get_data(as_text=True)[:1500]
    assert db.session.scalar(sa.select(Certificate.user_id)) == citizen.id
    page = client.get("/console/certificates").get_data(as_text=True)
    assert 'data-certificate-status="active"' in page


def test_a_scheduler_is_refused_certificates(app, create_user, console_login):
    client = console_login(create_user(Role.SCHEDULER))
    assert client.get("/console/certificates").status_code == 403
