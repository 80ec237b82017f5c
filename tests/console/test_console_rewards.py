"""Rewards in the console: rules and budgets through the services."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.permissions import Role
from backend.rewards.models import RewardBudget, RewardRule


def test_add_a_rule_and_a_budget_then_see_what_is_left(app, create_user, console_login, form_token):
    official = create_user(Role.OFFICIAL)
    client = console_login(official)
    token = form_token(client, "/console/rewards")
    rule = client.post(
        "/console/rewards/rules",
        data={"csrf_token": token, "name": "참여 포인트", "incentive": "points", "amount": "100"},
    )
    assert rule.status_code == 303, rule.get_data(as_text=True)[:1500]
    budget = client.post(
        "/console/rewards/budgets",
        data={
            "csrf_token": token,
            "name": "상품권 예산",
            "incentive": "voucher",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "total_amount": "500000",
        },
    )
    assert budget.status_code == 303, budget.get_data(as_text=True)[:1500]
    assert db.session.scalar(sa.select(RewardRule.municipality_id)) == official.municipality_id
    assert db.session.scalar(sa.select(RewardBudget.remaining_amount)) == 500000
    assert "data-left>500,000<" in client.get("/console/rewards").get_data(as_text=True)


def test_an_analyst_reads_rewards_but_cannot_add(app, create_user, console_login):
    client = console_login(create_user(Role.ANALYST))
    page = client.get("/console/rewards")
    assert page.status_code == 200
    assert "/console/rewards/rules" not in page.get_data(as_text=True)
