"""A citizen's rewards and certificates as the console shows and changes them."""

from __future__ import annotations

import sqlalchemy as sa

from backend.certification.models import Certificate, CertificateStatus
from backend.extensions import db
from backend.permissions import Role
from backend.rewards.models import RewardLedgerEntry


def test_grant_a_commendation_and_revoke_a_certificate(
    app, create_user, create_certificate, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    certificate = create_certificate(citizen)
    client = console_login(official)
    url = f"/console/citizens/{citizen.id}"
    token = form_token(client, url)
    grant = client.post(
        f"{url}/grants", data={"csrf_token": token, "incentive": "commendation", "reason": "표창"}
    )
    assert grant.status_code == 303
    assert db.session.scalar(sa.select(RewardLedgerEntry.reason)) == "표창"
    page = client.get(url).get_data(as_text=True)
    assert 'data-incentive="commendation">1<' in page
    assert 'data-certificate-status="active"' in page
    revoke = client.post(
        f"/console/certificates/{certificate.id}/revoke",
        data={"csrf_token": token, "reason": "분실"},
    )
    assert revoke.status_code == 303
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == CertificateStatus.REVOKED


def test_citizens_of_another_municipality_are_not_found(
    app, create_user, other_municipality, console_login
):
    stranger = create_user(Role.CITIZEN, municipality=other_municipality)
    client = console_login(create_user(Role.OFFICIAL))
    assert client.get(f"/console/citizens/{stranger.id}").status_code == 404
