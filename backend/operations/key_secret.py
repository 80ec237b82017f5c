"""`flask certificates rotate-secret`: re-encrypt the stored signing keys under a new
CERTIFICATE_KEY_SECRET, all in one transaction, after proving the current secret opens them all.
"""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from backend.certification.keys import (
    KeyDecryptionError,
    decrypt_private_key,
    derive_master_key,
    encrypt_private_key,
)
from backend.certification.models import CertificateSigningKey
from backend.config import INSTANCE_DIR
from backend.extensions import db

NEW_SECRET_VARIABLE = "NEW_CERTIFICATE_KEY_SECRET"


class WrongKeySecret(Exception):
    """The current secret does not open a stored key: nothing was changed."""


def rotate_key_secret(*, old_secret: str, new_secret: str) -> int:
    """Re-encrypt every stored signing key from `old_secret` to `new_secret` (flushes; the
    caller commits). Raises WrongKeySecret, changing nothing, when a key does not decrypt."""
    if old_secret == new_secret:
        raise ValueError("the new secret is the current one")
    old_key, new_key = derive_master_key(old_secret), derive_master_key(new_secret)
    # Locked for the transaction: a key rotation running at the same time waits for us.
    rows = db.session.scalars(
        sa.select(CertificateSigningKey)
        .order_by(CertificateSigningKey.created_at)
        .with_for_update()
    ).all()
    sealed: list[tuple[CertificateSigningKey, str]] = []
    for row in rows:
        try:
            private_key = decrypt_private_key(
                row.encrypted_private_key, master_key=old_key, kid=row.kid
            )
        except KeyDecryptionError as error:
            raise WrongKeySecret(f"key {row.kid} does not open with the current secret") from error
        sealed.append((row, encrypt_private_key(private_key, master_key=new_key, kid=row.kid)))
    for row, blob in sealed:
        row.encrypted_private_key = blob
    db.session.flush()
    return len(sealed)


@click.command("rotate-secret")
@with_appcontext
def rotate_secret_command() -> None:
    """Re-encrypt the signing keys under NEW_CERTIFICATE_KEY_SECRET (read from the environment,
    or asked for); the current CERTIFICATE_KEY_SECRET must open every key, or nothing changes."""
    new_secret = os.environ.get(NEW_SECRET_VARIABLE) or click.prompt(
        "New certificate key secret", hide_input=True, confirmation_prompt=True
    )
    try:
        count = rotate_key_secret(
            old_secret=current_app.config["CERTIFICATE_KEY_SECRET"], new_secret=new_secret
        )
    except (WrongKeySecret, ValueError) as error:
        db.session.rollback()
        raise click.ClickException(f"{error}; nothing was changed") from error
    db.session.commit()
    if not os.environ.get("CERTIFICATE_KEY_SECRET"):
        # The embedded mode keeps its secret in the instance folder: keep it in step.
        path = INSTANCE_DIR / "certificate_key_secret"
        path.write_text(new_secret)
        path.chmod(0o600)
        click.echo(f"Wrote the new secret to {path}.")
    click.echo(
        f"Re-encrypted {count} signing keys. Put the new secret in CERTIFICATE_KEY_SECRET on every "
        "server and restart them now: until then they cannot sign new certificates "
        "(verification goes on)."
    )


def register_key_secret(app: Flask) -> None:
    """Add `rotate-secret` to the `flask certificates` group."""
    group = app.cli.commands.get("certificates")
    if group is None:  # pragma: no cover - the certification commands are always registered
        raise RuntimeError("register the certificates commands first")
    group.add_command(rotate_secret_command)
