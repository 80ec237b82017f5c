"""``certificate-verify``: public ``POST /api/v1/certificates/verify`` vs bare Flask hello-world.

The hot path of the issue: officials at a venue scan certificates in a row. Goal: at least 0.80
of the bare endpoint's requests per second, under gunicorn (2 sync workers, 16 connections).

The real app (``backend:create_app()``, every middleware) runs on a fresh SQLite database that a
``prepare`` subprocess migrates and fills with a municipality, the signing key and a certificate.
The key and the token are made when this module is imported, so the request body is known
before the servers start. The rate limit stays on (its cost is measured) with a budget too large
for one benchmark client to reach. Set ``BENCH_APP_DATABASE_URL`` to use another database.

Run: ``python -m bench.run certificate-verify`` (``--rounds 5 --duration 10`` for the figures in
bench/README.md).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import BARE_HELLO, REPO_ROOT, Scenario, Target, register
from bench.scenarios.healthz import app_env

ISSUER = "11680"
KEY_SECRET = secrets.token_urlsafe(32)
SECRET_KEY = secrets.token_urlsafe(32)


def _fixture() -> dict[str, object]:
    """A signing key and one certificate, made once per benchmark run."""
    from backend.certification.keys import (
        derive_master_key,
        encrypt_private_key,
        generate_signing_key,
    )
    from backend.certification.token import (
        build_certificate_claims,
        encode_qr_text,
        sign_certificate_token,
    )
    from backend.ids import new_id

    key = generate_signing_key()
    now = datetime.now(UTC).replace(microsecond=0)
    claims = build_certificate_claims(
        issuer=ISSUER,
        kind="model_citizen",
        holder_name="홍길동",
        issued_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=730),
        revocation_index=secrets.randbelow(2**17),
    )
    token = sign_certificate_token(claims, private_key=key, kid=key.kid)
    return {
        "kid": key.kid,
        "public_jwk": key.public_jwk(),
        "blob": encrypt_private_key(key, master_key=derive_master_key(KEY_SECRET)),
        "token": token,
        "qr_text": encode_qr_text(token),
        "public_id": claims.certificate_id,
        "revocation_index": claims.revocation_index,
        "issued_at": claims.issued_at,
        "expires_at": claims.expires_at,
        "holder": claims.holder,
        "user_id": new_id(),
        "session_id": new_id(),
        "certificate_id": new_id(),
    }


FIXTURE = _fixture()


def access_token(user_id: str, session_id: str) -> str:
    """An access token as flask-jwt-extended makes it (HS256 with SECRET_KEY), valid 3 hours."""
    import uuid

    import jwt

    now = datetime.now(UTC)
    claims = {
        "fresh": False,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "type": "access",
        "sub": user_id,
        "nbf": now,
        "exp": now + timedelta(hours=3),
        "sid": session_id,
    }
    return jwt.encode(claims, SECRET_KEY, algorithm="HS256")


def prepared_app_env(workdir: Path) -> dict[str, str]:
    """Environment of the real app, after migrating and filling its database in a subprocess."""
    env = {
        **app_env(workdir),
        "SECRET_KEY": SECRET_KEY,
        "CERTIFICATE_KEY_SECRET": KEY_SECRET,
        # Limiting stays on (measured) but one benchmark client never reaches the limit.
        "CERTIFICATE_VERIFY_RATE": "1000000000",
        "CERTIFICATE_VERIFY_BURST": "1000000000",
    }
    subprocess.run(
        [sys.executable, "-m", "bench.scenarios.certificate_verify", "prepare"],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            **env,
            "PYTHONPATH": str(REPO_ROOT),
            "BENCH_FIXTURE": json.dumps(FIXTURE),
        },
        check=True,
        capture_output=True,
    )
    return env


def _prepare() -> None:
    """Migrate the database and store the municipality, a citizen, the key and the certificate."""
    from flask_migrate import upgrade

    from backend import create_app
    from backend.certification.issue_number import new_issue_number
    from backend.certification.models import (
        Certificate,
        CertificateSigningKey,
        CertificateStatus,
        IssueReason,
        KeyStatus,
    )
    from backend.certification.qr import render_png
    from backend.extensions import db
    from backend.identity.models import AuthSession, Municipality, User
    from backend.identity.passwords import hash_password
    from backend.permissions import Role

    data = json.loads(os.environ["BENCH_FIXTURE"])
    app = create_app()
    with app.app_context():
        upgrade()
        municipality = Municipality(code=ISSUER, name="강남구", region="서울특별시")
        db.session.add(municipality)
        db.session.flush()
        db.session.add(
            User(
                id=data["user_id"],
                municipality_id=municipality.id,
                role=Role.CITIZEN,
                email="holder@bench.example",
                password_hash=hash_password("bench-password-1"),
                display_name="홍길동",
            )
        )
        db.session.flush()
        now = datetime.now(UTC)
        db.session.add_all(
            [
                AuthSession(
                    id=data["session_id"],
                    user_id=data["user_id"],
                    expires_at=now + timedelta(days=1),
                ),
                CertificateSigningKey(
                    kid=data["kid"],
                    status=KeyStatus.ACTIVE,
                    public_jwk=data["public_jwk"],
                    encrypted_private_key=data["blob"],
                ),
                Certificate(
                    id=data["certificate_id"],
                    public_id=data["public_id"],
                    serial_number=f"{ISSUER}-{now.year}-000001",
                    issue_number=new_issue_number(),
                    municipality_id=municipality.id,
                    user_id=data["user_id"],
                    kind="model_citizen",
                    status=CertificateStatus.ACTIVE,
                    issue_reason=IssueReason.NOMINATION,
                    benefits=[],
                    holder_masked=data["holder"],
                    issued_at=datetime.fromtimestamp(data["issued_at"], UTC),
                    expires_at=datetime.fromtimestamp(data["expires_at"], UTC),
                    revocation_index=data["revocation_index"],
                    key_kid=data["kid"],
                    token=data["token"],
                    qr_png=render_png(data["token"]),
                ),
            ]
        )
        db.session.commit()


register(
    Scenario(
        name="certificate-verify",
        description="real app POST /api/v1/certificates/verify (a valid QR) vs bare Flask hello",
        candidate=Target(
            app="backend:create_app()",
            path="/api/v1/certificates/verify",
            method="POST",
            body=json.dumps({"text": FIXTURE["qr_text"]}),
            headers={"Content-Type": "application/json"},
            setup=prepared_app_env,
            health_path="/healthz",
            label="real app, verify",
        ),
        baseline=BARE_HELLO,
        target_ratio=0.80,
    )
)


if __name__ == "__main__" and sys.argv[1:] == ["prepare"]:
    _prepare()
