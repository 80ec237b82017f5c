"""`flask certificates rotate-secret`: all keys re-encrypted in one go, or nothing changes."""

from __future__ import annotations

import sqlalchemy as sa

from backend.certification import services as certification
from backend.certification.keys import (
    KeyDecryptionError,
    decrypt_private_key,
    derive_master_key,
)
from backend.certification.models import CertificateKind, CertificateSigningKey
from backend.extensions import db
from backend.permissions import Role

NEW_SECRET = "a-brand-new-certificate-key-secret-0123456789"


def _blobs() -> dict[str, str]:
    db.session.rollback()
    return dict(
        db.session.execute(
            sa.select(CertificateSigningKey.kid, CertificateSigningKey.encrypted_private_key)
        ).all()
    )


def _two_keys() -> None:
    certification.ensure_signing_key()
    db.session.commit()
    certification.rotate_signing_keys(actor=None)
    db.session.commit()


def test_rotate_secret_re_encrypts_every_key(app, ctx, monkeypatch):
    _two_keys()
    before = _blobs()
    assert len(before) == 2
    monkeypatch.setenv("NEW_CERTIFICATE_KEY_SECRET", NEW_SECRET)
    monkeypatch.setenv("CERTIFICATE_KEY_SECRET", app.config["CERTIFICATE_KEY_SECRET"])
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-secret"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 signing keys" in result.output
    after = _blobs()
    assert after.keys() == before.keys()
    old_key = derive_master_key(app.config["CERTIFICATE_KEY_SECRET"])
    new_key = derive_master_key(NEW_SECRET)
    for kid, blob in after.items():
        assert blob != before[kid]
        decrypt_private_key(blob, master_key=new_key, kid=kid)
        try:
            decrypt_private_key(blob, master_key=old_key, kid=kid)
        except KeyDecryptionError:
            pass
        else:
            raise AssertionError("the old secret still opens the key")


def test_a_server_with_the_new_secret_signs_and_verifies(
    app, ctx, monkeypatch, create_user, create_certificate
):
    _two_keys()
    holder = create_user(Role.CITIZEN)
    old = create_certificate(holder)
    old_text = old.qr_text
    monkeypatch.setenv("NEW_CERTIFICATE_KEY_SECRET", NEW_SECRET)
    monkeypatch.setenv("CERTIFICATE_KEY_SECRET", app.config["CERTIFICATE_KEY_SECRET"])
    assert app.test_cli_runner().invoke(args=["certificates", "rotate-secret"]).exit_code == 0
    # The restart: the new secret in the configuration, empty caches.
    monkeypatch.setitem(app.config, "CERTIFICATE_KEY_SECRET", NEW_SECRET)
    app.extensions.pop("certification_registry", None)
    assert certification.verify_text(old_text, app=app)["status"] == "valid"
    other = create_user(Role.CITIZEN)
    new = create_certificate(other, kind=CertificateKind.MODEL_CITIZEN)
    assert certification.verify_text(new.qr_text, app=app)["status"] == "valid"
    app.extensions.pop("certification_registry", None)


def test_a_wrong_current_secret_changes_nothing(app, ctx, monkeypatch):
    _two_keys()
    before = _blobs()
    monkeypatch.setitem(app.config, "CERTIFICATE_KEY_SECRET", "not-the-secret-that-sealed-them")
    monkeypatch.setenv("NEW_CERTIFICATE_KEY_SECRET", NEW_SECRET)
    monkeypatch.setenv("CERTIFICATE_KEY_SECRET", "not-the-secret-that-sealed-them")
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-secret"])
    assert result.exit_code != 0
    assert "does not open with the current secret" in result.output
    assert "nothing was changed" in result.output
    assert _blobs() == before


def test_the_same_secret_again_is_refused(app, ctx, monkeypatch):
    _two_keys()
    before = _blobs()
    monkeypatch.setenv("NEW_CERTIFICATE_KEY_SECRET", app.config["CERTIFICATE_KEY_SECRET"])
    monkeypatch.setenv("CERTIFICATE_KEY_SECRET", app.config["CERTIFICATE_KEY_SECRET"])
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-secret"])
    assert result.exit_code != 0 and _blobs() == before
