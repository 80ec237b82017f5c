"""Public lookup of a certificate by its printed issue number (발급번호)."""

from __future__ import annotations

import pytest

from backend.certification.issue_number import new_issue_number
from backend.extensions import db
from backend.permissions import Role
from tests.api.test_certification_api import SHOWN, verify

PATH = "/api/v1/certificates/lookup"


@pytest.fixture
def issued(client, clock, as_role, create_user, auth_headers):
    official = as_role(Role.OFFICIAL)
    holder = create_user(Role.CITIZEN, display_name="홍길동")
    staff = client.post("/api/v1/certificates", headers=official[1], json={"user_id": holder.id})
    assert staff.status_code == 201
    mine = client.get(f"/api/v1/me/certificates/{staff.json['id']}", headers=auth_headers(holder))
    return staff.json, mine.json, official


def test_every_certificate_shows_its_issue_number(issued) -> None:
    staff, mine, _ = issued
    assert staff["issue_number"] == mine["issue_number"]
    digits = staff["issue_number"].replace("-", "")
    assert len(digits) == 16 and digits.isdigit()
    assert staff["issue_number"] != staff["serial_number"]


def test_lookup_answers_what_the_qr_answers(client, issued) -> None:
    staff, mine, _ = issued
    answer = client.post(PATH, json={"number": staff["issue_number"].replace("-", " ")})
    assert answer.status_code == 200
    assert set(answer.json) == SHOWN | {"issue_number"}
    by_qr = verify(client, mine["qr_text"])
    assert {k: v for k, v in answer.json.items() if k != "issue_number"} == by_qr
    assert answer.json["holder"] == "홍*동"
    assert answer.json["issue_number"] == staff["issue_number"]


def test_a_revoked_certificate_reads_revoked(client, issued) -> None:
    staff, _, official = issued
    revoked = client.post(
        f"/api/v1/certificates/{staff['id']}/revoke", headers=official[1], json={"reason": "분실"}
    )
    assert revoked.status_code == 200
    answer = client.post(PATH, json={"number": staff["issue_number"]})
    assert answer.json["status"] == "revoked"


def test_mistyped_unknown_and_serial_numbers(client, issued) -> None:
    staff, _, _ = issued
    number = staff["issue_number"]
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    cases = [
        (client.post(PATH, json={"number": typo}), 422, "issue_number_invalid"),
        (client.post(PATH, json={"number": staff["serial_number"]}), 422, "issue_number_invalid"),
        (client.post(PATH, json={"number": new_issue_number()}), 404, "certificate_not_found"),
        (client.post(PATH, json={}), 422, "validation_failed"),
        (client.post(PATH, json={"number": 5}), 422, "validation_failed"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
        assert set(response.json["error"]) == {"code", "message", "fields"}
    assert "number" in cases[0][0].json["error"]["fields"]


def test_lookups_share_the_verification_rate_limit(app, client, issued, monkeypatch) -> None:
    staff, mine, _ = issued
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_RATE", 0.01)
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_BURST", 3)
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_COUNT", 1)
    app.extensions.pop("certificate_verify_limiter", None)
    first = {"X-Forwarded-For": "203.0.113.9"}
    answers = [
        client.post(PATH, json={"number": new_issue_number()}, headers=first).status_code
        for _ in range(2)
    ]
    assert answers == [404, 404]
    assert verify(client, mine["qr_text"], headers=first)["status"] == "valid"
    limited = client.post(PATH, json={"number": staff["issue_number"]}, headers=first)
    assert (limited.status_code, limited.json["error"]["code"]) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1


def test_lookup_never_writes(client, issued, table_counts) -> None:
    staff, _, _ = issued
    before = table_counts()
    assert client.post(PATH, json={"number": staff["issue_number"]}).status_code == 200
    db.session.expire_all()
    assert table_counts() == before
