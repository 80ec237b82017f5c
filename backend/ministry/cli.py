"""`flask ministry ...`: the periodic job of the ministry's side (run it from cron)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from backend.extensions import db
from backend.ministry import services


def register_ministry_commands(app: Flask) -> None:
    """Attach `flask ministry remind-deadlines`."""
    group = AppGroup("ministry", help="The ministry's periodic jobs (cron).")

    @group.command("remind-deadlines")
    @click.option(
        "--days",
        default=7,
        show_default=True,
        type=click.IntRange(0, 365),
        help="Remind the parties of open cases whose deadline is within this many days.",
    )
    def remind_deadlines(days: int) -> None:
        """Announce near deadlines of open dispute cases, once per deadline."""
        count = services.remind_deadlines(within_days=days)
        db.session.commit()
        click.echo(f"Reminded {count} dispute cases of their deadline.")

    app.cli.add_command(group)
