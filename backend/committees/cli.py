"""`flask committees ...`: the periodic jobs of the committees domain (run them from cron)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from backend.clock import SEOUL, seoul_today, utcnow
from backend.committees import services
from backend.committees.models import AppointmentRole, Committee, Stage
from backend.extensions import db
from backend.identity.models import Municipality, User

DEMO_COMMITTEE = "공원 조성 시민위원회"


def seed_demo_committee(by_code: dict[str, Municipality]) -> None:
    """Demo data: a Gangnam committee chaired by citizen1, with a meeting in two weeks."""
    gangnam = by_code.get("11680")
    official, chair, scheduler = (
        db.session.scalar(sa.select(User).where(User.email == email))
        for email in (
            "official@gangnam.example",
            "citizen1@gangnam.example",
            "scheduler@gangnam.example",
        )
    )
    if gangnam is None or None in (official, chair, scheduler):
        return
    exists = db.session.scalar(
        sa.select(Committee.id).where(
            Committee.municipality_id == gangnam.id, Committee.name == DEMO_COMMITTEE
        )
    )
    if exists:
        return
    committee = services.create_committee(
        actor=official,
        name=DEMO_COMMITTEE,
        purpose="근린공원 조성 사업의 계획과 평가에 시민의 의견을 모읍니다.",
        seats=15,
        term_months=24,
    )
    services.appoint_member(
        actor=official,
        committee=committee,
        user_id=chair.id,
        role=AppointmentRole.CHAIR,
        term_start=seoul_today(),
    )
    starts_at = datetime.combine(seoul_today() + timedelta(days=14), time(14), tzinfo=SEOUL)
    services.create_meeting(
        actor=scheduler,
        committee=committee,
        title="제1차 정기회의",
        agenda="1. 사업 경과 보고\n2. 공원 설계안 검토",
        place="강남구청 3층 대회의실",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=30,
        reserved_seats=15,
        priority_opens_at=utcnow(),
        general_opens_at=utcnow() + timedelta(days=3),
        stage=Stage.PLAN,
    )


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
    app.extensions.setdefault("demo_seeders", []).append(seed_demo_committee)
