"""Certificates over HTTP: issuing, per-audience views, QR images read by an independent
decoder, public verification of every status, JWKS and status lists for offline verifiers."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from PIL import Image

from backend.audit.models import AuditEntry
from backend.certification import qr
from backend.certification.keys import generate_signing_key, public_keys_from_jwks
from backend.certification.status_list import read_status_list
from backend.certification.token import (
    QR_PREFIX,
    b64url_decode,
    b64url_encode,
    build_certificate_claims,
    decode_qr_text,
    encode_qr_text,
    sign_certificate_token,
)
from backend.clock import utcnow
from backend.extensions import db
from backend.permissions import Role
from tests.fixtures.identity import auth_headers_for

STATUSES = {
    "valid",
    "expired",
    "revoked",
    "not_yet_valid",
    "unknown_key",
    "invalid_signature",
    "malformed",
}
SHOWN = {
    "status",
    "checked_at",
    "revocations_as_of",
    "holder",
    "kind",
    "municipality",
    "issued_at",
    "expires_at",
}


@pytest.fixture
def official(as_role):
    return as_role(Role.OFFICIAL)


@pytest.fixture
def holder(create_user, auth_headers):
    user = create_user(Role.CITIZEN, display_name="홍길동", phone="01099998888")
    return user, auth_headers(user)


@pytest.fixture
def issued(client, clock, official, holder):
    """A certificate issued over HTTP: (staff view, holder's view)."""
    _official, headers = official
    response = client.post("/api/v1/certificates", headers=headers, json={"user_id": holder[0].id})
    assert response.status_code == 201, response.json
    mine = client.get(f"/api/v1/me/certificates/{response.json['id']}", headers=holder[1])
    assert mine.status_code == 200
    return response.json, mine.json


def verify(client, text, **kwargs):
    response = client.post("/api/v1/certificates/verify", json={"text": text}, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) <= SHOWN
    assert response.json["status"] in STATUSES
    return response.json


def read_qr(image: Image.Image) -> str:
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0].text


# ---- views per audience ---------------------------------------------------------------------


def test_officials_and_holders_see_their_own_views(client, issued, holder, as_role):
    staff, mine = issued
    assert staff["status"] == "active" and staff["issue_reason"] == "nomination"
    assert staff["user"] == {"id": holder[0].id, "display_name": "홍*동"}  # masked for staff
    assert "qr_text" not in staff and "token" not in json.dumps(staff)
    assert mine["qr_text"].startswith(QR_PREFIX)
    assert mine["holder_name"] == "홍길동" and mine["holder_masked"] == "홍*동"
    assert not {"certificate_code", "key_kid", "user", "issued_by_id"} & set(mine)
    assert mine["municipality"]["code"] == "11680"
    assert mine["valid_until"] == "2028-03-01"
    listed = client.get("/api/v1/me/certificates", headers=holder[1]).json
    assert [item["id"] for item in listed["items"]] == [mine["id"]]

    _other, other_headers = as_role(Role.CITIZEN)
    response = client.get(f"/api/v1/me/certificates/{mine['id']}", headers=other_headers)
    assert (response.status_code, response.json["error"]["code"]) == (404, "certificate_not_found")
    response = client.get(f"/api/v1/certificates/{mine['id']}/qr.png", headers=other_headers)
    assert response.status_code == 404


def test_other_municipalities_see_nothing(client, issued, create_municipality, as_role):
    staff, _mine = issued
    elsewhere = create_municipality(code="41110", name="수원시")
    _official, headers = as_role(Role.OFFICIAL, municipality=elsewhere)
    for method, path in [
        ("get", f"/api/v1/certificates/{staff['id']}"),
        ("get", f"/api/v1/certificates/{staff['id']}/qr.png"),
        ("post", f"/api/v1/certificates/{staff['id']}/renew"),
    ]:
        assert getattr(client, method)(path, headers=headers).status_code == 404
    response = client.post(
        f"/api/v1/certificates/{staff['id']}/revoke", headers=headers, json={"reason": "x"}
    )
    assert response.status_code == 404
    assert client.get("/api/v1/certificates", headers=headers).json["items"] == []


# ---- QR images ------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["M", "Q"])
def test_the_qr_png_is_read_back_by_an_independent_decoder(client, issued, holder, level):
    _staff, mine = issued
    response = client.get(
        f"/api/v1/certificates/{mine['id']}/qr.png?level={level}", headers=holder[1]
    )
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    text = read_qr(image)
    assert text == mine["qr_text"]
    token = decode_qr_text(text)
    assert qr.qr_version(token, "M") <= 13
    modules = image.width // qr.DEFAULT_BOX_SIZE
    for pixels_per_module in (3, 4):
        side = modules * pixels_per_module
        assert read_qr(image.resize((side, side), Image.Resampling.BOX)) == text
    assert verify(client, text)["status"] == "valid"


def test_qr_images_revalidate_with_an_etag_and_come_as_svg(client, issued, holder, official):
    _staff, mine = issued
    path = f"/api/v1/certificates/{mine['id']}/qr.png"
    first = client.get(path, headers=holder[1])
    assert first.headers["Cache-Control"] == "private, no-cache" and first.headers["ETag"]
    again = client.get(path, headers={**holder[1], "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    printing = client.get(path + "?level=Q", headers=official[1])
    assert printing.status_code == 200 and printing.headers["ETag"] != first.headers["ETag"]
    svg = client.get(f"/api/v1/certificates/{mine['id']}/qr.svg", headers=holder[1])
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<?xml")
    assert client.get(path + "?level=H", headers=holder[1]).status_code == 422


# ---- verification ---------------------------------------------------------------------------


def test_a_valid_certificate_shows_only_what_the_qr_shows(client, issued, holder):
    staff, mine = issued
    answer = verify(client, mine["qr_text"])
    assert set(answer) == SHOWN
    assert answer["status"] == "valid"
    assert answer["holder"] == "홍*동"
    assert answer["kind"] == "model_citizen"
    assert answer["municipality"] == {"code": "11680", "name": "강남구"}
    assert answer["issued_at"].endswith("+09:00") and answer["checked_at"].endswith("+09:00")
    assert answer["expires_at"] == "2028-03-02T00:00:00+09:00"
    text = json.dumps(answer, ensure_ascii=False)
    for private in (holder[0].id, holder[0].phone, "홍길동", staff["serial_number"], staff["id"]):
        assert private not in text
    assert verify(client, decode_qr_text(mine["qr_text"]))["status"] == "valid"  # bare token


def _resign(token: str, key, *, kid: str | None = None, **changes: object) -> str:
    header, payload, _signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims.update(changes)
    fields = {
        "issuer": claims["i"],
        "kind": "model_citizen",
        "holder_name": "홍길동",
        "issued_at": utcnow() - timedelta(days=1),
        "expires_at": utcnow() + timedelta(days=1),
        "revocation_index": claims["r"],
    }
    return sign_certificate_token(
        build_certificate_claims(**fields), private_key=key.private_key, kid=kid or key.kid
    )


def test_forgeries_and_garbage_get_the_right_status_never_a_5xx(client, issued):
    _staff, mine = issued
    token = decode_qr_text(mine["qr_text"])
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["n"] = "김*수"
    tampered = (
        f"{header}.{b64url_encode(json.dumps(claims, ensure_ascii=False).encode())}.{signature}"
    )
    real_kid = json.loads(b64url_decode(header))["kid"]
    cases = {
        tampered: "invalid_signature",
        encode_qr_text(tampered): "invalid_signature",
        _resign(token, generate_signing_key(), kid=real_kid): "invalid_signature",
        _resign(token, generate_signing_key("zz9zz9")): "unknown_key",
        "hello": "malformed",
        "": "malformed",
        QR_PREFIX + "123": "malformed",
        "a.b.c": "malformed",
        "x" * 5000: "malformed",
        mine["qr_text"][:-2]: "malformed",
    }
    for text, status in cases.items():
        answer = verify(client, text)
        assert answer["status"] == status, text[:80]
        if status != "valid":
            assert set(answer) == {"status", "checked_at", "revocations_as_of"}


def test_expired_and_not_yet_valid(client, clock, issued):
    _staff, mine = issued
    issued_at = clock.now
    clock.set(issued_at - timedelta(minutes=10))
    assert verify(client, mine["qr_text"])["status"] == "not_yet_valid"
    clock.set(issued_at - timedelta(minutes=4))  # within the 5-minute clock-skew allowance
    assert verify(client, mine["qr_text"])["status"] == "valid"
    clock.set(issued_at + timedelta(days=800))
    answer = verify(client, mine["qr_text"])
    assert answer["status"] == "expired" and answer["holder"] == "홍*동"


def test_revoked_at_once_on_this_server(client, issued, official):
    staff, mine = issued
    assert verify(client, mine["qr_text"])["status"] == "valid"
    response = client.post(
        f"/api/v1/certificates/{staff['id']}/revoke",
        headers=official[1],
        json={"reason": "부정 사용"},
    )
    assert response.status_code == 200
    assert response.json["status"] == "revoked"
    assert response.json["revocation_reason"] == "부정 사용"
    assert verify(client, mine["qr_text"])["status"] == "revoked"
    assert db.session.query(AuditEntry).filter_by(action="certificate.revoke").count() == 1
    again = client.post(
        f"/api/v1/certificates/{staff['id']}/revoke", headers=official[1], json={"reason": "x"}
    )
    assert (again.status_code, again.json["error"]["code"]) == (409, "certificate_revoked")


def test_bad_requests_are_4xx_in_the_error_shape(client):
    path = "/api/v1/certificates/verify"
    cases = [
        (client.post(path, data="{", content_type="application/json"), 400, "malformed_json"),
        (client.post(path, json={}), 422, "validation_failed"),
        (client.post(path, json={"text": 5}), 422, "validation_failed"),
        (client.post(path, json={"text": "x", "more": 1}), 422, "validation_failed"),
        (client.post(path, json=["x"]), 422, "validation_failed"),
        (client.post(path, json={"text": "x" * 10_000}), 422, "validation_failed"),
    ]
    for response, status, code in cases:
        assert response.status_code == status
        assert response.json["error"]["code"] == code
        assert set(response.json["error"]) == {"code", "message", "fields"}
    assert "text" in cases[1][0].json["error"]["fields"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(st.text(max_size=300), st.from_regex(r"CPC1:/[0-9]{0,400}", fullmatch=True)))
def test_random_text_is_never_valid_and_never_a_5xx(client, text):
    assert verify(client, text)["status"] in STATUSES - {"valid"}


@pytest.fixture
def behind_one_proxy(database_url):
    """A second app on the test database, configured with one trusted proxy (ProxyFix)."""
    from backend import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TRUSTED_PROXY_COUNT": 1,
            "CERTIFICATE_VERIFY_RATE": 0.01,
            "CERTIFICATE_VERIFY_BURST": 3,
        }
    )


def test_verification_is_rate_limited_per_client_address_given_by_the_proxy(behind_one_proxy):
    client = behind_one_proxy.test_client()
    path = "/api/v1/certificates/verify"
    first = {"X-Forwarded-For": "203.0.113.7"}
    assert [client.post(path, json={"text": "x"}, headers=first).status_code for _ in range(3)] == [
        200
    ] * 3
    limited = client.post(path, json={"text": "x"}, headers=first)
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    other = client.post(path, json={"text": "x"}, headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 200
    # A forged first hop does not make a new client: only the last (the proxy's) entry counts.
    forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert client.post(path, json={"text": "x"}, headers=forged).status_code == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "certificate_verify_limiter", None)
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_RATE", 0.01)
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_BURST", 2)
    path = "/api/v1/certificates/verify"
    answers = [
        client.post(path, json={"text": "x"}, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        for n in range(3)
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 429]


# ---- offline verification material ----------------------------------------------------------


def test_a_third_party_verifies_with_only_the_published_jwks(client, issued):
    _staff, mine = issued
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and "max-age" in response.headers["Cache-Control"]
    assert '"d"' not in response.get_data(as_text=True)
    key_set = KeySet.import_key_set(response.json)
    token = decode_qr_text(mine["qr_text"])
    verified = jws.deserialize_compact(token, key_set, algorithms=["ES256"])
    claims = json.loads(verified.payload)
    assert claims["n"] == "홍*동" and claims["i"] == "11680"
    forged = _resign(token, generate_signing_key(), kid=verified.protected["kid"])
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(forged, key_set, algorithms=["ES256"])


def test_status_lists_tell_an_offline_verifier_what_was_revoked(client, clock, issued, official):
    staff, mine = issued
    keys = public_keys_from_jwks(client.get("/.well-known/jwks.json").json)
    before = client.get("/api/v1/certificates/revocations").json["items"]
    [status_list] = [read_status_list(token, keys) for token in before]
    index = json.loads(b64url_decode(decode_qr_text(mine["qr_text"]).split(".")[1]))["r"]
    assert status_list.issuer == "11680" and not status_list.is_revoked(index)
    client.post(
        f"/api/v1/certificates/{staff['id']}/revoke", headers=official[1], json={"reason": "x"}
    )
    clock.advance(seconds=2)
    after = client.get("/api/v1/certificates/revocations?issuer=11680")
    assert after.headers["Cache-Control"] == "public, max-age=60"
    assert read_status_list(after.json["items"][0], keys).is_revoked(index)
    assert client.get("/api/v1/certificates/revocations?issuer=!").status_code == 422


# ---- renewal, re-issue, progress, criteria --------------------------------------------------


def test_the_holder_reports_a_loss_and_gets_a_new_qr(client, issued, holder):
    _staff, mine = issued
    response = client.post(
        f"/api/v1/me/certificates/{mine['id']}/reissue",
        headers=holder[1],
        json={"reason": "휴대폰 분실"},
    )
    assert response.status_code == 201
    new = response.json
    assert new["id"] != mine["id"] and new["qr_text"] != mine["qr_text"]
    assert new["expires_at"] == mine["expires_at"]
    assert verify(client, mine["qr_text"])["status"] == "revoked"
    assert verify(client, new["qr_text"])["status"] == "valid"


def test_renewal_by_official_and_too_early_by_the_holder(client, clock, issued, holder, official):
    staff, mine = issued
    early = client.post(f"/api/v1/me/certificates/{mine['id']}/renew", headers=holder[1])
    assert (early.status_code, early.json["error"]["code"]) == (409, "renewal_not_open")
    early = client.post(f"/api/v1/certificates/{staff['id']}/renew", headers=official[1])
    assert (early.status_code, early.json["error"]["code"]) == (409, "renewal_not_open")
    clock.advance(days=700)  # within 60 days of the expiry
    later = auth_headers_for(official[0])  # a login of that day (sessions last a day here)
    renewed = client.post(f"/api/v1/certificates/{staff['id']}/renew", headers=later)
    assert renewed.status_code == 200
    assert renewed.json["expires_at"] > staff["expires_at"]
    assert renewed.json["serial_number"] == staff["serial_number"]


def test_criteria_and_progress(client, clock, official, holder, participations):
    _official, headers = official
    body = {
        "min_participations": 2,
        "min_stages": 2,
        "window_months": 12,
        "validity_months": 24,
        "benefits": ["priority_meeting_access"],
    }
    created = client.post("/api/v1/certification-criteria", headers=headers, json=body)
    assert created.status_code == 201, created.json
    again = client.post("/api/v1/certification-criteria", headers=headers, json=body)
    assert (again.status_code, again.json["error"]["code"]) == (409, "criteria_exist")
    listed = client.get("/api/v1/certification-criteria", headers=holder[1]).json
    assert [item["id"] for item in listed["items"]] == [created.json["id"]]

    participations.confirm(holder[0], stage="plan")
    db.session.commit()
    progress = client.get("/api/v1/me/certification-progress", headers=holder[1]).json["items"]
    [item] = progress
    assert item["met"] is False and item["certificate"] is None
    stages = {r["name"]: r for r in item["requirements"]}["stages"]
    assert stages["actual"] == 1 and stages["missing"] == ["decide", "implement", "evaluate"]

    participations.confirm(holder[0], stage="evaluate")
    db.session.commit()
    [item] = client.get("/api/v1/me/certification-progress", headers=holder[1]).json["items"]
    assert item["met"] is True and item["certificate"]["status"] == "active"
    [certificate] = client.get("/api/v1/me/certificates", headers=holder[1]).json["items"]
    assert certificate["benefits"] == ["priority_meeting_access"]

    patched = client.patch(
        f"/api/v1/certification-criteria/{created.json['id']}",
        headers=headers,
        json={"min_participations": 10, "auto_issue": False},
    )
    assert patched.status_code == 200 and patched.json["min_participations"] == 10


def test_verification_never_writes_even_with_an_idempotency_key(client, issued, table_counts):
    _staff, mine = issued
    before = table_counts()
    for _ in range(3):
        response = client.post(
            "/api/v1/certificates/verify",
            json={"text": mine["qr_text"]},
            headers={"Idempotency-Key": "scan-1"},
        )
        assert response.status_code == 200 and response.json["status"] == "valid"
        assert "Idempotency-Replayed" not in response.headers
    assert table_counts() == before


def test_with_the_database_unreachable_verification_answers_from_memory(app, client, issued, clock):
    _staff, mine = issued
    fresh = verify(client, mine["qr_text"])
    assert fresh["status"] == "valid"
    assert fresh["revocations_as_of"] == fresh["checked_at"]

    def unreachable(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("database down"))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", unreachable)
    try:
        clock.advance(minutes=5)
        later = verify(client, mine["qr_text"])
        nonsense = verify(client, "CPC1:/123")
    finally:
        sa.event.remove(engine, "before_cursor_execute", unreachable)
    assert later["status"] == "valid"
    assert later["municipality"] == fresh["municipality"]
    # It says how old its keys and revocations are: as of the last successful check.
    assert later["revocations_as_of"] == fresh["checked_at"] != later["checked_at"]
    assert nonsense["status"] == "malformed"
    # Back again: the next check after the interval confirms the copy as current.
    clock.advance(minutes=1)
    again = verify(client, mine["qr_text"])
    assert again["revocations_as_of"] == again["checked_at"]
