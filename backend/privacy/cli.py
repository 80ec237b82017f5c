"""`flask privacy ...`: the scheduled jobs of personal data (run them from cron)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from backend.extensions import db


def register_privacy_commands(app: Flask) -> None:
    """Attach `flask privacy`."""
    group = AppGroup("privacy", help="Personal data: retention, exports, dormancy.")

    @group.command("purge")
    def purge() -> None:
        """Delete what has outlived its retention: access records (ACCESS_RECORD_RETENTION_DAYS,
        at least 2 years), the content of expired exports, and the last login rows of accounts
        deleted longer ago than RETAINED_PAYMENT_YEARS."""
        from backend.privacy.access import purge_access_records
        from backend.privacy.rights import expire_exports, purge_retained

        records = purge_access_records()
        exports = expire_exports()
        retained = purge_retained()
        db.session.commit()
        click.echo(f"Purged {records} access records, {exports} exports, {retained} retained rows.")

    @group.command("exports")
    def exports() -> None:
        """Make the pending data exports (large ones are not made inside the request)."""
        from backend.privacy.rights import process_pending_exports

        count = process_pending_exports()
        click.echo(f"Made {count} exports.")

    @group.command("dormancy")
    def dormancy() -> None:
        """Send dormancy notices and apply each municipality's dormancy policy."""
        from backend.privacy.rights import apply_dormancy

        noticed, acted = apply_dormancy()
        db.session.commit()
        click.echo(f"Sent {noticed} dormancy notices; made {acted} accounts dormant.")

    app.cli.add_command(group)
