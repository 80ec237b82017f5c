"""`flask certificates ...`: key rotation, expiry housekeeping (cron), and the demo seeder."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from backend.certification import services
from backend.certification.models import Benefit, CertificateKind, CertificationCriteria
from backend.certification.signing import KeySecretMismatch
from backend.clock import seoul_today
from backend.extensions import db
from backend.identity.models import Municipality, User

DEMO_HOLDER_EMAIL = "citizen1@gangnam.example"


def seed_demo_certification(by_code: dict[str, Municipality]) -> None:
    """Demo data: a signing key, criteria in every municipality, one certificate for 홍길동."""
    services.ensure_signing_key()
    for municipality in by_code.values():
        exists = db.session.scalar(
            sa.select(CertificationCriteria.id).where(
                CertificationCriteria.municipality_id == municipality.id
            )
        )
        if exists is None:
            db.session.add(
                CertificationCriteria(
                    municipality_id=municipality.id,
                    kind=CertificateKind.MODEL_CITIZEN,
                    min_participations=5,
                    min_stages=3,
                    window_months=12,
                    validity_months=24,
                    benefits=[benefit.value for benefit in Benefit],
                )
            )
    db.session.flush()
    holder = db.session.scalar(sa.select(User).where(User.email == DEMO_HOLDER_EMAIL))
    if holder is not None and not services.has_active_certificate(
        user_id=holder.id, on=seoul_today()
    ):
        official = db.session.scalar(
            sa.select(User).where(User.email == "official@gangnam.example")
        )
        services.issue_certificate(user=holder, kind=CertificateKind.MODEL_CITIZEN, actor=official)


def register(app: Flask) -> None:
    """Add the `certificates` command group and the demo seeder to the app."""
    app.extensions.setdefault("demo_seeders", []).append(seed_demo_certification)
    group = AppGroup("certificates", help="Model-citizen certificates: keys and expiry.")

    @group.command("rotate-keys")
    def rotate_keys() -> None:
        """Make a new key for new certificates; old ones stay verifiable until they expire."""
        try:
            row = services.rotate_signing_keys(actor=None)
        except KeySecretMismatch as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(f"New signing key {row.kid} is active; earlier keys are retired.")

    @group.command("keys")
    def list_keys() -> None:
        """List the signing keys (kid, state, dates; never key material)."""
        for row in services.list_signing_keys():
            retired = row.retired_at.isoformat() if row.retired_at else "-"
            click.echo(f"{row.kid:<8} {row.status.value:<8} {row.created_at.isoformat()} {retired}")

    @group.command("expire")
    @click.option(
        "--notice-days",
        type=int,
        default=None,
        help="Announce certificates expiring within this many days (default from config).",
    )
    def expire(notice_days: int | None) -> None:
        """Mark expired certificates and announce, once, those expiring soon (run daily)."""
        expired, expiring = services.expire_certificates(notice_days=notice_days)
        db.session.commit()
        click.echo(f"Marked {expired} certificates expired; announced {expiring} expiring soon.")

    app.cli.add_command(group)
