"""Demo reward rules and budgets (loaded by `flask seed-demo`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Flask

from backend.clock import seoul_today
from backend.extensions import db
from backend.identity.models import Municipality
from backend.rewards.models import Incentive, RewardBudget, RewardRule


def seed_demo_rewards(by_code: dict[str, Municipality]) -> None:
    """Points for every participation (more in planning and evaluation) and a voucher budget."""
    year = seoul_today().year
    for municipality in by_code.values():
        if db.session.scalar(
            sa.select(RewardRule.id).where(RewardRule.municipality_id == municipality.id)
        ):
            continue
        db.session.add_all(
            [
                RewardRule(
                    municipality_id=municipality.id,
                    name="공동생산 참여 포인트",
                    incentive=Incentive.POINTS,
                    amount=100,
                    amount_per_hour=20,
                    cap_amount=5000,
                    cap_period="month",
                ),
                RewardRule(
                    municipality_id=municipality.id,
                    name="계획 단계 참여 포인트",
                    incentive=Incentive.POINTS,
                    stage="plan",
                    amount=200,
                    amount_per_hour=40,
                    cap_amount=5000,
                    cap_period="month",
                ),
                RewardRule(
                    municipality_id=municipality.id,
                    name="평가 단계 참여 포인트",
                    incentive=Incentive.POINTS,
                    stage="evaluate",
                    amount=200,
                    amount_per_hour=40,
                    cap_amount=5000,
                    cap_period="month",
                ),
                RewardRule(
                    municipality_id=municipality.id,
                    name="현장 활동 지역상품권",
                    incentive=Incentive.VOUCHER,
                    activity_kind="field_work",
                    amount=10000,
                ),
                RewardBudget(
                    municipality_id=municipality.id,
                    incentive=Incentive.VOUCHER,
                    name=f"{year}년 공동생산 지역상품권",
                    period_start=date(year, 1, 1),
                    period_end=date(year, 12, 31),
                    total_amount=5_000_000,
                    remaining_amount=5_000_000,
                ),
            ]
        )
    db.session.flush()


def register(app: Flask) -> None:
    """Add the rewards demo seeder to the app."""
    app.extensions.setdefault("demo_seeders", []).append(seed_demo_rewards)
