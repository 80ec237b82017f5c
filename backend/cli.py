"""`flask` commands: demo data, staff accounts, the mobile contract, housekeeping."""

from __future__ import annotations

import logging
import sys

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from backend.extensions import db
from backend.identity import services as identity
from backend.identity.models import Municipality, User
from backend.permissions import STAFF_ROLES, Role
from backend.privacy.consents import demo_consents

DEMO_PASSWORD = "demo-password-1"
#: Exit status of `flask notifications deliver` without Firebase credentials (EX_CONFIG).
PUSH_NOT_CONFIGURED_EXIT = 78
DEMO_MUNICIPALITIES = [
    {"code": "11680", "name": "강남구", "name_en": "Gangnam-gu", "region": "서울특별시"},
    {"code": "41110", "name": "수원시", "name_en": "Suwon-si", "region": "경기도"},
]
#: (role, e-mail, display name, municipality code or None)
DEMO_USERS = [
    (Role.ADMIN, "admin@demo.example", "관리자", None),
    (Role.ANALYST, "analyst@mois.example", "행안부 분석관", None),
    (Role.OFFICIAL, "official@gangnam.example", "강남 공무원", "11680"),
    (Role.VERIFIER, "verifier@gangnam.example", "강남 확인자", "11680"),
    (Role.SCHEDULER, "scheduler@gangnam.example", "강남 일정담당", "11680"),
    (Role.CITIZEN, "citizen1@gangnam.example", "홍길동", "11680"),
    (Role.CITIZEN, "citizen2@gangnam.example", "김영희", "11680"),
    (Role.OFFICIAL, "official@suwon.example", "수원 공무원", "41110"),
    (Role.CITIZEN, "citizen1@suwon.example", "이철수", "41110"),
]


def seed_demo_data() -> list[tuple[str, str, str]]:
    """Create the demo municipalities and accounts unless they exist; returns the logins."""
    by_code = {m.code: m for m in db.session.scalars(sa.select(Municipality))}
    for spec in DEMO_MUNICIPALITIES:
        if spec["code"] not in by_code:
            by_code[spec["code"]] = identity.create_municipality(actor=None, **spec)
    logins = []
    for role, email, name, code in DEMO_USERS:
        municipality_id = by_code[code].id if code else None
        exists = db.session.scalar(sa.select(User.id).where(User.email == email))
        if not exists:
            create = identity.register_citizen if role == Role.CITIZEN else None
            if create:
                create(
                    email=email,
                    phone=None,
                    password=DEMO_PASSWORD,
                    display_name=name,
                    municipality_id=municipality_id,
                    birth_year=1990,
                    consents=demo_consents(),
                )
            else:
                identity.create_staff_user(
                    actor=None,
                    role=role,
                    email=email,
                    phone=None,
                    password=DEMO_PASSWORD,
                    display_name=name,
                    municipality_id=municipality_id,
                )
        logins.append((role.value, email, code or "national"))
    for seed in current_app.extensions.get("demo_seeders", []):
        seed(by_code)
    db.session.commit()
    return logins


def register_commands(app: Flask) -> None:
    """Attach the command groups to the app."""
    from backend.committees.cli import register_committee_commands

    register_committee_commands(app)

    from backend.privacy.cli import register_privacy_commands

    register_privacy_commands(app)

    from backend.ministry.cli import register_ministry_commands

    register_ministry_commands(app)

    from backend.participation.demo import seed_participation_demo

    app.extensions.setdefault("demo_seeders", []).append(seed_participation_demo)
    from backend.certification import cli as certification_cli
    from backend.rewards import demo as rewards_demo

    rewards_demo.register(app)
    certification_cli.register(app)
    from backend.ministry import demo as ministry_demo

    ministry_demo.register(app)  # after the participation demo: it needs its projects

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Load demo municipalities and accounts (safe to run again)."""
        logins = seed_demo_data()
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email, where in logins:
            click.echo(f"  {role:<10} {email:<28} {where}")

    users = AppGroup("users", help="Manage accounts.")

    @users.command("create")
    @click.option("--role", type=click.Choice(sorted(r.value for r in STAFF_ROLES)), required=True)
    @click.option("--email", default=None)
    @click.option("--phone", default=None)
    @click.option("--name", "display_name", required=True)
    @click.option(
        "--municipality",
        "municipality_code",
        default=None,
        help="Municipality code, for municipal roles.",
    )
    @click.password_option()
    def create_user(
        role: str,
        email: str | None,
        phone: str | None,
        display_name: str,
        municipality_code: str | None,
        password: str,
    ) -> None:
        """Create a staff account (admin, official, verifier, scheduler, analyst)."""
        municipality_id = None
        if municipality_code:
            municipality_id = db.session.scalar(
                sa.select(Municipality.id).where(Municipality.code == municipality_code)
            )
            if municipality_id is None:
                raise click.ClickException(f"No municipality with code {municipality_code}.")
        try:
            user = identity.create_staff_user(
                actor=None,
                role=Role(role),
                email=email,
                phone=phone,
                password=password,
                display_name=display_name,
                municipality_id=municipality_id,
            )
        except Exception as error:  # a DomainError carries a readable message
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        db.session.commit()
        click.echo(f"Created {role} {user.id}")

    app.cli.add_command(users)

    contract = AppGroup("contract", help="The mobile contract (OpenAPI).")

    @contract.command("write")
    def write_contract() -> None:
        """Regenerate mobile_contract/openapi.json from the code."""
        from backend.api.contract import CONTRACT_PATH, render_openapi

        CONTRACT_PATH.write_text(render_openapi(current_app._get_current_object()))
        click.echo(f"Wrote {CONTRACT_PATH}")

    @contract.command("check")
    def check_contract() -> None:
        """Exit non-zero when the committed contract differs from the code."""
        from backend.api.contract import CONTRACT_PATH, render_openapi

        committed = CONTRACT_PATH.read_text() if CONTRACT_PATH.exists() else ""
        if committed != render_openapi(current_app._get_current_object()):
            click.echo("mobile_contract/openapi.json is out of date: run `flask contract write`.")
            sys.exit(1)
        click.echo("Contract is up to date.")

    app.cli.add_command(contract)

    _register_notification_commands(app)
    _register_job_commands(app)

    @app.cli.command("purge-idempotency")
    def purge_idempotency() -> None:
        """Delete idempotency records past their retention."""
        from backend.idempotency.services import purge_expired

        count = purge_expired()
        db.session.commit()
        click.echo(f"Purged {count} idempotency records.")


def _register_notification_commands(app: Flask) -> None:
    """`flask notifications deliver` (the push worker), `fan-out` and `purge`."""
    notifications = AppGroup("notifications", help="Push notifications.")

    @notifications.command("deliver")
    @click.option("--once", is_flag=True, help="Send until nothing is due, then exit.")
    @click.option("--batch-size", type=click.IntRange(1, 5000), default=None)
    @click.option("--lease-seconds", type=click.FloatRange(min=1), default=None)
    @click.option("--idle-seconds", type=click.FloatRange(min=0), default=None)
    def deliver(
        once: bool, batch_size: int | None, lease_seconds: float | None, idle_seconds: float | None
    ) -> None:
        """Send queued pushes through FCM (long-running; SIGTERM finishes the batch and exits)."""
        import threading

        from backend.notifications.fcm import build_sender_from_config
        from backend.notifications.worker import (
            DeliveryWorker,
            WorkerSettings,
            install_stop_signals,
            minimum_lease_seconds,
        )

        config = current_app.config
        try:
            settings = WorkerSettings.from_config(
                config,
                batch_size=batch_size,
                lease_seconds=lease_seconds,
                idle_seconds=idle_seconds,
            )
            # Built here, in the worker process (never before a fork): its connections are ours.
            sender = build_sender_from_config(config)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        if sender is None:
            click.echo(
                "Push is off (no Firebase credentials): inbox entries are made, queued pushes "
                "stay queued. Set FIREBASE_CREDENTIALS_FILE or GOOGLE_APPLICATION_CREDENTIALS in "
                "the environment the worker runs in (cron and systemd do not read your shell's).",
                err=True,
            )
        else:
            needed = 2 * minimum_lease_seconds(
                batch_size=settings.batch_size,
                max_connections=int(config["FCM_MAX_CONNECTIONS"]),
                timeout=float(config["FCM_TIMEOUT_SECONDS"]),
            )
            if settings.lease_seconds < needed:
                sender.close()
                raise click.ClickException(
                    f"a lease of {settings.lease_seconds:.0f} s is too short for batches of "
                    f"{settings.batch_size} when FCM hangs: use at least {needed:.0f} s "
                    "(NOTIFICATIONS_LEASE_SECONDS) or smaller batches"
                )
            click.echo(f"Sending pushes to Firebase project {sender.project_id}.")
        worker = DeliveryWorker(sender=sender, settings=settings)
        try:
            if once:
                report = worker.drain()
            else:
                stop = threading.Event()
                restore = install_stop_signals(stop)
                try:
                    report = worker.run(stop=stop)
                finally:
                    restore()
        finally:
            if sender is not None:
                sender.close()
        click.echo(f"Delivery finished: {report.summary()}.")
        if sender is None:
            from backend.notifications.services import count_queued_pushes

            queued = count_queued_pushes()
            if queued:
                # Non-zero, so cron mails it and systemd shows the unit failed.
                message = f"{queued} pushes stay queued: push is off (no Firebase credentials)."
                logging.getLogger("backend.notifications.worker").error(message)
                click.echo(message, err=True)
                raise SystemExit(PUSH_NOT_CONFIGURED_EXIT)

    @notifications.command("fan-out")
    @click.option("--once", is_flag=True, help="Fan out until no event waits, then exit.")
    @click.option("--idle-seconds", type=click.FloatRange(min=0), default=None)
    def fan_out_command(once: bool, idle_seconds: float | None) -> None:
        """Turn waiting events into inbox entries and queued pushes, without sending any push
        (`deliver` does this too; use this where no push worker runs, e.g. `make run`)."""
        import threading

        from backend.notifications.fanout import fan_out
        from backend.notifications.worker import WorkerSettings, install_stop_signals

        settings = WorkerSettings.from_config(current_app.config, idle_seconds=idle_seconds)
        total = 0
        stop = threading.Event()
        restore = install_stop_signals(stop)
        try:
            while not stop.is_set():
                count = fan_out(limit=settings.batch_size)
                total += count
                if count == 0:
                    if once:
                        break
                    stop.wait(settings.idle_seconds)
        finally:
            restore()
        click.echo(f"Fan-out finished: {total} events.")

    @notifications.command("purge")
    @click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
    def purge(days: int) -> None:
        """Delete finished outbox rows (sent, dead, skipped) older than DAYS days."""
        from datetime import timedelta

        from backend.notifications.services import purge_outbox

        count = purge_outbox(older_than=timedelta(days=days))
        db.session.commit()
        click.echo(f"Purged {count} outbox rows.")

    app.cli.add_command(notifications)


def _register_job_commands(app: Flask) -> None:
    """`flask jobs run`: the worker of the console's long jobs."""
    jobs = AppGroup("jobs", help="Console jobs (bulk confirmations, sheet imports).")

    @jobs.command("run")
    @click.option("--once", is_flag=True, help="Run until no job waits, then exit.")
    def run_jobs(once: bool) -> None:
        """Run queued console jobs chunk by chunk (long-running; SIGTERM stops between chunks)."""
        import threading

        from backend.jobs.worker import JobWorkerSettings, run_worker
        from backend.notifications.worker import install_stop_signals

        stop = threading.Event()
        restore = install_stop_signals(stop)
        try:
            count = run_worker(JobWorkerSettings.from_config(), stop=stop, once=once)
        finally:
            restore()
        click.echo(f"Jobs finished: {count}.")

    @jobs.command("purge")
    @click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
    def purge_jobs(days: int) -> None:
        """Delete console jobs (and their reports) finished more than DAYS days ago."""
        from datetime import timedelta

        from backend.jobs.services import purge_finished_jobs

        count = purge_finished_jobs(older_than=timedelta(days=days))
        db.session.commit()
        click.echo(f"Purged {count} console jobs.")

    app.cli.add_command(jobs)
