"""`flask committees ...`: the periodic jobs of the committees domain (run them from cron)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from backend.committees import services
from backend.extensions import db


def register_committee_commands(app: Flask) -> None:
    """Attach `flask committees end-terms` and `flask committees send-reminders`."""
    group = AppGroup("committees", help="Committee terms and meeting reminders (cron jobs).")

    @group.command("end-terms")
    @click.option(
        "--days",
        default=14,
        show_default=True,
        type=click.IntRange(0, 365),
        help="Announce terms that end within this many days.",
    )
    def end_terms(days: int) -> None:
        """Announce terms ending soon (once each) and log the terms that ended by themselves."""
        announced = services.notify_terms_ending(within_days=days)
        ended = services.record_ended_terms()
        db.session.commit()
        click.echo(f"Announced {announced} terms ending; recorded {ended} ended terms.")

    @group.command("send-reminders")
    @click.option(
        "--hours",
        default=24,
        show_default=True,
        type=click.IntRange(1, 24 * 14),
        help="Remind registrants of meetings starting within this many hours.",
    )
    def send_reminders(hours: int) -> None:
        """Remind confirmed registrants (once per meeting) of meetings that start soon."""
        count = services.send_meeting_reminders(within=timedelta(hours=hours))
        db.session.commit()
        click.echo(f"Sent reminders for {count} meetings.")

    app.cli.add_command(group)
