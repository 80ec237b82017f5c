"""Signing-key faults: a command run with the wrong CERTIFICATE_KEY_SECRET refuses to act,
public endpoints never answer 500 for a key they cannot open, and a fresh install publishes
its keys and a signed (empty) revocation list for every municipality."""

from __future__ import annotations

import sqlalchemy as sa

from backend import create_app
from backend.certification import services
from backend.certification.keys import public_keys_from_jwks
from backend.certification.models import CertificateSigningKey
from backend.certification.status_list import read_status_list
from backend.extensions import db

OTHER_SECRET = "not-the-servers-certificate-secret-0123"


def _app_with_secret(app, secret: str):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "CERTIFICATE_KEY_SECRET": secret,
        }
    )


def _keys() -> list[tuple[str, str]]:
    db.session.rollback()
    rows = db.session.execute(
        sa.select(CertificateSigningKey.kid, CertificateSigningKey.status).order_by(
            CertificateSigningKey.kid
        )
    )
    return [(kid, status.value) for kid, status in rows]


def test_rotate_keys_refuses_a_secret_that_cannot_open_the_stored_keys(app, ctx):
    services.ensure_signing_key()
    db.session.commit()
    before = _keys()
    wrong = _app_with_secret(app, OTHER_SECRET)
    # The command runs in the app context it finds: the wrong app's, as in a shell.
    with wrong.app_context():
        result = wrong.test_cli_runner().invoke(args=["certificates", "rotate-keys"])
    assert result.exit_code != 0
    assert "CERTIFICATE_KEY_SECRET" in result.output
    assert _keys() == before
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert len(_keys()) == 2


def test_public_endpoints_answer_503_not_500_for_a_key_they_cannot_open(app, client, municipality):
    # The damage the refusal now prevents: the active key stored under another secret.
    wrong = _app_with_secret(app, OTHER_SECRET)
    with wrong.app_context():
        services.ensure_signing_key()
        db.session.commit()
    response = client.get("/api/v1/certificates/revocations")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "signing_key_unavailable"
    assert response.headers["Retry-After"]
    # What needs only public keys still answers.
    assert client.get("/.well-known/jwks.json").status_code == 200
    verify = client.post("/api/v1/certificates/verify", json={"text": "CPC1:x"})
    assert verify.status_code == 200


def test_a_fresh_install_publishes_keys_and_an_empty_signed_list_per_municipality(
    client, create_municipality
):
    places = [create_municipality() for _ in range(3)]
    assert _keys() == []
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and len(jwks.json["keys"]) == 1
    response = client.get("/api/v1/certificates/revocations")
    assert response.status_code == 200
    public_keys = public_keys_from_jwks(jwks.json)
    lists = [read_status_list(token, public_keys) for token in response.json["items"]]
    assert sorted(item.issuer for item in lists) == sorted(place.code for place in places)
    assert all(item.revoked_count == 0 for item in lists)
    assert len(_keys()) == 1  # made once, not on every request
    client.get("/api/v1/certificates/revocations")
    assert len(_keys()) == 1
