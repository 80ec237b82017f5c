"""End to end: a citizen signs up with consents, takes part, exports their data, withdraws a
consent, corrects a field and leaves; then no table holds their name, phone or e-mail."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from flask import g

from backend.certification.models import Certificate, CertificateStatus
from backend.committees.models import Appointment
from backend.extensions import db
from backend.identity.models import User
from backend.notifications.models import Device
from backend.permissions import Role
from tests.privacy.signup import consents

NAME, NEW_NAME = "홍길동", "홍길순"
PHONE, EMAIL = "01098765432", "gildong.hong@example.test"
PASSWORD = "a-long-password"


def _holding(values: set[str]) -> list[str]:
    """Every table.column whose stored value contains one of the values (text, JSON, bytes)."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                if isinstance(value, bytes):
                    text = value.decode("utf-8", "replace")
                elif isinstance(value, dict | list):
                    text = json.dumps(value, ensure_ascii=False)
                else:
                    text = str(value)
                if any(v in text for v in values):
                    found.append(f"{table.name}.{column}")
    return sorted(set(found))


def test_sign_up_use_export_withdraw_correct_delete(
    client,
    municipality,
    as_role,
    record_confirmed_participation,
    create_certificate,
    create_committee,
    create_appointment,
):
    # Sign-up with consents: programme pushes yes, the rest no.
    texts = client.get("/api/v1/consent-texts").json
    assert {t["purpose"] for t in texts} >= {"service", "marketing_push", "photos"}
    # As the app sends it: a retried sign-up must not make two accounts. Its stored answer
    # names the person, so deleting the account must delete it too (checked at the end).
    signed = client.post(
        "/api/v1/auth/register",
        headers={"Idempotency-Key": "signup-journey-1"},
        json={
            "email": EMAIL,
            "phone": PHONE,
            "password": PASSWORD,
            "display_name": NAME,
            "municipality_id": municipality.id,
            "birth_year": 1988,
            "consents": consents(marketing_push=True),
        },
    )
    assert signed.status_code == 201, signed.json
    login = client.post("/api/v1/auth/login", json={"identifier": EMAIL, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    citizen = db.session.get(User, signed.json["id"])
    device = client.post(
        "/api/v1/me/devices",
        headers=headers,
        json={"token": "fcm-token-" + "x" * 40, "platform": "android", "app_version": "1.0.0"},
    )
    assert device.status_code in (200, 201), device.json

    # Use: a confirmed participation (with its rewards), a certificate, a committee seat.
    participation = record_confirmed_participation(citizen, hours=3.0)
    certificate = create_certificate(citizen)
    appointment = create_appointment(create_committee(), citizen)
    official, staff = as_role(Role.OFFICIAL)
    listed = client.get(
        f"/api/v1/activities/{participation.activity_id}/participations", headers=staff
    )
    assert [p["user"]["display_name"] for p in listed.json["items"]] == ["홍*동"]
    report_url = f"/api/v1/reports/projects/{participation.project_id}/profile"
    report_before = client.get(report_url, headers=staff).json

    # Export: everything, in JSON, with participations and rewards as CSV too.
    export = client.post("/api/v1/me/exports", headers=headers)
    assert export.status_code == 202 and export.json["status"] == "ready"
    url = f"/api/v1/me/exports/{export.json['id']}/download"
    document = client.get(url, headers=headers).json
    assert document["profile"]["display_name"] == NAME
    assert "password_hash" not in document["profile"]
    assert [p["hours"] for p in document["participations"]] == [3.0]
    assert {c["purpose"] for c in document["consents"] if c["granted"]} == {
        "service",
        "marketing_push",
    }
    assert document["certificates"][0]["id"] == certificate.id
    assert document["appointments"][0]["id"] == appointment.id
    assert len(document["devices"]) == 1
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(url + "?table=participations", headers=headers)
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows[0]["id"] == participation.id and rows[0]["hours"] == "3.0"
    assert client.get(url + "?table=rewards", headers=headers).status_code == 200

    # Withdraw one consent: no more programme pushes.
    withdrawn = client.post("/api/v1/me/consents/marketing_push/withdraw", headers=headers)
    assert withdrawn.json["granted"] is False

    # Correct the name; what cannot be changed here says whom to ask.
    corrected = client.patch("/api/v1/me/profile", headers=headers, json={"display_name": NEW_NAME})
    assert corrected.status_code == 200 and corrected.json["display_name"] == NEW_NAME
    refused = client.patch("/api/v1/me/profile", headers=headers, json={"birth_year": 1970})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "field_not_self_editable"

    # Delete: a wrong password changes nothing, the right one erases at once.
    wrong = client.post("/api/v1/me/deletion", headers=headers, json={"password": "nope-nope-1"})
    assert wrong.status_code == 401
    deleted = client.post("/api/v1/me/deletion", headers=headers, json={"password": PASSWORD})
    assert deleted.status_code == 204
    # The test client shares one app context (and its g) between requests; a server does not.
    g.pop("caller", None), g.pop("caller_session", None)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/login", json={"identifier": EMAIL, "password": PASSWORD}
        ).status_code
        == 401
    )
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == CertificateStatus.REVOKED
    assert db.session.get(Appointment, appointment.id).dismissed_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 0

    # The reports' numbers do not change when a citizen leaves.
    assert client.get(report_url, headers=staff).json == report_before

    # No table holds the name (old or corrected), the phone or the e-mail.
    assert _holding({NAME, NEW_NAME, PHONE, EMAIL}) == []
    # What is kept joins on the opaque id only (the anonymised account row).
    kept = db.session.get(User, citizen.id)
    assert kept.display_name == "탈퇴회원" and kept.phone is None and kept.birth_year is None
    # The admin can still answer who looked at this person's data.
    _admin, admin_headers = as_role(Role.ADMIN)
    looked = client.get(
        "/api/v1/access-records", headers=admin_headers, query_string={"subject_id": citizen.id}
    ).json["items"]
    assert official.id in {r["actor_id"] for r in looked}
